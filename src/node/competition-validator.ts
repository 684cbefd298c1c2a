import {
  type Account,
  type Address,
  type Chain,
  type Client,
  type Hex,
  hexToBytes,
  type Transport,
  zeroAddress,
} from 'viem'
import { getBlock, getBlockNumber, readContract } from 'viem/actions'
import { verityAbi } from '../chain/abis.ts'
import { getCompetition } from '../chain/actions/getCompetition.ts'
import { getHyperparams } from '../chain/actions/getHyperparams.ts'
import { getModelCommits } from '../chain/actions/getModelCommits.ts'
import { getSubnet } from '../chain/actions/getSubnet.ts'
import { setWeights } from '../chain/actions/setWeights.ts'
import { type EvaluationSpec, evaluationSpecHash } from '../competition/evaluate.ts'
import { type CommittedModel, type ScoreOutcome, scoreModelFile } from '../competition/score.ts'
import { countsForSeed, evaluationSeed } from '../competition/seed.ts'
import { competitionWeights } from '../competition/weights.ts'
import { CompetitionError } from '../errors/competition.ts'
import type { LoadModelOptions } from '../runtime/model/load.ts'
import { toHex } from '../runtime/trace/merkle.ts'
import { log } from './log.ts'

/** Blocks from an epoch's start to its seed block, unless the validator is told otherwise. */
export const DEFAULT_SEED_DELAY = 8

/** A commitment as the chain returns it (ModelCompetition.commitOf). */
export type ChainModelCommit = CommittedModel & {
  commitBlock: bigint
  seq: bigint
  copyOf: Address
}

/**
 * Where a validator gets a committed model's file: the miner's libp2p file server in a network,
 * a local file in tests and the devnet. Rejects when the file cannot be had (the model then
 * scores 0 that epoch with the error as its reason); the bytes are checked against the
 * commitment by the validator, never trusted.
 */
export type ModelSource = (
  commit: ChainModelCommit,
  hotkey: Address,
  signal: AbortSignal,
) => Promise<Uint8Array>

/** One committed model's result in an epoch. */
export type CompetitionScore = {
  uid: number
  hotkey: Address
  modelRoot: Hex
  fileHash: Hex
  commitBlock: bigint
  /** The hotkey that committed this model first, when it was another: weight 0. */
  copyOf: Address | null
  /** Exact evaluation loss (nats Q16), null when unscored. */
  loss: bigint | null
  /** Why the model is unscored (download failed, file refused). */
  reason?: string
  /** This validator's weight for the uid (u16, 0 when unscored, a copy or beaten). */
  weight: number
}

/** One epoch as this validator evaluated it. */
export type CompetitionEpoch = {
  epoch: bigint
  /** The block whose hash seeded the evaluation: the epoch's start block + seedDelay. */
  seedBlock: bigint
  seed: Hex
  /** The models whose commitment counted for the seed, by uid. */
  scores: CompetitionScore[]
  /** Committed too late for this epoch's seed (scored from the next epoch on). */
  pending: { uid: number; hotkey: Address; commitBlock: bigint }[]
  /** Whether weights went on chain (false when nothing scored). */
  weightsSet: boolean
  /** Milliseconds spent fetching, checking and evaluating files this epoch; files scored (not cached). */
  evalMs: number
  evaluations: number
}

export type CompetitionValidatorInit = {
  publicClient: Client<Transport, Chain>
  /** The validator's hotkey (registered on the subnet): sets the weights. */
  walletClient: Client<Transport, Chain, Account>
  /** The Verity core. */
  address: Address
  /** The ModelCompetition contract. */
  competition: Address
  netuid: number
  source: ModelSource
  /** The evaluation this validator runs; its hash must be the competition's evalSpecHash. */
  evaluation: { corpus: readonly string[]; corpusSha256: Uint8Array; spec: EvaluationSpec }
  /**
   * Blocks after the epoch's start whose hash seeds the evaluation (default 8: past the blocks
   * that running an epoch's stages takes on a devnet).
   */
  seedDelay?: number
  /** Longest wait for one file (default 60 s). */
  fetchTimeoutMs?: number
  /** Poll interval of the loop started by start() (default 1 s). */
  pollMs?: number
  /** Kernel and threads for the evaluated models. */
  load?: LoadModelOptions
}

/**
 * A validator of a model competition subnet. Each epoch of the core (subnetInfo's epochIndex,
 * begun at lastEpochBlock: the commit deadline), once the seed block (deadline + seedDelay) is
 * mined: reads the rules and every registered hotkey's commitment, keeps those older than the
 * seed block by more than minCommitAge, fetches each file from the source, scores it exactly
 * (score.ts: a bad or missing file scores 0 with a reason), turns the losses into weights
 * (weights.ts: king of the hill with epsilon; the chain's copies get 0) and sets them. A file is
 * evaluated once per (commitment, seed): copies and a second validator in the same process read
 * the cache.
 */
export class CompetitionValidator {
  private readonly log = log('node:competition')
  private readonly cache = new Map<string, ScoreOutcome>()
  private cacheSeed: Hex | undefined
  private controller: AbortController | undefined
  private loop: Promise<void> | undefined
  private last: CompetitionEpoch | undefined
  /** Files scored (fetched and checked) so far: cache hits excluded. */
  private evaluated = 0
  private scoringMs = 0

  constructor(private readonly init: CompetitionValidatorInit) {}

  get hotkey(): Address {
    return this.init.walletClient.account.address
  }

  /** The last epoch this validator evaluated (for reports), undefined before the first. */
  get lastEpoch(): CompetitionEpoch | undefined {
    return this.last
  }

  /** Ticks every pollMs until stop(); a failed tick is logged and tried again. */
  start(): void {
    if (this.controller) return
    const controller = new AbortController()
    this.controller = controller
    const { signal } = controller
    this.loop = (async () => {
      while (!signal.aborted) {
        try {
          await this.tick({ signal })
        } catch (error) {
          if (!signal.aborted) this.log.error('tick failed: %e', error)
        }
        if (signal.aborted) break
        // the pause ends early on stop()
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, this.init.pollMs ?? 1000)
          signal.addEventListener('abort', done, { once: true })
          function done() {
            clearTimeout(timer)
            signal.removeEventListener('abort', done)
            resolve()
          }
        })
      }
    })()
  }

  async stop(): Promise<void> {
    this.controller?.abort()
    await this.loop
    this.controller = undefined
    this.loop = undefined
  }

  /**
   * Evaluates the current epoch if it has not yet and its seed block is mined. Returns the
   * epoch's result, or `waiting` with the seed block still to come, or `done` when this epoch
   * was already evaluated.
   */
  async tick(
    options: { signal?: AbortSignal } = {},
  ): Promise<
    | { status: 'evaluated'; epoch: CompetitionEpoch }
    | { status: 'waiting'; seedBlock: bigint }
    | { status: 'done'; epoch: CompetitionEpoch }
  > {
    const { publicClient, address, competition, netuid } = this.init
    const o = options.signal ? { signal: options.signal } : {}
    const { epoch: epochIndex, seedBlock } = await this.currentSeedBlock(o)
    if (this.last && this.last.epoch === epochIndex) return { status: 'done', epoch: this.last }
    if ((await getBlockNumber(publicClient, { cacheTime: 0 })) < seedBlock)
      return { status: 'waiting', seedBlock }
    const msBefore = this.scoringMs
    const rules = await getCompetition(publicClient, { address: competition, netuid }, o)
    if (rules.declaredAt === 0n)
      throw new CompetitionError('netuid', `subnet ${netuid} is not a model competition`)
    const { corpusSha256, spec } = this.init.evaluation
    const ours = toHex(evaluationSpecHash(spec, corpusSha256))
    if (ours !== rules.evalSpecHash.toLowerCase())
      throw new CompetitionError(
        'evalSpecHash',
        `subnet ${netuid} declares ${rules.evalSpecHash}; this validator's evaluation hashes to ${ours}: it would score by other rules`,
      )
    const block = await getBlock(publicClient, { blockNumber: seedBlock })
    const seed = evaluationSeed(hexToBytes(block.hash), netuid, epochIndex)
    const seedHex = toHex(seed) as Hex
    if (this.cacheSeed !== seedHex) {
      this.cache.clear()
      this.cacheSeed = seedHex
    }
    const neurons = await readContract(publicClient, {
      address,
      abi: verityAbi,
      functionName: 'metagraph',
      args: [netuid],
    })
    const hotkeys = neurons.map((n) => n.hotkey)
    const commits = await getModelCommits(
      publicClient,
      { address: competition, netuid, hotkeys },
      o,
    )
    const counted: { uid: number; hotkey: Address; commit: ChainModelCommit }[] = []
    const pending: CompetitionEpoch['pending'] = []
    commits.forEach((commit, uid) => {
      if (commit.commitBlock === 0n) return
      const hotkey = hotkeys[uid]!
      if (countsForSeed(commit.commitBlock, seedBlock, rules.minCommitAge))
        counted.push({ uid, hotkey, commit })
      else pending.push({ uid, hotkey, commitBlock: commit.commitBlock })
    })
    const evaluatedBefore = this.evaluated
    const outcomes: {
      uid: number
      hotkey: Address
      commit: ChainModelCommit
      out: ScoreOutcome
    }[] = []
    for (const c of counted) {
      const out = await this.score(c.commit, c.hotkey, rules.maxParams, seed, options.signal)
      if (!out.ok) this.log.warn('epoch %s: uid %d scores 0: %s', epochIndex, c.uid, out.reason)
      outcomes.push({ ...c, out })
    }
    const weights = new Map(
      competitionWeights(
        outcomes.map(({ uid, commit, out }) => ({
          uid,
          commitBlock: Number(commit.commitBlock),
          loss: out.ok ? out.lossQ16 : null,
          copy: commit.copyOf !== zeroAddress,
        })),
        rules.epsilonPpm,
      ).map((w) => [w.uid, w.weight]),
    )
    const scores: CompetitionScore[] = outcomes.map(({ uid, hotkey, commit, out }) => ({
      uid,
      hotkey,
      modelRoot: commit.modelRoot,
      fileHash: commit.fileHash,
      commitBlock: commit.commitBlock,
      copyOf: commit.copyOf === zeroAddress ? null : commit.copyOf,
      loss: out.ok ? out.lossQ16 : null,
      ...(out.ok ? {} : { reason: out.reason }),
      weight: weights.get(uid) ?? 0,
    }))
    const evalMs = Math.round(this.scoringMs - msBefore)
    const weightsSet = await this.setWeights(scores, o)
    this.last = {
      epoch: epochIndex,
      seedBlock,
      seed: seedHex,
      scores,
      pending,
      weightsSet,
      evalMs,
      evaluations: this.evaluated - evaluatedBefore,
    }
    this.log.info(
      'epoch %s: seed block %s, %d scored, %d pending, weights %o',
      epochIndex,
      seedBlock,
      scores.length,
      pending.length,
      scores.map((s) => [s.uid, s.weight]),
    )
    return { status: 'evaluated', epoch: this.last }
  }

  /** The subnet's current epoch and the block whose hash seeds its evaluation. */
  async currentSeedBlock(
    options: { signal?: AbortSignal } = {},
  ): Promise<{ epoch: bigint; seedBlock: bigint }> {
    const { publicClient, address, netuid } = this.init
    const [, , , lastEpochBlock, epoch] = await getSubnet(
      publicClient,
      { address, netuid },
      options,
    )
    return {
      epoch,
      seedBlock: BigInt(lastEpochBlock) + BigInt(this.init.seedDelay ?? DEFAULT_SEED_DELAY),
    }
  }

  /** The file's score for this seed: from the cache, or fetched and evaluated. */
  private async score(
    commit: ChainModelCommit,
    hotkey: Address,
    maxParams: bigint,
    seed: Uint8Array,
    signal: AbortSignal | undefined,
  ): Promise<ScoreOutcome> {
    // The seed is the cache's (cleared when it changes); a commitment names the file completely.
    const key =
      `${commit.fileHash}/${commit.modelRoot}/${commit.size}/${commit.params}`.toLowerCase()
    const cached = this.cache.get(key)
    if (cached) return cached
    const started = performance.now()
    const timeout = AbortSignal.timeout(this.init.fetchTimeoutMs ?? 60_000)
    let bytes: Uint8Array
    try {
      bytes = await this.init.source(
        commit,
        hotkey,
        signal ? AbortSignal.any([signal, timeout]) : timeout,
      )
    } catch (error) {
      signal?.throwIfAborted()
      this.scoringMs += performance.now() - started
      return {
        ok: false,
        loss: null,
        reason: `file unavailable: ${error instanceof Error ? error.message : String(error)}`,
      }
    }
    this.evaluated++
    const out = scoreModelFile(bytes, {
      commit,
      maxParams,
      corpus: this.init.evaluation.corpus,
      seed,
      spec: this.init.evaluation.spec,
      ...(this.init.load ? { load: this.init.load } : {}),
    })
    // Only a file that matched its commitment is cached: another holder of the same commitment
    // may serve the right bytes where this one served wrong ones.
    if (out.ok) this.cache.set(key, out)
    this.scoringMs += performance.now() - started
    return out
  }

  private async setWeights(
    scores: readonly CompetitionScore[],
    o: { signal?: AbortSignal },
  ): Promise<boolean> {
    const given = scores.filter((s) => s.weight > 0)
    if (given.length === 0) return false
    const { publicClient, walletClient, address, netuid } = this.init
    const hp = await getHyperparams(publicClient, { address, netuid }, o)
    if (hp.commitReveal)
      throw new CompetitionError(
        'commitReveal',
        `subnet ${netuid} has commit-reveal on; the competition validator sets weights directly (create the subnet with commitReveal false)`,
      )
    await setWeights(
      walletClient,
      {
        address,
        netuid,
        uids: given.map((s) => s.uid),
        values: given.map((s) => s.weight),
        versionKey: BigInt(hp.weightsVersionKey),
      },
      o,
    )
    return true
  }
}
