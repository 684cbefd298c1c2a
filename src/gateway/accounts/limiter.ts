import { RateLimitError, type RateLimitState } from '../../errors/gateway.ts'
import type { KeyLimits } from './store.ts'

const WINDOW_MS = 60_000

type Entry = { t: number; n: number }
type KeyWindows = { requests: Entry[]; tokens: Entry[]; inFlight: number }

/** A key's token reservation: corrected to the tokens actually used, released when done. */
export type TokenLease = {
  /** Replaces the tokens counted at admission with what the request used. */
  correct(tokens: number): void
  /** Ends the request's concurrency slot (idempotent). */
  release(): void
}

/**
 * Per-key requests/min, tokens/min and concurrency, in memory, over a sliding 60-second window.
 * Keys are the account ids (from the key's hash): never the raw header, so inventing bearer
 * tokens buys no fresh budget (unknown keys are refused before they get here).
 */
export class KeyLimiter {
  private readonly keys = new Map<string, KeyWindows>()
  constructor(private readonly now: () => number = Date.now) {}

  private windows(id: string): KeyWindows {
    let w = this.keys.get(id)
    if (!w) {
      if (this.keys.size >= 100_000) this.sweep()
      w = { requests: [], tokens: [], inFlight: 0 }
      this.keys.set(id, w)
    }
    const cutoff = this.now() - WINDOW_MS
    for (const list of [w.requests, w.tokens]) {
      let i = 0
      while (i < list.length && list[i]!.t <= cutoff) i++
      if (i > 0) list.splice(0, i)
    }
    return w
  }

  /** Drops idle keys (nothing in flight, nothing in the window). */
  private sweep(): void {
    const cutoff = this.now() - WINDOW_MS
    for (const [id, w] of this.keys)
      if (
        w.inFlight === 0 &&
        w.requests.every((e) => e.t <= cutoff) &&
        w.tokens.every((e) => e.t <= cutoff)
      )
        this.keys.delete(id)
  }

  /** Counts one request against `rpm`; over it, a RateLimitError. Returns the headers' state. */
  takeRequest(id: string, limits: KeyLimits): RateLimitState | undefined {
    if (limits.rpm === 0) return undefined
    const w = this.windows(id)
    const t = this.now()
    const used = w.requests.length
    if (used >= limits.rpm) {
      const retry = this.secondsUntil(w.requests, used - limits.rpm + 1)
      throw new RateLimitError(retry, {
        message: `Rate limit reached for requests: ${limits.rpm} per minute on this key; retry after ${retry} s.`,
        limit: { limit: limits.rpm, remaining: 0, resetSeconds: retry },
      })
    }
    w.requests.push({ t, n: 1 })
    return {
      limit: limits.rpm,
      remaining: limits.rpm - used - 1,
      resetSeconds: this.secondsUntil(w.requests, 1),
    }
  }

  /**
   * Admits a request that may use up to `tokens` tokens: one concurrency slot and `tokens` against
   * `tpm` (corrected once the request's real usage is known). Over either, a RateLimitError.
   */
  takeTokens(id: string, limits: KeyLimits, tokens: number): TokenLease {
    const w = this.windows(id)
    if (limits.concurrency > 0 && w.inFlight >= limits.concurrency)
      throw new RateLimitError(1, {
        message: `Too many concurrent requests: ${limits.concurrency} at once on this key; retry when one finishes.`,
        limit: { limit: limits.concurrency, remaining: 0, resetSeconds: 1 },
      })
    let entry: Entry | undefined
    if (limits.tpm > 0) {
      if (tokens > limits.tpm)
        throw new RateLimitError(60, {
          message: `This request may use ${tokens} tokens (prompt + max_tokens), more than this key's ${limits.tpm} tokens per minute: lower max_tokens or the prompt.`,
          limit: { limit: limits.tpm, remaining: 0, resetSeconds: 60 },
        })
      const used = w.tokens.reduce((s, e) => s + e.n, 0)
      if (used + tokens > limits.tpm) {
        // the window frees tokens as its oldest entries age out: wait until enough have
        let freed = 0
        let k = 0
        while (k < w.tokens.length && used - freed + tokens > limits.tpm) freed += w.tokens[k++]!.n
        const retry = this.secondsUntil(w.tokens, k)
        throw new RateLimitError(retry, {
          message: `Rate limit reached for tokens: ${limits.tpm} per minute on this key (${used} used, this request may use ${tokens}); retry after ${retry} s.`,
          limit: {
            limit: limits.tpm,
            remaining: Math.max(0, limits.tpm - used),
            resetSeconds: retry,
          },
        })
      }
      entry = { t: this.now(), n: tokens }
      w.tokens.push(entry)
    }
    w.inFlight++
    let released = false
    return {
      correct(actual) {
        if (entry) entry.n = Math.max(0, actual)
      },
      release: () => {
        if (released) return
        released = true
        w.inFlight--
        if (!this.keys.has(id)) this.keys.set(id, w)
      },
    }
  }

  /** Requests of this key in flight now. */
  inFlight(id: string): number {
    return this.keys.get(id)?.inFlight ?? 0
  }

  /** Seconds (at least 1) until the window's `count` oldest entries have aged out. */
  private secondsUntil(list: Entry[], count: number): number {
    if (count <= 0 || list.length === 0) return 1
    const e = list[Math.min(count, list.length) - 1]!
    return Math.max(1, Math.ceil((e.t + WINDOW_MS - this.now()) / 1000))
  }
}
