import type { Handler } from 'hono'
import type { ServedModel } from '../model.ts'
import type { GatewayState } from '../state.ts'

function card(model: ServedModel) {
  return {
    id: model.id,
    object: 'model',
    created: model.created,
    owned_by: model.ownedBy,
    max_model_len: model.contextLength,
    verity: { modelRoot: model.modelRoot },
  }
}

/** GET /v1/models: every served model, with its context length and modelRoot. */
export function listModels(state: GatewayState): Handler {
  return (c) =>
    c.json({ object: 'list', data: [...state.pools.values()].map((p) => card(p.model)) })
}

/** GET /v1/models/:model */
export function getModel(state: GatewayState): Handler {
  return (c) => c.json(card(state.pool(c.req.param('model') ?? '').model))
}
