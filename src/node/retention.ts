import type { Startable } from '@libp2p/interface'
import { readContract } from 'viem/actions'
import { disputeGameAbi } from '../chain/abis.ts'
import { getDisputeParams } from '../chain/actions/getDisputeParams.ts'
import type { ChainContext } from './chain.ts'
import { log } from './log.ts'
import type { NodeMetrics } from './metrics.ts'
import type { NodeStore } from './store.ts'

export type RetentionInit = {
  store: NodeStore
  /** The chain's latest block as the node knows it: pruning follows the chain, not the clock. */
  block: () => number
  /** The subnet's epoch index as the node knows it (validators). */
  epoch: () => number
  /**
   * Miners: blocks the longest dispute over a receipt can last once opened (0 without a game).
   * Read at each pruning: governance may change the game's parameters.
   */
  longestGame?: () => Promise<number>
  /** Miners with a game: the first block whose DisputeOpened events are not read yet. */
  disputesSeenBefore?: () => number
  /** Validators: epochs of checks and evidence kept, the current one included (default 32). */
  keepEpochs?: number
  /** Prune once the chain has moved this many blocks since the last pruning (default 50). */
  everyBlocks?: number
  /** How often the block is looked at (default 5000 ms). */
  pollMs?: number
  metrics?: NodeMetrics
}

export type Pruned = { receipts: number; checks: number; evidence: number; commits: number }

/**
 * What a node keeps in SQLite, and for how long: a miner's receipts exactly as long as a dispute
 * could need them (see NodeStore.pruneReceipts), a validator's checks and evidence for
 * `keepEpochs` epochs. Runs when the chain has moved `everyBlocks` since the last run.
 */
export class Retention implements Startable {
  private readonly init: RetentionInit
  private readonly log = log('node:retention')
  private timer: ReturnType<typeof setInterval> | undefined
  private lastBlock = -1
  private running: Promise<unknown> | undefined

  constructor(init: RetentionInit) {
    this.init = init
  }

  async start(): Promise<void> {
    if (this.timer) return
    this.timer = setInterval(() => {
      const block = this.init.block()
      if (this.running || block - this.lastBlock < (this.init.everyBlocks ?? 50)) return
      this.running = this.prune()
        .catch((error) => this.log.warn('pruning failed: %e', error))
        .finally(() => {
          this.running = undefined
        })
    }, this.init.pollMs ?? 5000)
    this.timer.unref?.()
  }

  async stop(): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    await this.running
  }

  /** Prunes now, at the block and epoch the node knows. */
  async prune(): Promise<Pruned> {
    const { store, metrics } = this.init
    const block = this.init.block()
    const longest = this.init.longestGame ? await this.init.longestGame() : undefined
    const seen = this.init.disputesSeenBefore?.()
    const receipts = longest === undefined ? 0 : store.pruneReceipts(block, longest, seen)
    const epoch = this.init.epoch()
    const kept = epoch - (this.init.keepEpochs ?? 32) + 1
    const older =
      this.init.keepEpochs === undefined || epoch < 0
        ? { checks: 0, evidence: 0, commits: 0 }
        : store.pruneEpochsBefore(kept)
    this.lastBlock = block
    const pruned = { receipts, ...older }
    for (const [table, n] of Object.entries(pruned)) if (n > 0) metrics?.pruned.inc({ table }, n)
    if (Object.values(pruned).some((n) => n > 0))
      this.log.info('block %d: pruned %o', block, pruned)
    return pruned
  }
}

/**
 * Blocks the longest dispute on the subnet's game can last, decision included (the game's
 * `maxDisputeBlocks` of its response window); 0 when the node plays no game.
 */
export async function longestGameBlocks(chain: ChainContext): Promise<number> {
  if (!chain.disputeGame) return 0
  const { window } = await getDisputeParams(chain.publicClient, {
    address: chain.disputeGame,
    netuid: chain.netuid,
  })
  const blocks = await readContract(chain.publicClient, {
    address: chain.disputeGame,
    abi: disputeGameAbi,
    functionName: 'maxDisputeBlocks',
    args: [BigInt(window)],
  })
  return Number(blocks)
}
