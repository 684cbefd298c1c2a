import { DEFAULT_YUMA_PARAMS } from '../defaults.ts'
import { runEpoch } from '../epoch.ts'
import type { SparseMatrix, SparseRow, YumaParams } from '../types.ts'
import { storeWeights } from '../weights.ts'
import type { SimEpoch, SimResult, Simulation } from './types.ts'

const DEFAULTS: YumaParams = { ...DEFAULT_YUMA_PARAMS, tempo: 100, yuma3: true, liquidAlpha: true }

/** The honest view of miner quality at epoch t, as u16 weights over the miners (in miner order). */
export function qualityAt(sim: Simulation, t: number): number[] {
  const honest = sim.miners.map((m, k) => (m.colluding ? -1 : k)).filter((k) => k >= 0)
  const w = sim.miners.map(() => 0)
  const q = sim.quality
  if (q.kind === 'rotate') {
    const m = honest.length
    honest.forEach((k, r) => {
      const rank = (r - (t % m) + m) % m // 0 = best this epoch
      w[k] = rank === 0 ? 65535 : rank === 1 ? 32768 : 8192
    })
  } else {
    for (const k of honest) w[k] = 8192
    const [best, second] = t < q.at ? [q.from, q.to] : [q.to, q.from]
    w[best] = 65535
    w[second] = 16384
  }
  return w
}

/**
 * Runs a simulation epoch by epoch on the real epoch function. Validators are uids 0..v−1,
 * miners v..n−1. Each validator chooses weights before each epoch; without commit-reveal the
 * choice is on chain at once (and a copier sees the others' current weights), with it the
 * choice is committed and revealed one epoch later (and a copier sees only revealed weights).
 */
export function simulate(sim: Simulation, epochs = sim.epochs): SimResult {
  const params: YumaParams = { ...DEFAULTS, ...sim.params, tempo: sim.tempo }
  const v = sim.validators.length
  const n = v + sim.miners.length
  const stake = Array.from({ length: n }, (_, i) =>
    i < v ? BigInt(Math.round(sim.validators[i]!.stake * 1e9)) : 0n,
  )
  const lastUpdate = new Array<number>(n).fill(0)
  const registration = new Array<number>(n).fill(0)
  let permits = new Array<boolean>(n).fill(false)
  const weights: SparseMatrix = Array.from({ length: n }, () => [])
  const bonds: SparseMatrix = Array.from({ length: n }, () => [])
  let committed: (number[] | null)[] = new Array(v).fill(null)
  const out: SimEpoch[] = []
  const toRow = (w: number[]): SparseRow =>
    storeWeights(w.map((x, k): [number, number] => [v + k, x]))
  const publicMean = (self: number): number[] => {
    // Stake-weighted mean of the other validators' on-chain rows (as the copier reads them).
    const acc = sim.miners.map(() => 0)
    let total = 0
    weights.slice(0, v).forEach((row, i) => {
      if (i === self || row.length === 0) return
      const s = sim.validators[i]!.stake
      total += s
      for (const [j, x] of row) acc[j - v]! += s * x
    })
    if (total === 0) return acc
    const m = Math.max(...acc)
    return acc.map((x) => (m === 0 ? 0 : Math.round((x / m) * 65535)))
  }
  for (let t = 0; t < epochs; t++) {
    const block = (t + 1) * sim.tempo
    const decision = block - 1
    // Honest-type choices first, so a copier without commit-reveal can read them this epoch.
    const chosen: (number[] | null)[] = sim.validators.map((val) => {
      const s = val.strategy
      if (s.kind === 'honest') return qualityAt(sim, t)
      if (s.kind === 'late') return qualityAt(sim, Math.max(0, t - s.delay))
      if (s.kind === 'colluder') return sim.miners.map((m) => (m.colluding ? 65535 : 0))
      if (s.kind === 'lazy') return t === 0 ? qualityAt(sim, 0) : null
      return null // copier decides below
    })
    if (!params.commitReveal) {
      chosen.forEach((w, i) => {
        if (w) {
          weights[i] = toRow(w)
          lastUpdate[i] = decision
        }
      })
      sim.validators.forEach((val, i) => {
        if (val.strategy.kind === 'copier') {
          weights[i] = toRow(publicMean(i))
          lastUpdate[i] = decision
        }
      })
    } else {
      // Reveal last epoch's commits (they become the on-chain weights now), then commit anew;
      // LastUpdate moves at commit time.
      committed.forEach((w, i) => {
        if (w) weights[i] = toRow(w)
      })
      sim.validators.forEach((val, i) => {
        if (val.strategy.kind === 'copier') chosen[i] = publicMean(i)
      })
      committed = chosen
      chosen.forEach((w, i) => {
        if (w) lastUpdate[i] = decision
      })
    }
    const e = runEpoch({
      block,
      params,
      stake,
      lastUpdate,
      blockAtRegistration: registration,
      validatorPermit: permits,
      weights,
      bonds,
      emission: sim.emissionPerEpoch,
    })
    e.bonds.forEach((row, i) => {
      if (row) bonds[i] = row
    })
    permits = e.validatorPermit.slice()
    out.push({
      epoch: t,
      dividends: e.dividendsU16.slice(0, v).map((x) => x / 65535),
      incentive: e.incentiveU16.slice(v).map((x) => x / 65535),
      validatorEmission: e.validatorEmission.slice(0, v),
      serverEmission: e.serverEmission.slice(v),
    })
  }
  return {
    simulation: sim,
    epochs: out,
    actors: [...sim.validators.map((x) => x.name), ...sim.miners.map((m) => m.name)],
  }
}

/** One line per actor: what it earned over the run. */
export function summarize(result: SimResult): string[] {
  const { simulation: sim, epochs } = result
  const total = sim.emissionPerEpoch * BigInt(epochs.length)
  const pct = (x: bigint) => (total === 0n ? 0 : Number((x * 100_000n) / total) / 1000).toFixed(2)
  const stakeTotal = sim.validators.reduce((a, x) => a + x.stake, 0)
  const lines = sim.validators.map((val, i) => {
    const earned = epochs.reduce((a, e) => a + e.validatorEmission[i]!, 0n)
    const last = epochs[epochs.length - 1]?.dividends[i] ?? 0
    return `${val.name} (validator, ${val.strategy.kind}, ${((val.stake / stakeTotal) * 100).toFixed(1)}% stake): earned ${earned} rao = ${pct(earned)}% of emission; final dividend share ${last.toFixed(4)}`
  })
  sim.miners.forEach((m, k) => {
    const earned = epochs.reduce((a, e) => a + e.serverEmission[k]!, 0n)
    const last = epochs[epochs.length - 1]?.incentive[k] ?? 0
    lines.push(
      `${m.name} (miner${m.colluding ? ', colluding' : ''}): earned ${earned} rao = ${pct(earned)}% of emission; final incentive ${last.toFixed(4)}`,
    )
  })
  return lines
}

/** The per-epoch table as CSV: epoch, then each validator's dividends and each miner's incentive. */
export function toCsv(result: SimResult): string {
  const { simulation: sim } = result
  const head = [
    'epoch',
    ...sim.validators.map((x) => `dividends:${x.name}`),
    ...sim.miners.map((m) => `incentive:${m.name}`),
    ...sim.validators.map((x) => `rao:${x.name}`),
    ...sim.miners.map((m) => `rao:${m.name}`),
  ]
  const rows = result.epochs.map((e) =>
    [
      e.epoch,
      ...e.dividends.map((x) => x.toFixed(6)),
      ...e.incentive.map((x) => x.toFixed(6)),
      ...e.validatorEmission,
      ...e.serverEmission,
    ].join(','),
  )
  return `${[head.join(','), ...rows].join('\n')}\n`
}
