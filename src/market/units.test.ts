import { describe, expect, it } from 'vitest'
import { formatByteSize, parseByteSize, parseCpuUnits, parseVty } from './units.ts'

describe('units', () => {
  it('read cpu, sizes and VTY exactly', () => {
    expect(parseCpuUnits(0.5)).toBe(500)
    expect(parseCpuUnits('0.7')).toBe(700)
    expect(parseCpuUnits('250m')).toBe(250)
    expect(parseCpuUnits('1.0005')).toBe('not a whole number of millicpu')
    expect(parseByteSize('1.5Gi')).toBe(1_610_612_736n)
    expect(parseByteSize('2G')).toBe(2_000_000_000n)
    expect(parseByteSize('1k')).toBe(1000n)
    expect(parseByteSize('1K')).toBe('not a size')
    expect(parseVty('1.000000000000000000')).toBe(10n ** 18n)
    expect(parseVty(1.5)).toBe(15n * 10n ** 17n)
    expect(parseVty(2 ** 60)).toBe('not a decimal amount')
  })

  it('read numbers as the decimals people wrote, and refuse the rest', () => {
    expect(parseVty(1e-7)).toBe(100_000_000_000n)
    expect(parseVty(1e21)).toBe('not a decimal amount')
    expect(parseVty(Number.NaN)).toBe('not a decimal amount')
    expect(parseVty(-1)).toBe('not a decimal amount')
    expect(parseCpuUnits(Number.POSITIVE_INFINITY)).toBe('not a CPU count')
    expect(parseCpuUnits('1000001m')).toBe('not within 1m..1000000m')
    expect(parseByteSize(`${2n ** 64n}`)).toBe('larger than 2^64-1 bytes')
    expect(parseByteSize(`${2n ** 64n - 1n}`)).toBe(2n ** 64n - 1n)
  })

  it('format byte counts for people', () => {
    expect(formatByteSize(0n)).toBe('0')
    expect(formatByteSize(1000n)).toBe('1000')
    expect(formatByteSize(1536n * 1024n * 1024n)).toBe('1536Mi')
    expect(formatByteSize(8n * 1024n ** 3n)).toBe('8Gi')
    expect(formatByteSize(2n * 1024n ** 4n)).toBe('2Ti')
  })
})
