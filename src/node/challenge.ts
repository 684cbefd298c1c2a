import {
  type Address,
  ContractFunctionRevertedError,
  maxUint256,
  BaseError as ViemBaseError,
} from 'viem'
import { getBlockNumber, readContract } from 'viem/actions'
import { disputeGameAbi, verityTokenAbi } from '../chain/abis.ts'
import { approveToken } from '../chain/actions/approveToken.ts'
import { getDisputeParams } from '../chain/actions/getDisputeParams.ts'
import { openDispute } from '../chain/actions/openDispute.ts'
import type { Model } from '../runtime/model/load.ts'
import { hasAdjustments } from '../runtime/sampler/adjust.ts'
import type { ReceiptBundle } from '../verify/bundle.ts'
import { type DisputeClaim, disputeClaim } from '../verify/dispute/claim.ts'
import { openParams } from '../verify/dispute/open.ts'
import type { ChainContext } from './chain.ts'

/**
 * Opening a dispute as a challenger (a validator's node, or a user with `verity dispute open`):
 * the claim from an honest re-run, the receipt still disputable, the bond approved, the open.
 */

export type OpenChallengeResult =
  | { opened: true; id: bigint; block: bigint; claim: DisputeClaim }
  | { opened: false; reason: string; claim?: DisputeClaim }

/** Approves the game to take bonds from the wallet when it may not yet; false when it cannot pay. */
export async function ensureBond(
  chain: Pick<ChainContext, 'publicClient' | 'walletClient'>,
  game: Address,
  amount: bigint,
  options: { signal?: AbortSignal } = {},
): Promise<boolean> {
  const { publicClient, walletClient } = chain
  const token = await readContract(publicClient, {
    address: game,
    abi: disputeGameAbi,
    functionName: 'token',
  })
  const me = walletClient.account.address
  const [balance, allowance] = await Promise.all([
    readContract(publicClient, {
      address: token,
      abi: verityTokenAbi,
      functionName: 'balanceOf',
      args: [me],
    }),
    readContract(publicClient, {
      address: token,
      abi: verityTokenAbi,
      functionName: 'allowance',
      args: [me, game],
    }),
  ])
  if (balance < amount) return false
  if (allowance < amount)
    await approveToken(walletClient, { token, spender: game, amount: maxUint256 }, options)
  return true
}

/**
 * Opens a dispute over a receipt the challenger's own run disagrees with. Nothing is opened when
 * the run agrees, the receipt is no longer disputable, or the wallet cannot pay the bond (the
 * reason says which). A revert of the open (already disputed, already slashed, ...) is thrown.
 */
export async function openChallenge(
  params: {
    chain: Pick<ChainContext, 'publicClient' | 'walletClient'>
    game: Address
    model: Model
    bundle: Pick<ReceiptBundle, 'request' | 'tokens' | 'receipt'>
  },
  options: { signal?: AbortSignal } = {},
): Promise<OpenChallengeResult> {
  const { chain, game, model, bundle } = params
  const { request, tokens, receipt } = bundle
  const disputeParams = await getDisputeParams(
    chain.publicClient,
    { address: game, netuid: receipt.netuid },
    options,
  )
  const head = await getBlockNumber(chain.publicClient, { cacheTime: 0 })
  const last = Math.min(receipt.validUntilBlock, receipt.issuedBlock + disputeParams.maxValidity)
  if (head >= BigInt(last))
    return { opened: false, reason: `the receipt was disputable until block ${last} (now ${head})` }
  options.signal?.throwIfAborted()
  const claim = disputeClaim(model, request, tokens, receipt)
  if (!claim)
    return {
      opened: false,
      reason: `an honest run agrees with the receipt (traceRoot ${receipt.traceRoot}, ${tokens.length} tokens)`,
    }
  if (hasAdjustments(request.params))
    return {
      opened: false,
      reason:
        'the dispute game cannot check a request with logit_bias or penalties yet (open reverts LogitAdjustmentsUnsupported): the disagreement stands off chain only',
      claim,
    }
  if (request.responseFormat !== undefined)
    return {
      opened: false,
      reason:
        'the dispute game cannot check a request with a response_format yet (open reverts ResponseFormatUnsupported): the disagreement stands off chain only',
      claim,
    }
  if (!(await ensureBond(chain, game, disputeParams.bond, options)))
    return {
      opened: false,
      reason: `the wallet ${chain.walletClient.account.address} cannot pay the bond of ${disputeParams.bond} wei`,
      claim,
    }
  const open = openParams({
    receipt,
    request,
    tokens,
    model,
    ...(claim.kind === 'traceRoot'
      ? { claimedRoot: claim.claimedRoot }
      : { outputIndex: claim.outputIndex }),
  })
  const opened = await openDispute(chain.walletClient, { address: game, open }, options)
  return { opened: true, id: opened.id, block: opened.receipt.blockNumber, claim }
}

/** The game's custom error behind a failed write (name and arguments), if it reverted. */
export function revertOf(error: unknown): ContractFunctionRevertedError['data'] | undefined {
  if (!(error instanceof ViemBaseError)) return undefined
  const revert = error.walk((e) => e instanceof ContractFunctionRevertedError)
  return revert instanceof ContractFunctionRevertedError ? revert.data : undefined
}
