import type { Stream } from '@libp2p/interface'
import * as lp from 'it-length-prefixed'
import type { FinishReason, SignedReceipt, StepLogprobs } from '../types/inference.ts'
import type { SignedRequest } from '../verify/call.ts'

/** The inference protocol: one signed request, then token frames, then a done or error frame. */
export const INFER_PROTOCOL = '/verity/infer/1'

/** The price protocol: the miner writes one frame, its signed price sheet (src/verify/price.ts), and closes. */
export const PRICE_PROTOCOL = '/verity/price/1'
export type PriceFrame = { type: 'price'; sheet: Record<string, unknown> }

/**
 * The voucher protocol: the payer (a gateway) writes one voucher frame paying one answer, named by
 * its receipt digest; the miner answers `paid` with what it now holds, or an error frame, and
 * closes. See src/node/payee.ts.
 */
export const VOUCHER_PROTOCOL = '/verity/voucher/1'
export type VoucherJson = {
  channelId: string
  /** Decimal wei. */
  cumulativeAmount: string
  receiptDigest: string
  signature: string
}
export type VoucherFrame = { type: 'voucher'; voucher: VoucherJson }
/** `held`: the cumulative amount the miner holds for the channel now (decimal wei). */
export type PaidFrame = { type: 'paid'; held: string }

/** Model files by root, one 1 MiB chunk a stream: src/node/model-files/protocol.ts. */
export const MODEL_FILE_PROTOCOL = '/verity/model-file/1'

/** Largest frame either side accepts (a request carries at most 64k prompt tokens). */
export const MAX_FRAME_BYTES = 1 << 20

export type RequestFrame = { type: 'request'; call: SignedRequest }
export type TokenFrame = { type: 'token'; index: number; token: number }
export type DoneFrame = {
  type: 'done'
  tokens: number[]
  finishReason: FinishReason
  receipt: SignedReceipt
  /** When the request asks for logprobs: one per token (checked by shape, not signed). */
  logprobs?: StepLogprobs[]
}
/** `code`: bad_frame, bad_request, unauthorized, replay, stale, wrong_model, internal, busy. */
export type ErrorFrame = { type: 'error'; code: string; message: string; held?: string }
export type ResponseFrame = TokenFrame | DoneFrame | ErrorFrame

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** Writes one length-prefixed JSON frame, waiting for the stream to drain when it asks to. */
export async function writeFrame(
  stream: Stream,
  frame: RequestFrame | ResponseFrame | PriceFrame | VoucherFrame | PaidFrame,
  options: { signal?: AbortSignal } = {},
): Promise<void> {
  const bytes = lp.encode.single(encoder.encode(JSON.stringify(frame)))
  if (!stream.send(bytes)) await stream.onDrain(options)
}

/** Reads length-prefixed JSON frames from a stream. */
export async function* readFrames(stream: Stream): AsyncGenerator<unknown> {
  for await (const chunk of lp.decode(stream, { maxDataLength: MAX_FRAME_BYTES })) {
    yield JSON.parse(decoder.decode(chunk.subarray()))
  }
}
