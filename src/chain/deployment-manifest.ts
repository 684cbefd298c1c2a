import { sha256 } from '@noble/hashes/sha2.js'
import { Ajv } from 'ajv'
import { type Address, bytesToHex, getAddress } from 'viem'
import { DeploymentError } from '../errors/chain.ts'
import {
  computeMarketAbi,
  disputeGameAbi,
  modelCompetitionAbi,
  paymentChannelsAbi,
  verityAbi,
  verityTokenAbi,
  visionSubnetsAbi,
} from './abis.ts'

// The manifest's format alone, with no I/O: the dashboard parses manifests in the browser with it.

/** The manifest format this client reads and writes. */
export const DEPLOYMENT_FORMAT = 'verity-deployment/1'

/**
 * The ABI version: the first 16 hex digits of sha256 over the ABIs this client speaks. A manifest
 * written by a client with other ABIs names contracts this one would call wrongly.
 */
export const ABI_VERSION = bytesToHex(
  sha256(
    new TextEncoder().encode(
      JSON.stringify([
        verityAbi,
        disputeGameAbi,
        verityTokenAbi,
        computeMarketAbi,
        paymentChannelsAbi,
        modelCompetitionAbi,
        visionSubnetsAbi,
      ]),
    ),
  ),
).slice(2, 18)

/**
 * Where Verity lives on one chain: what `verity chain deploy` and the devnet write, and what every
 * command reads (`--deployment <file|url>`). Nothing guesses an address.
 */
export type Deployment = {
  format: typeof DEPLOYMENT_FORMAT
  chainId: number
  abiVersion: string
  /** The block the core was deployed in (logs are read from there). */
  block: bigint
  deployer: Address
  contracts: {
    verity: Address
    token: Address
    /** The dispute game the core names, once governance has named one. */
    disputeGame?: Address
    /** The compute market (ComputeMarket with its provider registry), where one is deployed. */
    market?: Address
    /** The payment channels (PaymentChannels against the dispute game), where deployed. */
    payments?: Address
    /** Model competition commitments (ModelCompetition against the core), where deployed. */
    competition?: Address
    /** Proven-classification subnets' bindings (VisionSubnets against the core: each vision subnet's VisionAnswers), where deployed. */
    vision?: Address
    libraries: Record<string, Address>
  }
}

const ADDRESS = { type: 'string', pattern: '^0x[0-9a-fA-F]{40}$' }

const schema = {
  type: 'object',
  required: ['format', 'chainId', 'abiVersion', 'block', 'deployer', 'contracts'],
  additionalProperties: false,
  properties: {
    format: { const: DEPLOYMENT_FORMAT },
    chainId: { type: 'integer', minimum: 1, maximum: 2 ** 53 - 1 },
    abiVersion: { type: 'string', pattern: '^[0-9a-f]{16}$' },
    block: { type: 'string', pattern: '^(0|[1-9][0-9]{0,30})$' },
    deployer: ADDRESS,
    contracts: {
      type: 'object',
      required: ['verity', 'token', 'libraries'],
      additionalProperties: false,
      properties: {
        verity: ADDRESS,
        token: ADDRESS,
        disputeGame: ADDRESS,
        market: ADDRESS,
        payments: ADDRESS,
        competition: ADDRESS,
        vision: ADDRESS,
        libraries: { type: 'object', additionalProperties: ADDRESS },
      },
    },
  },
} as const

const validate = new Ajv({ allErrors: false }).compile(schema)

/** The manifest as JSON text (bigints as decimal strings, checksummed addresses). */
export function formatDeployment(deployment: Deployment): string {
  const { contracts } = deployment
  return `${JSON.stringify(
    {
      format: DEPLOYMENT_FORMAT,
      chainId: deployment.chainId,
      abiVersion: deployment.abiVersion,
      block: deployment.block.toString(),
      deployer: getAddress(deployment.deployer),
      contracts: {
        verity: getAddress(contracts.verity),
        token: getAddress(contracts.token),
        ...(contracts.disputeGame ? { disputeGame: getAddress(contracts.disputeGame) } : {}),
        ...(contracts.market ? { market: getAddress(contracts.market) } : {}),
        ...(contracts.payments ? { payments: getAddress(contracts.payments) } : {}),
        ...(contracts.competition ? { competition: getAddress(contracts.competition) } : {}),
        ...(contracts.vision ? { vision: getAddress(contracts.vision) } : {}),
        libraries: Object.fromEntries(
          Object.entries(contracts.libraries).map(([k, v]) => [k, getAddress(v)]),
        ),
      },
    },
    null,
    2,
  )}\n`
}

/** Parses and checks a manifest's text; `source` names it in errors. */
export function parseDeployment(text: string, source: string): Deployment {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw new DeploymentError(`deployment manifest ${source} is not JSON`, { cause: error })
  }
  if (!validate(json)) {
    const e = validate.errors?.[0]
    const where = e?.instancePath ? e.instancePath.slice(1).replaceAll('/', '.') : 'manifest'
    throw new DeploymentError(`deployment manifest ${source}: ${where} ${e?.message ?? 'invalid'}`)
  }
  const raw = json as Omit<Deployment, 'block'> & { block: string }
  if (raw.abiVersion !== ABI_VERSION)
    throw new DeploymentError(
      `deployment manifest ${source} was written for contract ABI ${raw.abiVersion}; this verity speaks ${ABI_VERSION}`,
    )
  return { ...raw, block: BigInt(raw.block) }
}
