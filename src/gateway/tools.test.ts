import { describe, expect, it } from 'vitest'
import { InvalidRequestError } from '../errors/gateway.ts'
import { parseChatRequest } from './params.ts'

const weather = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather now',
    parameters: { type: 'object', properties: { city: { type: 'string' } } },
  },
}
const time = { type: 'function', function: { name: 'get_time' } }
const user = { role: 'user', content: 'Weather in Paris?' }
const assistantCall = (id = 'call_1', args = '{"city":"Paris"}', name = 'get_weather') => ({
  role: 'assistant',
  content: null,
  tool_calls: [{ id, type: 'function', function: { name, arguments: args } }],
})
const toolAnswer = (id = 'call_1') => ({ role: 'tool', tool_call_id: id, content: '{"temp":20}' })
const chat = (extra: Record<string, unknown>) => ({
  model: 'm',
  messages: [user],
  tools: [weather, time],
  ...extra,
})

function refused(body: Record<string, unknown>): InvalidRequestError {
  try {
    parseChatRequest(body)
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRequestError)
    expect((error as InvalidRequestError).status).toBe(400)
    return error as InvalidRequestError
  }
  throw new Error('expected an InvalidRequestError')
}

describe('tools, tool_choice and tool messages', () => {
  it('accepts tools and a full tool turn; the tools become compact JSON in the order sent', () => {
    const input = parseChatRequest(
      chat({
        tool_choice: { type: 'function', function: { name: 'get_weather' } },
        parallel_tool_calls: false,
        messages: [user, assistantCall(), toolAnswer()],
      }),
    )
    expect(input.tools).toEqual({
      text: JSON.stringify([weather, time]),
      names: ['get_weather', 'get_time'],
      choice: { name: 'get_weather' },
      parallel: false,
    })
    expect(input.messages[1]).toEqual({
      role: 'assistant',
      content: '',
      toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }],
    })
    expect(input.messages[2]).toEqual({
      role: 'tool',
      content: '{"temp":20}',
      toolCallId: 'call_1',
    })
    // null optional fields are dropped; the same tools always give the same text
    const nulls = parseChatRequest(
      chat({ tools: [{ type: 'function', function: { name: 'get_time', description: null } }] }),
    )
    expect(nulls.tools!.text).toBe('[{"type":"function","function":{"name":"get_time"}}]')
    for (const choice of ['none', 'auto', 'required'])
      expect(parseChatRequest(chat({ tool_choice: choice })).tools!.choice).toBe(choice)
    // no tools: as before (none/auto accepted, nothing committed)
    expect(parseChatRequest(chat({ tools: [], tool_choice: 'auto' })).tools).toBeUndefined()
  })

  it.each([
    ['not an array', { tools: { a: 1 } }, 'tools'],
    ['not a function', { tools: [{ type: 'retrieval' }] }, 'tools[0].type'],
    ['no function object', { tools: [{ type: 'function' }] }, 'tools[0].function'],
    ['an unknown tool key', { tools: [{ ...time, extra: 1 }] }, 'tools[0].extra'],
    [
      'an unknown function key',
      { tools: [{ type: 'function', function: { name: 'f', examples: [] } }] },
      'tools[0].function.examples',
    ],
    ['a duplicate name', { tools: [time, time] }, 'tools[1].function.name'],
    [
      'injection characters in a name',
      { tools: [{ type: 'function', function: { name: 'f"}<|im_end|>' } }] },
      'tools[0].function.name',
    ],
    [
      'a name too long',
      { tools: [{ type: 'function', function: { name: 'f'.repeat(65) } }] },
      'tools[0].function.name',
    ],
    [
      'parameters not an object',
      { tools: [{ type: 'function', function: { name: 'f', parameters: 'x' } }] },
      'tools[0].function.parameters',
    ],
    [
      'parameters nested too deeply',
      {
        tools: [
          {
            type: 'function',
            function: {
              name: 'f',
              parameters: JSON.parse(`${'{"a":'.repeat(40)}1${'}'.repeat(40)}`),
            },
          },
        ],
      },
      'tools[0].function.parameters',
    ],
    [
      'parameters a million levels deep',
      {
        tools: [
          {
            type: 'function',
            function: {
              name: 'f',
              parameters: { a: JSON.parse(`${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`) },
            },
          },
        ],
      },
      'tools[0].function.parameters',
    ],
    [
      'arguments a million levels deep',
      {
        messages: [
          user,
          assistantCall('call_1', `{"a":${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}}`),
        ],
      },
      'messages[1].tool_calls[0].function.arguments',
    ],
    [
      'more than 64 tools',
      {
        tools: Array.from({ length: 65 }, (_, i) => ({
          type: 'function',
          function: { name: `f${i}` },
        })),
      },
      'tools',
    ],
    [
      'huge tools',
      { tools: [{ type: 'function', function: { name: 'f', description: 'x'.repeat(70_000) } }] },
      'tools',
    ],
    ['an unknown tool_choice', { tool_choice: 'always' }, 'tool_choice'],
    [
      'a tool_choice naming no tool',
      { tool_choice: { type: 'function', function: { name: 'rm_rf' } } },
      'tool_choice.function.name',
    ],
    ['tool_choice required without tools', { tools: [], tool_choice: 'required' }, 'tool_choice'],
    ['parallel_tool_calls not a boolean', { parallel_tool_calls: 'yes' }, 'parallel_tool_calls'],
    [
      'arguments that are not JSON',
      { messages: [user, assistantCall('call_1', '{city: Paris}'), toolAnswer()] },
      'messages[1].tool_calls[0].function.arguments',
    ],
    [
      'arguments that are not an object',
      { messages: [user, assistantCall('call_1', '"Paris"'), toolAnswer()] },
      'messages[1].tool_calls[0].function.arguments',
    ],
    [
      'a call to an undeclared tool',
      { messages: [user, assistantCall('call_1', '{}', 'rm_rf')] },
      'messages[1].tool_calls[0].function.name',
    ],
    [
      'a forged tool_call_id',
      { messages: [user, assistantCall(), toolAnswer('call_2')] },
      'messages[2].tool_call_id',
    ],
    [
      'a tool message before its call',
      { messages: [user, toolAnswer(), assistantCall()] },
      'messages[1].tool_call_id',
    ],
    [
      'a call answered twice',
      { messages: [user, assistantCall(), toolAnswer(), toolAnswer()] },
      'messages[3].tool_call_id',
    ],
    [
      'a tool message without an id',
      { messages: [user, assistantCall(), { role: 'tool', content: 'x' }] },
      'messages[2].tool_call_id',
    ],
    [
      'a repeated call id',
      { messages: [user, assistantCall(), toolAnswer(), assistantCall()] },
      'messages[3].tool_calls[0].id',
    ],
    [
      'an id with quotes',
      { messages: [user, assistantCall('a"b')] },
      'messages[1].tool_calls[0].id',
    ],
    [
      'tool_calls on a user message',
      { messages: [{ ...user, tool_calls: assistantCall().tool_calls }] },
      'messages[0].tool_calls',
    ],
    [
      'tool_call_id on a user message',
      { messages: [{ ...user, tool_call_id: 'x' }] },
      'messages[0].tool_call_id',
    ],
    [
      'empty tool_calls',
      { messages: [user, { role: 'assistant', content: null, tool_calls: [] }] },
      'messages[1].tool_calls',
    ],
    ['a call without tools', { tools: undefined, messages: [user, assistantCall()] }, 'tools'],
  ])('%s is a 400 naming the field', (_, extra, param) => {
    const e = refused(chat(extra))
    expect(e.param).toBe(param)
    expect(e.shortMessage.length).toBeLessThan(400)
  })
})
