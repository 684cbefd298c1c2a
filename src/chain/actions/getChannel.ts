import type { Address, Chain, Client, ContractFunctionReturnType, Hex, Transport } from 'viem'
import { readContract } from 'viem/actions'
import { paymentChannelsAbi } from '../abis.ts'

export type GetChannelParameters = {
  /** The PaymentChannels contract. */
  address: Address
  channelId: Hex
}

export type GetChannelReturnType = ContractFunctionReturnType<
  typeof paymentChannelsAbi,
  'view',
  'getChannel'
> & { settleDeadline: bigint }

/**
 * Reads a channel as stored (payer, miner, state, deposit, paid, expiry, closesAt) and the last
 * block the miner may settle in. An unknown channel reverts with UnknownChannel.
 *
 * @example
 * const channel = await getChannel(publicClient, { address: payments, channelId })
 */
export async function getChannel(
  client: Client<Transport, Chain>,
  params: GetChannelParameters,
  options: { signal?: AbortSignal } = {},
): Promise<GetChannelReturnType> {
  options.signal?.throwIfAborted()
  const call = {
    address: params.address,
    abi: paymentChannelsAbi,
    args: [params.channelId],
  } as const
  const [channel, settleDeadline] = await Promise.all([
    readContract(client, { ...call, functionName: 'getChannel' }),
    readContract(client, { ...call, functionName: 'settleDeadline' }),
  ])
  return { ...channel, settleDeadline }
}
