import {
  type Account,
  type Address,
  type Chain,
  type Client,
  type ContractFunctionArgs,
  type ContractFunctionName,
  getAddress,
  type Hash,
  type PublicClient,
  type TransactionReceipt,
  type Transport,
  type WalletClient,
  zeroAddress,
} from 'viem'
import { ChainError } from '../errors/chain.ts'
import { paymentChannelsAbi, paymentChannelsBytecode, verityTokenAbi } from './abis.ts'
import { sendAndWait, waitMined } from './dispute.ts'

/**
 * Payment channels on chain (contracts/src/payments/PaymentChannels.sol): a payer locks VTY for
 * one miner and pays it with cumulative vouchers (src/verify/voucher.ts). Deployment, the
 * TypeScript mirror of a channel's state, and the one write path every channel action takes.
 */

/** Channel states (IPaymentChannels.sol `ChannelState`). */
export const ChannelState = { NONE: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 } as const

export type DeployPaymentChannelsParameters = {
  /** The ERC20 channels pay in (the devnet's VTY). */
  token: Address
  /** The dispute game whose decided losses void vouchers (zeroAddress: none). */
  disputeGame: Address
  /** Blocks the miner keeps to settle after a close starts. */
  challengePeriod: bigint
  /** Blocks the miner keeps to settle after a channel's expiry. */
  settleGrace: bigint
}

/** The devnet's channel windows (blocks; the devnet mines a block per transaction). */
export const DEVNET_CHANNEL_WINDOWS = { challengePeriod: 100n, settleGrace: 100n } as const

/** `verity chain deploy`'s channel windows: a day each at ~12 s blocks. */
export const PRODUCTION_CHANNEL_WINDOWS = { challengePeriod: 7200n, settleGrace: 7200n } as const

/**
 * Deploys PaymentChannels against a token and a dispute game. It has no owner.
 *
 * @example
 * const payments = await deployPaymentChannels(devnet.publicClient, devnet.walletClients[0], {
 *   token: devnet.addresses.token, disputeGame: game, challengePeriod: 100n, settleGrace: 100n,
 * })
 */
export async function deployPaymentChannels(
  publicClient: PublicClient<Transport, Chain>,
  wallet: WalletClient<Transport, Chain, Account>,
  params: DeployPaymentChannelsParameters,
): Promise<Address> {
  const hash = await wallet.deployContract({
    abi: paymentChannelsAbi,
    bytecode: paymentChannelsBytecode,
    args: [params.token, params.disputeGame, params.challengePeriod, params.settleGrace],
    account: wallet.account,
    chain: null,
  })
  const receipt = await waitMined(publicClient, hash)
  if (receipt.status !== 'success' || !receipt.contractAddress)
    throw new ChainError(`payment channels deployment ${hash} reverted`)
  return getAddress(receipt.contractAddress)
}

/** A channel with no dispute game to honour (tests, chains without one). */
export const NO_DISPUTE_GAME: Address = zeroAddress

/**
 * The channels' ABI with the token's custom errors (a transfer can revert with them, e.g.
 * ERC20InsufficientAllowance): viem decodes every revert of a channel call by name.
 */
export const paymentsErrorsAbi = [
  ...paymentChannelsAbi,
  ...verityTokenAbi.filter((x) => x.type === 'error'),
] as const

export type PaymentsWriteName = ContractFunctionName<typeof paymentChannelsAbi, 'nonpayable'>

export type PaymentsWriteReturnType = { hash: Hash; receipt: TransactionReceipt }

/**
 * Sends one transaction to the channels contract and waits for it; a revert surfaces as viem's
 * ContractFunctionExecutionError with the decoded custom error (estimation fails first).
 */
export async function writePayments<name extends PaymentsWriteName>(
  client: Client<Transport, Chain, Account>,
  address: Address,
  functionName: name,
  args: ContractFunctionArgs<typeof paymentChannelsAbi, 'nonpayable', name>,
  options: { gas?: bigint; signal?: AbortSignal } = {},
): Promise<PaymentsWriteReturnType> {
  return await sendAndWait(
    client,
    { address, abi: paymentsErrorsAbi, functionName, args: args as readonly unknown[] },
    options,
  )
}
