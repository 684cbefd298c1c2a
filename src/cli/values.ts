import { existsSync } from 'node:fs'
import { type Address, getAddress, isAddress, parseEther } from 'viem'
import { UsageError } from '../errors/cli.ts'
import { readKeyfile } from '../node/wallet.ts'
import type { ParsedArgs } from './args.ts'

type Flags = ParsedArgs['flags']

/** A decimal VTY (or ETH) amount: digits with at most 18 decimals, like '10' or '0.5'. */
export function parseAmount(raw: string, what: string): bigint {
  const text = raw.trim()
  if (text.startsWith('-')) throw new UsageError(`${what} must not be negative, got '${raw}'`)
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(text))
    throw new UsageError(`${what} must be a decimal number like 10 or 0.5, got '${raw}'`)
  const decimals = text.split('.')[1] ?? ''
  if (decimals.length > 18) throw new UsageError(`${what} has more than 18 decimals, got '${raw}'`)
  return parseEther(text)
}

/** A required amount flag, positive. */
export function amountFlag(flags: Flags, name: string): bigint {
  const raw = stringFlag(flags, name, `--${name} <amount> is required (VTY, like 10 or 0.5)`)
  const value = parseAmount(raw, `--${name}`)
  if (value === 0n) throw new UsageError(`--${name} must be more than 0`)
  return value
}

/** An address; the error names what it should have been. */
export function parseAddress(raw: string, what: string): Address {
  if (!isAddress(raw, { strict: false }))
    throw new UsageError(
      `${what} must be an address (0x and 40 hex digits) or a keyfile, got '${raw}'`,
    )
  return getAddress(raw)
}

/** A required string flag; `missing` is the error when it is absent. */
export function stringFlag(flags: Flags, name: string, missing: string): string {
  const value = flags[name]
  if (typeof value !== 'string' || value === '') throw new UsageError(missing)
  return value
}

/** The subnet id (--netuid), 0..65535. */
export function netuidFlag(flags: Flags): number {
  const raw = stringFlag(
    flags,
    'netuid',
    '--netuid <id> is required: the subnet (verity subnet list)',
  )
  if (!/^\d+$/.test(raw) || Number(raw) > 65535)
    throw new UsageError(`--netuid must be a subnet id (0 to 65535), got '${raw}'`)
  return Number(raw)
}

/** An address given directly or as a keyfile (whose address is stored in the clear). */
export function addressOrKeyfile(raw: string, what: string): Address {
  if (raw.startsWith('0x') || !existsSync(raw)) return parseAddress(raw, what)
  return getAddress(readKeyfile(raw).address)
}
