/**
 * The units a spec and a provider's flags are written in, read exactly (no floating point):
 * CPU (`0.5`, `"500m"`), byte sizes (`512Mi`, `2G`) and VTY amounts (18 decimals). Each parser
 * returns the value, or a string saying why not, for the caller to put in its own error.
 */

const MAX_UINT64 = 2n ** 64n - 1n
const MAX_UINT128 = 2n ** 128n - 1n
const MAX_CPU_MILLI = 1_000_000
const VTY_DECIMALS = 18

/** Millicpu from `0.5`, `"2"` or `"500m"`; a string says why not. */
export function parseCpuUnits(value: number | string): number | string {
  let milli: bigint | undefined
  if (typeof value === 'string' && /^[0-9]+m$/.test(value)) milli = BigInt(value.slice(0, -1))
  else {
    const decimal = typeof value === 'number' ? numberToDecimal(value) : value
    if (decimal === undefined || !DECIMAL.test(decimal)) return 'not a CPU count'
    milli = decimalToUnits(decimal, 3)
    if (milli === undefined) return 'not a whole number of millicpu'
  }
  if (milli < 1n || milli > BigInt(MAX_CPU_MILLI)) return `not within 1m..${MAX_CPU_MILLI}m`
  return Number(milli)
}

const SIZE_UNITS: Record<string, bigint> = {
  '': 1n,
  k: 1000n,
  M: 1000n ** 2n,
  G: 1000n ** 3n,
  T: 1000n ** 4n,
  Ki: 1024n,
  Mi: 1024n ** 2n,
  Gi: 1024n ** 3n,
  Ti: 1024n ** 4n,
}

/** Bytes from `512Mi`, `2G`, `1.5Gi` or `1024`; a string says why not. */
export function parseByteSize(value: string): bigint | string {
  const m = /^(0|[1-9][0-9]*)(?:\.([0-9]+))?(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(value)
  if (!m || value.length > 40) return 'not a size'
  const fraction = m[2] ?? ''
  const scaled = BigInt(m[1]! + fraction) * SIZE_UNITS[m[3] ?? '']!
  const divisor = 10n ** BigInt(fraction.length)
  if (scaled % divisor !== 0n) return 'not a whole number of bytes'
  const bytes = scaled / divisor
  if (bytes > MAX_UINT64) return 'larger than 2^64-1 bytes'
  return bytes
}

/** Wei from a decimal VTY amount (`"0.001"` or `0.001`); a string says why not. */
export function parseVty(value: number | string): bigint | string {
  const decimal = typeof value === 'number' ? numberToDecimal(value) : value
  if (decimal === undefined || !DECIMAL.test(decimal) || decimal.length > 60)
    return 'not a decimal amount'
  const wei = decimalToUnits(decimal, VTY_DECIMALS)
  if (wei === undefined) return `more than ${VTY_DECIMALS} decimals`
  if (wei > MAX_UINT128) return 'larger than 2^128-1 wei'
  return wei
}

/** A byte count for people: Gi, Mi or Ki when whole, else bytes. */
export function formatByteSize(bytes: bigint): string {
  for (const unit of ['Ti', 'Gi', 'Mi', 'Ki'] as const) {
    const size = SIZE_UNITS[unit]!
    if (bytes >= size && bytes % size === 0n) return `${bytes / size}${unit}`
  }
  return `${bytes}`
}

const DECIMAL = /^[0-9]+(\.[0-9]+)?$/

/** `decimal` × 10^decimals, or undefined when it has more significant decimals than that. */
function decimalToUnits(decimal: string, decimals: number): bigint | undefined {
  const [whole, fraction = ''] = decimal.split('.') as [string, string?]
  const trimmed = fraction.replace(/0+$/, '')
  if (trimmed.length > decimals) return undefined
  return BigInt(whole + trimmed.padEnd(decimals, '0'))
}

/** A YAML number as the decimal a person wrote (1e-7 → "0.0000001"); unsafe integers refused. */
function numberToDecimal(n: number): string | undefined {
  if (!Number.isFinite(n) || n < 0) return undefined
  if (Number.isInteger(n) && !Number.isSafeInteger(n)) return undefined
  const text = String(n)
  const m = /^([0-9]+)(?:\.([0-9]+))?e([+-][0-9]+)$/.exec(text)
  if (!m) return text
  const digits = m[1]! + (m[2] ?? '')
  const point = m[1]!.length + Number(m[3])
  if (point <= 0) return `0.${'0'.repeat(-point)}${digits}`
  if (point >= digits.length) return digits + '0'.repeat(point - digits.length)
  return `${digits.slice(0, point)}.${digits.slice(point)}`
}
