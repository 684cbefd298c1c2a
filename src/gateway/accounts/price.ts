import { InvalidRequestError } from '../../errors/gateway.ts'

/** Micro-units in one unit of credit: balances, prices and costs are integers of micro-units. */
export const MICRO = 1_000_000n

/** A model's price in micro-units per 1,000,000 tokens (the way providers quote, AkashML too). */
export type Price = { promptPerMillion: bigint; completionPerMillion: bigint }

export const FREE: Price = { promptPerMillion: 0n, completionPerMillion: 0n }

/**
 * Where the gateway reads what a model costs. A request is quoted once, at admission, and charged
 * at that quote: a price that changes mid-request never changes what the caller was promised.
 * Today the gateway's own flags set the prices; miner-advertised prices plug in here later (a book
 * that quotes the highest price among the miners a request may be routed to).
 */
export interface PriceBook {
  quote(model: string): Price
}

/** One price for every model, with per-model overrides. */
export function fixedPriceBook(price: Price, perModel: Record<string, Price> = {}): PriceBook {
  for (const p of [price, ...Object.values(perModel)])
    if (p.promptPerMillion < 0n || p.completionPerMillion < 0n)
      throw new InvalidRequestError('a price cannot be negative')
  return { quote: (model) => (Object.hasOwn(perModel, model) ? perModel[model]! : price) }
}

/**
 * What `promptTokens` and `completionTokens` cost at `price`, in micro-units, rounded up to a
 * whole micro-unit per request (so a free-riding stream of one-token requests still pays).
 */
export function costOf(price: Price, promptTokens: number, completionTokens: number): bigint {
  const total =
    BigInt(promptTokens) * price.promptPerMillion +
    BigInt(completionTokens) * price.completionPerMillion
  return (total + 999_999n) / 1_000_000n
}

/**
 * An amount of credit written in units with up to 6 decimals ("5", "0.25") as micro-units, parsed
 * from the text (no floating point); `what` names the value in the error.
 */
export function parseAmount(text: string, what: string): bigint {
  const m = /^(\d{1,12})(?:\.(\d{1,6}))?$/.exec(text.trim())
  if (!m)
    throw new InvalidRequestError(
      `${what} must be a non-negative amount with at most 6 decimals (like 5 or 0.25), got '${text}'`,
    )
  return BigInt(m[1]!) * MICRO + BigInt((m[2] ?? '').padEnd(6, '0'))
}

/** Micro-units shown in units with 6 decimals ("1.500000"). */
export function formatAmount(micro: bigint): string {
  const sign = micro < 0n ? '-' : ''
  const abs = micro < 0n ? -micro : micro
  return `${sign}${abs / MICRO}.${(abs % MICRO).toString().padStart(6, '0')}`
}
