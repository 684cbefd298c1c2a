import { describe, expect, it } from 'vitest'
import { TokenizerError } from '../../errors/runtime.ts'
import { buildLlamaVocab, metadataFromEntries } from './build-vocab.ts'
import { gpt2Metadata } from './fixtures.ts'
import { tokenizerFromGguf } from './tokenizer.ts'

const llama = () => metadataFromEntries(buildLlamaVocab([{ text: '▁a', score: -1 }]))
const failsWith = (metadata: Map<string, unknown>, message: RegExp) => {
  expect(() => tokenizerFromGguf(metadata)).toThrow(TokenizerError)
  expect(() => tokenizerFromGguf(metadata)).toThrow(message)
}

describe('tokenizerFromGguf metadata checks', () => {
  it('names a missing key', () => {
    const m = llama()
    m.delete('tokenizer.ggml.tokens')
    failsWith(m, /missing metadata key tokenizer\.ggml\.tokens/)
    const n = llama()
    n.delete('tokenizer.ggml.model')
    failsWith(n, /missing metadata key tokenizer\.ggml\.model/)
    const g = gpt2Metadata([])
    g.delete('tokenizer.ggml.merges')
    failsWith(g, /tokenizer\.ggml\.merges/)
  })

  it('refuses keys it would ignore, and normalizations it does not implement', () => {
    const m = llama()
    m.set('tokenizer.ggml.token_type_count', 2)
    failsWith(
      m,
      /tokenizer\.ggml\.token_type_count is not supported: the tokenizer would ignore it/,
    )
    const w = llama()
    w.set('tokenizer.ggml.remove_extra_whitespaces', true)
    failsWith(w, /remove_extra_whitespaces is on/)
    const c = llama()
    c.set('tokenizer.ggml.precompiled_charsmap', [1, 2])
    failsWith(c, /precompiled_charsmap is set/)
    const h = llama()
    h.set('tokenizer.huggingface.json', '{}')
    failsWith(h, /tokenizer\.huggingface\.json is not supported/)
    // Infill and named-template keys change nothing a chat or completion computes.
    const ok = llama()
    ok.set('tokenizer.ggml.fim_pre_token_id', 1)
    ok.set('tokenizer.chat_template.tool_use', '{{ x }}')
    ok.set('tokenizer.ggml.eot_token_id', 2)
    expect(tokenizerFromGguf(ok).endOfTurnIds).toEqual([2])
  })

  it('rejects unknown model kinds', () => {
    const m = llama()
    m.set('tokenizer.ggml.model', 'bert')
    failsWith(m, /unsupported tokenizer model "bert"/)
  })

  it('rejects length mismatches between tokens, scores and types', () => {
    const m = llama()
    m.set('tokenizer.ggml.scores', [0, 1])
    failsWith(m, /length mismatch: .*tokens has 260 .*scores has 2/)
    const t = llama()
    t.set('tokenizer.ggml.token_type', [1])
    failsWith(t, /token_type has 1/)
  })

  it('rejects bad ids, types and byte tokens', () => {
    const m = llama()
    m.set('tokenizer.ggml.bos_token_id', 260)
    failsWith(m, /bos_token_id is 260, outside the vocabulary of 260 tokens/)
    const t = llama()
    t.set('tokenizer.ggml.token_type', new Array(260).fill(9))
    failsWith(t, /token_type\[0\] is 9/)
    const b = llama()
    const tokens = [...(b.get('tokenizer.ggml.tokens') as string[])]
    tokens[3] = '<0xzz>'
    b.set('tokenizer.ggml.tokens', tokens)
    failsWith(b, /byte token 3/)
  })

  it('accepts typed arrays, bigint ids and llama defaults', () => {
    const m = llama()
    m.set('tokenizer.ggml.scores', new Float32Array(260))
    m.set('tokenizer.ggml.eos_token_id', 2n)
    m.delete('tokenizer.ggml.bos_token_id')
    m.delete('tokenizer.ggml.add_bos_token')
    m.set('tokenizer.chat_template', '{{ messages }}')
    const tok = tokenizerFromGguf(m)
    expect(tok.kind).toBe('llama')
    expect(tok.vocabSize).toBe(260)
    expect([tok.bosId, tok.eosId, tok.unknownId, tok.paddingId]).toEqual([1, 2, 0, undefined])
    expect(tok.addBos).toBe(true)
    expect(tok.chatTemplate).toBe('{{ messages }}')
  })

  it('treats missing scores and types as zero and normal', () => {
    const tok = tokenizerFromGguf(
      new Map<string, unknown>([
        ['tokenizer.ggml.model', 'llama'],
        ['tokenizer.ggml.tokens', ['<unk>', '<s>', '</s>', '▁', 'a', '▁a']],
      ]),
    )
    expect(tok.encode('a')).toEqual([1, 5])
  })
})
