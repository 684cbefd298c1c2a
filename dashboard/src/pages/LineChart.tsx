import { useEffect, useRef } from 'preact/hooks'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'

export type Series = { label: string; values: number[]; shown: string[] }

// Eight hues that stay apart for common colour-vision deficiencies (Okabe–Ito, darkened for contrast).
const COLOURS = [
  '#0072b2',
  '#d55e00',
  '#009e73',
  '#cc79a7',
  '#8a6d00',
  '#56b4e9',
  '#1a1a1a',
  '#e69f00',
]
const HEIGHT = 260

/**
 * A uPlot line chart of values by epoch that follows its container's width, with the same numbers
 * as a table in a <details> for keyboard and screen-reader users (the canvas is one labelled image).
 */
export function LineChart({
  id,
  title,
  unit,
  epochs,
  series,
}: {
  id: string
  title: string
  unit: string
  epochs: number[]
  series: Series[]
}) {
  const box = useRef<HTMLDivElement>(null)
  useEffect(() => {
    const el = box.current
    if (!el) return
    const width = () => Math.max(240, el.clientWidth)
    const chart = new uPlot(
      {
        width: width(),
        height: HEIGHT,
        scales: { x: { time: false } },
        axes: [
          { label: 'epoch', incrs: [1, 2, 5, 10, 20, 50, 100] },
          { label: unit, size: 70 },
        ],
        series: [
          { label: 'epoch' },
          ...series.map((s, i) => ({
            label: s.label,
            stroke: COLOURS[i % COLOURS.length]!,
            width: 2,
            points: { show: true },
          })),
        ],
      },
      [epochs, ...series.map((s) => s.values)],
      el,
    )
    // charts follow the container (a phone's width, a resized window)
    const observer = new ResizeObserver(() => chart.setSize({ width: width(), height: HEIGHT }))
    observer.observe(el)
    return () => {
      observer.disconnect()
      chart.destroy()
    }
  }, [epochs, series, unit])
  return (
    <figure class="chart" id={id}>
      <figcaption>{title}</figcaption>
      <div
        ref={box}
        role="img"
        aria-label={`${title}: line chart over epochs ${epochs[0]} to ${epochs.at(-1)}, ${series.length} series. The table below has the values.`}
      />
      <details>
        <summary>{title}: the numbers</summary>
        {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard (WCAG 2.1.1) */}
        <section class="scroll" tabIndex={0} aria-label={`${title} table`}>
          <table>
            <caption>
              {title} ({unit}) by epoch
            </caption>
            <thead>
              <tr>
                <th scope="col">Epoch</th>
                {series.map((s) => (
                  <th scope="col" key={s.label}>
                    {s.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {epochs.map((epoch, row) => (
                <tr key={epoch}>
                  <th scope="row">{epoch}</th>
                  {series.map((s) => (
                    <td class="num" key={s.label}>
                      {s.shown[row]}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      </details>
    </figure>
  )
}
