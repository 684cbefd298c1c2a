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
