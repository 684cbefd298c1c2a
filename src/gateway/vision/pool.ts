import type { VerificationKey } from 'snarkjs'
import type { Address, Hex } from 'viem'
import type { VisionVerdict } from '../../vision/answer.ts'
import type { VisionMiner } from '../../vision/local-miner.ts'
import { DEFAULT_IMAGE_LIMITS, type VisionImageLimits } from './request.ts'

/** What a served answer must be bound to besides the call itself (absent: not checked). */
export type VisionBinding = { chainId?: number; netuid?: number; verifyingContract?: Address }

export type VisionPoolOptions = VisionBinding & {
  /** The model name clients send as `model` (e.g. "verity-digits"). */
  name: string
  /** The model's id on chain: visionModelId(vkey). */
  modelId: Hex
  /** The circuit's verification key: every answer's proof is checked against it before it is served. */
  vkey: VerificationKey
  miners?: readonly VisionMiner[]
  /** Bounds on the images clients send (default DEFAULT_IMAGE_LIMITS). */
  limits?: Partial<VisionImageLimits>
  /** Unix seconds shown as the model's `created` in /v1/models (default: when the pool was made). */
  created?: number
  /**
   * Called when a miner's answer fails the check. With `verdict.signed` the miner's own signature
   * convicts it: the answer is evidence a node can hand to the validators.
   */
  onRefused?: (miner: VisionMiner, verdict: VisionVerdict & { ok: false }, answer: unknown) => void
}

/** A miner's record in the pool, for /v1/models and operators. */
export type VisionMinerStatus = { hotkey: Address; served: number; failed: number; refuted: number }

/**
 * The miners of one vision model. Requests rotate over them; a miner whose last answer was refuted
 * by its own signature is tried after the others. Miners may be added after the gateway started
 * (a node hands it remote miners as they are found).
 */
export class VisionPool {
  readonly name: string
  readonly modelId: Hex
  readonly vkey: VerificationKey
  readonly binding: VisionBinding
  readonly created: number
  readonly limits: VisionImageLimits
  readonly onRefused: VisionPoolOptions['onRefused']
  readonly #miners: { miner: VisionMiner; status: VisionMinerStatus; suspect: boolean }[] = []
  #next = 0

  constructor(options: VisionPoolOptions) {
    this.name = options.name
    this.modelId = options.modelId
    this.vkey = options.vkey
    this.limits = { ...DEFAULT_IMAGE_LIMITS, ...options.limits }
    this.created = options.created ?? Math.floor(Date.now() / 1000)
    this.onRefused = options.onRefused
    const { chainId, netuid, verifyingContract } = options
    this.binding = {
      ...(chainId === undefined ? {} : { chainId }),
      ...(netuid === undefined ? {} : { netuid }),
      ...(verifyingContract === undefined ? {} : { verifyingContract }),
    }
    for (const m of options.miners ?? []) this.add(m)
  }

  get size(): number {
    return this.#miners.length
  }

  /** Adds a miner; a hotkey already in the pool is replaced (a reconnected remote miner). */
  add(miner: VisionMiner): void {
    const key = miner.hotkey.toLowerCase()
    const at = this.#miners.findIndex((m) => m.miner.hotkey.toLowerCase() === key)
    const entry = {
      miner,
      status: { hotkey: miner.hotkey, served: 0, failed: 0, refuted: 0 },
      suspect: false,
    }
    if (at >= 0) this.#miners[at] = entry
    else this.#miners.push(entry)
  }

  /** Removes the miner with this hotkey; true if it was in the pool. */
  remove(hotkey: Address): boolean {
    const at = this.#miners.findIndex((m) => m.miner.hotkey.toLowerCase() === hotkey.toLowerCase())
    if (at < 0) return false
    this.#miners.splice(at, 1)
    return true
  }

  /** The order to try miners in for one request: the next in rotation first, suspects last. */
  order(): VisionMiner[] {
    const n = this.#miners.length
    if (n === 0) return []
    const start = this.#next % n
    this.#next = (start + 1) % n
    const rotated = [...this.#miners.slice(start), ...this.#miners.slice(0, start)]
    return [...rotated.filter((m) => !m.suspect), ...rotated.filter((m) => m.suspect)].map(
      (m) => m.miner,
    )
  }

  /** Records how a miner's attempt ended: served, failed (error, timeout) or refuted by its own signature. */
  record(miner: VisionMiner, outcome: 'served' | 'failed' | 'refuted'): void {
    const entry = this.#miners.find((m) => m.miner === miner)
    if (!entry) return
    entry.status[outcome]++
    if (outcome === 'refuted') entry.suspect = true
    else if (outcome === 'served') entry.suspect = false
  }

  status(): VisionMinerStatus[] {
    return this.#miners.map((m) => ({ ...m.status }))
  }
}
