import type { MinerClient } from '../types/inference.ts'
import type { ServedModel } from './model.ts'

/** A miner's standing in a pool, as routing and `/metrics` see it. */
export type MinerStatus = {
  hotkey: string
  peerId: string | undefined
  /** Routing weight (e.g. the miner's incentive or a validator score); 0 = never routed to. */
  score: number
  /** Requests running on it now. */
  inFlight: number
  /** False while it cools down after failures. */
  available: boolean
  requests: number
  failures: number
  consecutiveFailures: number
  tokens: number
  /** The miner's signed price, VTY wei per token (absent: not advertised or not fetched yet). */
  price: MinerPrice | undefined
  /** Moving average of the time to its first token, ms (absent: never answered). */
  latencyMs: number | undefined
  /** Moving average of its tokens per second after the first (absent: never answered). */
  throughput: number | undefined
}

/** A price a miner signed (src/verify/price.ts), as routing uses it. */
export type MinerPrice = { prompt: bigint; completion: bigint; validUntil: number }

/** OpenRouter-like routing preferences (the request's `provider` object). */
export type RoutingPreferences = {
  /** Order of preference; default 'score' (validators' verdict per running request). */
  sort?: 'price' | 'latency' | 'throughput' | 'score'
  /** Skip miners whose price is above these (wei per token) or unknown. */
  maxPrice?: { prompt?: bigint; completion?: bigint }
}

type Entry = MinerStatus & {
  miner: MinerClient
  unavailableUntil: number
  lastPicked: number
}

export type MinerPoolOptions = {
  miners?: readonly (MinerClient | { miner: MinerClient; score?: number })[]
  /** Cool-down after the first failure; doubles with each consecutive one (default 1000 ms). */
  cooldownMs?: number
  /** Longest cool-down (default 30000 ms). */
  maxCooldownMs?: number
  /** Clock, for tests (default Date.now). */
  now?: () => number
}

/** Weight of a new measurement in the latency and throughput averages. */
const EWMA = 0.3

/**
 * The miners serving one model. Routing picks, among available miners with a positive score, the
 * one with the highest score per running request (score / (1 + inFlight)), least recently picked
 * first on ties. A failure puts a miner in an exponential cool-down; while every miner cools down,
 * the one whose cool-down ends first is still tried rather than refusing the request.
 */
export class MinerPool {
  readonly model: ServedModel
  private readonly entries = new Map<string, Entry>()
  private readonly cooldownMs: number
  private readonly maxCooldownMs: number
  private readonly now: () => number
  private picks = 0

  constructor(model: ServedModel, options: MinerPoolOptions = {}) {
    this.model = model
    this.cooldownMs = options.cooldownMs ?? 1000
    this.maxCooldownMs = options.maxCooldownMs ?? 30_000
    this.now = options.now ?? Date.now
    for (const m of options.miners ?? []) {
      if ('infer' in m) this.add(m)
      else this.add(m.miner, m.score === undefined ? {} : { score: m.score })
    }
  }

  /** Adds a miner (or replaces the one with the same hotkey, keeping its counters). */
  add(miner: MinerClient, options: { score?: number } = {}): void {
    const old = this.entries.get(miner.hotkey)
    this.entries.set(miner.hotkey, {
      hotkey: miner.hotkey,
      peerId: miner.peerId,
      score: options.score ?? old?.score ?? 1,
      inFlight: old?.inFlight ?? 0,
      available: true,
      requests: old?.requests ?? 0,
      failures: old?.failures ?? 0,
      consecutiveFailures: 0,
      tokens: old?.tokens ?? 0,
      price: old?.price,
      latencyMs: old?.latencyMs,
      throughput: old?.throughput,
      miner,
      unavailableUntil: 0,
      lastPicked: old?.lastPicked ?? 0,
    })
  }

  remove(hotkey: string): boolean {
    return this.entries.delete(hotkey)
  }

  has(hotkey: string): boolean {
    return this.entries.has(hotkey)
  }

  /** Records a miner's verified price sheet (or forgets it). */
  setPrice(hotkey: string, price: MinerPrice | undefined): void {
    const e = this.entries.get(hotkey)
    if (e) e.price = price
  }

  /** The price routing would use for a miner now: undefined when unknown or expired. */
  priceOf(hotkey: string): MinerPrice | undefined {
    const price = this.entries.get(hotkey)?.price
    return price && price.validUntil * 1000 >= this.now() ? price : undefined
  }

  setScore(hotkey: string, score: number): void {
    const e = this.entries.get(hotkey)
    if (e) e.score = Number.isFinite(score) && score > 0 ? score : 0
  }

  get size(): number {
    return this.entries.size
  }

  /** Snapshot of every miner's status. */
  status(): MinerStatus[] {
    const now = this.now()
    return [...this.entries.values()].map((e) => ({
      hotkey: e.hotkey,
      peerId: e.peerId,
      score: e.score,
      inFlight: e.inFlight,
      available: e.score > 0 && now >= e.unavailableUntil,
      requests: e.requests,
      failures: e.failures,
      consecutiveFailures: e.consecutiveFailures,
      tokens: e.tokens,
      price: this.priceOf(e.hotkey),
      latencyMs: e.latencyMs,
      throughput: e.throughput,
    }))
  }

  /** Miners that routing would pick without falling back to cooling-down ones. */
  availableCount(): number {
    const now = this.now()
    let n = 0
    for (const e of this.entries.values()) if (e.score > 0 && now >= e.unavailableUntil) n++
    return n
  }

  /**
   * Picks a miner not in `exclude` (and in `only`, when given; hotkeys lower-case), or undefined
   * when none is left; marks it in flight. `prefs.maxPrice` leaves out miners priced above it or
   * without a known price; `prefs.sort` orders the rest: cheapest (prompt + completion price),
   * fastest first token, highest throughput (a miner not measured yet goes first, so it gets
   * measured), or the default, score per running request. Ties go to the score per running request,
   * then the least recently picked.
   */
  acquire(
    exclude: ReadonlySet<string> = new Set(),
    only?: ReadonlySet<string>,
    prefs: RoutingPreferences = {},
  ): MinerClient | undefined {
    const now = this.now()
    const sort = prefs.sort ?? 'score'
    const rank = (e: Entry): number => {
      switch (sort) {
        case 'price': {
          const p = this.priceOf(e.hotkey)
          // an unknown price sorts last
          return p ? -Number(p.prompt + p.completion) : Number.NEGATIVE_INFINITY
        }
        case 'latency':
          return e.latencyMs === undefined ? Number.POSITIVE_INFINITY : -e.latencyMs
        case 'throughput':
          return e.throughput ?? Number.POSITIVE_INFINITY
        default:
          return 0
      }
    }
    let best: Entry | undefined
    let bestRank = 0
    let bestKey = 0
    let fallback: Entry | undefined
    for (const e of this.entries.values()) {
      if (exclude.has(e.hotkey) || exclude.has(e.hotkey.toLowerCase())) continue
      // A request that names its miners (`provider.only`: a validator's check, a user's choice)
      // may reach one the routing weights leave out; any other request may not.
      if (only ? !only.has(e.hotkey.toLowerCase()) : e.score <= 0) continue
      if (prefs.maxPrice) {
        const p = this.priceOf(e.hotkey)
        if (!p) continue
        if (prefs.maxPrice.prompt !== undefined && p.prompt > prefs.maxPrice.prompt) continue
        if (prefs.maxPrice.completion !== undefined && p.completion > prefs.maxPrice.completion)
          continue
      }
      if (now < e.unavailableUntil) {
        if (!fallback || e.unavailableUntil < fallback.unavailableUntil) fallback = e
        continue
      }
      const r = rank(e)
      const key = Math.max(e.score, 1e-9) / (1 + e.inFlight)
      if (
        !best ||
        r > bestRank ||
        (r === bestRank && (key > bestKey || (key === bestKey && e.lastPicked < best.lastPicked)))
      ) {
        best = e
        bestRank = r
        bestKey = key
      }
    }
    const chosen = best ?? fallback
    if (!chosen) return undefined
    chosen.inFlight++
    chosen.requests++
    chosen.lastPicked = ++this.picks
    return chosen.miner
  }

  /** Ends a request on a miner: success resets its failures, failure starts a cool-down. */
  release(
    miner: MinerClient,
    outcome: { ok: boolean; tokens?: number; firstTokenMs?: number; tokensPerSecond?: number },
  ): void {
    const e = this.entries.get(miner.hotkey)
    if (!e || e.miner !== miner) return
    e.inFlight = Math.max(0, e.inFlight - 1)
    e.tokens += outcome.tokens ?? 0
    const average = (old: number | undefined, v: number | undefined) =>
      v === undefined || !Number.isFinite(v) || v < 0
        ? old
        : old === undefined
          ? v
          : old + EWMA * (v - old)
    e.latencyMs = average(e.latencyMs, outcome.firstTokenMs)
    e.throughput = average(e.throughput, outcome.tokensPerSecond)
    if (outcome.ok) {
      e.consecutiveFailures = 0
      e.unavailableUntil = 0
    } else {
      e.failures++
      e.consecutiveFailures++
      const wait = Math.min(this.maxCooldownMs, this.cooldownMs * 2 ** (e.consecutiveFailures - 1))
      e.unavailableUntil = this.now() + wait
    }
  }
}
