import type { Handler } from 'hono'
import { formatAmount } from '../accounts/price.ts'
import type { ServedModel } from '../model.ts'
import type { GatewayState } from '../state.ts'
import { visionCard } from '../vision/card.ts'

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
    verity: { modelRoot: model.modelRoot, miner_prices: minerPrices(state, model.id) },
  }
}

/** VTY per million tokens, from wei per token (exact: 10^18 / 10^6 = 10^12 wei per unit). */
function vtyPerMillion(wei: bigint): string {
  const perMillion = wei * 1_000_000n
  const whole = perMillion / 10n ** 18n
  const frac = (perMillion % 10n ** 18n).toString().padStart(18, '0').replace(/0+$/, '')
  return frac ? `${whole}.${frac}` : `${whole}`
}

/**
 * The prices the model's miners signed (what `provider.sort: "price"` and `max_price` route by),
 * cheapest and dearest, in VTY per million tokens; `priced` of `miners` have a valid sheet.
 */
function minerPrices(state: GatewayState, id: string) {
  const miners = state.pools.get(id)?.status() ?? []
  const prices = miners.flatMap((m) => (m.price ? [m.price] : []))
  const range = (key: 'prompt' | 'completion') => {
    if (prices.length === 0) return null
    const values = prices.map((p) => p[key])
    // biome-ignore lint/complexity/useMathMinMax: bigint (Math.min takes numbers only)
    const min = values.reduce((a, b) => (b < a ? b : a))
    // biome-ignore lint/complexity/useMathMinMax: bigint (Math.max takes numbers only)
    const max = values.reduce((a, b) => (b > a ? b : a))
    return { min: vtyPerMillion(min), max: vtyPerMillion(max) }
  }
  return {
    unit: 'VTY per million tokens',
    miners: miners.length,
    priced: prices.length,
    prompt: range('prompt'),
    completion: range('completion'),
  }
}

/** GET /v1/models: every served model, with its context length, modelRoot and (accounts on) price. */
export function listModels(state: GatewayState): Handler {
  return (c) =>
    c.json({
      object: 'list',
      data: [
        ...[...state.pools.values()].map((p) => card(state, p.model)),
        ...(state.vision ? [visionCard(state.vision)] : []),
      ],
    })
}

/** GET /v1/models/:model */
export function getModel(state: GatewayState): Handler {
  return (c) => {
    const id = c.req.param('model') ?? ''
    if (state.vision?.name === id) return c.json(visionCard(state.vision))
    return c.json(card(state, state.pool(id).model))
  }
}
