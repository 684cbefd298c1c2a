import { MinerFailedError, MinerMismatchError, NoMinerAvailableError } from '../errors/gateway.ts'
import type {
  CallProof,
  FinishReason,
  InferenceEvent,
  InferenceRequest,
  MinerClient,
  SignedReceipt,
  StepLogprobs,
} from '../types/inference.ts'
import type { GatewayMetrics } from './metrics.ts'
import type { MinerPool, MinerPrice, RoutingPreferences } from './pool.ts'

export type RoutedEvent =
  | { type: 'token'; index: number; token: number }
  | {
      type: 'done'
      tokens: number[]
      finishReason: FinishReason
      receipt: SignedReceipt
      call: CallProof
      miner: MinerClient
      /** The request as this miner served it: with its price bound in when it charges one. */
      request: InferenceRequest
      attempts: number
      logprobs?: StepLogprobs[]
    }

export type RouteOptions = {
  signal?: AbortSignal
  /** Miners tried at most (default: every miner of the pool). */
  maxAttempts?: number
  /** Route only to these hotkeys (lower-case; OpenRouter's `provider.only`). */
  only?: ReadonlySet<string>
  /** Never route to these hotkeys (lower-case; `provider.ignore`). */
  ignore?: ReadonlySet<string>
  /** `provider.sort` and `provider.max_price`. */
  prefs?: RoutingPreferences
  /** A miner silent for this long is abandoned and the request moves on (default 30000 ms). */
  idleTimeoutMs?: number
  metrics?: GatewayMetrics
}

class IdleTimeout extends Error {}

function describe(error: unknown): string {
  if (error instanceof IdleTimeout) return error.message
  if (error instanceof Error) {
    const { shortMessage, details } = error as { shortMessage?: string; details?: string }
    if (shortMessage === undefined) return error.message.split('\n')[0]!
    // the cause, in a few words: what an operator needs to tell a network fault from a bug
    return details ? `${shortMessage} (${details.split('\n')[0]!.slice(0, 160)})` : shortMessage
  }
  return String(error)
}

/**
 * Runs a request on the pool's miners with failover. Tokens are yielded as they arrive; when a
 * miner fails (before or during its answer, or falls silent), the request starts again on the
 * next miner. The request is seeded, so an honest miner reproduces the tokens already yielded:
 * those are checked and skipped, and only new ones are yielded. A miner that disagrees with them
 * ends the request with MinerMismatchError (the text already sent cannot be taken back).
 * The last event is `done` with the receipt of the miner that finished.
 */
export async function* routeInference(
  pool: MinerPool,
  request: InferenceRequest,
  options: RouteOptions = {},
): AsyncGenerator<RoutedEvent> {
  const { signal, metrics } = options
  const idleTimeoutMs = options.idleTimeoutMs ?? 30_000
  const maxAttempts = options.maxAttempts ?? Math.max(1, pool.size)
  const tried = new Set<string>()
  const excluded = new Set<string>()
  for (const h of options.ignore ?? []) excluded.add(h)
  const emitted: number[] = []
  let lastError: unknown
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    signal?.throwIfAborted()
    const miner = pool.acquire(excluded, options.only, options.prefs)
    if (!miner) break
    const served = pricedRequest(request, pool.priceOf(miner.hotkey))
    tried.add(miner.hotkey)
    excluded.add(miner.hotkey)
    if (attempt > 1) metrics?.failovers.inc({ model: pool.model.id })
    const controller = new AbortController()
    const onAbort = () => controller.abort(signal?.reason)
    signal?.addEventListener('abort', onAbort, { once: true })
    let iterator: AsyncIterator<InferenceEvent> | undefined
    let received = 0
    let ok = false
    let released = false
    const started = performance.now()
    let firstTokenAt: number | undefined
    const release = (success: boolean, tokens = 0) => {
      if (released) return
      released = true
      // Speed is measured on answers that finished: latency to the first token, then tokens/s.
      const end = performance.now()
      const measured =
        success && tokens > 0 && firstTokenAt !== undefined
          ? {
              firstTokenMs: firstTokenAt - started,
              ...(tokens > 1 && end > firstTokenAt
                ? { tokensPerSecond: ((tokens - 1) * 1000) / (end - firstTokenAt) }
                : {}),
            }
          : {}
      pool.release(miner, { ok: success, tokens, ...measured })
    }
    try {
      iterator = miner.infer(served, { signal: controller.signal })[Symbol.asyncIterator]()
      for (;;) {
        const step = await nextWithin(iterator, idleTimeoutMs)
        if (step.done) throw new MinerFailedError('the miner ended its answer without a receipt')
        const event = step.value
        firstTokenAt ??= performance.now()
        if (event.type === 'token') {
          if (received < emitted.length) {
            if (emitted[received] !== event.token)
              throw new MinerMismatchError(
                `miner ${miner.hotkey} disagrees with the previous miner at token ${received} of a seeded request`,
              )
          } else {
            emitted.push(event.token)
            yield { type: 'token', index: received, token: event.token }
          }
          received++
        } else {
          // The receipt's token list is authoritative; tokens not streamed are yielded now.
          for (let i = 0; i < event.tokens.length; i++) {
            if (i < emitted.length) {
              if (emitted[i] !== event.tokens[i])
                throw new MinerMismatchError(
                  `miner ${miner.hotkey} answered with tokens that differ from the ones it streamed`,
                )
            } else {
              emitted.push(event.tokens[i]!)
              yield { type: 'token', index: i, token: event.tokens[i]! }
            }
          }
          if (event.tokens.length < emitted.length)
            throw new MinerMismatchError(
              `miner ${miner.hotkey} answered with fewer tokens than were already streamed`,
            )
          ok = true
          metrics?.minerRequests.inc({ model: pool.model.id, miner: miner.hotkey, outcome: 'ok' })
          metrics?.minerTokens.inc(
            { model: pool.model.id, miner: miner.hotkey },
            event.tokens.length,
          )
          release(true, event.tokens.length)
          yield {
            type: 'done',
            tokens: event.tokens,
            finishReason: event.finishReason,
            receipt: event.receipt,
            call: event.call,
            miner,
            request: served,
            attempts: attempt,
            ...(event.logprobs ? { logprobs: event.logprobs } : {}),
          }
          return
        }
      }
    } catch (error) {
      if (signal?.aborted) {
        release(true)
        throw signal.reason ?? error
      }
      release(false)
      metrics?.minerRequests.inc({ model: pool.model.id, miner: miner.hotkey, outcome: 'error' })
      if (error instanceof MinerMismatchError) throw error
      lastError = error
    } finally {
      signal?.removeEventListener('abort', onAbort)
      // The consumer stopped early (client gone): not the miner's fault.
      release(true)
      // Done: the miner client's generator is finished too (it closes its stream).
      if (ok) iterator?.return?.(undefined).catch(() => {})
      else {
        controller.abort(new Error('request moved to another miner'))
        // Do not wait on a miner that may hang: close its stream in the background.
        iterator?.return?.().catch(() => {})
      }
    }
  }
  if (tried.size === 0) throw new NoMinerAvailableError(pool.model.id)
  throw new MinerFailedError(
    `all ${tried.size} miner(s) tried for model \`${pool.model.id}\` failed; last error: ${describe(lastError)}`,
    { cause: lastError },
  )
}

/**
 * The request as sent to one miner: priced at the miner's verified, unexpired sheet when that is
 * not free (the receipt then commits to the rate, and vouchers pay exactly tokens x it), without a
 * price otherwise. The seed is untouched, so a failover to a miner at another price reproduces the
 * same tokens.
 */
export function pricedRequest(
  request: InferenceRequest,
  price: MinerPrice | undefined,
): InferenceRequest {
  const { price: _dropped, ...free } = request
  if (!price || (price.prompt === 0n && price.completion === 0n)) return free
  return {
    ...free,
    price: { promptWei: price.prompt.toString(), completionWei: price.completion.toString() },
  }
}

async function nextWithin<T>(iterator: AsyncIterator<T>, ms: number): Promise<IteratorResult<T>> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new IdleTimeout(`the miner sent nothing for ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([iterator.next(), timeout])
  } finally {
    clearTimeout(timer)
  }
}
