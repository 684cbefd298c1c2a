import type { Handler } from 'hono'
import { parseChatRequest, parseJsonBody } from '../params.ts'
import { chatRequest } from '../request.ts'
import { respond } from '../respond.ts'
import type { GatewayState } from '../state.ts'
import { refuseImagesForTextModel } from '../vision/request.ts'
import { respondVision } from '../vision/respond.ts'

/**
 * POST /v1/chat/completions: messages rendered with the model's chat template, then routed. The
 * request carries the messages and the render time, so a client can re-render them and check the
 * prompt tokens the miner ran. The vision model's requests (an image to classify) go to vision/.
 */
export function chatCompletions(state: GatewayState): Handler {
  return async (c) => {
    const started = performance.now()
    const body = parseJsonBody(await c.req.text())
    if (state.vision && body.model === state.vision.name)
      return respondVision(c, state, state.vision, body)
    if (state.vision) refuseImagesForTextModel(body, state.vision.name)
    const input = parseChatRequest(body)
    const pool = state.pool(input.model)
    const request = chatRequest(pool.model, input, {
      maxTokens: state.defaultMaxTokens,
      chooseSeed: state.chooseSeed,
      now: state.now(),
    })
    return respond(c, state, pool, 'chat', input, request, started)
  }
}
