import { peerIdFromString } from '@libp2p/peer-id'
import { PriceSheetError } from '../errors/node.ts'
import {
  type ExpectedPrice,
  priceSheetFromJson,
  type SignedPriceSheet,
  verifyPriceSheet,
} from '../verify/price.ts'
import { PRICE_PROTOCOL, readFrames } from './frames.ts'
import type { Peer } from './peer.ts'

/**
 * Asks a miner's node for its signed price sheet on `/verity/price/1` and checks it: signed by the
 * hotkey the chain publishes for that node, for this chain, subnet and model, valid now. A node
 * that does not answer within 5 s (or the caller's signal), answers garbage or signs for someone
 * else is refused with a PriceSheetError.
 */
export async function fetchPriceSheet(
  peer: Peer,
  peerId: string,
  expected: Omit<ExpectedPrice, 'now'>,
  /** `now`: a millisecond clock (default Date.now). */
  options: { signal?: AbortSignal; now?: () => number } = {},
): Promise<SignedPriceSheet> {
  const signal = AbortSignal.any([
    AbortSignal.timeout(5000),
    ...(options.signal ? [options.signal] : []),
  ])
  let stream: Awaited<ReturnType<Peer['dialProtocol']>> | undefined
  try {
    stream = await peer.dialProtocol(peerIdFromString(peerId), PRICE_PROTOCOL, { signal })
    const frames = readFrames(stream)
    const onAbort = () => stream?.abort(new Error('price sheet not received in time'))
    signal.addEventListener('abort', onAbort, { once: true })
    let first: IteratorResult<unknown>
    try {
      first = await frames.next()
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
    const frame = first.value as { type?: unknown; sheet?: unknown } | undefined
    if (first.done || frame?.type !== 'price')
      throw new PriceSheetError(`miner ${expected.minerHotkey} sent no price frame`)
    const sheet = priceSheetFromJson(frame.sheet)
    return await verifyPriceSheet(sheet, {
      ...expected,
      now: Math.floor((options.now?.() ?? Date.now()) / 1000),
    })
  } catch (error) {
    if (error instanceof PriceSheetError) throw error
    throw new PriceSheetError(`cannot get the price sheet of miner ${expected.minerHotkey}`, {
      cause: error,
      details: error instanceof Error ? error.message : String(error),
    })
  } finally {
    await stream?.close().catch(() => stream?.abort(new Error('closed')))
  }
}
