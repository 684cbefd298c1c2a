import { sha256 } from '@noble/hashes/sha2.js'
import { CompetitionError } from '../errors/competition.ts'
import { forwardBlockHeads, Sequence } from '../runtime/forward.ts'
import type { Model } from '../runtime/model/load.ts'
import { stepLogprobs } from '../runtime/sampler/logprobs.ts'
import { tokenizerFromGguf } from '../runtime/tokenizer/tokenizer.ts'

/**
 * Exact evaluation of a model on a text corpus (docs/DETERMINISM.md, "evaluation loss"): the
 * teacher-forced cross-entropy of the model on passages drawn from the corpus with a seed, in
 * integers only, so every validator computes the same score bit for bit.
 */
export type EvaluationSpec = {
  /** Passages drawn per evaluation (with replacement). */
  passages: number
  /** Consecutive corpus verses (lines) in a passage. */
  versesPerPassage: number
  /** Tokens of a passage including its BOS; longer passages are cut here. */
  maxTokens: number
}

/** The devnet's evaluation: 8 passages of 4 held-out KJV verses (data/kjv-held-out.txt). */
export const DEVNET_EVALUATION_SPEC: EvaluationSpec = {
  passages: 8,
  versesPerPassage: 4,
  maxTokens: 256,
}

export type EvaluationResult = {
  /** Total loss: sum over passages and predicted tokens of -ln p, in nats Q16 (value / 2^16). */
  lossQ16: bigint
  /** Tokens predicted (each passage's tokens after its BOS). */
  tokens: number
  /** UTF-8 bytes of the passages' verses (before any cut at maxTokens), for loss per byte. */
  bytes: number
  /** The corpus index of each passage's first verse, in draw order. */
  starts: number[]
}

/**
 * What a competition subnet declares on chain as its evalSpecHash (ModelCompetition):
 * sha256("verity/eval/v1" || corpus sha256 (32 bytes) || uint32be passages ||
 * uint32be versesPerPassage || uint32be maxTokens). A validator whose spec or corpus differs
 * computes another hash and knows it would score differently.
 */
export function evaluationSpecHash(spec: EvaluationSpec, corpusSha256: Uint8Array): Uint8Array {
  checkSpec(spec)
  if (corpusSha256.length !== 32)
    throw new CompetitionError('corpus', `sha256 must be 32 bytes, got ${corpusSha256.length}`)
  const tag = new TextEncoder().encode('verity/eval/v1')
  const bytes = new Uint8Array(tag.length + 32 + 12)
  bytes.set(tag)
  bytes.set(corpusSha256, tag.length)
  const view = new DataView(bytes.buffer, tag.length + 32)
  view.setUint32(0, spec.passages)
  view.setUint32(4, spec.versesPerPassage)
  view.setUint32(8, spec.maxTokens)
  return sha256(bytes)
}

function checkSpec(spec: EvaluationSpec): void {
  const positive = (field: keyof EvaluationSpec, max: number) => {
    const v = spec[field]
    if (!Number.isSafeInteger(v) || v < 1 || v > max)
      throw new CompetitionError(field, `must be an integer from 1 to ${max}, got ${v}`)
  }
  positive('passages', 4096)
  positive('versesPerPassage', 4096)
  positive('maxTokens', 1 << 20)
  if (spec.maxTokens < 2)
    throw new CompetitionError('maxTokens', 'a passage needs at least BOS and one token')
}

/**
 * The first verse of each passage: start_i = uint256(sha256(seed || u32be(i))) mod
 * (verses - versesPerPassage + 1), for i = 0 .. passages - 1. Draws are independent (a passage may
 * repeat); the modulo bias is below 2^-200.
 */
export function passageStarts(
  corpusVerses: number,
  seed: Uint8Array,
  spec: EvaluationSpec,
): number[] {
  checkSpec(spec)
  if (seed.length !== 32) throw new CompetitionError('seed', `must be 32 bytes, got ${seed.length}`)
  const span = corpusVerses - spec.versesPerPassage + 1
  if (!Number.isSafeInteger(corpusVerses) || span < 1)
    throw new CompetitionError(
      'corpus',
      `${corpusVerses} verses cannot hold a passage of ${spec.versesPerPassage} verses`,
    )
  const input = new Uint8Array(36)
  input.set(seed)
  const view = new DataView(input.buffer)
  const starts: number[] = []
  for (let i = 0; i < spec.passages; i++) {
    view.setUint32(32, i)
    let h = 0n
    for (const b of sha256(input)) h = (h << 8n) | BigInt(b)
    starts.push(Number(h % BigInt(span)))
  }
  return starts
}

/**
 * A passage's tokens: BOS, then each verse encoded on its own (no BOS/EOS, no separator), as the
 * default model's trainer saw its training text (scripts/kjv-corpus.ts), cut at maxTokens.
 */
export function passageTokens(
  encode: (text: string) => number[],
  bos: number,
  verses: readonly string[],
  maxTokens: number,
): number[] {
  const tokens = [bos]
  for (const v of verses) {
    for (const t of encode(v)) {
      if (tokens.length >= maxTokens) return tokens
      tokens.push(t)
    }
  }
  return tokens
}

/**
 * -sum ln p(token_t | tokens_<t) for t = 1 .. n - 1, in nats Q16, teacher-forced in blocks of the
 * model's batch size; each term is stepLogprobs' integer log-softmax (docs/DETERMINISM.md).
 */
export function sequenceLossQ16(model: Model, tokens: readonly number[]): bigint {
  if (tokens.length < 2) throw new CompetitionError('passage', 'has fewer than 2 tokens')
  const vocab = model.config.vocabSize
  const seq = new Sequence(model, tokens.length - 1)
  const order = new Int32Array(0)
  const row = new Int32Array(vocab)
  // |lp| < 2^31 and a passage has < 2^20 tokens: the number sum stays exact (< 2^53).
  let loss = 0
  for (let at = 0; at < tokens.length - 1; at += seq.maxBlock) {
    const block = tokens.slice(at, Math.min(at + seq.maxBlock, tokens.length - 1))
    const logits = forwardBlockHeads(seq, block, seq.pos)
    for (let j = 0; j < block.length; j++) {
      row.set(logits.subarray(j * vocab, (j + 1) * vocab))
      loss -= stepLogprobs(row, tokens[at + j + 1]!, 0, order).logprob
    }
  }
  return BigInt(loss)
}

/**
 * The model's exact loss on the passages that `seed` draws from `corpus` (one verse per entry).
 * Errors (CompetitionError) name the problem: a corpus too short for the spec, a model whose
 * context is shorter than maxTokens, or one without a BOS token.
 */
export function evaluateModel(
  model: Model,
  corpus: readonly string[],
  seed: Uint8Array,
  spec: EvaluationSpec,
): EvaluationResult {
  const starts = passageStarts(corpus.length, seed, spec)
  if (spec.maxTokens > model.config.contextLength)
    throw new CompetitionError(
      'model',
      `context of ${model.config.contextLength} tokens is shorter than the evaluation's ${spec.maxTokens}`,
    )
  const tokenizer = tokenizerFromGguf(model.metadata)
  if (tokenizer.bosId === undefined) throw new CompetitionError('model', 'has no BOS token')
  const encode = (text: string) => tokenizer.encode(text, { addBos: false, addEos: false })
  const utf8 = new TextEncoder()
  let lossQ16 = 0n
  let tokens = 0
  let bytes = 0
  for (const start of starts) {
    const verses = corpus.slice(start, start + spec.versesPerPassage)
    const ids = passageTokens(encode, tokenizer.bosId, verses, spec.maxTokens)
    lossQ16 += sequenceLossQ16(model, ids)
    tokens += ids.length - 1
    for (const v of verses) bytes += utf8.encode(v).length
  }
  return { lossQ16, tokens, bytes, starts }
}
