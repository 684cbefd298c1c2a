import {
  AuthenticationError,
  InsufficientCreditError,
  type RateLimitState,
} from '../../errors/gateway.ts'
import { bearerToken, hashApiKey } from './keys.ts'
import { KeyLimiter } from './limiter.ts'
import { costOf, formatAmount, type Price, type PriceBook } from './price.ts'
import type { AccountRecord, AccountStore, UsageOutcome } from './store.ts'

/** A request's reservation: settled once with what it used (later calls do nothing). */
export type Charge = {
  readonly account: AccountRecord
  readonly price: Price
  /** Micro-units reserved: the cost of the prompt plus max_tokens at the quoted price. */
  readonly reserved: bigint
  settle(usage: { completionTokens: number; outcome: UsageOutcome }): void
}

export type AccountsOptions = {
  store: AccountStore
  prices: PriceBook
  now?: () => number
}

/**
 * Gateway accounts: who is calling (the key's hash in the store), whether the key may run one
 * more request now (requests/min, tokens/min, concurrency) and whether its credit covers it.
 * Admission reserves the most a request can cost; settlement charges what it used.
 */
export class Accounts {
  readonly store: AccountStore
  readonly prices: PriceBook
  private readonly limiter: KeyLimiter
  private readonly callers = new WeakMap<Request, AccountRecord>()

  constructor(options: AccountsOptions) {
    this.store = options.store
    this.prices = options.prices
    this.limiter = new KeyLimiter(options.now ?? Date.now)
  }

  /**
   * The account of an `Authorization: Bearer <key>` header, read from the store on every request
   * (a revoke or top-up from the CLI counts at once). Missing, unknown or revoked: a 401.
   */
  authenticate(header: string | undefined): AccountRecord {
    if (!header)
      throw new AuthenticationError(
        "You didn't provide an API key. Provide it in an Authorization header (Bearer <key>).",
      )
    const token = bearerToken(header)
    // a key is 48 characters; anything much longer is not one of ours (and is not hashed)
    const account = token && token.length <= 256 ? this.store.byHash(hashApiKey(token)) : undefined
    if (!account) throw new AuthenticationError('Incorrect API key provided.')
    if (account.revoked) throw new AuthenticationError('This API key has been revoked.')
    return account
  }

  /** Authenticates the request and counts it against its key's requests/min. */
  admit(request: Request): { account: AccountRecord; rate: RateLimitState | undefined } {
    const account = this.authenticate(request.headers.get('authorization') ?? undefined)
    const rate = this.limiter.takeRequest(account.id, account.limits)
    this.callers.set(request, account)
    return { account, rate }
  }

  /** The account `admit` found for this request (undefined when accounts did not see it). */
  callerOf(request: Request): AccountRecord | undefined {
    return this.callers.get(request)
  }

  /**
   * Reserves a request that reads `promptTokens` and may write up to `maxTokens`: a concurrency
   * slot, prompt + maxTokens against tokens/min, and their cost at the model's quoted price from
   * the balance (402 when it is short). All of it or none: a refusal leaves nothing held.
   */
  reserve(account: AccountRecord, model: string, promptTokens: number, maxTokens: number): Charge {
    const lease = this.limiter.takeTokens(account.id, account.limits, promptTokens + maxTokens)
    const price = this.prices.quote(model)
    const reserved = costOf(price, promptTokens, maxTokens)
    let hold: bigint | undefined
    try {
      hold = this.store.reserve(account.id, reserved)
    } catch (error) {
      lease.correct(0)
      lease.release()
      throw error
    }
    if (hold === undefined) {
      lease.correct(0)
      lease.release()
      const now = this.store.byHash(account.hash)
      if (!now || now.revoked) throw new AuthenticationError('This API key has been revoked.')
      throw new InsufficientCreditError(
        `Insufficient credit: this request may cost ${formatAmount(reserved)} (${promptTokens} prompt + ${maxTokens} max completion tokens) and the key has ${formatAmount(now.balance)} left. Top up the key, or lower max_tokens.`,
      )
    }
    const store = this.store
    let settled = false
    return {
      account,
      price,
      reserved,
      settle({ completionTokens, outcome }) {
        if (settled) return
        settled = true
        // nothing reached the caller: nothing to pay for
        const free = outcome === 'failed' && completionTokens === 0
        const charged = free ? 0 : completionTokens
        const prompt = free ? 0 : promptTokens
        lease.correct(prompt + charged)
        lease.release()
        store.settle(hold, {
          model,
          promptTokens,
          completionTokens,
          cost: costOf(price, prompt, charged),
          outcome,
        })
      },
    }
  }
}
