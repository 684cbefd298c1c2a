import type { Account, Address, Chain, Client, Transport } from 'viem'
import { advanceClock } from './advanceClock.ts'
import { executeGovernanceChange } from './executeGovernanceChange.ts'
import { type GovernanceChange, queueGovernanceChange } from './queueGovernanceChange.ts'

export type EnactGovernanceChangeParameters = {
  /** The Verity contract. */
  address: Address
  change: GovernanceChange
  /** DEVNET ONLY: mine blocks up to the change's eta instead of waiting for it. */
  mine?: boolean
}

/**
 * Queues a governance change (protocol owner only), waits for its delay (or mines through it on a
 * devnet) and executes it.
 *
 * @example
 * await enactGovernanceChange(owner, { address, change: { kind: 'emissionShare', netuid, shareBps: 10_000 }, mine: true })
 */
export async function enactGovernanceChange(
  client: Client<Transport, Chain, Account>,
  params: EnactGovernanceChangeParameters,
  options: { signal?: AbortSignal } = {},
): Promise<void> {
  const q = await queueGovernanceChange(
    client,
    { address: params.address, change: params.change },
    options,
  )
  await advanceClock(
    client,
    { address: params.address, to: q.eta, ...(params.mine ? { mine: true } : {}) },
    options,
  )
  await executeGovernanceChange(
    client,
    { address: params.address, kind: q.kind, data: q.data, nonce: q.nonce },
    options,
  )
}
