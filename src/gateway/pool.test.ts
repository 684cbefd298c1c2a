import { describe, expect, it } from 'vitest'
import type { Address, MinerClient } from '../types/inference.ts'
import { testMiner } from './fixtures.ts'
import { MinerPool } from './pool.ts'

const stub = (n: number): MinerClient => ({
  hotkey: `0x${String(n).padStart(40, '0')}` as Address,
  infer: () => {
    throw new Error('not called')
  },
})

describe('MinerPool', () => {
  const model = testMiner(0).describe()
  it('routes by score, spreads load by in-flight requests, round-robins ties', () => {
    const [a, b, c] = [stub(1), stub(2), stub(3)]
    const pool = new MinerPool(model, { miners: [{ miner: a, score: 3 }, b, c] })
    expect(pool.acquire()).toBe(a) // 3 vs 1 vs 1
    expect(pool.acquire()).toBe(a) // 1.5
    expect(pool.acquire()).toBe(b) // a: 1, b: 1, c: 1 -> least recently picked of b, c
    expect(pool.acquire()).toBe(c)
    pool.release(a, { ok: true })
    pool.release(a, { ok: true })
    pool.setScore(a.hotkey, 0)
    expect(pool.acquire(new Set([b.hotkey]))).toBe(c)
    expect(pool.acquire(new Set([b.hotkey, c.hotkey]))).toBeUndefined()
  })

  it('cools a failing miner down exponentially, falls back to it when nothing else is left', () => {
    let now = 1000
    const [a, b] = [stub(1), stub(2)]
    const pool = new MinerPool(model, { miners: [a, b], cooldownMs: 100, now: () => now })
    expect(pool.acquire()).toBe(a)
    pool.release(a, { ok: false })
    expect(pool.availableCount()).toBe(1)
    expect(pool.status().find((s) => s.hotkey === a.hotkey)).toMatchObject({
      available: false,
      failures: 1,
      inFlight: 0,
    })
    expect(pool.acquire()).toBe(b)
    pool.release(b, { ok: true })
    expect(pool.acquire(new Set([b.hotkey]))).toBe(a) // fallback while cooling down
    pool.release(a, { ok: false }) // second failure: 200 ms
    now += 150
    expect(pool.availableCount()).toBe(1)
    now += 100
    expect(pool.availableCount()).toBe(2)
    pool.release(pool.acquire()!, { ok: true, tokens: 5 })
    expect(pool.status().reduce((n, s) => n + s.tokens, 0)).toBe(5)
  })

  it('add replaces a miner with the same hotkey and keeps its counters; remove drops it', () => {
    const a = stub(1)
    const pool = new MinerPool(model)
    pool.add(a, { score: 2 })
    pool.release(pool.acquire()!, { ok: true, tokens: 3 })
    pool.add({ ...a })
    expect(pool.status()[0]).toMatchObject({ score: 2, requests: 1, tokens: 3 })
    expect(pool.remove(a.hotkey)).toBe(true)
    expect(pool.size).toBe(0)
  })
})

describe('MinerPool routing preferences', () => {
  const model = testMiner(0).describe()
  const NOW = 1_800_000_000_000
  const price = (prompt: bigint, completion: bigint, validUntil = NOW / 1000 + 3600) => ({
    prompt,
    completion,
    validUntil,
  })
  const fresh = () => {
    const [a, b, c] = [stub(1), stub(2), stub(3)]
    const pool = new MinerPool(model, { miners: [{ miner: a, score: 5 }, b, c], now: () => NOW })
    pool.setPrice(a.hotkey, price(30n, 30n))
    pool.setPrice(b.hotkey, price(10n, 20n))
    pool.setPrice(c.hotkey, price(5n, 40n))
    return { pool, a, b, c }
  }

  it('sort=price picks the cheapest (prompt + completion), unknown prices last', () => {
    const { pool, a, b, c } = fresh()
    expect(pool.acquire(new Set(), undefined, { sort: 'price' })).toBe(b) // 30 < 45 < 60
    expect(pool.acquire(new Set([b.hotkey]), undefined, { sort: 'price' })).toBe(c)
    pool.setPrice(c.hotkey, undefined)
    expect(pool.acquire(new Set([b.hotkey]), undefined, { sort: 'price' })).toBe(a)
    expect(pool.acquire(new Set([a.hotkey, b.hotkey]), undefined, { sort: 'price' })).toBe(c)
  })

  it('max_price leaves out dearer miners and miners whose price is unknown or expired', () => {
    const { pool, a, b, c } = fresh()
    const cap = { maxPrice: { completion: 25n } }
    expect(pool.acquire(new Set(), undefined, cap)).toBe(b)
    expect(pool.acquire(new Set([b.hotkey]), undefined, cap)).toBeUndefined()
    expect(pool.acquire(new Set(), undefined, { maxPrice: { prompt: 5n } })).toBe(c)
    pool.setPrice(c.hotkey, price(5n, 40n, NOW / 1000 - 1)) // expired
    expect(pool.acquire(new Set(), undefined, { maxPrice: { prompt: 5n } })).toBeUndefined()
    expect(pool.status().find((s) => s.hotkey === c.hotkey)?.price).toBeUndefined()
    // a miner cooling down is no way around the cap
    pool.setPrice(a.hotkey, price(1n, 1n))
    const m = pool.acquire(new Set(), undefined, { maxPrice: { prompt: 1n } })
    expect(m).toBe(a)
    pool.release(a, { ok: false })
    expect(pool.acquire(new Set(), undefined, { maxPrice: { prompt: 1n } })).toBe(a) // fallback, still under the cap
    pool.release(a, { ok: false })
    pool.setPrice(a.hotkey, price(2n, 2n))
    expect(pool.acquire(new Set(), undefined, { maxPrice: { prompt: 1n } })).toBeUndefined()
  })

  it('sort=latency and sort=throughput measure answers, trying unmeasured miners first', () => {
    const { pool, a, b, c } = fresh()
    for (const [m, firstTokenMs, tokensPerSecond] of [
      [a, 300, 50],
      [b, 100, 10],
    ] as const) {
      pool.acquire(new Set([a, b, c].filter((x) => x !== m).map((x) => x.hotkey)))
      pool.release(m, { ok: true, tokens: 8, firstTokenMs, tokensPerSecond })
    }
    expect(pool.acquire(new Set(), undefined, { sort: 'latency' })).toBe(c) // never measured
    pool.release(c, { ok: true, tokens: 8, firstTokenMs: 500, tokensPerSecond: 20 })
    expect(pool.acquire(new Set(), undefined, { sort: 'latency' })).toBe(b)
    pool.release(b, { ok: true })
    expect(pool.acquire(new Set(), undefined, { sort: 'throughput' })).toBe(a)
    pool.release(a, { ok: true })
    // the averages move toward new measurements; garbage measurements are ignored
    pool.acquire(new Set([a.hotkey, c.hotkey]))
    pool.release(b, { ok: true, tokens: 4, firstTokenMs: 1100, tokensPerSecond: Number.NaN })
    const sb = pool.status().find((s) => s.hotkey === b.hotkey)!
    expect(sb.latencyMs).toBeCloseTo(100 + 0.3 * 1000, 6)
    expect(sb.throughput).toBe(10)
    expect(pool.acquire(new Set(), undefined, { sort: 'latency' })).toBe(a) // 300 < 400 < 500
  })
})
