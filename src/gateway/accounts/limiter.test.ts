import { describe, expect, it } from 'vitest'
import { RateLimitError } from '../../errors/gateway.ts'
import { KeyLimiter } from './limiter.ts'

const limits = (rpm: number, tpm: number, concurrency: number) => ({ rpm, tpm, concurrency })

function refused(fn: () => unknown): RateLimitError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(RateLimitError)
    return error as RateLimitError
  }
  throw new Error('expected a RateLimitError')
}

describe('KeyLimiter', () => {
  it('requests/min over a sliding window, per key, with Retry-After and the headers state', () => {
    let now = 0
    const l = new KeyLimiter(() => now)
    expect(l.takeRequest('a', limits(2, 0, 0))).toEqual({
      limit: 2,
      remaining: 1,
      resetSeconds: 60,
    })
    now = 20_000
    expect(l.takeRequest('a', limits(2, 0, 0))?.remaining).toBe(0)
    now = 30_000
    const e = refused(() => l.takeRequest('a', limits(2, 0, 0)))
    expect(e.retryAfterSeconds).toBe(30)
    expect(e.limit).toEqual({ limit: 2, remaining: 0, resetSeconds: 30 })
    // another key has its own window
    expect(l.takeRequest('b', limits(2, 0, 0))?.remaining).toBe(1)
    // the first request ages out at 60 s: one slot, not two
    now = 60_000
    expect(l.takeRequest('a', limits(2, 0, 0))?.remaining).toBe(0)
    refused(() => l.takeRequest('a', limits(2, 0, 0)))
    // 0 = no limit
    for (let i = 0; i < 1000; i++) expect(l.takeRequest('c', limits(0, 0, 0))).toBeUndefined()
  })

  it('tokens/min counts the reservation, then the corrected usage', () => {
    let now = 0
    const l = new KeyLimiter(() => now)
    const first = l.takeTokens('a', limits(0, 100, 0), 80)
    const e = refused(() => l.takeTokens('a', limits(0, 100, 0), 30))
    expect(e.shortMessage).toMatch(/tokens: 100 per minute/)
    expect(e.retryAfterSeconds).toBe(60)
    // the request used 20 of its 80: 80 tokens are free again at once
    first.correct(20)
    first.release()
    const second = l.takeTokens('a', limits(0, 100, 0), 80)
    second.release()
    now = 59_999
    refused(() => l.takeTokens('a', limits(0, 100, 0), 80))
    now = 60_001
    l.takeTokens('a', limits(0, 100, 0), 80).release()
    // a request larger than the whole budget can never pass: said so
    expect(refused(() => l.takeTokens('a', limits(0, 100, 0), 101)).shortMessage).toMatch(
      /more than this key's 100 tokens per minute/,
    )
  })

  it('concurrency: slots are taken at admission and freed once, however often release is called', () => {
    const l = new KeyLimiter(() => 0)
    const a = l.takeTokens('k', limits(0, 0, 2), 1)
    const b = l.takeTokens('k', limits(0, 0, 2), 1)
    expect(refused(() => l.takeTokens('k', limits(0, 0, 2), 1)).shortMessage).toMatch(
      /Too many concurrent requests: 2/,
    )
    a.release()
    a.release()
    a.release()
    expect(l.inFlight('k')).toBe(1)
    const c = l.takeTokens('k', limits(0, 0, 2), 1)
    refused(() => l.takeTokens('k', limits(0, 0, 2), 1))
    b.release()
    c.release()
    expect(l.inFlight('k')).toBe(0)
  })
})
