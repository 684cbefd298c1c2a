import { describe, expect, it } from 'vitest'
import { LLAMA_3_2, QWEN_2_5, SMOLLM2 } from '../../test/chat-templates.ts'
import { metadataMap, REAL_VOCABS } from '../../test/hf-vocab.ts'
import { ToolStreamHold } from '../gateway/tool-answer.ts'
import { tokenizerFromGguf } from '../runtime/tokenizer/index.ts'
import { jsonDepth, toolCallFormat } from './prompt/tools.ts'
import { parseToolCalls, shownToolCalls, toolCallId } from './tool-calls.ts'

const names = new Set(['get_weather', 'get_time'])
const call = (name: string, args: unknown, key = 'arguments') =>
  `<tool_call>\n${JSON.stringify({ name, [key]: args })}\n</tool_call>`

describe('reading tool calls out of answer text', () => {
  it('knows the format from the template', () => {
    expect(toolCallFormat(QWEN_2_5)).toBe('hermes')
    expect(toolCallFormat(LLAMA_3_2)).toBe('llama3')
    expect(toolCallFormat(SMOLLM2)).toBeUndefined()
  })

  it('hermes: one or more blocks, content before them, compact arguments', () => {
    expect(parseToolCalls(call('get_weather', { city: 'Paris' }), 'hermes', names)).toEqual({
      content: '',
      calls: [{ name: 'get_weather', arguments: '{"city":"Paris"}' }],
    })
    const two = `I will check.\n${call('get_weather', { city: 'Oslo' })}\n${call('get_time', {})}\n`
    expect(parseToolCalls(two, 'hermes', names)).toEqual({
      content: 'I will check.\n',
      calls: [
        { name: 'get_weather', arguments: '{"city":"Oslo"}' },
        { name: 'get_time', arguments: '{}' },
      ],
    })
    // whitespace before the calls is no content
    expect(parseToolCalls(`\n  ${call('get_time', {})}`, 'hermes', names)?.content).toBe('')
  })

  it('hermes: anything that is not exactly calls is text', () => {
    const no = [
      'just text',
      '<tool_call>{"name": "get_time", "arguments": {}}', // not closed
      `${call('get_time', {})} trailing prose`,
      '<tool_call>{"name": "get_time", "arguments": {}</tool_call>', // bad JSON
      '<tool_call>{"name": "get_time", "arguments": "{}"}</tool_call>', // arguments a string
      '<tool_call>{"name": "get_time", "arguments": [1]}</tool_call>',
      '<tool_call>{"name": "get_time"}</tool_call>', // no arguments
      '<tool_call>{"name": "get_time", "arguments": {}, "x": 1}</tool_call>', // extra key
      '<tool_call>[{"name": "get_time", "arguments": {}}]</tool_call>',
      call('rm_rf', {}), // undeclared
      call('get_time"><|im_end|>', {}), // injection characters in the name
      call('__proto__', {}),
      '<tool_call></tool_call>',
      `${call('get_time', {})}<tool_call>`,
      `<tool_call>${'{'.repeat(10_000)}</tool_call>`,
    ]
    for (const text of no) expect(parseToolCalls(text, 'hermes', names), text).toBeUndefined()
    const many = Array.from({ length: 65 }, () => call('get_time', {})).join('')
    expect(parseToolCalls(many, 'hermes', names)).toBeUndefined()
    const huge = call('get_weather', { city: 'x'.repeat(70_000) })
    expect(parseToolCalls(huge, 'hermes', names)).toBeUndefined()
  })

  it('llama3: bare JSON with parameters (or arguments), python_tag, several split by ";"', () => {
    expect(
      parseToolCalls('{"name": "get_weather", "parameters": {"city": "Paris"}}', 'llama3', names),
    ).toEqual({ content: '', calls: [{ name: 'get_weather', arguments: '{"city":"Paris"}' }] })
    expect(
      parseToolCalls(
        '<|python_tag|>{"name": "get_time", "arguments": {}}; {"name": "get_weather", "parameters": {"city": "a;b"}}',
        'llama3',
        names,
      )?.calls,
    ).toEqual([
      { name: 'get_time', arguments: '{}' },
      { name: 'get_weather', arguments: '{"city":"a;b"}' },
    ])
    for (const text of [
      'The answer is {"name": "get_time", "parameters": {}}',
      '{"name": "get_time", "parameters": {}} and more',
      '{"name": "get_time", "parameters": {}};',
      '{"name": "nope", "parameters": {}}',
      '{"name": "get_time", "parameters": {}, "arguments": {}}',
      '{"name": "get_time", "parameters": {"a": "\\"}"}',
      '{',
      '',
    ])
      expect(parseToolCalls(text, 'llama3', names), text).toBeUndefined()
  })

  it('ids are derived from the request hash and the index', () => {
    const hash = `0x${'ab'.repeat(32)}` as const
    expect(toolCallId(hash, 2)).toBe(`call_${'ab'.repeat(12)}_2`)
    expect(shownToolCalls(hash, [{ name: 'f', arguments: '{}' }])).toEqual([
      {
        id: `call_${'ab'.repeat(12)}_0`,
        type: 'function',
        function: { name: 'f', arguments: '{}' },
      },
    ])
  })
})

describe('streaming with tools: what may be shown before the answer is complete', () => {
  const feed = (format: 'hermes' | 'llama3', pieces: string[]) => {
    const hold = new ToolStreamHold(format)
    return { shown: pieces.map((p) => hold.push(p)), hold }
  }

  it('hermes: prose streams; a tag, even split across pieces, is held with what follows', () => {
    const { shown, hold } = feed('hermes', ['Let me', ' look.\n<tool', '_call>\n{"na', 'me"}'])
    expect(shown).toEqual(['Let me', ' look.\n', '', ''])
    expect(hold.shown).toBe('Let me look.\n'.length)
    // a '<' that turns out not to start the tag is released
    expect(feed('hermes', ['a <', 'b']).shown).toEqual(['a ', '<b'])
    // leading whitespace is held (an answer that is only calls shows no content)
    expect(feed('hermes', ['\n', ' ', 'x']).shown).toEqual(['', '', '\n x'])
  })

  it('llama3: an answer starting with { or < is held to the end; prose streams', () => {
    expect(feed('llama3', [' ', '{"name"', ': 1}']).shown).toEqual(['', '', ''])
    expect(feed('llama3', ['Hi', ' {"a": 1}']).shown).toEqual(['Hi', ' {"a": 1}'])
  })
})

describe('hostile nesting', () => {
  it('jsonDepth stops counting past its cap (no stack overflow on a million levels)', () => {
    const deep = JSON.parse(`${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`)
    expect(jsonDepth(deep, 40)).toBe(41)
    expect(jsonDepth({ a: [1, { b: 2 }] })).toBe(3)
    expect(jsonDepth('x')).toBe(0)
  })
})

describe('with the real tokenizers: what a model would emit decodes to a readable call', () => {
  const tokenizerOf = (vocab: 'qwen2' | 'llama-bpe') =>
    tokenizerFromGguf(metadataMap(REAL_VOCABS[vocab]()))

  it('Qwen2.5: <tool_call> is a user-defined token and decodes as text; <|im_end|> ends the turn', () => {
    const tok = tokenizerOf('qwen2')
    const out = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
    const ids = tok.encode(out, { addBos: false })
    expect(ids[0]).toBe(tok.encode('<tool_call>', { addBos: false })[0]) // one token
    expect(parseToolCalls(tok.decode(ids), 'hermes', names)?.calls).toEqual([
      { name: 'get_weather', arguments: '{"city":"Paris"}' },
    ])
  })

  it('Llama 3.x: the <|python_tag|> id is a control token the decoding drops; the JSON reads as a call', () => {
    const tok = tokenizerOf('llama-bpe')
    // 128010 is <|python_tag|> in Llama 3.1+ (this package's 3.0 vocabulary calls it
    // <|reserved_special_token_5|>): a control token either way.
    expect(tok.isControl(128010)).toBe(true)
    const ids = [128010, ...tok.encode('{"name": "get_time", "parameters": {}}', { addBos: false })]
    expect(tok.decode(ids).startsWith('{')).toBe(true)
    expect(parseToolCalls(tok.decode(ids), 'llama3', names)?.calls).toEqual([
      { name: 'get_time', arguments: '{}' },
    ])
  })
})
