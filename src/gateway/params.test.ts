import { describe, expect, it } from 'vitest'
import { InvalidRequestError } from '../errors/gateway.ts'
import { parseChatRequest, parseCompletionRequest } from './params.ts'

const chat = (extra: Record<string, unknown> = {}) => ({
  model: 'm',
  messages: [{ role: 'user', content: 'hi' }],
  ...extra,
})
const completion = (extra: Record<string, unknown> = {}) => ({ model: 'm', prompt: 'hi', ...extra })

/** The InvalidRequestError a parse throws (fails the test when it does not throw one). */
function refusal(parse: () => unknown): InvalidRequestError {
  try {
    parse()
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRequestError)
    return error as InvalidRequestError
  }
  throw new Error('expected an InvalidRequestError')
}

describe('unknown fields', () => {
  it.each([
    ['temprature', chat({ temprature: 0.5 })],
    ['function_call', chat({ function_call: 'auto' })],
    ['repetition_penalty', chat({ repetition_penalty: 1.1 })],
    ['parallel_tool_calls', chat({ parallel_tool_calls: true })],
    ['prompt', chat({ prompt: 'x' })],
    [
      '__proto__',
      JSON.parse('{"model":"m","messages":[{"role":"user","content":"hi"}],"__proto__":{}}'),
    ],
  ])('chat: %s is a 400 naming it', (field, body) => {
    const e = refusal(() => parseChatRequest(body))
    expect(e.param).toBe(field)
    expect(e.status).toBe(400)
    expect(e.shortMessage).toContain(`'${field}'`)
  })

  it.each([
    ['messages', completion({ messages: [] })],
    ['max_completion_tokens', completion({ max_completion_tokens: 3 })],
    ['response_format', completion({ response_format: { type: 'text' } })],
  ])('completions: %s is a 400 naming it', (field, body) => {
    expect(refusal(() => parseCompletionRequest(body)).param).toBe(field)
  })

  it('a huge unknown key is named, cut short', () => {
    const key = 'k'.repeat(10_000)
    const e = refusal(() => parseChatRequest(chat({ [key]: 1 })))
    expect(e.shortMessage.length).toBeLessThan(300)
  })

  it('accepts the informational fields user, metadata and store, checking their types', () => {
    expect(parseChatRequest(chat({ user: 'u-1', metadata: { a: 'b' }, store: false })).model).toBe(
      'm',
    )
    expect(parseCompletionRequest(completion({ user: 'u-1' })).model).toBe('m')
    expect(refusal(() => parseChatRequest(chat({ user: 5 }))).param).toBe('user')
    expect(refusal(() => parseChatRequest(chat({ user: 'x'.repeat(513) }))).param).toBe('user')
    expect(refusal(() => parseChatRequest(chat({ store: 'yes' }))).param).toBe('store')
    expect(refusal(() => parseChatRequest(chat({ metadata: [] }))).param).toBe('metadata')
    expect(refusal(() => parseChatRequest(chat({ metadata: { a: 1 } }))).param).toBe('metadata')
    const many = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']))
    expect(refusal(() => parseChatRequest(chat({ metadata: many }))).param).toBe('metadata')
  })

  it('null for an optional known field means absent, as OpenAI treats it', () => {
    const input = parseChatRequest(chat({ temperature: null, stop: null, user: null }))
    expect(input.temperature).toBe(1)
    expect(input.stop).toEqual([])
  })
})
