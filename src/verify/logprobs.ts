import type { Tokenizer } from '../runtime/tokenizer/index.ts'
import type { StepLogprobs } from '../types/inference.ts'

/**
 * The OpenAI shapes of a choice's logprobs, built from the integer ones (Q16, exact as numbers:
 * value / 65536 is a dyadic rational a double holds exactly). Everything here is a pure function
 * of the tokens and the Q16 values, so `verity verify` rebuilds them and compares the JSON.
 */
const decoder = new TextDecoder('utf-8', { fatal: false })
const Q16 = 65536

function piece(tokenizer: Tokenizer, token: number) {
  const bytes = tokenizer.tokenBytes(token)
  return { token: decoder.decode(bytes), bytes: Array.from(bytes) }
}

/** Chat: `{ content: [{ token, logprob, bytes, top_logprobs: [{ token, logprob, bytes }] }], refusal: null }`. */
export function chatLogprobs(
  tokenizer: Tokenizer,
  tokens: readonly number[],
  steps: readonly StepLogprobs[],
) {
  return {
    content: steps.map((s, i) => ({
      ...piece(tokenizer, tokens[i]!),
      logprob: s.logprob / Q16,
      top_logprobs: s.top.map(([t, lp]) => {
        const p = piece(tokenizer, t)
        return { token: p.token, logprob: lp / Q16, bytes: p.bytes }
      }),
    })),
    refusal: null,
  }
}

/**
 * Legacy completions: `{ tokens, token_logprobs, top_logprobs: [{ token: logprob }], text_offset }`.
 * Two alternatives that decode to one string keep the more likely one (a JSON object has one key).
 */
export function textLogprobs(
  tokenizer: Tokenizer,
  tokens: readonly number[],
  steps: readonly StepLogprobs[],
) {
  const out = {
    tokens: [] as string[],
    token_logprobs: [] as number[],
    top_logprobs: [] as Record<string, number>[],
    text_offset: [] as number[],
  }
  let offset = 0
  steps.forEach((s, i) => {
    const text = piece(tokenizer, tokens[i]!).token
    out.tokens.push(text)
    out.token_logprobs.push(s.logprob / Q16)
    const top: Record<string, number> = {}
    for (const [t, lp] of s.top) {
      const key = piece(tokenizer, t).token
      if (!Object.hasOwn(top, key)) top[key] = lp / Q16
    }
    out.top_logprobs.push(top)
    out.text_offset.push(offset)
    offset += text.length
  })
  return out
}

/**
 * An untrusted miner's logprobs have the shape the request asks for: absent when it asks for
 * none, else one entry per token with an integer logprob <= 0 and exactly min(k, vocab) top
 * entries of integer [token, logprob <= 0]. Values are checked by re-running, not here.
 */
export function validStepLogprobs(value: unknown, tokens: number, k: number | undefined): boolean {
  if (k === undefined) return value === undefined
  if (!Array.isArray(value) || value.length !== tokens) return false
  const q = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v <= 0
  return value.every((s) => {
    const step = s as Record<string, unknown> | null
    return (
      typeof step === 'object' &&
      step !== null &&
      q(step.logprob) &&
      Array.isArray(step.top) &&
      step.top.length <= k &&
      step.top.every(
        (e) =>
          Array.isArray(e) && e.length === 2 && Number.isSafeInteger(e[0]) && e[0] >= 0 && q(e[1]),
      )
    )
  })
}
