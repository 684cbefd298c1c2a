/**
 * The cost of response_format's token mask (docs/DETERMINISM.md, "constrained output"): trie
 * build, one mask (a full trie walk, no cache) in typical automaton states, and whole
 * generations with and without json_object on the default model; the same walks on a synthetic
 * 128k-token byte vocabulary. `node bin/run-ts.js bench/json-mask.bench.ts`
 */
import { performance } from 'node:perf_hooks'
import { generate, modelTokenTrie } from '../src/runtime/generate.ts'
import {
  initialState,
  OBJECT_NODE,
  run,
  type State,
} from '../src/runtime/sampler/json/automaton.ts'
import { JsonConstraint } from '../src/runtime/sampler/json/constraint.ts'
import { TokenTrie } from '../src/runtime/sampler/json/vocab.ts'
import { Prng } from '../src/runtime/sampler/prng.ts'
import { samplingParams } from '../src/runtime/sampler/sample.ts'
import { testModel } from '../src/runtime/test-model.ts'
import { tokenizerFromGguf } from '../src/runtime/tokenizer/index.ts'
import { metadataMap, REAL_VOCABS } from '../test/hf-vocab.ts'

const utf8 = (s: string) => new TextEncoder().encode(s)
const STATES: [string, string][] = [
  ['start', ''],
  ['after {', '{'],
  ['in a key', '{"ab'],
  ['after :', '{"a":'],
  ['in a string', '{"a":"xy'],
  ['in a number', '{"a":12'],
  ['after a value', '{"a":[1,2]'],
]

function msPer(fn: () => void, minMs = 400): number {
  for (let i = 0; i < 3; i++) fn()
  let n = 0
  const t0 = performance.now()
  while (performance.now() - t0 < minMs) {
    fn()
    n++
  }
  return (performance.now() - t0) / n
}

function walks(label: string, trie: TokenTrie) {
  const bits = new Uint32Array(Math.ceil(trie.vocabSize / 32))
  console.log(`\n${label}: ${trie.vocabSize} tokens, ${trie.nodeCount} trie nodes`)
  for (const [name, prefix] of STATES) {
    const state = run(initialState(OBJECT_NODE), utf8(prefix)) as State
    let allowed = 0
    const ms = msPer(() => {
      allowed = trie.allowed(state, bits)
    })
    console.log(`  mask ${name.padEnd(14)} ${ms.toFixed(3).padStart(7)} ms  (${allowed} allowed)`)
  }
}

// The default model.
const model = testModel()
const tokenizer = tokenizerFromGguf(model.metadata)
let t0 = performance.now()
const trie = modelTokenTrie(model)
console.log(`default model trie built in ${(performance.now() - t0).toFixed(1)} ms`)
walks('default model (verity-tiny)', trie)
const closers: Record<number, number> = {}
for (let i = 0; i < tokenizer.vocabSize; i++)
  if (['"', '}'].includes(tokenizer.decode([i]))) closers[i] = 15
const prompt = tokenizer.encode('Answer in JSON.')
const outputs: number[][] = []
for (const format of [undefined, { type: 'json_object' as const }]) {
  let tokens = 0
  t0 = performance.now()
  for (let seed = 0; seed < 10; seed++) {
    const out = generate(model, {
      promptTokens: prompt,
      maxTokens: 64,
      params: samplingParams({ temperature: 1, logitBias: closers }),
      seed,
      stopTokens: [],
      ...(format ? { responseFormat: format } : {}),
    }).tokens
    tokens += out.length
    if (format) outputs.push(out)
  }
  const ms = (performance.now() - t0) / tokens
  console.log(
    `  generate ${format ? 'json_object' : 'unconstrained'}: ${ms.toFixed(3)} ms/token over ${tokens} tokens`,
  )
}

// The constraint's own work in those runs: a fresh constraint replays each output (mask, advance).
{
  let steps = 0
  const replay = () => {
    steps = 0
    for (const out of outputs) {
      const c = new JsonConstraint(trie, OBJECT_NODE, [])
      for (const t of out) {
        c.mask()
        c.advance(t)
        steps++
      }
    }
  }
  const ms = msPer(replay, 1000) / steps
  console.log(
    `  constraint work in those runs (mask + advance, per-request cache): ${ms.toFixed(3)} ms/token`,
  )
}

// A 128k vocabulary shaped like a byte-level BPE one: the 256 bytes, then words of 2..16 bytes
// (letters with an optional leading space, some digits, punctuation and 3-byte UTF-8 characters).
const r = new Prng(128)
const letters = 'etaoinshrdlucmfwypvbgkjqxz'
const seen = new Set<string>()
const vocab: Uint8Array[] = []
for (let b = 0; b < 256; b++) vocab.push(Uint8Array.of(b))
while (vocab.length < 131_072) {
  const len = 2 + Math.min(r.below(8), r.below(15))
  let w = r.below(2) === 0 ? ' ' : ''
  const kind = r.below(20)
  for (let i = w.length; i < len; i++)
    w +=
      kind === 0
        ? String(r.below(10))
        : kind === 1
          ? '.,;:!?"{}[]()-'[r.below(14)]
          : kind === 2
            ? String.fromCharCode(0x4e00 + r.below(2000))
            : letters[Math.min(r.below(26), r.below(26))]
  if (seen.has(w)) continue
  seen.add(w)
  vocab.push(utf8(w))
}
t0 = performance.now()
const big = new TokenTrie(vocab)
console.log(`\n128k vocabulary trie built in ${(performance.now() - t0).toFixed(0)} ms`)
walks('synthetic 128k vocabulary', big)

// A 300-token output on the 128k vocabulary (tokens drawn at random among the allowed, a bias to
// '"' and '}' so it closes): the constraint's work per token, per-request mask cache included.
{
  const closing = new Set(
    [utf8('"'), utf8('}')].map((b) => vocab.findIndex((v) => v.length === 1 && v[0] === b[0])),
  )
  let steps = 0
  let complete = 0
  const once = () => {
    const draw = new Prng(9)
    for (let n = 0; n < 3; n++) {
      const c = new JsonConstraint(big, OBJECT_NODE, [])
      for (let i = 0; i < 100; i++) {
        const { bits, count } = c.mask()
        if (count === 0) break
        const ids: number[] = []
        for (let t = 0; t < big.vocabSize && ids.length < 4096; t++)
          if ((bits[t >>> 5]! >>> (t & 31)) & 1) ids.push(t)
        const close = ids.filter((t) => closing.has(t))
        const t = close.length > 0 && draw.below(4) === 0 ? close[0]! : ids[draw.below(ids.length)]!
        c.advance(t)
        steps++
      }
      if (c.complete) complete++
    }
  }
  once()
  steps = 0
  complete = 0
  t0 = performance.now()
  once()
  console.log(
    `  a random 128k output: ${((performance.now() - t0) / steps).toFixed(3)} ms/token over ${steps} tokens (mask + advance + this bench's own draw), ${complete}/3 complete`,
  )
}

// Real vocabularies: Llama 3.x (128,256 tokens, GPT-2 byte-level) and Qwen3 (151k), as the model
// files would carry them; their token bytes as tokenBytes gives them.
for (const name of ['llama-bpe', 'qwen2', 'spm'] as const) {
  if (!(name in REAL_VOCABS)) continue
  const tok = tokenizerFromGguf(metadataMap(REAL_VOCABS[name]()))
  const bytes: Uint8Array[] = []
  for (let id = 0; id < tok.vocabSize; id++) bytes.push(tok.tokenBytes(id))
  t0 = performance.now()
  const real = new TokenTrie(bytes)
  console.log(`\n${name} trie built in ${(performance.now() - t0).toFixed(0)} ms`)
  walks(`${name} vocabulary`, real)
}
