import type { Address, Hex } from 'viem'
import { MinerFailedError, NoMinerAvailableError } from '../../errors/gateway.ts'
import {
  type CheckVisionAnswerOptions,
  checkVisionAnswer,
  type VisionAnswer,
} from '../../vision/answer.ts'
import type { VisionMiner } from '../../vision/local-miner.ts'
import type { VisionPool } from './pool.ts'

/** A checked answer and the miner that gave it. */
export type ServedVisionAnswer = { answer: VisionAnswer; miner: VisionMiner; attempts: number }

export type AskVisionOptions = {
  signal?: AbortSignal
  /** A miner that has not answered after this long is abandoned for the next (default 30000 ms). */
  timeoutMs?: number
  /** The call's nonce (default: 32 random bytes): the receipt must carry it. */
  nonce?: Hex
  onFailover?: () => void
}

const randomNonce = (): Hex =>
  `0x${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')}`

/**
 * Asks the pool's miners in turn until one answers with an answer that passes checkVisionAnswer
 * for these pixels, this nonce and that miner's hotkey. An error, a timeout or an answer that
 * fails the check moves on to the next miner: nothing unchecked is ever returned.
 */
export async function askVisionMiners(
  pool: VisionPool,
  pixels: number[],
  options: AskVisionOptions = {},
): Promise<ServedVisionAnswer> {
  const { signal } = options
  const nonce = options.nonce ?? randomNonce()
  const order = pool.order()
  if (order.length === 0) throw new NoMinerAvailableError(pool.name)
  const reasons: string[] = []
  for (const [i, miner] of order.entries()) {
    signal?.throwIfAborted()
    if (i > 0) options.onFailover?.()
    const attempt = AbortSignal.any([
      AbortSignal.timeout(options.timeoutMs ?? 30_000),
      ...(signal ? [signal] : []),
    ])
    let answer: VisionAnswer
    try {
      answer = await raceAbort(miner.classify([...pixels], { nonce, signal: attempt }), attempt)
    } catch (error) {
      if (signal?.aborted) throw signal.reason ?? error
      pool.record(miner, 'failed')
      reasons.push(`${miner.hotkey}: ${describe(error)}`)
      continue
    }
    const check: CheckVisionAnswerOptions = {
      vkey: pool.vkey,
      modelId: pool.modelId,
      ...pool.binding,
      pixels,
      nonce,
      miner: miner.hotkey as Address,
    }
    const verdict = await checkVisionAnswer(answer, check)
    if (verdict.ok) {
      pool.record(miner, 'served')
      return { answer, miner, attempts: i + 1 }
    }
    pool.record(miner, verdict.signed ? 'refuted' : 'failed')
    reasons.push(`${miner.hotkey}: ${verdict.reason}`)
    try {
      pool.onRefused?.(miner, verdict, answer)
    } catch {}
  }
  throw new MinerFailedError(
    `all ${order.length} miner(s) tried for model \`${pool.name}\` failed; last: ${reasons.at(-1)}`,
  )
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const short = (error as { shortMessage?: string }).shortMessage
    return (short ?? error.message).split('\n')[0]!.slice(0, 200)
  }
  return String(error).slice(0, 200)
}

/** A miner that ignores its signal must not hold the request: the abort wins the race. */
async function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted()
  let onAbort: (() => void) | undefined
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    return await Promise.race([work, aborted])
  } finally {
    signal.removeEventListener('abort', onAbort!)
    work.catch(() => {})
  }
}
