import { EpochInputError } from '../errors/consensus.ts'
import type { EpochInput, SparseMatrix } from './types.ts'

/**
 * Shape and range checks on an epoch input, so a caller's mistake is a one-line error naming the
 * field instead of a silent wrong result. Columns ≥ n are not errors: subtensor ignores them.
 */
export function validateEpochInput(input: EpochInput): void {
  const n = input.stake.length
  const same = (name: string, len: number) => {
    if (len !== n) throw new EpochInputError(name, `has length ${len}, stake has ${n}`)
  }
  same('lastUpdate', input.lastUpdate.length)
  same('blockAtRegistration', input.blockAtRegistration.length)
  same('validatorPermit', input.validatorPermit.length)
  same('weights', input.weights.length)
  same('bonds', input.bonds.length)
  if (input.commitBlock) same('commitBlock', input.commitBlock.length)
  let total = 0n
  input.stake.forEach((s, i) => {
    if (s < 0n) throw new EpochInputError(`stake[${i}]`, `must not be negative, got ${s}`)
    total += s
  })
  if (total >= 1n << 63n) throw new EpochInputError('stake', 'total does not fit in 63 bits')
  if (input.emission < 0n) throw new EpochInputError('emission', 'must not be negative')
  checkU16Rows('weights', input.weights)
  checkU16Rows('bonds', input.bonds)
  for (const k of ['kappa', 'bondsPenalty', 'alphaLow', 'alphaHigh'] as const) {
    const v = input.params[k]
    if (!Number.isInteger(v) || v < 0 || v > 65535)
      throw new EpochInputError(`params.${k}`, `must be a u16, got ${v}`)
  }
}

function checkU16Rows(name: string, m: SparseMatrix): void {
  // Indexed loops: this visits every entry of both matrices on each epoch.
  for (let i = 0; i < m.length; i++) {
    const row = m[i]!
    for (let k = 0; k < row.length; k++) {
      const j = row[k]![0]
      const v = row[k]![1]
      // (j | 0) === j and (v & 0xffff) === v are the cheap forms of the integer checks (the
      // typeof guards keep a BigInt from throwing a TypeError instead of EpochInputError).
      const smallUid = typeof j === 'number' && (j | 0) === j && j >= 0
      if (!smallUid && !(Number.isInteger(j) && j >= 0))
        throw new EpochInputError(`${name}[${i}]`, `uid ${j} is not a valid uid`)
      if (typeof v !== 'number' || (v & 0xffff) !== v)
        throw new EpochInputError(`${name}[${i}][${j}]`, `u16 overflow or invalid value ${v}`)
    }
  }
}
