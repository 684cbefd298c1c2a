import { useEffect, useMemo, useState } from 'preact/hooks'
import { formatEther } from 'viem'
import { chainClient, type DashboardConfig } from '../config.ts'
import { type MetagraphRow, readMetagraph } from '../metagraph.ts'
import { useSubnets } from '../use-subnets.ts'

type Column = {
  key: keyof MetagraphRow
  label: string
  show: (row: MetagraphRow) => string
}

const fraction = (x: number) => x.toFixed(4)
/** VTY with at most 4 decimals (truncated: the table is for reading, the chain has the wei). */
const vty = (wei: bigint) => formatEther(wei).replace(/(\.\d{4})\d+$/, '$1')
const COLUMNS: Column[] = [
  { key: 'uid', label: 'UID', show: (r) => String(r.uid) },
  { key: 'hotkey', label: 'Hotkey', show: (r) => r.hotkey },
  { key: 'stake', label: 'Stake (VTY)', show: (r) => vty(r.stake) },
  { key: 'trust', label: 'Trust', show: (r) => fraction(r.trust) },
  { key: 'consensus', label: 'Consensus', show: (r) => fraction(r.consensus) },
  { key: 'incentive', label: 'Incentive', show: (r) => fraction(r.incentive) },
  { key: 'dividends', label: 'Dividends', show: (r) => fraction(r.dividends) },
  { key: 'emission', label: 'Emission (VTY)', show: (r) => vty(r.emission) },
  {
    key: 'validatorPermit',
    label: 'Validator permit',
    show: (r) => (r.validatorPermit ? 'yes' : 'no'),
  },
  { key: 'lastUpdate', label: 'Last update (block)', show: (r) => String(r.lastUpdate) },
]

function compare(a: MetagraphRow, b: MetagraphRow, key: keyof MetagraphRow): number {
  const x = a[key]
  const y = b[key]
  if (typeof x === 'string' && typeof y === 'string')
    return x.toLowerCase() < y.toLowerCase() ? -1 : x.toLowerCase() > y.toLowerCase() ? 1 : 0
  return x < y ? -1 : x > y ? 1 : 0
}

/** The metagraph of each subnet, read from the chain in the browser. */
export function Subnets({ config }: { config: DashboardConfig }) {
  const client = useMemo(() => chainClient(config), [config])
  const verity = config.deployment.contracts.verity
  const { subnets, netuid, setNetuid } = useSubnets(client, verity)
  const [rows, setRows] = useState<MetagraphRow[] | Error>()
  const [sort, setSort] = useState<{ key: keyof MetagraphRow; ascending: boolean }>({
    key: 'uid',
    ascending: true,
  })

  useEffect(() => {
    if (netuid === undefined) return
    const abort = new AbortController()
    setRows(undefined)
    readMetagraph(client, verity, netuid, { signal: abort.signal }).then(setRows, (e: Error) =>
      setRows(e),
    )
    return () => abort.abort()
  }, [client, verity, netuid])

  if (subnets === undefined) return <p role="status">Reading the chain…</p>
  if (subnets instanceof Error)
    return (
      <p role="alert" class="bad">
        Cannot read the chain at {config.rpcUrl}: {subnets.message}
      </p>
    )
  if (subnets.length === 0) return <p>No subnet on this chain yet.</p>
  const subnet = subnets.find((s) => s.netuid === netuid)
  const served = config.models.find(
    (m) => m.modelRoot.toLowerCase() === subnet?.modelRoot.toLowerCase(),
  )
  const sorted = Array.isArray(rows)
    ? [...rows].sort((a, b) => (sort.ascending ? 1 : -1) * compare(a, b, sort.key))
    : rows
  return (
    <>
      <p class="row">
        <label for="netuid">Subnet</label>{' '}
        <select
          id="netuid"
          value={netuid}
          onChange={(e) => setNetuid(Number((e.target as HTMLSelectElement).value))}
        >
          {subnets.map((s) => (
            <option value={s.netuid} key={s.netuid}>
              {s.netuid}
            </option>
          ))}
        </select>
      </p>
      {subnet && (
        <dl class="facts">
          <dt>Model</dt>
          <dd>
            {served ? `${served.id} ` : ''}
            <code class="wrap">{subnet.modelRoot}</code>
          </dd>
          <dt>Neurons</dt>
          <dd>{subnet.n}</dd>
          <dt>Epoch</dt>
          <dd>{subnet.epoch}</dd>
        </dl>
      )}
      {sorted === undefined ? (
        <p role="status">Reading the metagraph…</p>
      ) : sorted instanceof Error ? (
        <p role="alert" class="bad">
          {sorted.message}
        </p>
      ) : (
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard (WCAG 2.1.1)
        <section class="scroll" tabIndex={0} aria-label={`Metagraph of subnet ${netuid}`}>
          <table id="metagraph">
            <caption>
              Metagraph of subnet {netuid}: {sorted.length} uids
            </caption>
            <thead>
              <tr>
                {COLUMNS.map((c) => (
                  <th
                    scope="col"
                    key={c.key}
                    aria-sort={
                      sort.key === c.key ? (sort.ascending ? 'ascending' : 'descending') : 'none'
                    }
                  >
                    <button
                      type="button"
                      onClick={() =>
                        setSort({
                          key: c.key,
                          ascending: sort.key === c.key ? !sort.ascending : true,
                        })
                      }
                    >
                      {c.label}
                      <span aria-hidden="true">
                        {sort.key === c.key ? (sort.ascending ? ' ▲' : ' ▼') : ''}
                      </span>
                    </button>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {sorted.map((r) => (
                <tr key={r.uid}>
                  {COLUMNS.map((c) => (
                    <td key={c.key} class={c.key === 'hotkey' ? 'mono' : 'num'}>
                      {c.show(r)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </>
  )
}
