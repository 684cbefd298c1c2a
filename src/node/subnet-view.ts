import type { Startable } from '@libp2p/interface'
import type { Address, Chain, Client, Hex, Transport } from 'viem'
import { getBlockNumber } from 'viem/actions'
import { getStake } from '../chain/actions/getStake.ts'
import { getSubnet } from '../chain/actions/getSubnet.ts'
import { type NeuronNode, readNeurons } from './chain.ts'
import { log } from './log.ts'

/** A uid as nodes see it between refreshes: identity, published node, last epoch outputs, stake. */
export type NeuronView = NeuronNode & { stake: bigint }

export type SubnetViewInit = {
  publicClient: Client<Transport, Chain>
  /** The Verity contract. */
  address: Address
  netuid: number
  /** How often the block number and epoch index are read (default 1000 ms). */
  blockMs?: number
  /** How often the metagraph is read when no new epoch forces it (default 15000 ms). */
  metagraphMs?: number
}

/**
 * A node's cached view of its subnet on chain: the latest block, the epoch index (and when this
 * node saw it change), the subnet's model, and every uid with its published node and stake. The
 * metagraph is re-read at each new epoch and every `metagraphMs`, so routing, admission and
 * scoring follow the chain within one epoch. `refresh()` reads everything now.
 */
export class SubnetView implements Startable {
  block = 0
  epoch = -1
  modelRoot: Hex = `0x${'00'.repeat(32)}`
  /** Date.now() when this view first saw the current epoch index. */
  epochSeenAt = 0
  neurons: NeuronView[] = []
  private byKey = new Map<string, NeuronView>()
  private readonly init: SubnetViewInit
  private timer: ReturnType<typeof setTimeout> | undefined
  private lastMetagraph = 0
  private rereadAt = 0
  private running = false
  private readonly log = log('node:view')
  private readonly listeners = new Set<(view: SubnetView) => void>()

  constructor(init: SubnetViewInit) {
    this.init = init
  }

  get netuid(): number {
    return this.init.netuid
  }

  /** The uid of a hotkey, as of the last metagraph read. */
  neuron(hotkey: string): NeuronView | undefined {
    return this.byKey.get(hotkey.toLowerCase())
  }

  /** Called after every metagraph read. */
  onMetagraph(listener: (view: SubnetView) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  async refresh(options: { signal?: AbortSignal; metagraph?: boolean } = {}): Promise<void> {
    const { publicClient, address, netuid } = this.init
    const [block, info] = await Promise.all([
      getBlockNumber(publicClient, { cacheTime: 0 }),
      getSubnet(publicClient, { address, netuid }, options),
    ])
    this.block = Number(block)
    this.modelRoot = info[2]
    const epoch = Number(info[4])
    const newEpoch = epoch !== this.epoch
    if (newEpoch) {
      this.epoch = epoch
      this.epochSeenAt = Date.now()
    }
    // An epoch spans several transactions: the index moves at its first, the outputs land at its
    // last. Read again shortly after a new index so the outputs are the finished epoch's.
    if (newEpoch) this.rereadAt = Date.now() + 3000
    const due =
      Date.now() - this.lastMetagraph >= (this.init.metagraphMs ?? 15_000) ||
      (this.rereadAt > 0 && Date.now() >= this.rereadAt)
    if (due && this.rereadAt > 0 && Date.now() >= this.rereadAt) this.rereadAt = 0
    if (newEpoch || due || options.metagraph) await this.readMetagraph(options)
  }

  private async readMetagraph(options: { signal?: AbortSignal }): Promise<void> {
    const { publicClient, address, netuid } = this.init
    const nodes = await readNeurons({ publicClient, address, netuid }, options)
    const stakes = await Promise.all(
      nodes.map((n) => getStake(publicClient, { address, netuid, hotkey: n.hotkey }, options)),
    )
    this.neurons = nodes.map((n, i) => ({ ...n, stake: stakes[i]! }))
    this.byKey = new Map(this.neurons.map((n) => [n.hotkey.toLowerCase(), n]))
    this.lastMetagraph = Date.now()
    for (const l of this.listeners) l(this)
  }

  async start(): Promise<void> {
    if (this.running) return
    this.running = true
    await this.refresh({ metagraph: true })
    const loop = () => {
      if (!this.running) return
      this.refresh()
        .catch((error) => this.log('refresh failed: %s', (error as Error).message.split('\n')[0]))
        .finally(() => {
          if (this.running) this.timer = setTimeout(loop, this.init.blockMs ?? 1000)
        })
    }
    this.timer = setTimeout(loop, this.init.blockMs ?? 1000)
  }

  async stop(): Promise<void> {
    this.running = false
    clearTimeout(this.timer)
  }
}
