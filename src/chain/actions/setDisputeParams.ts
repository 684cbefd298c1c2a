import type { Account, Address, Chain, Client, Transport } from 'viem'
import type { ChainError } from '../../errors/chain.ts'
import { type DisputeParams, type GameWriteReturnType, writeGame } from '../dispute.ts'

export type SetDisputeParamsParameters = {
  /** The DisputeGame contract. */
  address: Address
  netuid: number
  params: DisputeParams
  /** Gas limit (estimated when omitted). */
  gas?: bigint
}

export type SetDisputeParamsReturnType = GameWriteReturnType

export type SetDisputeParamsErrorType = ChainError

/**
 * Subnet owner: proposes new dispute parameters (within the game's bounds), which apply to
 * disputes opened `paramsDelay` blocks later.
 *
 * @example
 * await setDisputeParams(ownerWallet, { address: game, netuid: 1, params })
 */
export async function setDisputeParams(
  client: Client<Transport, Chain, Account>,
  params: SetDisputeParamsParameters,
  options: { signal?: AbortSignal } = {},
): Promise<SetDisputeParamsReturnType> {
  return await writeGame(client, params.address, 'setParams', [params.netuid, params.params], {
    ...(params.gas === undefined ? {} : { gas: params.gas }),
    ...(options.signal ? { signal: options.signal } : {}),
  })
}
