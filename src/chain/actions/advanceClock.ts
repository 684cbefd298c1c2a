import type { Address, Chain, Client, Transport } from 'viem'
import { toHex } from 'viem'
import { readContract } from 'viem/actions'
import { verityAbi } from '../abis.ts'

export type AdvanceClockParameters = {
  /** The Verity contract. */
  address: Address
  /** The protocol clock value to reach. */
  to: bigint
  /**
   * DEVNET ONLY: mine empty blocks (anvil_mine) instead of waiting for the chain. Works for the
   * block-number clock; the timestamp clock also advances one second per mined block.
   */
  mine?: boolean
  /** Milliseconds between polls when waiting (default 1000). */
  pollMs?: number
}

/**
 * Returns once the contract's clock (`clock()`) is at least `to`: waits for the chain, or on a
 * devnet mines the blocks. Used before a queued governance change's eta or an epoch's due block.
 *
 * @example
 * await advanceClock(publicClient, { address, to: eta, mine: true })
 */
export async function advanceClock(
  client: Client<Transport, Chain>,
  params: AdvanceClockParameters,
  options: { signal?: AbortSignal } = {},
): Promise<void> {
  for (;;) {
    options.signal?.throwIfAborted()
    const now = BigInt(
      await readContract(client, {
        address: params.address,
        abi: verityAbi,
        functionName: 'clock',
      }),
    )
    if (now >= params.to) return
    if (params.mine) {
      // at most 512 blocks a request: a long delay mined at once can outlast the transport's
      // time-out on a loaded machine (anvil mines a few hundred empty blocks a second there)
      const n = params.to - now > 512n ? 512n : params.to - now
      await client.request({ method: 'anvil_mine', params: [toHex(n)] } as never)
      continue
    }
    await new Promise((r) => setTimeout(r, params.pollMs ?? 1000))
  }
}
