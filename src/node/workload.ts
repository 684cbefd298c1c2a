import { Prng } from '../runtime/sampler/prng.ts'
import type { ChatMessage } from '../types/inference.ts'
import { type PromptRenderer, renderPromptTokens } from '../verify/prompt/render.ts'

/** An OpenAI chat completion request body, as a user's client sends it. */
export type ChatBody = {
  model: string
  messages: ChatMessage[]
  max_tokens: number
  temperature?: number
  top_p?: number
  seed?: number
  stop?: string[]
  stream?: boolean
}

const SYSTEM_PROMPTS = [
  'You are a helpful assistant.',
  'You are a concise assistant. Answer in one or two sentences.',
  'You answer questions about old texts.',
  'Reply in plain English, without lists.',
  'You are a storyteller.',
]

const ASKS = [
  (w: string) => `What does ${w} mean?`,
  (w: string) => `Tell me more about ${w}.`,
  (w: string) => `Write a short passage about ${w}.`,
  (w: string) => `Summarize this: ${w}`,
  (w: string) => `Continue the text: ${w}`,
  (w: string) => `Why ${w}?`,
  (w: string) => `${w}`,
  (w: string) => `Explain, please: ${w}`,
  (w: string) => `Can you rewrite "${w}" in modern words?`,
]

/**
 * Realistic chat traffic for a model: multi-turn conversations (an optional system prompt, one to
 * four user turns with the assistant's earlier replies), text made of the model's own vocabulary
 * in varied sentence shapes and lengths, and varied sampling: greedy or sampled, top-p, stop
 * strings, seeds given or not, 8 to 96 new tokens. Devnet users (`--load`) and validators' checks
 * draw from this same distribution with different seeds, so no feature of a request tells a check
 * from a user.
 */
export class ChatWorkload {
  private readonly prng: Prng
  private readonly words: string[]

  /** `contextLength`: every request's rendered prompt plus max_tokens fits in it. */
  constructor(
    private readonly renderer: PromptRenderer,
    private readonly contextLength: number,
    seed: number,
  ) {
    const { tokenizer } = renderer
    this.prng = new Prng(seed)
    const words = new Set<string>()
    for (let id = 0; id < tokenizer.vocabSize; id++) {
      if (tokenizer.isControl(id)) continue
      const w = tokenizer.decode([id]).trim()
      if (/^[A-Za-z]{3,}$/.test(w)) words.add(w.toLowerCase())
    }
    this.words = [...words].sort()
    if (this.words.length === 0) this.words.push('word', 'text', 'story')
  }

  private below(n: number): number {
    return this.prng.next() % n
  }

  private pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!
  }

  private sentence(): string {
    const n = 3 + this.below(12)
    const out: string[] = []
    for (let i = 0; i < n; i++) out.push(this.pick(this.words))
    const s = out.join(' ')
    return `${s[0]!.toUpperCase()}${s.slice(1)}${this.pick(['.', '.', '?', '!', ','])}`
  }

  private text(sentences: number): string {
    return Array.from({ length: sentences }, () => this.sentence()).join(' ')
  }

  /** The next request body for `model`. */
  next(model: string): ChatBody {
    const messages: ChatMessage[] = []
    if (this.below(3) === 0) messages.push({ role: 'system', content: this.pick(SYSTEM_PROMPTS) })
    const turns = 1 + (this.below(4) === 0 ? 1 + this.below(3) : 0)
    for (let t = 0; t < turns; t++) {
      if (t > 0) messages.push({ role: 'assistant', content: this.text(1 + this.below(2)) })
      const ask = this.pick(ASKS)
      messages.push({ role: 'user', content: ask(this.text(1 + this.below(3))) })
    }
    const body: ChatBody = { model, messages, max_tokens: 8 + this.below(89) }
    this.fit(body)
    const mode = this.below(4)
    if (mode === 0) body.temperature = 0
    else if (mode !== 1) body.temperature = (3 + this.below(11)) / 10
    if (this.below(3) === 0) body.top_p = (70 + this.below(31)) / 100
    if (this.below(2) === 0) body.seed = this.prng.next()
    if (this.below(6) === 0) body.stop = [this.pick(['.', '\n', '?', ' and'])]
    return body
  }

  /**
   * Drops the oldest turns, then shortens the last message, until the rendered prompt and the
   * completion fit the context (as a user's client trims a long conversation).
   */
  private fit(body: ChatBody): void {
    const room = () =>
      this.contextLength -
      body.max_tokens -
      renderPromptTokens(this.renderer, { kind: 'chat', messages: body.messages, time: 0 }).length
    body.max_tokens = Math.min(body.max_tokens, Math.max(1, this.contextLength >> 2))
    for (;;) {
      if (room() >= 0) return
      const first = body.messages.findIndex((m) => m.role !== 'system')
      if (body.messages.length - first > 1) body.messages.splice(first, 1)
      else {
        const last = body.messages[body.messages.length - 1]!
        const words = last.content.split(' ')
        if (words.length <= 1) {
          body.messages = [last]
          last.content = last.content.slice(0, 16)
          return
        }
        last.content = words.slice(0, Math.ceil(words.length / 2)).join(' ')
      }
    }
  }
}
