import type { Tokenizer } from '../runtime/tokenizer/index.ts'

/**
 * How output token ids become text, exactly as miners and verifiers decide `stop` strings
 * (src/verify `executeRequest`): the tokenizer's `decode` of the generated ids (control tokens
 * dropped, invalid UTF-8 as U+FFFD). A generation with `stop` strings ends after the first token
 * whose text makes one of them appear; the answer is the text before it.
 */
export function outputText(tokenizer: Tokenizer, tokens: readonly number[]): string {
  return tokenizer.decode(tokens)
}

/** Index of the earliest occurrence of any stop string in text, or -1. */
export function findStop(text: string, stop: readonly string[]): number {
  let best = -1
  for (const s of stop) {
    if (s.length === 0) continue
    const i = text.indexOf(s)
    if (i !== -1 && (best === -1 || i < best)) best = i
  }
  return best
}

/**
 * Turns a growing token sequence into text deltas for a stream. It holds back a trailing U+FFFD
 * (an incomplete UTF-8 sequence) and any suffix that could still grow into a stop string, so the
 * concatenated deltas always equal the final, non-streamed text.
 */
export class TextStream {
  private readonly tokens: number[] = []
  private emitted = 0
  private stopped = false

  constructor(
    private readonly tokenizer: Tokenizer,
    private readonly stop: readonly string[],
  ) {}

  /** True once a stop string appeared: the rest of the output is not text. */
  get hitStop(): boolean {
    return this.stopped
  }

  push(token: number): string {
    if (this.stopped) return ''
    this.tokens.push(token)
    const text = outputText(this.tokenizer, this.tokens)
    const cut = findStop(text, this.stop)
    if (cut !== -1) {
      this.stopped = true
      return this.take(text, cut)
    }
    let safe = text.length
    while (safe > this.emitted && text.charCodeAt(safe - 1) === 0xfffd) safe--
    let hold = 0
    for (const s of this.stop) {
      for (let k = Math.min(s.length - 1, safe); k > hold; k--) {
        if (text.startsWith(s.slice(0, k), safe - k)) {
          hold = k
          break
        }
      }
    }
    return this.take(text, safe - hold)
  }

  /** The final text's remainder once the generation is over. */
  finish(): string {
    const text = outputText(this.tokenizer, this.tokens)
    const cut = findStop(text, this.stop)
    return this.take(text, cut === -1 ? text.length : cut)
  }

  private take(text: string, end: number): string {
    if (end <= this.emitted) return ''
    const delta = text.slice(this.emitted, end)
    this.emitted = end
    return delta
  }
}

/** The answer text for a finished generation: everything before the first stop string. */
export function finalText(
  tokenizer: Tokenizer,
  tokens: readonly number[],
  stop: readonly string[],
): { text: string; hitStop: boolean } {
  const text = outputText(tokenizer, tokens)
  const cut = findStop(text, stop)
  return cut === -1 ? { text, hitStop: false } : { text: text.slice(0, cut), hitStop: true }
}
