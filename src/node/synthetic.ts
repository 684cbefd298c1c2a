import { createHash } from 'node:crypto'
import type { Tokenizer } from '../runtime/tokenizer/index.ts'
import type { Hex, InferenceRequest } from '../types/inference.ts'

const SUBJECTS = [
  'the king',
  'a small bird',
  'the old man',
  'my friend',
  'the river',
  'a stranger',
  'the city',
  'her mother',
  'the ship',
  'a child',
]
const VERBS = [
  'walked to',
  'spoke of',
  'looked at',
  'remembered',
  'built',
  'carried',
  'found',
  'sang about',
  'waited for',
  'forgot',
]
const OBJECTS = [
  'the gate',
  'a letter',
  'the mountain',
  'the morning light',
  'an answer',
  'the last house',
  'the sea',
  'a golden cup',
  'the road home',
  'the garden',
]
const OPENERS = [
  'Once upon a time',
  'In the beginning',
  'Tell me a story:',
  'Question: why',
  'Yesterday',
  'Long ago',
  'And so',
  'Write a line about',
]

/** Numbers drawn from sha256(label ‖ counter): deterministic for a label, varied across labels. */
class Draw {
  private counter = 0
  constructor(private readonly label: string) {}
  next(n: number): number {
    const h = createHash('sha256')
      .update(`${this.label}:${this.counter++}`)
      .digest()
    return h.readUInt32BE(0) % n
  }
  pick<T>(items: readonly T[]): T {
    return items[this.next(items.length)]!
  }
}

/**
 * A synthetic request, fully determined by (validator seed, epoch, uid, index): varied prompt
 * text, greedy or sampled decoding with different temperature / top-p / top-k, seeds, lengths
 * and, sometimes, a text stop sequence. Miners cannot tell it from user traffic.
 */
export function syntheticRequest(
  tokenizer: Tokenizer,
  modelRoot: Hex,
  label: { seed: number; epoch: number; uid: number; index: number },
  options: { maxTokens?: number; contextLength?: number } = {},
): InferenceRequest {
  const d = new Draw(`${label.seed}:${label.epoch}:${label.uid}:${label.index}`)
  const text = `${d.pick(OPENERS)} ${d.pick(SUBJECTS)} ${d.pick(VERBS)} ${d.pick(OBJECTS)}${d.next(2) ? '.' : ','}`
  const maxTokens = 4 + d.next(Math.max(1, (options.maxTokens ?? 16) - 3))
  const greedy = d.next(4) === 0
  const temperatureMilli = greedy ? 0 : 300 + d.next(1000)
  const topPMilli = d.next(3) === 0 ? 1000 : 700 + d.next(301)
  const topK = d.next(3) === 0 ? 1 + d.next(64) : 0
  const stop = d.next(5) === 0 ? [d.pick(['.', ',', ' the', 'e'])] : []
  return {
    modelRoot,
    promptTokens: tokenizer.encode(text),
    maxTokens,
    params: { temperatureMilli, topK, topPMilli },
    seed: d.next(2 ** 31),
    stopTokens: tokenizer.eosId === undefined ? [] : [tokenizer.eosId],
    stop,
  }
}
