import type { Address, Chain, Client, Transport } from 'viem'
import { getMetagraph } from '../../src/chain/actions/getMetagraph.ts'
import { getStake } from '../../src/chain/actions/getStake.ts'
import { getSubnet } from '../../src/chain/actions/getSubnet.ts'
import { getSubnetCount } from '../../src/chain/actions/getSubnetCount.ts'

/** One row of the metagraph table; fractions are the chain's u16 values over 65535. */
export type MetagraphRow = {
  uid: number
  hotkey: Address
  stake: bigint
  trust: number
  consensus: number
  incentive: number
  dividends: number
  emission: bigint
  validatorPermit: boolean
  lastUpdate: number
}

export type SubnetSummary = { netuid: number; modelRoot: `0x${string}`; epoch: number; n: number }

const U16 = 65535

/** The live subnets (dissolved ones revert and are left out). */
export async function readSubnets(
  client: Client<Transport, Chain>,
  address: Address,
  options: { signal?: AbortSignal } = {},
): Promise<SubnetSummary[]> {
  const count = await getSubnetCount(client, { address }, options)
  const netuids = Array.from({ length: count }, (_, i) => i + 1)
  const infos = await Promise.all(
    netuids.map((netuid) => getSubnet(client, { address, netuid }, options).catch(() => undefined)),
  )
  return infos.flatMap((info, i) =>
    info
      ? [{ netuid: netuids[i]!, n: Number(info[1]), modelRoot: info[2], epoch: Number(info[4]) }]
      : [],
  )
}

/** The subnet's metagraph, with each hotkey's total stake. */
export async function readMetagraph(
  client: Client<Transport, Chain>,
  address: Address,
  netuid: number,
  options: { signal?: AbortSignal } = {},
): Promise<MetagraphRow[]> {
  const neurons = await getMetagraph(client, { address, netuid }, options)
  const stakes = await Promise.all(
    neurons.map((n) => getStake(client, { address, netuid, hotkey: n.hotkey }, options)),
  )
  return neurons.map((n, uid) => ({
    uid,
    hotkey: n.hotkey,
    stake: stakes[uid]!,
    trust: n.validatorTrust / U16,
    consensus: n.consensus / U16,
    incentive: n.incentive / U16,
    dividends: n.dividends / U16,
    emission: BigInt(n.emission),
    validatorPermit: n.validatorPermit,
    lastUpdate: Number(n.lastUpdate),
  }))
}
