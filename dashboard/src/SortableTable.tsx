import type { ComponentChildren } from 'preact'
import { useState } from 'preact/hooks'

export type Column<Row> = {
  key: string
  label: string
  /** The cell's text. */
  show: (row: Row) => string
  /** What the column sorts by (default: the cell's text). */
  sortBy?: (row: Row) => string | number | bigint
  /** Numbers align right. */
  numeric?: boolean
  mono?: boolean
  /** The whole value, as the cell's tooltip, where the cell shortens it. */
  full?: (row: Row) => string
}

/**
 * A captioned table whose header buttons sort it (Enter or click; again to reverse), in a
 * scrolling region the keyboard can reach: on a phone only the table scrolls sideways. Rows stay
 * in the order given until a header is chosen.
 */
export function SortableTable<Row>(props: {
  id: string
  caption: ComponentChildren
  label: string
  columns: Column<Row>[]
  rows: Row[]
  rowKey: (row: Row) => string
  /** Makes each row open something (its first cell becomes a button). */
  onOpen?: (row: Row) => void
  selected?: string | undefined
}) {
  const [sort, setSort] = useState<{ key: string; ascending: boolean }>()
  const column = props.columns.find((c) => c.key === sort?.key)
  const rows = column
    ? [...props.rows].sort((a, b) => {
        const by = column.sortBy ?? column.show
        const [x, y] = [by(a), by(b)]
        const order =
          typeof x === 'string' && typeof y === 'string'
            ? x.toLowerCase().localeCompare(y.toLowerCase())
            : x < y
              ? -1
              : x > y
                ? 1
                : 0
        return sort?.ascending ? order : -order
      })
    : props.rows
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard (WCAG 2.1.1)
    <section class="scroll" tabIndex={0} aria-label={props.label}>
      <table id={props.id} class="sortable">
        <caption>{props.caption}</caption>
        <thead>
          <tr>
            {props.columns.map((c) => (
              <th
                scope="col"
                key={c.key}
                aria-sort={
                  sort?.key === c.key ? (sort.ascending ? 'ascending' : 'descending') : 'none'
                }
              >
                <button
                  type="button"
                  onClick={() =>
                    setSort({
                      key: c.key,
                      ascending: sort?.key === c.key ? !sort.ascending : true,
                    })
                  }
                >
                  {c.label}
                  <span aria-hidden="true">
                    {sort?.key === c.key ? (sort.ascending ? ' ▲' : ' ▼') : ''}
                  </span>
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => {
            const key = props.rowKey(r)
            return (
              <tr key={key} class={props.selected === key ? 'selected' : undefined}>
                {props.columns.map((c, i) => (
                  <td
                    key={c.key}
                    class={c.numeric ? 'num' : c.mono ? 'mono' : undefined}
                    title={c.full?.(r)}
                  >
                    {i === 0 && props.onOpen ? (
                      <button
                        type="button"
                        class="link"
                        aria-label={`Open ${c.label.toLowerCase()} ${c.show(r)}`}
                        onClick={() => props.onOpen?.(r)}
                      >
                        {c.show(r)}
                      </button>
                    ) : (
                      c.show(r)
                    )}
                  </td>
                ))}
              </tr>
            )
          })}
        </tbody>
      </table>
    </section>
  )
}
