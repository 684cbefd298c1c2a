import { type Address, parseEther } from 'viem'
import { ChainError } from '../errors/chain.ts'
import { enactGovernanceChange } from './actions/enactGovernanceChange.ts'
import type { Devnet } from './devnet.ts'
import { type DisputeDeployment, type DisputeParams, deployDisputeGame } from './dispute.ts'

/**
 * The devnet's dispute parameters: a 16-block window per move (the devnet mines a block per
 * transaction, so a window counts other nodes' transactions too) and receipts disputable for
 * 128 blocks. The longest dispute then takes 80 * 16 + 1 blocks, so the core's unstake delay floor
 * must be at least DEVNET_DISPUTE_UNSTAKE_DELAY (128 + 1,281, rounded up to a multiple of 8). It is
 * kept that short because naming the game waits out the longest withdrawal, 4 floors and two
 * buckets (6,018 blocks), which the devnet mines at start.
 */
export const DEVNET_DISPUTE_PARAMS: DisputeParams = {
  bond: parseEther('10'),
  slashMin: parseEther('5'),
  slashBps: 5000,
  rewardBps: 5000,
  window: 16,
  maxValidity: 128,
}

/** The unstake delay floor (blocks) a devnet needs for DEVNET_DISPUTE_PARAMS. */
export const DEVNET_DISPUTE_UNSTAKE_DELAY = 1416

export type InstallDisputeGameOptions = {
  params?: DisputeParams
  /** Elements per part of a long sum (default 4096). */
  partElements?: bigint
  signal?: AbortSignal
}

/**
 * DEVNET ONLY: deploys the dispute game against the devnet's core and names it through
 * governance, mining through the change's delay (a game change waits out the longest withdrawal,
 * so that stake which backed receipts under the old game cannot escape the new one).
 *
 * @example
 * const devnet = await startDevnet({ unstakeDelay: DEVNET_DISPUTE_UNSTAKE_DELAY })
 * const { game } = await installDisputeGame(devnet)
 */
export async function installDisputeGame(
  devnet: Devnet,
  options: InstallDisputeGameOptions = {},
): Promise<DisputeDeployment & { params: DisputeParams }> {
  const params = options.params ?? DEVNET_DISPUTE_PARAMS
  const owner = devnet.walletClients[0]
  if (!owner) throw new ChainError('devnet: no owner account')
  const core: Address = devnet.addresses.verity
  const signal = options.signal ? { signal: options.signal } : {}
  const deployment = await deployDisputeGame(devnet.publicClient, owner, {
    core,
    token: devnet.addresses.token,
    minBond: parseEther('1'),
    maxBond: parseEther('1000'),
    paramsDelay: 10n,
    partElements: options.partElements ?? 4096n,
    defaults: params,
  }).catch((error: unknown) => {
    throw new ChainError(
      `devnet: the dispute game does not fit this devnet (its longest dispute must end within the core's unstake delay; start the devnet with unstakeDelay >= ${DEVNET_DISPUTE_UNSTAKE_DELAY})`,
      { cause: error },
    )
  })
  await enactGovernanceChange(
    owner,
    { address: core, change: { kind: 'disputeGame', game: deployment.game }, mine: true },
    signal,
  )
  return { ...deployment, params }
}
