import type { Account, Address, Chain, Client, Hex, Transport } from 'viem'
import { type MarketWriteReturnType, writeMarket } from '../market.ts'

export type PublishSpecParameters = {
  /** The ComputeMarket contract. */
  address: Address
  orderId: bigint
  /** The deployment spec's bytes: keccak256 of them is the order's specHash. */
  spec: Hex | Uint8Array
}

/**
 * Publishes an open order's deployment spec in the market's log (tenant only), so providers read
 * what they bid on from the chain. Waits for the receipt; a revert (SpecHashMismatch, SpecTooLong,
 * NotTenant, OrderNotOpen) surfaces as viem's ContractFunctionExecutionError.
 *
 * @example
 * await publishSpec(tenantWallet, { address: market, orderId, spec: canonicalSpecBytes(spec) })
 */
export async function publishSpec(
  client: Client<Transport, Chain, Account>,
  params: PublishSpecParameters,
  options: { signal?: AbortSignal } = {},
): Promise<MarketWriteReturnType> {
  const spec =
    typeof params.spec === 'string'
      ? params.spec
      : (`0x${Buffer.from(params.spec).toString('hex')}` as Hex)
  return await writeMarket(client, params.address, 'publishSpec', [params.orderId, spec], options)
}
