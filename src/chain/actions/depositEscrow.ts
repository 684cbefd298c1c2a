import type { Account, Address, Chain, Client, Transport } from 'viem'
import { type MarketWriteReturnType, writeMarket } from '../market.ts'

export type DepositEscrowParameters = {
  /** The ComputeMarket contract. */
  address: Address
  orderId: bigint
  /** VTY added to the escrow (approved to the market first). */
  amount: bigint
}

export type DepositEscrowReturnType = MarketWriteReturnType

/**
 * Tops up an order's escrow (the tenant only). Settles the lease first; refused (EscrowDepleted)
 * once the escrow has failed to pay, and (EscrowClosed) after the order closed.
 * Waits for the receipt; a revert surfaces as viem's ContractFunctionExecutionError with the
 * market's decoded custom error.
 *
 * @example
 * await depositEscrow(tenantWallet, { address: market, orderId, amount: parseEther('5') })
 */
export async function depositEscrow(
  client: Client<Transport, Chain, Account>,
  params: DepositEscrowParameters,
  options: { signal?: AbortSignal } = {},
): Promise<DepositEscrowReturnType> {
  return await writeMarket(
    client,
    params.address,
    'depositEscrow',
    [params.orderId, params.amount],
    options,
  )
}
