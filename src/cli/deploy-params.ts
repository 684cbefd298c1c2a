import { readFileSync } from 'node:fs'
import { Ajv } from 'ajv'
import { type Address, getAddress, parseEther } from 'viem'
import { parse as parseYaml } from 'yaml'
import { DEVNET_PROTOCOL_PARAMS } from '../chain/devnet.ts'
import { DEVNET_DISPUTE_PARAMS, DEVNET_DISPUTE_UNSTAKE_DELAY } from '../chain/devnet-dispute.ts'
import type { DisputeParams } from '../chain/dispute.ts'
import type { ProtocolParams } from '../chain/types.ts'
import { UsageError } from '../errors/cli.ts'
import { parseAmount } from './values.ts'

/** Everything `verity chain deploy` fixes at deployment. Durations are in blocks. */
export type DeployParams = {
  /** VTY minted to the deployer at genesis. */
  genesis: bigint
  /** May pause the protocol; the deployer when not given. */
  guardian?: Address
  minUnstakeDelay: number
  minGovernanceDelay: number
  protocol: ProtocolParams
  dispute: DisputeParams
  game: { minBond: bigint; maxBond: bigint; paramsDelay: bigint; partElements: bigint }
}

/**
 * Production defaults, for a chain with ~12 s blocks: stake unlocks after 7 days (50,400 blocks),
 * governance changes wait 2 days (14,400 blocks), a dispute move has an hour (300 blocks) and a
 * receipt is disputable for a day (7,200 blocks). The longest dispute (80 moves) then ends well
 * within the unstake delay, as the core requires.
 */
export const PRODUCTION_DEPLOY_PARAMS: DeployParams = {
  genesis: parseEther('1000000'),
  minUnstakeDelay: 50_400,
  minGovernanceDelay: 14_400,
  protocol: {
    unstakeDelay: 50_400,
    governanceDelay: 14_400,
    epochDeadline: 7_200,
    keeperBps: 100,
    maxSubnets: 256,
    minLock: parseEther('1000'),
    lockReductionInterval: 100_800,
  },
  dispute: {
    bond: parseEther('10'),
    slashMin: parseEther('5'),
    slashBps: 5000,
    rewardBps: 5000,
    window: 300,
    maxValidity: 7_200,
  },
  game: {
    minBond: parseEther('1'),
    maxBond: parseEther('1000'),
    paramsDelay: 7_200n,
    partElements: 4096n,
  },
}

/**
 * DEVNET ONLY: what startDevnet + installDisputeGame set up (one-block governance delay, the
 * unstake floor the devnet dispute parameters need).
 */
export const DEVNET_DEPLOY_PARAMS: DeployParams = {
  genesis: parseEther('1000000'),
  minUnstakeDelay: DEVNET_DISPUTE_UNSTAKE_DELAY,
  minGovernanceDelay: 1,
  protocol: { ...DEVNET_PROTOCOL_PARAMS, unstakeDelay: DEVNET_DISPUTE_UNSTAKE_DELAY },
  dispute: DEVNET_DISPUTE_PARAMS,
  game: {
    minBond: parseEther('1'),
    maxBond: parseEther('1000'),
    paramsDelay: 10n,
    partElements: 4096n,
  },
}

const BLOCKS = { type: 'integer', minimum: 1, maximum: 2 ** 32 - 1 }
const VTY = { type: ['string', 'number'] }
const BPS = { type: 'integer', minimum: 0, maximum: 10_000 }

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    genesis: VTY,
    guardian: { type: 'string', pattern: '^0x[0-9a-fA-F]{40}$' },
    minUnstakeDelay: BLOCKS,
    minGovernanceDelay: BLOCKS,
    protocol: {
      type: 'object',
      additionalProperties: false,
      properties: {
        unstakeDelay: BLOCKS,
        governanceDelay: BLOCKS,
        epochDeadline: BLOCKS,
        keeperBps: { type: 'integer', minimum: 0, maximum: 500 },
        maxSubnets: { type: 'integer', minimum: 1, maximum: 4096 },
        minLock: VTY,
        lockReductionInterval: BLOCKS,
      },
    },
    dispute: {
      type: 'object',
      additionalProperties: false,
      properties: {
        bond: VTY,
        slashMin: VTY,
        slashBps: BPS,
        rewardBps: BPS,
        window: BLOCKS,
        maxValidity: BLOCKS,
        minBond: VTY,
        maxBond: VTY,
        paramsDelay: BLOCKS,
        partElements: { type: 'integer', minimum: 8, multipleOf: 8 },
      },
    },
  },
} as const

const validate = new Ajv({ allErrors: false, allowUnionTypes: true }).compile(schema)

type Raw = {
  genesis?: string | number
  guardian?: string
  minUnstakeDelay?: number
  minGovernanceDelay?: number
  protocol?: Partial<Record<keyof ProtocolParams, number | string>>
  dispute?: Partial<Record<string, number | string>>
}

/** Reads a --params YAML file over the production defaults; errors name the file and the key. */
export function readDeployParams(path: string): DeployParams {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new UsageError(`cannot read the params file ${path}`, { cause: error })
  }
  let raw: unknown
  try {
    raw = parseYaml(text) ?? {}
  } catch (error) {
    throw new UsageError(`params file ${path} is not YAML`, { cause: error })
  }
  if (!validate(raw)) {
    const e = validate.errors?.[0]
    const where = e?.instancePath ? e.instancePath.slice(1).replaceAll('/', '.') : 'the file'
    const extra =
      e?.keyword === 'additionalProperties' ? ` '${String(e.params.additionalProperty)}'` : ''
    throw new UsageError(`params file ${path}: ${where} ${e?.message ?? 'invalid'}${extra}`)
  }
  const r = raw as Raw
  const d = PRODUCTION_DEPLOY_PARAMS
  const vty = (value: string | number | undefined, fallback: bigint, key: string) =>
    value === undefined ? fallback : parseAmount(String(value), `params file ${path}: ${key}`)
  const n = (value: number | string | undefined, fallback: number) =>
    value === undefined ? fallback : Number(value)
  const p = r.protocol ?? {}
  const g = r.dispute ?? {}
  const params: DeployParams = {
    genesis: vty(r.genesis, d.genesis, 'genesis'),
    ...(r.guardian ? { guardian: getAddress(r.guardian) } : {}),
    minUnstakeDelay: n(r.minUnstakeDelay, d.minUnstakeDelay),
    minGovernanceDelay: n(r.minGovernanceDelay, d.minGovernanceDelay),
    protocol: {
      unstakeDelay: n(p.unstakeDelay, d.protocol.unstakeDelay),
      governanceDelay: n(p.governanceDelay, d.protocol.governanceDelay),
      epochDeadline: n(p.epochDeadline, d.protocol.epochDeadline),
      keeperBps: n(p.keeperBps, d.protocol.keeperBps),
      maxSubnets: n(p.maxSubnets, d.protocol.maxSubnets),
      minLock: vty(p.minLock, d.protocol.minLock, 'protocol.minLock'),
      lockReductionInterval: n(p.lockReductionInterval, d.protocol.lockReductionInterval),
    },
    dispute: {
      bond: vty(g.bond, d.dispute.bond, 'dispute.bond'),
      slashMin: vty(g.slashMin, d.dispute.slashMin, 'dispute.slashMin'),
      slashBps: n(g.slashBps, d.dispute.slashBps),
      rewardBps: n(g.rewardBps, d.dispute.rewardBps),
      window: n(g.window, d.dispute.window),
      maxValidity: n(g.maxValidity, d.dispute.maxValidity),
    },
    game: {
      minBond: vty(g.minBond, d.game.minBond, 'dispute.minBond'),
      maxBond: vty(g.maxBond, d.game.maxBond, 'dispute.maxBond'),
      paramsDelay: BigInt(n(g.paramsDelay, Number(d.game.paramsDelay))),
      partElements: BigInt(n(g.partElements, Number(d.game.partElements))),
    },
  }
  checkDeployParams(params, path)
  return params
}

/** The bounds the contracts enforce, checked before anything is deployed. */
function checkDeployParams(p: DeployParams, path: string): void {
  const fail = (why: string) => {
    throw new UsageError(`params file ${path}: ${why}`)
  }
  if (
    p.protocol.unstakeDelay < p.minUnstakeDelay ||
    p.protocol.unstakeDelay > 4 * p.minUnstakeDelay
  )
    fail('protocol.unstakeDelay must be between minUnstakeDelay and 4 × minUnstakeDelay')
  if (p.protocol.governanceDelay < p.minGovernanceDelay)
    fail('protocol.governanceDelay must be at least minGovernanceDelay')
  const longest = 80 * p.dispute.window + 1 + p.dispute.maxValidity
  if (longest > p.minUnstakeDelay)
    fail(
      `the longest dispute (80 × dispute.window + 1 + dispute.maxValidity = ${longest} blocks) must end within minUnstakeDelay (${p.minUnstakeDelay})`,
    )
  if (p.game.minBond > p.game.maxBond) fail('dispute.minBond must not exceed dispute.maxBond')
  if (p.dispute.bond < p.game.minBond || p.dispute.bond > p.game.maxBond)
    fail('dispute.bond must be between dispute.minBond and dispute.maxBond')
  if (p.protocol.minLock === 0n) fail('protocol.minLock must be more than 0')
}
