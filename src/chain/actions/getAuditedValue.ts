import type { Address, Chain, Client, ContractFunctionReturnType, Transport } from 'viem'
import { readContract } from 'viem/actions'
import { computeMarketAbi } from '../abis.ts'
import { attributeKey } from '../market.ts'

export type GetAuditedValueParameters = {
  /** The ComputeMarket contract. */
  address: Address
  provider: Address
  auditor: Address
  /** The attribute key, a string of at most 32 bytes. */
  key: string
}

export type GetAuditedValueReturnType = ContractFunctionReturnType<
  typeof computeMarketAbi,
  'view',
  'auditedValue'
>

/**
 * The value an auditor signed for a provider's current registration (zero bytes32: none).
 *
 * @example
 * const v = await getAuditedValue(publicClient, { address: market, provider, auditor, key: 'region' })
 */
export async function getAuditedValue(
  client: Client<Transport, Chain>,
  params: GetAuditedValueParameters,
  options: { signal?: AbortSignal } = {},
): Promise<GetAuditedValueReturnType> {
  options.signal?.throwIfAborted()
  return await readContract(client, {
    address: params.address,
    abi: computeMarketAbi,
    functionName: 'auditedValue',
    args: [params.provider, params.auditor, attributeKey(params.key)],
  })
}
