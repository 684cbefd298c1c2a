import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { RateLimiter, secretSample } from './gossip.ts'

const receipt = (i: number) => ({
  receipt: {
    requestHash: `0x${i.toString(16).padStart(64, '0')}`,
    nonce: `0x${(i * 7919).toString(16).padStart(64, '0')}`,
  },
})

describe('secret sampling of gossiped answers', () => {
  it('samples at the rate, the same answer always the same way, and independently per key', () => {
    const a = randomBytes(32)
    const b = randomBytes(32)
    const n = 20_000
    let hitsA = 0
    let both = 0
    for (let i = 0; i < n; i++) {
      const r = receipt(i) as never
      const sa = secretSample(a, r, 0.25)
      expect(secretSample(a, r, 0.25)).toBe(sa)
      if (sa) hitsA++
      if (sa && secretSample(b, r, 0.25)) both++
    }
    expect(hitsA / n).toBeGreaterThan(0.23)
    expect(hitsA / n).toBeLessThan(0.27)
    // Independent keys: P(both) = 0.25^2.
    expect(both / n).toBeGreaterThan(0.05)
    expect(both / n).toBeLessThan(0.075)
    expect(secretSample(a, receipt(1) as never, 1)).toBe(true)
    expect(secretSample(a, receipt(1) as never, 0)).toBe(false)
  })
})

describe('per-sender rate limits', () => {
  it('allow a burst, then the rate, per sender', () => {
    let now = 0
    const limit = new RateLimiter(10, 20, () => now)
    const taken = Array.from({ length: 30 }, () => limit.take('x')).filter(Boolean).length
    expect(taken).toBe(20)
    expect(limit.take('y')).toBe(true)
    now += 1000
    const later = Array.from({ length: 30 }, () => limit.take('x')).filter(Boolean).length
    expect(later).toBe(10)
  })
})
