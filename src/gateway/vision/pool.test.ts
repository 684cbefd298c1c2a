import type { Address } from 'viem'
import { describe, expect, it } from 'vitest'
import type { VisionMiner } from '../../vision/local-miner.ts'
import { VisionPool } from './pool.ts'

const stub = (n: number): VisionMiner => ({
  hotkey: `0x${n.toString(16).padStart(40, '0')}` as Address,
  classify: async () => {
    throw new Error('unused')
  },
})
const pool = (miners: VisionMiner[]) =>
  new VisionPool({
    name: 'verity-digits',
    modelId: `0x${'00'.repeat(32)}`,
    vkey: {} as never,
    miners,
  })
const hotkeys = (ms: VisionMiner[]) => ms.map((m) => Number(BigInt(m.hotkey)))

describe('VisionPool', () => {
  it('rotates the first miner per request, and tries refuted miners last until they serve', () => {
    const [a, b, c] = [stub(1), stub(2), stub(3)]
    const p = pool([a, b, c])
    expect(hotkeys(p.order())).toEqual([1, 2, 3])
    expect(hotkeys(p.order())).toEqual([2, 3, 1])
    expect(hotkeys(p.order())).toEqual([3, 1, 2])
    p.record(b, 'refuted')
    expect(hotkeys(p.order())).toEqual([1, 3, 2])
    expect(hotkeys(p.order())).toEqual([3, 1, 2])
    // a mere failure does not demote; serving again clears the suspicion
    p.record(c, 'failed')
    p.record(b, 'served')
    expect(hotkeys(p.order())).toEqual([3, 1, 2])
    expect(p.status()).toEqual([
      { hotkey: a.hotkey, served: 0, failed: 0, refuted: 0 },
      { hotkey: b.hotkey, served: 1, failed: 0, refuted: 1 },
      { hotkey: c.hotkey, served: 0, failed: 1, refuted: 0 },
    ])
  })

  it('adds miners after start (a known hotkey replaces its entry), removes them, and is empty-safe', () => {
    const p = pool([])
    expect(p.order()).toEqual([])
    const a = stub(1)
    p.add(a)
    p.add(stub(2))
    const again = stub(1)
    p.add(again)
    expect(p.size).toBe(2)
    expect(p.order()[0]).toBe(again)
    // a record for a miner no longer in the pool changes nothing
    p.record(a, 'refuted')
    expect(p.status().every((s) => s.refuted === 0)).toBe(true)
    expect(p.remove(stub(2).hotkey)).toBe(true)
    expect(p.remove(stub(2).hotkey)).toBe(false)
    expect(p.size).toBe(1)
  })

  it('has default image limits, overridable one by one', () => {
    expect(pool([]).limits).toEqual({ maxImageBytes: 512 * 1024, maxImagePixels: 1024 * 1024 })
    const p = new VisionPool({
      name: 'x',
      modelId: `0x${'00'.repeat(32)}`,
      vkey: {} as never,
      limits: { maxImageBytes: 10 },
    })
    expect(p.limits).toEqual({ maxImageBytes: 10, maxImagePixels: 1024 * 1024 })
  })
})
