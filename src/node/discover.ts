import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { INFER_PROTOCOL } from './frames.ts'
import { log } from './log.ts'
import type { Peer } from './peer.ts'
import type { NeuronView } from './subnet-view.ts'

/**
 * Which published nodes of a subnet are miners: those whose node speaks `/verity/infer/1`, asked
 * through libp2p identify (a miner may hold stake, a validator may hold none: only the protocol
 * tells them apart). Answers are cached per peer id; a node that could not be reached, or did not
 * speak the protocol yet (identify-push tells of protocols added later), is asked again after
 * `retryMs`. The connection stays open, which also joins the gossip mesh.
 */
export class MinerDiscovery {
  private readonly known = new Map<string, { miner: boolean; at: number } | { failedAt: number }>()
  private readonly pending = new Map<string, Promise<boolean | undefined>>()
  private readonly log = log('node:discover')

  constructor(
    private readonly peer: Peer,
    private readonly retryMs = 10_000,
  ) {}

  /**
   * The cached answer for a neuron's published node: true, false, or undefined (not asked yet, or
   * a 'no' older than `retryMs`: a node may start serving the protocol after it first connected).
   */
  cached(n: Pick<NeuronView, 'peerId'>): boolean | undefined {
    const k = n.peerId && this.known.get(n.peerId)
    if (!k || !('miner' in k)) return undefined
    return k.miner || Date.now() - k.at < this.retryMs ? k.miner : undefined
  }

  /** Whether the neuron's node is a miner; undefined when it has no node or cannot be reached. */
  async isMiner(n: Pick<NeuronView, 'peerId' | 'multiaddrs'>): Promise<boolean | undefined> {
    const id = n.peerId
    if (id === undefined) return undefined
    const k = this.known.get(id)
    if (k && 'miner' in k) {
      if (k.miner) return true
      // identify-push may have told of the protocol since: the peer store has it, no dial needed
      if (await this.speaks(id)) {
        this.known.set(id, { miner: true, at: Date.now() })
        return true
      }
      if (Date.now() - k.at < this.retryMs) return false
    }
    if (k && 'failedAt' in k && Date.now() - k.failedAt < this.retryMs) return undefined
    const running = this.pending.get(id)
    if (running) return await running
    const ask = this.identify(id, n.multiaddrs).finally(() => this.pending.delete(id))
    this.pending.set(id, ask)
    return await ask
  }

  private async speaks(id: string): Promise<boolean> {
    const entry = await this.peer.peerStore.get(peerIdFromString(id)).catch(() => undefined)
    return entry?.protocols.includes(INFER_PROTOCOL) ?? false
  }

  private async identify(id: string, addrs: readonly string[]): Promise<boolean | undefined> {
    try {
      const peerId = peerIdFromString(id)
      const multiaddrs = addrs.flatMap((a) => {
        try {
          return [multiaddr(a)]
        } catch {
          return []
        }
      })
      if (multiaddrs.length > 0) await this.peer.peerStore.merge(peerId, { multiaddrs })
      await this.peer.dial(peerId, { signal: AbortSignal.timeout(5000) })
      // libp2p runs identify on every new connection and records the remote's protocols in the
      // peer store; asking again on the same connection would race it (one stream at a time).
      const deadline = Date.now() + 5000
      let protocols: string[] = []
      for (;;) {
        protocols = (await this.peer.peerStore.get(peerId).catch(() => undefined))?.protocols ?? []
        if (protocols.length > 0 || Date.now() > deadline) break
        await new Promise((r) => setTimeout(r, 50))
      }
      if (protocols.length === 0) throw new Error('identify told nothing within 5 s')
      const miner = protocols.includes(INFER_PROTOCOL)
      this.known.set(id, { miner, at: Date.now() })
      return miner
    } catch (error) {
      this.log('cannot ask %s which protocols it speaks: %s', id, (error as Error).message)
      this.known.set(id, { failedAt: Date.now() })
      return undefined
    }
  }
}
