import { stringToHex } from 'viem'
import { describe, expect, it } from 'vitest'
import { bisectionRange, outcomeText, phaseName, short } from '../dashboard/src/disputes.ts'
import { fromBytes32, resourceSummary } from '../dashboard/src/market.ts'
import { DisputePhase, DisputeReason } from '../src/chain/dispute.ts'
import { attribute } from '../src/chain/market.ts'

/** The dashboard's pure formatting of dispute and market state (the browser test checks the rest). */
describe('dispute formatting', () => {
  it('names every phase as the game numbers them', () => {
    for (const [name, n] of Object.entries(DisputePhase))
      expect(phaseName(n)).toBe(name.toLowerCase().replace('_', ' '))
    expect(phaseName(13)).toBe('phase 13')
  })

  it('says who lost and why, timeouts apart', () => {
    expect(outcomeText(undefined)).toBe('')
    expect(outcomeText({ minerLost: true, reason: DisputeReason.ONE_STEP })).toBe(
      'miner lost (one step)',
    )
    expect(outcomeText({ minerLost: false, reason: DisputeReason.BINDING_PROVEN })).toBe(
      'challenger lost (binding proven)',
    )
    expect(outcomeText({ minerLost: false, reason: DisputeReason.TIMEOUT })).toBe(
      'timeout: challenger lost',
    )
    for (const [name, n] of Object.entries(DisputeReason))
      expect(outcomeText({ minerLost: true, reason: n })).toContain(
        n === DisputeReason.TIMEOUT ? 'timeout' : name.toLowerCase().replaceAll('_', ' '),
      )
    // an unknown reason is shown as its number, not dropped
    expect(outcomeText({ minerLost: true, reason: 99 })).toBe('miner lost (reason 99)')
  })

  it("gives the current node's leaves only while a tree is bisected", () => {
    expect(bisectionRange(DisputePhase.BISECT, 3, 5n)).toEqual({ from: 40n, to: 48n, height: 3 })
    expect(bisectionRange(DisputePhase.BISECT2, 0, 7n)).toEqual({ from: 7n, to: 8n, height: 0 })
    expect(bisectionRange(DisputePhase.CHUNKS, 8, 1n)).toEqual({ from: 256n, to: 512n, height: 8 })
    expect(bisectionRange(DisputePhase.SUM_BISECT, 1, 0n)).toEqual({ from: 0n, to: 2n, height: 1 })
    for (const phase of [
      DisputePhase.POSITION,
      DisputePhase.LEAF,
      DisputePhase.STEP,
      DisputePhase.DONE,
    ])
      expect(bisectionRange(phase, 3, 5n)).toBeUndefined()
  })

  it('shortens hashes to their ends', () => {
    expect(short(`0xabcd${'0'.repeat(56)}1234`)).toBe('0xabcd…1234')
  })
})

describe('market formatting', () => {
  it("reads attributes back as the contract stores them, keeping a value's own zeros", () => {
    const a = attribute('gpu', 'h100')
    expect(fromBytes32(a.key)).toBe('gpu')
    expect(fromBytes32(a.value)).toBe('h100')
    expect(fromBytes32(stringToHex('x'.repeat(32), { size: 32 }))).toBe('x'.repeat(32))
  })

  it('sums resources up in units people read', () => {
    const GiB = 1024n ** 3n
    expect(
      resourceSummary({
        cpuMilli: 1500,
        gpuUnits: 2,
        memoryBytes: 3n * GiB,
        storageBytes: GiB / 2n,
      }),
    ).toBe('1.5 CPU, 2 GPU, 3 GiB RAM, 0.5 GiB disk')
    expect(resourceSummary({ cpuMilli: 0, gpuUnits: 0, memoryBytes: 0n, storageBytes: 0n })).toBe(
      '0 CPU, 0 GPU, 0 GiB RAM, 0 GiB disk',
    )
  })
})
