import type { Handler } from 'hono'
import { InvalidRequestError } from '../../errors/gateway.ts'
import { parseChatRequest, parseJsonBody } from '../params.ts'
import { buildRequest, respond } from '../respond.ts'
import type { GatewayState } from '../state.ts'
import { renderChat } from '../template/chat.ts'

/** POST /v1/chat/completions: messages rendered with the model's chat template, then routed. */
export function chatCompletions(state: GatewayState): Handler {
  return async (c) => {
    const started = performance.now()
    const input = parseChatRequest(parseJsonBody(await c.req.text()))
    const pool = state.pool(input.model)
    const { tokenizer, chatTemplate } = pool.model
    if (chatTemplate instanceof Error) throw chatTemplate
    const special = (id: number | undefined) => (id === undefined ? '' : tokenizer.tokenText(id))
    const bosToken = special(tokenizer.bosId)
    const prompt = renderChat(chatTemplate, input.messages, {
      bosToken,
      eosToken: special(tokenizer.eosId),
    })
    const promptTokens = tokenizer.encode(prompt, {
      parseSpecial: true,
      // A template that writes the BOS token itself must not get a second one.
      addBos: tokenizer.addBos && !(bosToken && prompt.startsWith(bosToken)),
      addEos: false,
    })
    if (promptTokens.length === 0)
      throw new InvalidRequestError('the rendered prompt is empty', { param: 'messages' })
    const request = buildRequest(
      state,
      pool,
      input,
      promptTokens,
      state.defaultMaxTokens,
      'messages',
    )
    return respond(c, state, pool, 'chat', input, request, started)
  }
}
