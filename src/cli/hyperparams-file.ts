import { readFileSync } from 'node:fs'
import { Ajv } from 'ajv'
import { parse as parseYaml } from 'yaml'
import { DEFAULT_HYPERPARAMS, type Hyperparams } from '../chain/types.ts'
import { UsageError } from '../errors/cli.ts'
import { parseAmount } from './values.ts'

/** Hyperparameters in VTY (decimal amounts); the other bigints are plain integers. */
const VTY_KEYS = new Set(['burn', 'minBurn', 'maxBurn', 'stakeThreshold'])

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: Object.fromEntries(
    Object.entries(DEFAULT_HYPERPARAMS).map(([key, value]) => [
      key,
      typeof value === 'boolean'
        ? { type: 'boolean' }
        : typeof value === 'bigint'
          ? { type: ['string', 'integer'] }
          : { type: 'integer', minimum: key === 'alphaSigmoidSteepness' ? -32768 : 0 },
    ]),
  ),
}

const validate = new Ajv({ allErrors: false, allowUnionTypes: true }).compile(schema)

/**
 * Reads subnet hyperparameters from YAML over `base` (default: subtensor's defaults); the contract
 * checks the bounds again at creation (InvalidHyperparameter names the field).
 */
export function readHyperparams(
  path: string,
  base: Hyperparams = DEFAULT_HYPERPARAMS,
): Hyperparams {
  let raw: unknown
  try {
    raw = parseYaml(readFileSync(path, 'utf8')) ?? {}
  } catch (error) {
    throw new UsageError(`cannot read the hyperparameters file ${path} as YAML`, { cause: error })
  }
  if (!validate(raw)) {
    const e = validate.errors?.[0]
    const where = e?.instancePath ? e.instancePath.slice(1) : 'the file'
    const extra =
      e?.keyword === 'additionalProperties' ? ` '${String(e.params.additionalProperty)}'` : ''
    throw new UsageError(
      `hyperparameters file ${path}: ${where} ${e?.message ?? 'invalid'}${extra}`,
    )
  }
  const out: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof DEFAULT_HYPERPARAMS[key as keyof Hyperparams] !== 'bigint') out[key] = value
    else if (VTY_KEYS.has(key)) out[key] = parseAmount(String(value), `${path}: ${key}`)
    else if (/^\d+$/.test(String(value))) out[key] = BigInt(String(value))
    else throw new UsageError(`hyperparameters file ${path}: ${key} must be a whole number`)
  }
  return out as Hyperparams
}
