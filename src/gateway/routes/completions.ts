import type { Handler } from 'hono'
import { InvalidRequestError } from '../../errors/gateway.ts'
import { parseCompletionRequest, parseJsonBody } from '../params.ts'
import { buildRequest, respond } from '../respond.ts'
import type { GatewayState } from '../state.ts'

/** OpenAI's default `max_tokens` for the legacy completions endpoint. */
const COMPLETIONS_DEFAULT_MAX_TOKENS = 16

/** POST /v1/completions (legacy): a text prompt (or token ids) continued as is. */
export function completions(state: GatewayState): Handler {
  return async (c) => {
    const started = performance.now()
    const input = parseCompletionRequest(parseJsonBody(await c.req.text()))
    const pool = state.pool(input.model)
    const { tokenizer } = pool.model
    let promptTokens: number[]
    if (typeof input.prompt === 'string') {
      promptTokens = tokenizer.encode(input.prompt, { addEos: false })
    } else {
      const bad = input.prompt.find((t) => t >= tokenizer.vocabSize)
      if (bad !== undefined)
        throw new InvalidRequestError(
          `prompt token ${bad} is outside the vocabulary (0..${tokenizer.vocabSize - 1})`,
          { param: 'prompt' },
        )
      promptTokens = input.prompt
    }
    if (promptTokens.length === 0)
      throw new InvalidRequestError('the prompt is empty', { param: 'prompt' })
    const request = buildRequest(
      state,
      pool,
      input,
      promptTokens,
      COMPLETIONS_DEFAULT_MAX_TOKENS,
      'prompt',
    )
    return respond(c, state, pool, 'text', input, request, started)
  }
}
