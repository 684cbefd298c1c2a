import type { Address, Chain, Client, ContractFunctionReturnType, Transport } from 'viem'
import { readContract } from 'viem/actions'
import { verityAbi } from '../abis.ts'

export type GetEpochStageParameters = {
  /** The Verity contract. */
  address: Address
  /** subnet */
  netuid: number
}

export type GetEpochStageReturnType = ContractFunctionReturnType<
  typeof verityAbi,
  'view',
  'epochStage'
>

/**
 * Reads the running epoch's stage and next column.
 *
 * @example
 * const value = await getEpochStage(publicClient, { address: devnet.addresses.verity, ... })
 */
export async function getEpochStage(
  client: Client<Transport, Chain>,
  params: GetEpochStageParameters,
  options: { signal?: AbortSignal } = {},
): Promise<GetEpochStageReturnType> {
  options.signal?.throwIfAborted()
  return await readContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'epochStage',
    args: [params.netuid],
  })
}
