import type { Address, Chain, Client, ContractFunctionReturnType, Transport } from 'viem'
import { readContract } from 'viem/actions'
import { verityAbi } from '../abis.ts'

export type GetProtocolParamsParameters = {
  /** The Verity contract. */
  address: Address
}

export type GetProtocolParamsReturnType = ContractFunctionReturnType<
  typeof verityAbi,
  'view',
  'protocolParams'
>

/**
 * Reads the protocol parameters in force.
 *
 * @example
 * const value = await getProtocolParams(publicClient, { address: devnet.addresses.verity, ... })
 */
export async function getProtocolParams(
  client: Client<Transport, Chain>,
  params: GetProtocolParamsParameters,
  options: { signal?: AbortSignal } = {},
): Promise<GetProtocolParamsReturnType> {
  options.signal?.throwIfAborted()
  return await readContract(client, {
    address: params.address,
    abi: verityAbi,
    functionName: 'protocolParams',
    args: [],
  })
}
