import { sha256 } from '@noble/hashes/sha2.js'
import { concatBytes } from '@noble/hashes/utils.js'
import { describe, expect, it } from 'vitest'
import { ggufVariant } from '../../../test/model-variant.ts'
import { ModelError } from '../../errors/runtime.ts'
import { type GgufWriteValue, gguf } from '../gguf/write.ts'
import { tokenizerIdentity } from '../tokenizer/identity.ts'
import { toHex } from '../trace/merkle.ts'
import { configBytes } from './config.ts'
import { defaultModelBytes } from './default.ts'
import { loadModel } from './load.ts'
import { weightScale } from './quantize.ts'

/** The default model rewritten with a change to its metadata or tensors. */
const variant = (change: Parameters<typeof ggufVariant>[1]) =>
  ggufVariant(defaultModelBytes(), change)

const setMeta = (key: string, value: GgufWriteValue) => (m: Array<[string, GgufWriteValue]>) =>
  m.map(([k, v]): [string, GgufWriteValue] => [k, k === key ? value : v])

describe('loadModel', () => {
  it('loads the unchanged rewrite with the same modelRoot', () => {
    expect(loadModel(variant({})).modelRoot).toEqual(loadModel(defaultModelBytes()).modelRoot)
  })

  it('refuses what it cannot run, naming it', () => {
    const cases: [Uint8Array, RegExp][] = [
      [
        variant({ metadata: setMeta('general.architecture', gguf.string('gpt2')) }),
        /unsupported architecture 'gpt2'/,
      ],
      [
        variant({ tensors: (t) => t.filter((x) => x.name !== 'blk.1.ffn_up.weight') }),
        /tensor 'blk.1.ffn_up.weight' is missing/,
      ],
      [
        variant({ metadata: setMeta('llama.embedding_length', gguf.u32(96)) }),
        /head dim|shape|multiple/,
      ],
      [
        variant({ metadata: setMeta('llama.feed_forward_length', gguf.u32(200)) }),
        /tensor 'blk.0.ffn_gate.weight' has shape \[64,192\], expected \[64,200\]/,
      ],
      [
        variant({ metadata: setMeta('llama.attention.head_count_kv', gguf.u32(3)) }),
        /not a multiple of KV head count 3/,
      ],
      [
        variant({ metadata: setMeta('llama.rope.freq_base', gguf.f32(-1)) }),
        /rope freq base -1 must be positive/,
      ],
      [
        variant({
          tensors: (t) =>
            t.map((x) =>
              x.name === 'blk.0.attn_q.weight'
                ? { ...x, data: x.data.map((v, i) => (i === 5 ? Number.NaN : v)) }
                : x,
            ),
        }),
        /tensor 'blk.0.attn_q.weight': row 0 holds a non-finite weight/,
      ],
    ]
    for (const [bytes, message] of cases) {
      expect(() => loadModel(bytes)).toThrow(ModelError)
      expect(() => loadModel(bytes)).toThrow(message)
    }
  })
})

describe('modelRoot names the tokenizer and chat template', () => {
  const base = loadModel(defaultModelBytes())
  const root = (bytes: Uint8Array) => toHex(loadModel(bytes).modelRoot)

  it('changes with the chat template, a token, a special id or a tokenizer flag', () => {
    const variants = [
      variant({
        metadata: (m) => [
          ...m.filter(([k]) => k !== 'tokenizer.chat_template'),
          ['tokenizer.chat_template', gguf.string('{{ messages[0].content }}')],
        ],
      }),
      variant({
        metadata: (m) =>
          m.map(([k, v]): [string, GgufWriteValue] =>
            k === 'tokenizer.ggml.tokens'
              ? [
                  k,
                  {
                    ...v,
                    value: (v.value as string[]).map((t, i) => (i === 300 ? `${t}x` : t)),
                  } as GgufWriteValue,
                ]
              : [k, v],
          ),
      }),
      variant({ metadata: setMeta('tokenizer.ggml.eos_token_id', gguf.u32(3)) }),
      variant({
        metadata: (m) => [
          ...m.filter(([k]) => k !== 'tokenizer.ggml.add_bos_token'),
          ['tokenizer.ggml.add_bos_token', gguf.bool(false)],
        ],
      }),
    ]
    const roots = new Set([toHex(base.modelRoot), ...variants.map(root)])
    expect(roots.size).toBe(1 + variants.length)
  })

  it('the config leaf is sha256(config bytes || tokenizer digest), and the weights are unchanged', () => {
    expect(toHex(base.weightLeaves.subarray(0, 32))).toBe(
      toHex(sha256(concatBytes(configBytes(base.config), base.tokenizerDigest))),
    )
    expect(toHex(base.tokenizerDigest)).toBe(toHex(tokenizerIdentity(base.metadata)))
    const other = loadModel(
      variant({ metadata: setMeta('tokenizer.ggml.eos_token_id', gguf.u32(3)) }),
    )
    expect(toHex(other.weightLeaves.subarray(32))).toBe(toHex(base.weightLeaves.subarray(32)))
  })
})

describe('weight scales', () => {
  it('are the smallest 12-bit-mantissa scale at or above amax / 127', () => {
    for (const amax of [1e-6, 0.0123, 0.5, 1, 3.7, 127, 1000]) {
      const [m, e] = weightScale(amax)
      expect(m).toBeGreaterThanOrEqual(2048)
      expect(m).toBeLessThanOrEqual(4095)
      const scale = m / 2 ** e
      expect(scale).toBeGreaterThanOrEqual(amax / 127)
      expect((m - 1) / 2 ** e).toBeLessThan(amax / 127)
    }
  })
})
