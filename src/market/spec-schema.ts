import { MARKET_LIMITS } from '../chain/market.ts'

/**
 * The JSON Schema of a deployment spec (after YAML parsing). It checks shape and spelling only;
 * ranges that need arithmetic (sizes, prices, byte lengths, checksums) and cross-references are
 * checked in spec.ts. Every object refuses unknown keys, and every leaf has a `description` that
 * the parser quotes as what was expected.
 */

const NAME = {
  type: 'string',
  pattern: '^[a-z][a-z0-9-]{0,31}$',
  description: 'a name of 1..32 characters: a-z first, then a-z, 0-9 or -',
} as const

const SIZE = {
  type: 'string',
  maxLength: 40,
  pattern: '^(0|[1-9][0-9]*)(\\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$',
  description: 'a size like 512Mi or 2Gi',
} as const

const ADDRESS = {
  type: 'string',
  pattern: '^0x[0-9a-fA-F]{40}$',
  description: 'an address (0x and 40 hex digits)',
} as const

const HASH = {
  type: 'string',
  pattern: '^0x[0-9a-fA-F]{64}$',
  description: 'a 32-byte hash (0x and 64 hex digits)',
} as const

const AUDITORS = {
  type: 'array',
  maxItems: MARKET_LIMITS.maxAuditors,
  items: ADDRESS,
  description: `a list of at most ${MARKET_LIMITS.maxAuditors} auditor addresses`,
} as const

/** One object with exactly these keys (unknown keys refused). */
function object(properties: Record<string, unknown>, required: string[] = [], description = '') {
  return {
    type: 'object',
    additionalProperties: false,
    required,
    properties,
    description: description || 'a mapping',
  } as const
}

/** A mapping from names (as NAME) to `value`, with at least one entry. */
function named(value: unknown, description: string) {
  return {
    type: 'object',
    minProperties: 1,
    propertyNames: NAME,
    additionalProperties: value,
    description,
  } as const
}

const GPU_MODEL = object(
  {
    model: {
      type: 'string',
      pattern: '^[a-z0-9][a-z0-9.-]{0,31}$',
      description: 'a GPU model like h100 (lowercase)',
    },
    ram: { ...SIZE, description: 'a GPU memory size like 80Gi' },
  },
  ['model'],
)

const GPU = object(
  {
    units: {
      type: 'integer',
      minimum: 0,
      maximum: 1024,
      description: 'a whole number of GPUs, 0..1024',
    },
    attributes: object(
      {
        vendor: {
          type: 'object',
          minProperties: 1,
          maxProperties: 1,
          propertyNames: {
            type: 'string',
            pattern: '^[a-z][a-z0-9-]{0,15}$',
            description: 'a GPU vendor like nvidia',
          },
          additionalProperties: {
            type: 'array',
            minItems: 1,
            maxItems: 1,
            items: GPU_MODEL,
            description: 'a list of exactly one GPU model (order requirements are all-of)',
          },
          description: 'a mapping with exactly one GPU vendor, like nvidia',
        },
      },
      ['vendor'],
    ),
  },
  ['units'],
)

const RESOURCES = object(
  {
    cpu: object(
      {
        units: {
          type: ['number', 'string'],
          exclusiveMinimum: 0,
          maxLength: 40,
          pattern: '^([0-9]+(\\.[0-9]+)?|[0-9]+m)$',
          description: 'a CPU count > 0 like 0.5 or 2, or millicpu like "500m"',
        },
      },
      ['units'],
    ),
    memory: object({ size: SIZE }, ['size']),
    storage: object({ size: SIZE }, ['size']),
    gpu: GPU,
  },
  ['cpu', 'memory'],
)

const PRICE = object(
  {
    denom: { const: 'vty', description: 'the denom "vty"' },
    amount: {
      type: ['string', 'number'],
      exclusiveMinimum: 0,
      maxLength: 60,
      pattern: '^[0-9]+(\\.[0-9]+)?$',
      description: 'a VTY amount > 0 like "0.001" (at most 18 decimals)',
    },
  },
  ['denom', 'amount'],
)

const PLACEMENT = object({
  attributes: {
    type: 'object',
    maxProperties: MARKET_LIMITS.maxRequirements,
    propertyNames: { type: 'string', minLength: 1, description: 'a non-empty attribute key' },
    additionalProperties: {
      type: 'string',
      minLength: 1,
      description: 'a string of 1..32 bytes (quote numbers and booleans)',
    },
    description: `a mapping of at most ${MARKET_LIMITS.maxRequirements} attributes (string to string)`,
  },
  signedBy: object({ anyOf: AUDITORS, allOf: AUDITORS }),
  pricing: named(PRICE, 'a mapping from compute profile names to prices'),
})

const SERVICE = object(
  {
    model: object(
      {
        root: { ...HASH, description: "the model's modelRoot (0x and 64 hex digits)" },
        name: {
          type: 'string',
          minLength: 1,
          maxLength: 64,
          description: 'a model name of 1..64 characters',
        },
      },
      ['root'],
    ),
    params: object({
      maxTokens: {
        type: 'integer',
        minimum: 1,
        maximum: 4096,
        description: 'a whole number of tokens, 1..4096',
      },
    }),
  },
  ['model'],
)

const DEPLOY = object(
  {
    profile: NAME,
    count: { type: 'integer', minimum: 1, maximum: 8, description: 'a whole count, 1..8' },
  },
  ['profile', 'count'],
)

/** The whole spec; `auth` is what a tenant adds when it publishes the canonical bytes. */
export const deploymentSpecSchema = object(
  {
    version: { const: '1.0', description: 'the string "1.0" (quoted)' },
    services: named(SERVICE, 'a mapping from service names to services'),
    profiles: object(
      {
        compute: named(
          object({ resources: RESOURCES }, ['resources']),
          'a mapping from profile names to compute profiles',
        ),
        placement: named(PLACEMENT, 'a mapping from placement names to placements'),
      },
      ['compute', 'placement'],
    ),
    deployment: named(
      named(DEPLOY, 'a mapping from placement names to {profile, count}'),
      'a mapping from service names to placements',
    ),
    auth: object({ apiKeyHash: HASH }, ['apiKeyHash']),
  },
  ['version', 'services', 'profiles', 'deployment'],
  'a mapping (the deployment spec)',
)
