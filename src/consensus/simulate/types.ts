import type { YumaParams } from '../types.ts'

/** How a validator picks its weights each epoch. */
export type Strategy =
  | { kind: 'honest' }
  /** Copies the stake-weighted mean of the other validators' public weights. */
  | { kind: 'copier' }
  /** Puts all weight on the colluding miner(s) and none elsewhere. */
  | { kind: 'colluder' }
  /** Sets weights once in the first epoch and never again. */
  | { kind: 'lazy' }
  /** Honest, but follows a quality change `delay` epochs late. */
  | { kind: 'late'; delay: number }

export type SimValidator = { name: string; stake: number; strategy: Strategy }

/** Miner quality over time: `regimes` switch the best miner at given epochs. */
export type SimMiner = { name: string; colluding?: boolean }

export type Simulation = {
  name: string
  description: string
  epochs: number
  /** Blocks per epoch (also the tempo). */
  tempo: number
  params: Partial<YumaParams>
  validators: SimValidator[]
  miners: SimMiner[]
  /**
   * Quality of each (non-colluding) miner: `rotate` makes the best miner change every epoch
   * (so stale weights are wrong), `switch` makes miner `to` replace miner `from` as the best at
   * epoch `at`.
   */
  quality: { kind: 'rotate' } | { kind: 'switch'; from: number; to: number; at: number }
  emissionPerEpoch: bigint
}

/** Per epoch, per actor: shares as floats (u16/65535) and amounts in rao. */
export type SimEpoch = {
  epoch: number
  dividends: number[]
  incentive: number[]
  validatorEmission: bigint[]
  serverEmission: bigint[]
}

export type SimResult = { simulation: Simulation; epochs: SimEpoch[]; actors: string[] }
