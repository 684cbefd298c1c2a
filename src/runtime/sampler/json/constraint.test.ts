import { Ajv } from 'ajv'
import { describe, expect, it } from 'vitest'
import { metadataMap, REAL_VOCABS } from '../../../../test/hf-vocab.ts'
import { generate, generateSteps, modelTokenTrie } from '../../generate.ts'
import { testModel } from '../../test-model.ts'
import { tokenizerFromGguf } from '../../tokenizer/index.ts'
import { NO_LAYER, OpKind } from '../../trace/ops.ts'
import { Prng } from '../prng.ts'
import { sample, samplingParams } from '../sample.ts'
import { initialState, isComplete, OBJECT_NODE, run } from './automaton.ts'
import { JsonConstraint, maskHas } from './constraint.ts'
import { canonicalJson } from './schema.ts'
import { TokenTrie } from './vocab.ts'

const model = testModel()
const tokenizer = tokenizerFromGguf(model.metadata)
const eos = tokenizer.eosId!
const prompt = tokenizer.encode('Answer in JSON.')
const idsOf = (text: string) =>
  Array.from({ length: tokenizer.vocabSize }, (_, i) => i).filter(
    (i) => tokenizer.decode([i]) === text,
  )
// The model writes word salad and hardly ever closes a string within the context; a bias toward
// '"' and '}' (a request's own logit_bias) lets most runs finish, while the constraint alone makes them JSON.
const closers: Record<number, number> = {}
for (const id of [...idsOf('"'), ...idsOf('}')]) closers[id] = 15

const utf8 = (s: string) => new TextEncoder().encode(s)
/**
 * The trie's mask after each prefix equals the automaton run on every token's bytes one by one
 * (an empty token is never allowed); returns the allowed counts, one per prefix.
 */
function expectMaskMatchesTokenByToken(
  trie: TokenTrie,
  vocab: readonly Uint8Array[],
  prefixes: readonly (string | Uint8Array)[],
  name: (t: number) => string = (t) => String(vocab[t]),
): number[] {
  const bits = new Uint32Array(Math.ceil(vocab.length / 32))
  return prefixes.map((prefix) => {
    const state = run(initialState(OBJECT_NODE), typeof prefix === 'string' ? utf8(prefix) : prefix)
    expect(state, String(prefix)).not.toBeNull()
    const count = trie.allowed(state!, bits)
    let expected = 0
    for (let t = 0; t < vocab.length; t++) {
      const ok = vocab[t]!.length > 0 && run(state!, vocab[t]!) !== null
      if (maskHas(bits, t) !== ok) expect.fail(`${String(prefix)} + token ${t} ${name(t)}`)
      if (ok) expected++
    }
    expect(count, String(prefix)).toBe(expected)
    return count
  })
}

const outputBytes = (tokens: number[]) => {
  const parts = tokens.filter((t) => t !== eos).map((t) => tokenizer.tokenBytes(t))
  return utf8(new TextDecoder().decode(Uint8Array.from(parts.flatMap((p) => [...p]))))
}

describe('TokenTrie', () => {
  it('allows exactly the tokens whose bytes the automaton accepts (checked token by token)', () => {
    const trie = modelTokenTrie(model)
    expectMaskMatchesTokenByToken(trie, trie.tokenBytes, [
      '',
      '{',
      '{"a',
      '{"a":',
      '{"a":1',
      '{"a":tr',
      '{"a":"\\u00',
      '{"a":[',
      '{"a":{}',
    ])
  })

  it('a random vocabulary with quotes, escapes and UTF-8 pieces: the mask equals the token-by-token check', () => {
    const r = new Prng(5)
    const alphabet = [
      ...utf8('ab "{}[]:,0123456789.e-tud'),
      0x5c,
      0x5c,
      0xc3,
      0xa9,
      0xe2,
      0x82,
      0xac,
      0x0a,
    ]
    const vocab = Array.from({ length: 3000 }, () =>
      Uint8Array.from({ length: 1 + r.below(6) }, () => alphabet[r.below(alphabet.length)]!),
    )
    // Tokens whose meaning depends on the state before them (escape, UTF-8 sequence, surrogate).
    for (const t of ['\\"x', '\\"}', '\\\\x', 'n"}', 'u00e9x', '\\udc00x', 'dc00"}', '"x', 'x\\'])
      vocab.push(utf8(t))
    vocab.push(
      Uint8Array.of(0xa9, 0x61),
      Uint8Array.of(0x82, 0xac, 0x22, 0x7d),
      Uint8Array.of(0xc3, 0xa9, 0x5c),
    )
    const counts = expectMaskMatchesTokenByToken(new TokenTrie(vocab), vocab, [
      '',
      '{"',
      '{"a":"x',
      '{"a":"\\',
      '{"a":"\\u00',
      '{"a":"\\ud83d',
      '{"a":"\xc3',
      Uint8Array.of(...utf8('{"a":"'), 0xe2), // inside a UTF-8 sequence
      '{"a":[1',
      '{"a":"x"',
    ])
    for (const count of counts) expect(count).toBeGreaterThan(0)
  })

  it("Llama 3's real 128k byte-level vocabulary: the mask equals the token-by-token check", () => {
    const tok = tokenizerFromGguf(metadataMap(REAL_VOCABS['llama-bpe']()))
    const vocab = Array.from({ length: tok.vocabSize }, (_, id) => tok.tokenBytes(id))
    expectMaskMatchesTokenByToken(
      new TokenTrie(vocab),
      vocab,
      [
        '',
        '{"',
        '{"a":"x',
        '{"a":"\\',
        '{"a":"\\u',
        '{"a":"\\u00',
        '{"a":1',
        '{"a":"\u00e9"',
        '{"a":"\xc3',
      ],
      (t) => JSON.stringify(tok.tokenText(t)),
    )
  })

  it('a token read from inside an escape: whole string subtrees only start where the string state does', () => {
    // After '\\' the next '\\' is an escaped backslash, and the '"' after it closes the string.
    const vocab = ['\\', '\\"x', '\\"y', 'a', '"', '\\"', 'u00e9', 'ud83d'].map(utf8)
    const trie = new TokenTrie(vocab)
    const bits = new Uint32Array(1)
    const allowed = (prefix: string) => {
      trie.allowed(run(initialState(OBJECT_NODE), utf8(prefix))!, bits)
      return vocab
        .map((v, t) => (maskHas(bits, t) ? new TextDecoder().decode(v) : ''))
        .filter((v) => v)
    }
    expect(allowed('{"a":"\\')).toEqual(['\\', '"', '\\"', 'u00e9', 'ud83d'])
    expect(allowed('{"a":"x')).toEqual(['\\', '\\"x', '\\"y', 'a', '"', '\\"', 'u00e9', 'ud83d'])
  })

  it('shares prefixes and keeps tokens with identical bytes apart', () => {
    const trie = new TokenTrie([
      utf8('{'),
      utf8('{"'),
      new Uint8Array(0),
      utf8('{'),
      utf8('}'),
      utf8('x'),
    ])
    expect(trie.nodeCount).toBe(5) // root, '{', '"' under '{', '}', 'x'
    const bits = new Uint32Array(1)
    expect(trie.allowed(initialState(OBJECT_NODE), bits)).toBe(3)
    expect([...Array(6).keys()].filter((t) => maskHas(bits, t))).toEqual([0, 1, 3])
  })
})

describe('constrained generation with the default test model', () => {
  it('json_object: 20 seeds, every output parses as an object and ends with the stop token', () => {
    for (let seed = 0; seed < 20; seed++) {
      const r = generate(model, {
        promptTokens: prompt,
        maxTokens: 240,
        params: samplingParams({ temperature: 1, logitBias: closers }),
        seed,
        stopTokens: [eos],
        responseFormat: { type: 'json_object' },
      })
      const text = tokenizer.decode(r.tokens)
      expect(r.finishReason, `seed ${seed}: ${text}`).toBe('stop')
      expect(r.tokens.at(-1)).toBe(eos)
      const value = JSON.parse(text)
      expect(typeof value === 'object' && value !== null && !Array.isArray(value)).toBe(true)
    }
  })

  it('json_object without help: a finished output parses, a cut one is a valid prefix (finish length)', () => {
    const finished = { stop: 0, length: 0 }
    for (let seed = 0; seed < 6; seed++) {
      const r = generate(model, {
        promptTokens: prompt,
        maxTokens: 40,
        params: samplingParams({ temperature: 1 }),
        seed,
        stopTokens: [eos],
        responseFormat: { type: 'json_object' },
      })
      finished[r.finishReason]++
      const state = run(initialState(OBJECT_NODE), outputBytes(r.tokens))
      expect(state).not.toBeNull()
      if (r.finishReason === 'stop')
        expect(typeof JSON.parse(tokenizer.decode(r.tokens))).toBe('object')
      else expect(r.tokens).toHaveLength(40)
      expect(isComplete(state!)).toBe(r.finishReason === 'stop')
    }
    expect(finished.stop).toBeGreaterThan(0)
    expect(finished.length).toBeGreaterThan(0)
    // Unconstrained, the same model writes no JSON at all.
    const free = generate(model, {
      promptTokens: prompt,
      maxTokens: 40,
      params: samplingParams({ temperature: 1 }),
      seed: 0,
      stopTokens: [eos],
    })
    expect(() => JSON.parse(tokenizer.decode(free.tokens))).toThrow()
  })

  it('json_schema: 8 seeds, every output validates against the schema (ajv)', () => {
    const schema = {
      type: 'object',
      properties: {
        name: { type: 'string' },
        kind: { enum: ['cat', 'dog', 42, null] },
        alive: { type: 'boolean' },
        tags: { type: 'array', items: { type: ['string', 'null'] }, maxItems: 2 },
        legs: { type: 'integer' },
        owner: {
          type: 'object',
          properties: { id: { const: 7 } },
          required: ['id'],
          additionalProperties: false,
        },
      },
      required: ['name', 'kind', 'alive', 'owner'],
      additionalProperties: false,
    }
    const validate = new Ajv({ strict: false }).compile(schema)
    const text = canonicalJson(schema)
    for (let seed = 0; seed < 8; seed++) {
      const r = generate(model, {
        promptTokens: prompt,
        maxTokens: 240,
        params: samplingParams({ temperature: 1, logitBias: closers }),
        seed,
        stopTokens: [eos],
        responseFormat: { type: 'json_schema', schema: text },
      })
      const out = tokenizer.decode(r.tokens)
      expect(r.finishReason, `seed ${seed}: ${out}`).toBe('stop')
      expect(validate(JSON.parse(out)), `seed ${seed}: ${out}`).toBe(true)
    }
  })

  it('greedy picks the best allowed token; the mask applies after logit_bias and before temperature', () => {
    const brace = idsOf('{')[0]!
    const word = idsOf('x')[0]!
    const params = samplingParams({ temperature: 0, logitBias: { [brace]: 50, [word]: 100 } })
    const r = generate(model, {
      promptTokens: prompt,
      maxTokens: 2,
      params,
      seed: 0,
      stopTokens: [eos],
      responseFormat: { type: 'json_object' },
    })
    // 'x' has the larger logit after the bias but is masked; '{' is the best allowed token.
    expect(r.tokens[0]).toBe(brace)
    const free = generate(model, {
      promptTokens: prompt,
      maxTokens: 1,
      params,
      seed: 0,
      stopTokens: [eos],
    })
    expect(free.tokens[0]).toBe(word)
    const trie = modelTokenTrie(model)
    const c = new JsonConstraint(trie, OBJECT_NODE, [eos])
    const { bits, count } = c.mask()
    expect(count).toBeGreaterThan(0)
    expect(maskHas(bits, eos)).toBe(false) // not before the value is complete
    const logits = new Int32Array(trie.vocabSize).map((_, i) => (i === eos ? 1 << 20 : i))
    const order = new Int32Array(trie.vocabSize)
    const weights = new Float64Array(trie.vocabSize)
    for (let i = 0; i < 50; i++) {
      const t = sample(
        logits,
        samplingParams({ temperature: 2 }),
        new Prng(i),
        order,
        weights,
        bits,
      )
      expect(maskHas(bits, t)).toBe(true)
    }
  })

  it('logprobs are over the allowed tokens: every alternative is allowed, and they sum to 1', () => {
    const steps: { logprob: number; top: [number, number][] }[] = []
    const req = {
      promptTokens: prompt,
      maxTokens: 12,
      params: samplingParams({ temperature: 1, logitBias: closers }),
      seed: 1,
      stopTokens: [eos],
      logprobs: 20,
      responseFormat: { type: 'json_object' as const },
    }
    const r = generate(model, req, { onLogprobs: (s) => steps.push(s) })
    expect(steps).toHaveLength(r.tokens.length)
    const c = new JsonConstraint(modelTokenTrie(model), OBJECT_NODE, [eos])
    for (let i = 0; i < r.tokens.length; i++) {
      const { bits, count } = c.mask()
      const top = steps[i]!.top
      expect(top.length).toBe(Math.min(20, count))
      for (const [t] of top) expect(maskHas(bits, t)).toBe(true)
      if (count <= 20) {
        const mass = top.reduce((sum, [, lp]) => sum + Math.exp(lp / 65536), 0)
        expect(mass).toBeCloseTo(1, 3)
      }
      c.advance(r.tokens[i]!)
    }
  })

  it('two constrained generations interleaved token by token on one model equal their runs alone', () => {
    const base = {
      promptTokens: prompt,
      maxTokens: 30,
      params: samplingParams({ temperature: 1, logitBias: closers }),
      stopTokens: [eos],
    }
    const a = { ...base, seed: 4, responseFormat: { type: 'json_object' as const } }
    const schema = canonicalJson({
      type: 'object',
      properties: { k: { enum: ['x', 'y'] }, n: { type: 'number' } },
      required: ['k'],
    })
    const b = { ...base, seed: 8, responseFormat: { type: 'json_schema' as const, schema } }
    const alone = [generate(model, a), generate(model, b)]
    const its = [generateSteps(model, a), generateSteps(model, b)]
    const results: (ReturnType<typeof generate> | undefined)[] = [undefined, undefined]
    while (results.some((r) => r === undefined))
      for (let i = 0; i < 2; i++) {
        if (results[i] !== undefined) continue
        const step = its[i]!.next()
        if (step.done) results[i] = step.value
      }
    expect(results[0]).toEqual(alone[0])
    expect(results[1]).toEqual(alone[1])
    expect(alone[0]!.tokens).not.toEqual(alone[1]!.tokens)
  })

  it("a cheater's faulted token outside the mask does not crash the run: it goes on unconstrained", () => {
    const req = {
      promptTokens: prompt,
      maxTokens: 8,
      params: samplingParams({ temperature: 0 }),
      seed: 0,
      stopTokens: [eos],
      responseFormat: { type: 'json_object' as const },
    }
    const word = idsOf('x')[0]!
    const fault = {
      pos: prompt.length - 1,
      layer: NO_LAYER,
      kind: OpKind.SAMPLE,
      element: 0,
      value: word,
    }
    const r = generate(model, req, { fault })
    expect(r.tokens[0]).toBe(word)
    expect(r.tokens).toHaveLength(8)
  })

  it('with no stop token the generation ends when the value is complete (finish stop, trace ends there)', () => {
    const req = {
      promptTokens: prompt,
      maxTokens: 240,
      params: samplingParams({ temperature: 1, logitBias: closers }),
      seed: 3,
      stopTokens: [],
      responseFormat: { type: 'json_object' as const },
    }
    const r = generate(model, req)
    expect(r.finishReason).toBe('stop')
    expect(JSON.parse(tokenizer.decode(r.tokens))).toBeTypeOf('object')
    expect(r.traceLeafCount).toBe(prompt.length + r.tokens.length - 1)
    // The same run cut at its own length by max_tokens commits to the same trace.
    const cut = generate(model, { ...req, maxTokens: r.tokens.length })
    expect(cut.traceRoot).toEqual(r.traceRoot)
    expect(cut.tokens).toEqual(r.tokens)
  })

  it('refuses a format no token can begin, and a bad schema, before running anything', () => {
    const base = {
      promptTokens: prompt,
      maxTokens: 4,
      params: samplingParams({}),
      seed: 0,
      stopTokens: [eos],
    }
    expect(() =>
      generate(model, {
        ...base,
        responseFormat: { type: 'json_schema', schema: '{"type":"object","$ref":"#"}' },
      }),
    ).toThrow(/\$ref/)
    const none = new JsonConstraint(new TokenTrie([utf8('a'), utf8('b')]), OBJECT_NODE, [])
    expect(none.mask().count).toBe(0)
  })
})
