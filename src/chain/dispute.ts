import {
  type Abi,
  type Account,
  type Address,
  type Chain,
  type Client,
  type ContractFunctionArgs,
  type ContractFunctionName,
  getAddress,
  type Hash,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
  TransactionReceiptNotFoundError,
  type Transport,
  type WalletClient,
} from 'viem'
import { getTransactionReceipt, writeContract } from 'viem/actions'
import { ChainError } from '../errors/chain.ts'
import {
  disputeCoreStandInAbi,
  disputeCoreStandInBytecode,
  disputeGameAbi,
  disputeGameBytecode,
  disputeGameLinkReferences,
  oneStepAttentionLibAbi,
  oneStepAttentionLibBytecode,
  oneStepLibAbi,
  oneStepLibBytecode,
  oneStepSamplerLibAbi,
  oneStepSamplerLibBytecode,
  openLibAbi,
  openLibBytecode,
  stepLibAbi,
  stepLibBytecode,
  stepLibLinkReferences,
  sumLibAbi,
  sumLibBytecode,
  sumLibLinkReferences,
} from './abis.ts'
import { linkBytecode } from './devnet.ts'

/**
 * The dispute game on chain (contracts/src/dispute/DisputeGame.sol): deployment of the game with
 * its linked libraries, of the test stand-in for the core, and the one write path every move
 * action goes through.
 */

/**
 * The game's ABI with the custom errors of the libraries it calls (their reverts reach the caller
 * through the game): viem decodes every revert of a move by name.
 */
export const disputeGameErrorsAbi = [
  ...disputeGameAbi,
  ...[
    ...openLibAbi,
    ...stepLibAbi,
    ...sumLibAbi,
    ...oneStepLibAbi,
    ...oneStepAttentionLibAbi,
    ...oneStepSamplerLibAbi,
  ].filter((x) => x.type === 'error'),
] as const

/** A subnet's dispute parameters (DisputeParams). */
export type DisputeParams = {
  bond: bigint
  slashMin: bigint
  slashBps: number
  rewardBps: number
  window: number
  maxValidity: number
}

/** The game's phases (DisputeGame constants). */
export const DisputePhase = {
  NONE: 0,
  BISECT: 1,
  POSITION: 2,
  BISECT2: 3,
  BINDING: 4,
  LEAF: 5,
  CHUNKS: 6,
  STEP: 7,
  SUM_POST: 8,
  SUM_BISECT: 9,
  SUM_STEP: 10,
  OUTPUT: 11,
  DONE: 12,
} as const

/** Why a dispute was decided (DisputeGame constants; 1..7 are the one-shot checks). */
export const DisputeReason = {
  TRACE_LEAVES: 1,
  EARLY_STOP: 2,
  TOO_MANY_TOKENS: 3,
  NO_TOKENS: 4,
  REFUSED_REQUEST: 5,
  FUTURE_RECEIPT: 6,
  BAD_TOKEN: 7,
  TIMEOUT: 10,
  ONE_STEP: 11,
  BINDING_PROVEN: 12,
  OUTPUT_PROVEN: 13,
  SUM_STEP: 14,
  SUM_MAX: 15,
} as const

/** The sentinel `outputIndex` of an open without an output claim. */
export const NO_OUTPUT_CLAIM = 2n ** 64n - 1n

export type DisputeDeployment = {
  game: Address
  openLib: Address
  stepLib: Address
  sumLib: Address
  oneStepLib: Address
  oneStepAttentionLib: Address
  oneStepSamplerLib: Address
}

export type DeployDisputeGameParameters = {
  /** The core (IDisputeCore): the receipts' EIP-712 verifying contract and the slashing hook. */
  core: Address
  /** The ERC20 bonds are paid in (the core's stake token). */
  token: Address
  minBond: bigint
  maxBond: bigint
  /** Blocks before a subnet owner's new parameters apply. */
  paramsDelay: bigint
  /** Elements per part of a long projection or softmax row played as a sum (a multiple of 8). */
  partElements: bigint
  defaults: DisputeParams
}

async function deployed(publicClient: PublicClient<Transport, Chain>, hash: Hex): Promise<Address> {
  const receipt = await waitMined(publicClient, hash)
  if (receipt.status !== 'success' || !receipt.contractAddress)
    throw new ChainError(`deployment ${hash} reverted`)
  return getAddress(receipt.contractAddress)
}

/**
 * Deploys the one-step libraries, OpenLib, StepLib, SumLib and the DisputeGame linked to them.
 *
 * @example
 * const { game } = await deployDisputeGame(publicClient, wallet, { core, token, ... })
 */
export async function deployDisputeGame(
  publicClient: PublicClient<Transport, Chain>,
  wallet: WalletClient<Transport, Chain, Account>,
  params: DeployDisputeGameParameters,
): Promise<DisputeDeployment> {
  const library = async (bytecode: Hex) =>
    await deployed(
      publicClient,
      await wallet.deployContract({ abi: [], bytecode, account: wallet.account, chain: null }),
    )
  const oneStepLib = await library(oneStepLibBytecode)
  const oneStepAttentionLib = await library(oneStepAttentionLibBytecode)
  const oneStepSamplerLib = await library(oneStepSamplerLibBytecode)
  const kernels = {
    OneStepLib: oneStepLib,
    OneStepAttentionLib: oneStepAttentionLib,
    OneStepSamplerLib: oneStepSamplerLib,
  }
  const openLib = await library(openLibBytecode)
  const stepLib = await library(linkBytecode(stepLibBytecode, stepLibLinkReferences, kernels))
  const sumLib = await library(linkBytecode(sumLibBytecode, sumLibLinkReferences, kernels))
  const game = await deployed(
    publicClient,
    await wallet.deployContract({
      abi: disputeGameAbi,
      bytecode: linkBytecode(disputeGameBytecode, disputeGameLinkReferences, {
        OpenLib: openLib,
        StepLib: stepLib,
        SumLib: sumLib,
      }),
      args: [
        params.core,
        params.token,
        params.minBond,
        params.maxBond,
        params.paramsDelay,
        params.partElements,
        params.defaults,
      ],
      account: wallet.account,
      chain: null,
    }),
  )
  return {
    game,
    openLib,
    stepLib,
    sumLib,
    oneStepLib,
    oneStepAttentionLib,
    oneStepSamplerLib,
  }
}

/**
 * Deploys DisputeCoreStandIn (contracts/src/test), the test stand-in for the core's dispute
 * interface: registration, subnets, stake in `token`, the slashing hook.
 */
export async function deployDisputeStandIn(
  publicClient: PublicClient<Transport, Chain>,
  wallet: WalletClient<Transport, Chain, Account>,
  params: { token: Address; minUnstakeDelay: number },
): Promise<Address> {
  return await deployed(
    publicClient,
    await wallet.deployContract({
      abi: disputeCoreStandInAbi,
      bytecode: disputeCoreStandInBytecode,
      args: [params.token, params.minUnstakeDelay],
      account: wallet.account,
      chain: null,
    }),
  )
}

export type GameWriteName = ContractFunctionName<typeof disputeGameAbi, 'nonpayable'>

export type GameWriteReturnType = { hash: Hash; receipt: TransactionReceipt }

/**
 * Sends one transaction to the game and waits for it; a revert surfaces as viem's
 * ContractFunctionExecutionError with the decoded custom error (estimation fails first).
 */
export async function writeGame<name extends GameWriteName>(
  client: Client<Transport, Chain, Account>,
  address: Address,
  functionName: name,
  args: ContractFunctionArgs<typeof disputeGameAbi, 'nonpayable', name>,
  options: { gas?: bigint; signal?: AbortSignal } = {},
): Promise<GameWriteReturnType> {
  return await sendAndWait(
    client,
    { address, abi: disputeGameErrorsAbi, functionName, args: args as readonly unknown[] },
    options,
  )
}

/**
 * Sends one contract call and waits until it is mined (the typed writers of the game and the
 * market call this): `abi` should carry every custom error the call can revert with, so that
 * viem decodes a revert by name; a mined revert is a ChainError naming the function.
 */
export async function sendAndWait(
  client: Client<Transport, Chain, Account>,
  call: { address: Address; abi: Abi; functionName: string; args: readonly unknown[] },
  options: { gas?: bigint; signal?: AbortSignal } = {},
): Promise<{ hash: Hash; receipt: TransactionReceipt }> {
  options.signal?.throwIfAborted()
  const hash = await writeContract(client, {
    ...call,
    account: client.account,
    chain: client.chain,
    ...(options.gas === undefined ? {} : { gas: options.gas }),
  } as never)
  const receipt = await waitMined(client, hash, options)
  if (receipt.status !== 'success')
    throw new ChainError(`${call.functionName}: transaction ${hash} reverted`)
  return { hash, receipt }
}

/**
 * The receipt of a sent transaction, polled every 20 ms until it exists (10 minutes at most): a
 * plain poll, which does not depend on seeing a block after the transaction's (on an automining
 * devnet the transaction's own block may be the last one for a long time).
 */
export async function waitMined(
  client: Client<Transport, Chain>,
  hash: Hash,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<TransactionReceipt> {
  const deadline = Date.now() + (options.timeoutMs ?? 600_000)
  for (;;) {
    options.signal?.throwIfAborted()
    try {
      return await getTransactionReceipt(client, { hash })
    } catch (error) {
      if (!(error instanceof TransactionReceiptNotFoundError)) throw error
    }
    if (Date.now() > deadline) throw new ChainError(`transaction ${hash} was not mined`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
