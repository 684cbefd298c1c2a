import type { Address, Chain, Client, ContractFunctionReturnType, Transport } from 'viem'
import { readContract } from 'viem/actions'
import { verityAbi } from '../abis.ts'

export type GetMetagraphParameters = {
  /** The Verity contract. */
  address: Address
  /** subnet */
  netuid: number
}

export type GetMetagraphReturnType = ContractFunctionReturnType<
  typeof verityAbi,
  'view',
  'metagraph'
>

/**
 * Reads every uid of a subnet in one call: hotkey, blocks, emission and the last epoch's
 * consensus, incentive, dividends and validator trust (u16 fractions of 65535).
 *
 * @example
 * const neurons = await getMetagraph(publicClient, { address: devnet.addresses.verity, netuid: 1 })
 */
export async function getMetagraph(
  client: Client<Transport, Chain>,
  params: GetMetagraphParameters,
  options: { signal?: AbortSignal } = {},
): Promise<GetMetagraphReturnType> {
  options.signal?.throwIfAborted()
  return await readContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'metagraph',
    args: [params.netuid],
  })
}
