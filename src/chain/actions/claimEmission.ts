import type { Account, Address, Chain, Client, Hash, TransactionReceipt, Transport } from 'viem'
import { waitForTransactionReceipt, writeContract } from 'viem/actions'
import { ChainError } from '../../errors/chain.ts'
import { verityAbi } from '../abis.ts'

export type ClaimEmissionParameters = {
  /** The Verity contract. */
  address: Address
  /** recipient */
  to: Address
  /**
   * Also sweep this hotkey's uid on this subnet and harvest the caller's staking rewards on that
   * pool before claiming (a hotkey claiming its own emission, or a coldkey its delegation rewards).
   */
  from?: { netuid: number; hotkey: Address }
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type ClaimEmissionReturnType = { hash: Hash; receipt: TransactionReceipt }

export type ClaimEmissionErrorType = ChainError

/**
 * Sends the caller's claimable balance to `to` (O(1) in the number of subnets).
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * decoded custom error.
 *
 * @example
 * const { receipt } = await claimEmission(walletClient, { address: devnet.addresses.verity, ... })
 */
export async function claimEmission(
  client: Client<Transport, Chain, Account>,
  params: ClaimEmissionParameters,
  options: { signal?: AbortSignal } = {},
): Promise<ClaimEmissionReturnType> {
  options.signal?.throwIfAborted()
  const common = {
    address: params.address,
    abi: verityAbi,
    account: client.account,
    chain: client.chain,
    ...(params.gas === undefined ? {} : { gas: params.gas }),
  } as const
  const hash = params.from
    ? await writeContract(client, {
        ...common,
        functionName: 'claimFrom',
        args: [params.from.netuid, params.from.hotkey, params.to],
      })
    : await writeContract(client, { ...common, functionName: 'claim', args: [params.to] })
  const receipt = await waitForTransactionReceipt(client, { hash, pollingInterval: 50 })
  if (receipt.status !== 'success')
    throw new ChainError(`claimEmission: transaction ${hash} reverted`)
  return { hash, receipt }
}
