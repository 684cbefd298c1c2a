import {
  type Account,
  type Address,
  type Chain,
  type Client,
  type Hex,
  parseEventLogs,
  type Transport,
} from 'viem'
import { ChainError } from '../../errors/chain.ts'
import { disputeGameAbi } from '../abis.ts'
import { type GameWriteReturnType, writeGame } from '../dispute.ts'

/** The receipt as the game takes it (DisputeTypes.sol `Receipt`). */
export type ReceiptArg = {
  chainId: bigint
  netuid: number
  modelRoot: Hex
  requestHash: Hex
  outputHash: Hex
  traceRoot: Hex
  traceLeaves: bigint
  minerHotkey: Address
  issuedBlock: bigint
  validUntilBlock: bigint
  nonce: Hex
}

/** What opening a dispute takes (DisputeTypes.sol `OpenParams`; src/verify/dispute `openParams`). */
export type OpenParamsArg = {
  receipt: ReceiptArg
  signature: Hex
  /** The request's canonical ABI encoding. */
  request: Hex
  /** The output tokens, big-endian uint32 each. */
  tokens: Hex
  /** The model's config bytes, its tokenizer digest and their leaf's compact proof. */
  config: Hex
  tokenizerDigest: Hex
  configProof: Hex[]
  /** The challenger's traceRoot (ignored for an output claim). */
  claimedRoot: Hex
  /** NO_OUTPUT_CLAIM, or the output token the challenger says the trace did not sample. */
  outputIndex: bigint
}

export type OpenDisputeParameters = {
  /** The DisputeGame contract. */
  address: Address
  open: OpenParamsArg
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type OpenDisputeReturnType = GameWriteReturnType & {
  /** The new dispute's id. */
  id: bigint
  /** Whether the receipt was decided at open (a one-shot check). */
  decided: boolean
}

export type OpenDisputeErrorType = ChainError

/**
 * Opens a dispute over a receipt (the caller must have approved the bond to the game). A receipt
 * that contradicts itself is decided in the same transaction.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * game's decoded custom error.
 *
 * @example
 * const { id } = await openDispute(challengerWallet, { address: game, open: params })
 */
export async function openDispute(
  client: Client<Transport, Chain, Account>,
  params: OpenDisputeParameters,
  options: { signal?: AbortSignal } = {},
): Promise<OpenDisputeReturnType> {
  const sent = await writeGame(client, params.address, 'open', [params.open], {
    ...(params.gas === undefined ? {} : { gas: params.gas }),
    ...(options.signal ? { signal: options.signal } : {}),
  })
  const logs = parseEventLogs({ abi: disputeGameAbi, logs: sent.receipt.logs })
  const opened = logs.find((l) => l.eventName === 'DisputeOpened')
  if (opened?.eventName !== 'DisputeOpened')
    throw new ChainError('openDispute: no DisputeOpened event in the receipt')
  return {
    ...sent,
    id: opened.args.id,
    decided: logs.some((l) => l.eventName === 'DisputeDecided'),
  }
}
