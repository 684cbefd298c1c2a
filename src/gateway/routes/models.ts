import type { Handler } from 'hono'
import { formatAmount } from '../accounts/price.ts'
import type { ServedModel } from '../model.ts'
import type { GatewayState } from '../state.ts'

function card(state: GatewayState, model: ServedModel) {
  const price = state.accounts?.prices.quote(model.id)
  return {
    id: model.id,
    object: 'model',
    created: model.created,
    owned_by: model.ownedBy,
    max_model_len: model.contextLength,
    // what the gateway charges, in credit units per 1M tokens (AkashML lists pricing the same way)
    ...(price
      ? {
          pricing: {
            prompt: formatAmount(price.promptPerMillion),
            completion: formatAmount(price.completionPerMillion),
            unit: 'per_million_tokens',
          },
        }
      : {}),
    verity: { modelRoot: model.modelRoot },
  }
}

/** GET /v1/models: every served model, with its context length, modelRoot and (accounts on) price. */
export function listModels(state: GatewayState): Handler {
  return (c) =>
    c.json({ object: 'list', data: [...state.pools.values()].map((p) => card(state, p.model)) })
}

/** GET /v1/models/:model */
export function getModel(state: GatewayState): Handler {
  return (c) => c.json(card(state, state.pool(c.req.param('model') ?? '').model))
}
