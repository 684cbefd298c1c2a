import type { Address, Chain, Client, Hex, Transport } from 'viem'
import { readContract } from 'viem/actions'
import { visionSubnetsAbi } from '../abis.ts'

export type GetVisionSubnetParameters = {
  /** The VisionSubnets contract. */
  address: Address
  netuid: number
}

export type GetVisionSubnetReturnType = {
  /** The VisionAnswers contract (the zero address when not a vision subnet). */
  answers: Address
  modelId: Hex
  /** Block of the declaration; 0n: not a vision subnet. */
  declaredAt: bigint
}

/**
 * Reads a subnet's vision binding (VisionSubnets.visionOf); declaredAt 0n when it is not one.
 *
 * @example
 * const { answers, modelId } = await getVisionSubnet(publicClient, { address: vision, netuid: 2 })
 */
export async function getVisionSubnet(
  client: Client<Transport, Chain>,
  params: GetVisionSubnetParameters,
  options: { signal?: AbortSignal } = {},
): Promise<GetVisionSubnetReturnType> {
  options.signal?.throwIfAborted()
  const v = await readContract(client, {
    address: params.address,
    abi: visionSubnetsAbi,
    functionName: 'visionOf',
    args: [params.netuid],
  })
  return { answers: v.answers, modelId: v.modelId, declaredAt: v.declaredAt }
}
