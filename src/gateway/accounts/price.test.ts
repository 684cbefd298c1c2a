import { expect, it } from 'vitest'
import { costOf, fixedPriceBook, formatAmount, parseAmount } from './price.ts'

it('costs prompt and completion tokens per million, rounded up to a whole micro-unit', () => {
  const price = { promptPerMillion: 1_000_000n, completionPerMillion: 2_000_000n }
  expect(costOf(price, 10, 5)).toBe(20n)
  expect(costOf({ promptPerMillion: 1n, completionPerMillion: 0n }, 1, 0)).toBe(1n)
  expect(costOf({ promptPerMillion: 1n, completionPerMillion: 0n }, 1_000_000, 0)).toBe(1n)
  expect(costOf({ promptPerMillion: 1n, completionPerMillion: 0n }, 1_000_001, 0)).toBe(2n)
  expect(costOf({ promptPerMillion: 0n, completionPerMillion: 0n }, 10_000, 10_000)).toBe(0n)
  // large counts stay exact (bigint)
  expect(costOf({ promptPerMillion: 3n * 10n ** 12n, completionPerMillion: 0n }, 2 ** 40, 0)).toBe(
    3n * 10n ** 6n * 2n ** 40n,
  )
})

it('parses amounts as exact micro-units and refuses anything else', () => {
  expect(parseAmount('5', 'x')).toBe(5_000_000n)
  expect(parseAmount('0.25', 'x')).toBe(250_000n)
  expect(parseAmount('0.000001', 'x')).toBe(1n)
  expect(parseAmount(' 12.5 ', 'x')).toBe(12_500_000n)
  for (const bad of [
    '-1',
    '1e6',
    '0.0000001',
    '',
    '.5',
    '1.',
    'NaN',
    '0x10',
    '1,5',
    '9'.repeat(13),
  ])
    expect(() => parseAmount(bad, '--credit'), bad).toThrow(/--credit must be/)
  expect(formatAmount(1_500_000n)).toBe('1.500000')
  expect(formatAmount(1n)).toBe('0.000001')
})

it('a price book quotes per model and refuses negative prices', () => {
  const base = { promptPerMillion: 1n, completionPerMillion: 2n }
  const special = { promptPerMillion: 5n, completionPerMillion: 6n }
  const book = fixedPriceBook(base, { big: special })
  expect(book.quote('big')).toEqual(special)
  expect(book.quote('other')).toEqual(base)
  expect(book.quote('__proto__')).toEqual(base)
  expect(() => fixedPriceBook({ promptPerMillion: -1n, completionPerMillion: 0n })).toThrow(
    /negative/,
  )
})
