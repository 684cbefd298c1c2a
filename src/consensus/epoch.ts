import { type BondsScratch, classicBonds, yuma3Bonds } from './bonds.ts'
import { splitEmission } from './emission.ts'
import { div, normalize, ONE, toU16Proportion } from './fixed.ts'
import { liquidAlphaParams } from './liquid-alpha.ts'
import { medianColumns } from './median.ts'
import { Csr, colClip, fromRows, interpolate, matmul, rowNormalize, rowSums } from './sparse.ts'
import { isTopkNonzero, stakeWeights } from './stake.ts'
import type { EpochInput, EpochOutput } from './types.ts'
import { validateEpochInput } from './validate.ts'

/**
 * The epoch's matrices, refilled on every call instead of allocated: after the first epoch at a
 * given size their buffers are large enough and a call allocates only its output. Safe because
 * runEpoch is synchronous and nothing returned aliases them (bond rows are copied out as tuples).
 */
const scratch = {
  weights: new Csr(),
  clipped: new Csr(),
  weightsForBonds: new Csr(),
  bonds: { bonds: new Csr(), delta: new Csr(), ema: new Csr() } satisfies BondsScratch,
}

/**
 * One Yuma Consensus epoch: subtensor's sparse `epoch_mechanism` (commit 14bc6f9f9), bit for bit.
 * Pure: reads the subnet's state arrays and returns every term subtensor stores, including the
 * u16 encodings and the bond rows to persist. All vectors have length n = input.stake.length.
 * The numbered steps follow ../../docs/CONSENSUS.md. Throws EpochInputError on bad shapes/ranges.
 */
export function runEpoch(input: EpochInput): EpochOutput {
  validateEpochInput(input)
  const { params: p, block } = input
  const n = input.stake.length
  const owner = p.ownerUid

  // --- 1. activity: inactive ⇔ last_update + activity_cutoff < block
  const active = input.lastUpdate.map((u) => !(u + p.activityCutoff < block))

  // --- 2. stake weight S (threshold, I64F64 normalisation, narrowed to I32F32)
  const stake = stakeWeights(input.stake, p.stakeThreshold, owner)

  // --- 3. permits: stored ones (owner forced) are used now; new ones are stored for next time
  const permits = input.validatorPermit.map((v, i) => v || i === owner)
  const newPermits = isTopkNonzero(stake, p.maxAllowedValidators)
  if (owner !== null && owner < n) newPermits[owner] = true

  // --- 4. active stake A: S without inactive or unpermitted uids, renormalised
  const activeStake = normalize(stake.map((s, i) => (active[i] && permits[i] ? s : 0)))

  // --- 5. weights: forbidden rows, diagonal (owner kept), outdated, commit-reveal, row-normalise
  // One pass over the stored rows applies every mask, keeping the entries' order.
  const reg = input.blockAtRegistration
  const commits = p.commitReveal && input.commitBlock ? input.commitBlock : null
  const weights = scratch.weights.reset(n)
  for (let i = 0; i < n; i++) {
    if (permits[i]) {
      const row = input.weights[i]!
      const lastUpdate = input.lastUpdate[i]!
      const commit = commits ? commits[i] : null
      weights.reserve(weights.nnz + row.length)
      for (let k = 0; k < row.length; k++) {
        const e = row[k]!
        const j = e[0]
        if (j >= n || (j === i && i !== owner)) continue
        if (lastUpdate <= reg[j]!) continue
        if (commit !== null && commit !== undefined && commit < reg[j]!) continue
        weights.push(j, e[1])
      }
    }
    weights.endRow(i)
  }
  // Stored values are u16 integers; row normalisation only depends on ratios (see fixed.div).
  rowNormalize(weights)

  // --- 6. consensus C: stake-weighted median per column with kappa
  const kappa = div(p.kappa, 65535)
  const consensus = medianColumns(activeStake, weights, n, kappa)

  // --- 7. clip at consensus; 8. validator trust
  const clipped = colClip(weights, consensus, scratch.clipped)
  const validatorTrust = rowSums(clipped)

  // --- 9. rank and incentive
  const incentive = normalize(matmul(clipped, activeStake, n))

  // --- 10. weights for bonds: W + bp·(W̄ − W)
  const bondsPenalty = div(p.bondsPenalty, 65535)
  const weightsForBonds = interpolate(
    weights,
    clipped,
    n,
    bondsPenalty,
    ONE,
    scratch.weightsForBonds,
  )

  // --- 11. bonds and dividends
  const lastTempo =
    input.lastStepBlock && input.lastStepBlock > 0
      ? input.lastStepBlock + 1
      : Math.max(0, block - p.tempo)
  fromRows(input.bonds, n, scratch.bonds.bonds) // the stored u16 rows, columns ≥ n dropped
  const bonds = p.yuma3
    ? yuma3Bonds(
        scratch.bonds,
        weightsForBonds,
        activeStake,
        incentive,
        consensus,
        lastTempo,
        input.blockAtRegistration,
        p.bondsMovingAverage,
        p.liquidAlpha ? liquidAlphaParams(p.alphaLow, p.alphaHigh, p.alphaSigmoidSteepness) : null,
        n,
      )
    : classicBonds(
        scratch.bonds,
        weightsForBonds,
        activeStake,
        incentive,
        lastTempo,
        input.blockAtRegistration,
        p.bondsMovingAverage,
        n,
      )
  const dividends = bonds.dividends

  // --- 12. emission split (with the stake fallback when incentive + dividends sum to 0)
  const split = splitEmission(incentive, dividends, activeStake, stake, input.emission)

  // --- 13. bond persistence: new permit → write the row; lost permit → clear; else leave
  const storedBonds = newPermits.map((np, i) => (np ? bonds.stored[i]! : permits[i] ? [] : null))

  return {
    stakeWeight: stake,
    activeStake,
    active,
    consensus,
    incentive,
    dividends,
    validatorTrust,
    validatorPermit: newPermits,
    bonds: storedBonds,
    emission: split.combined,
    serverEmission: split.server,
    validatorEmission: split.validator,
    stakeWeightU16: stake.map(toU16Proportion),
    consensusU16: consensus.map(toU16Proportion),
    incentiveU16: incentive.map(toU16Proportion),
    dividendsU16: dividends.map(toU16Proportion),
    validatorTrustU16: validatorTrust.map(toU16Proportion),
  }
}
