import {
  type Account,
  type Address,
  type Chain,
  type Client,
  type ContractFunctionArgs,
  type ContractFunctionName,
  getAddress,
  type Hash,
  type Hex,
  hexToString,
  type PublicClient,
  stringToHex,
  type TransactionReceipt,
  type Transport,
  type WalletClient,
} from 'viem'
import { ChainError } from '../errors/chain.ts'
import { computeMarketAbi, computeMarketBytecode, verityTokenAbi } from './abis.ts'
import { sendAndWait, waitMined } from './dispute.ts'

/**
 * The compute market on chain (contracts/src/market: ComputeMarket with its ProviderRegistry),
 * Akash's deployments, orders, bids, leases and escrow paid in VTY: deployment against a token,
 * the TypeScript mirrors of its states and structs, and the one write path every market action
 * goes through.
 */

/** Order states (MarketTypes.sol `OrderState`). */
export const OrderState = { NONE: 0, OPEN: 1, ACTIVE: 2, CLOSED: 3 } as const
/** Bid states (MarketTypes.sol `BidState`): LOST = another bid won; CLOSED = withdrawn, expired or its lease ended. */
export const BidState = { NONE: 0, OPEN: 1, ACTIVE: 2, LOST: 3, CLOSED: 4 } as const
/** Lease states (MarketTypes.sol `LeaseState`). */
export const LeaseState = { NONE: 0, ACTIVE: 1, CLOSED: 2 } as const
/** Why a lease closed (MarketTypes.sol `CloseReason`). */
export const CloseReason = {
  NONE: 0,
  /** The tenant closed it. */
  TENANT: 1,
  /** The tenant closed it because the provider stopped serving. */
  PROVIDER_GONE: 2,
  /** The provider closed it. */
  PROVIDER: 3,
  /** The escrow could not pay the blocks elapsed (anyone may close such a lease). */
  INSUFFICIENT_FUNDS: 4,
} as const

export type CloseReasonValue = (typeof CloseReason)[keyof typeof CloseReason]

/** The market's bounds (ComputeMarket and ProviderRegistry constants). */
export const MARKET_LIMITS = {
  maxOpenBids: 20,
  maxRequirements: 16,
  maxAuditors: 8,
  maxAttributes: 32,
  maxHostUri: 256,
  maxBidWindow: 100_000n,
} as const

/** An attribute as the contract stores it: key and value as right-padded bytes32. */
export type AttributeArg = { key: Hex; value: Hex }

/** The resources an order asks for (`Resources`). */
export type Resources = {
  cpuMilli: number
  gpuUnits: number
  memoryBytes: bigint
  storageBytes: bigint
}

/** What opening an order takes (`OrderParams`); strings become bytes32 in `orderParams`. */
export type OrderSpec = {
  specHash: Hex
  resources: Resources
  maxPricePerBlock: bigint
  bidWindow: bigint
  /** Required provider attributes, e.g. { region: 'eu-west', gpu: 'h100' }. */
  requirements?: Record<string, string>
  signedByAnyOf?: Address[]
  signedByAllOf?: Address[]
}

/** One attribute: a string of at most 32 bytes, right-padded (the contract refuses empty ones). */
export function attribute(key: string, value: string): AttributeArg {
  return { key: toBytes32(key), value: toBytes32(value) }
}

/** An attribute key (or value) as the contract stores it: right-padded bytes32. */
export function attributeKey(key: string): Hex {
  return toBytes32(key)
}

/** A record of attributes as the contract's list, in the record's order. */
export function attributes(record: Record<string, string>): AttributeArg[] {
  return Object.entries(record).map(([k, v]) => attribute(k, v))
}

/** The string a right-padded bytes32 attribute holds. */
export function fromBytes32(value: Hex): string {
  // strip whole zero bytes only (viem's trim works in nibbles: "h100" ends in 0x30)
  return hexToString(value.replace(/(00)+$/, '') as Hex)
}

function toBytes32(text: string): Hex {
  if (new TextEncoder().encode(text).length > 32)
    throw new ChainError(`attribute "${text}" is longer than 32 bytes`)
  return stringToHex(text, { size: 32 })
}

/** An OrderSpec as the contract's OrderParams. */
export function orderParams(spec: OrderSpec) {
  return {
    specHash: spec.specHash,
    resources: spec.resources,
    maxPricePerBlock: spec.maxPricePerBlock,
    bidWindow: spec.bidWindow,
    requirements: attributes(spec.requirements ?? {}),
    signedByAnyOf: spec.signedByAnyOf ?? [],
    signedByAllOf: spec.signedByAllOf ?? [],
  }
}

export type DeployMarketParameters = {
  /** The ERC20 everything is paid in (the devnet's VTY). */
  token: Address
  /** What every bid locks until it closes. */
  bidDeposit: bigint
  /** The least escrow an order opens with. */
  minEscrow: bigint
}

/**
 * Deploys ComputeMarket against a token. It has no owner and needs no other contract.
 *
 * @example
 * const market = await deployMarket(devnet.publicClient, devnet.walletClients[0], {
 *   token: devnet.addresses.token, bidDeposit: parseEther('5'), minEscrow: parseEther('1'),
 * })
 */
export async function deployMarket(
  publicClient: PublicClient<Transport, Chain>,
  wallet: WalletClient<Transport, Chain, Account>,
  params: DeployMarketParameters,
): Promise<Address> {
  const hash = await wallet.deployContract({
    abi: computeMarketAbi,
    bytecode: computeMarketBytecode,
    args: [params.token, params.bidDeposit, params.minEscrow],
    account: wallet.account,
    chain: null,
  })
  const receipt = await waitMined(publicClient, hash)
  if (receipt.status !== 'success' || !receipt.contractAddress)
    throw new ChainError(`market deployment ${hash} reverted`)
  return getAddress(receipt.contractAddress)
}

/**
 * The market's ABI with the token's custom errors (a transfer the market makes can revert with
 * them, e.g. ERC20InsufficientBalance): viem decodes every revert of a market call by name.
 */
export const marketErrorsAbi = [
  ...computeMarketAbi,
  ...verityTokenAbi.filter((x) => x.type === 'error'),
] as const

export type MarketWriteName = ContractFunctionName<typeof computeMarketAbi, 'nonpayable'>

export type MarketWriteReturnType = { hash: Hash; receipt: TransactionReceipt }

/**
 * Sends one transaction to the market and waits for it; a revert surfaces as viem's
 * ContractFunctionExecutionError with the market's decoded custom error (estimation fails first).
 */
export async function writeMarket<name extends MarketWriteName>(
  client: Client<Transport, Chain, Account>,
  address: Address,
  functionName: name,
  args: ContractFunctionArgs<typeof computeMarketAbi, 'nonpayable', name>,
  options: { gas?: bigint; signal?: AbortSignal } = {},
): Promise<MarketWriteReturnType> {
  return await sendAndWait(
    client,
    { address, abi: marketErrorsAbi, functionName, args: args as readonly unknown[] },
    options,
  )
}
