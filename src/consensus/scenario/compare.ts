import type { Scenario, ScenarioEpochResult } from './types.ts'

/** One value outside its tolerance. */
export type Mismatch = {
  epoch: number
  field: string
  /** Vector index, or "row,col" for a bond cell. */
  at: string
  got: string
  want: string
}

/** Per checked field: how many values were compared and the largest absolute difference. */
export type FieldReport = { checked: number; maxError: number; tolerance: number }

export type Comparison = {
  matches: boolean
  mismatches: Mismatch[]
  fields: Record<string, FieldReport>
}

const FLOAT_OF: Record<string, keyof ScenarioEpochResult> = {
  stakeWeight: 'stakeWeightU16',
  consensus: 'consensusU16',
  incentive: 'incentiveU16',
  dividends: 'dividendsU16',
  validatorTrust: 'validatorTrustU16',
  bonds: 'bondsU16',
}

/**
 * Compares `verity yuma run` output with a scenario's `expect`, as the format spec says: integer
 * fields exact unless a tolerance is listed (raw units), float fields against U16/65535 within
 * their tolerance, booleans always exact, null entries skipped.
 */
export function compareScenario(scenario: Scenario, results: ScenarioEpochResult[]): Comparison {
  const mismatches: Mismatch[] = []
  const fields: Record<string, FieldReport> = {}
  const note = (field: string, err: number, tol: number) => {
    const r = fields[field] ?? { checked: 0, maxError: 0, tolerance: tol }
    fields[field] = r
    r.checked += 1
    if (err > r.maxError) r.maxError = err
  }
  if (results.length !== scenario.expect.length) {
    mismatches.push({
      epoch: -1,
      field: 'epochs',
      at: '',
      got: String(results.length),
      want: String(scenario.expect.length),
    })
  }
  scenario.expect.forEach((exp, k) => {
    const res = results[k]
    if (!res) return
    for (const [field, want] of Object.entries(exp)) {
      const tol = scenario.tolerance[field] ?? 0
      const check = (at: string, got: unknown, w: unknown) => {
        if (w === null || w === undefined) return
        let err: number
        if (typeof w === 'boolean') err = got === w ? 0 : 1
        else if (typeof w === 'string') err = Math.abs(Number(BigInt(String(got)) - BigInt(w)))
        else err = Math.abs(Number(got) - (w as number))
        note(field, err, tol)
        const ok = typeof w === 'boolean' ? err === 0 : err <= tol + 1e-12
        if (!ok) mismatches.push({ epoch: k, field, at, got: String(got), want: String(w) })
      }
      const floatOf = FLOAT_OF[field]
      const scale = (x: number) => (floatOf ? x / 65535 : x)
      if (field === 'block') {
        check('', res.block, want)
      } else if (field === 'bonds' || field === 'bondsU16') {
        for (const cell of want as Array<[number, number, number]>) {
          const [i, j, w] = cell
          check(`${i},${j}`, scale(res.bondsU16[i]![j]!), w)
        }
      } else {
        const got = res[(floatOf ?? field) as keyof ScenarioEpochResult] as unknown[]
        ;(want as unknown[]).forEach((w, i) => {
          const g = got[i]
          check(String(i), typeof g === 'number' ? scale(g) : g, w)
        })
      }
    }
  })
  return { matches: mismatches.length === 0, mismatches, fields }
}
