/** A line chart series: one value per epoch. */
export type Series = { name: string; values: number[] }

const PALETTE = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#17becf',
]

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** One panel: axes, y ticks 0..1, epoch ticks, a polyline per series and a legend. */
function panel(
  title: string,
  series: Series[],
  x0: number,
  y0: number,
  w: number,
  h: number,
): string {
  const epochs = Math.max(1, ...series.map((s) => s.values.length - 1))
  const max = Math.max(1e-9, ...series.flatMap((s) => s.values))
  const top = max > 0.5 ? 1 : Math.ceil(max * 10) / 10
  const px = (e: number) => x0 + (e / epochs) * w
  const py = (v: number) => y0 + h - (v / top) * h
  const parts: string[] = [
    `<text x="${x0}" y="${y0 - 10}" font-size="14" font-weight="bold">${esc(title)}</text>`,
    `<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#999"/>`,
  ]
  for (let k = 0; k <= 4; k++) {
    const v = (top * k) / 4
    parts.push(
      `<line x1="${x0}" x2="${x0 + w}" y1="${py(v)}" y2="${py(v)}" stroke="#eee"/>`,
      `<text x="${x0 - 6}" y="${py(v) + 4}" font-size="10" text-anchor="end">${v.toFixed(2)}</text>`,
    )
  }
  const step = Math.max(1, Math.ceil(epochs / 10))
  for (let e = 0; e <= epochs; e += step) {
    parts.push(
      `<text x="${px(e)}" y="${y0 + h + 14}" font-size="10" text-anchor="middle">${e}</text>`,
    )
  }
  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length]!
    const pts = s.values.map((v, e) => `${px(e).toFixed(1)},${py(v).toFixed(1)}`).join(' ')
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts}"/>`)
    const ly = y0 + 14 + i * 16
    parts.push(
      `<line x1="${x0 + w + 12}" x2="${x0 + w + 32}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="3"/>`,
      `<text x="${x0 + w + 38}" y="${ly}" font-size="11">${esc(s.name)}</text>`,
    )
  })
  return parts.join('\n')
}

/** A two-panel SVG (dividends per validator, incentive per miner), written without libraries. */
export function chartSvg(title: string, dividends: Series[], incentive: Series[]): string {
  const width = 900
  const height = 560
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" font-size="16" text-anchor="middle">${esc(title)}</text>`,
    panel('Dividends per validator (share per epoch)', dividends, 60, 60, 620, 180),
    panel('Incentive per miner (share per epoch)', incentive, 60, 320, 620, 180),
    `<text x="370" y="${height - 10}" font-size="11" text-anchor="middle">epoch</text>`,
    '</svg>',
    '',
  ].join('\n')
}
