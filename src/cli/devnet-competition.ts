import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { type Address, type Hex, toHex as viemToHex } from 'viem'
import { advanceClock } from '../chain/actions/advanceClock.ts'
import { commitModel } from '../chain/actions/commitModel.ts'
import { enactGovernanceChange } from '../chain/actions/enactGovernanceChange.ts'
import { serveNode } from '../chain/actions/serveNode.ts'
import { DEVNET_COMPETITION } from '../chain/competition.ts'
import type { Devnet } from '../chain/devnet.ts'
import { DEVNET_CORPUS_SHA256, devnetCorpus } from '../competition/devnet-corpus.ts'
import { DEVNET_EVALUATION_SPEC, evaluationSpecHash } from '../competition/evaluate.ts'
import { UsageError } from '../errors/cli.ts'
import { setupCompetitionSubnet } from '../node/competition-subnet.ts'
import {
  type CompetitionEpoch,
  CompetitionValidator,
  type ModelSource,
} from '../node/competition-validator.ts'
import type { ModelFileServer } from '../node/model-files/server.ts'
import { serveModelFiles } from '../node/model-files/server.ts'
import { chainModelSource, localFileSource } from '../node/model-source.ts'
import { createPeer, type Peer, peerIdToBytes } from '../node/peer.ts'
import type { Model } from '../runtime/model/load.ts'
import { DevnetSubnetEpochs } from './devnet-subnet-epoch.ts'
import { type ModelCommitment, modelCommitment } from './model-commitment.ts'
import { DEFAULT_MODEL_PATH, nativeSha256 } from './model-file.ts'

/** The fine-tuned default model (scripts/train-model.ts): the devnet's "better" competitor. */
export const FINE_TUNED_MODEL_PATH = join(import.meta.dirname, '../../models/verity-tiny-ft.gguf')

/** The three model miners of `verity devnet --competition`, in commit order. */
export const COMPETITION_ROLES = ['base', 'better', 'copy'] as const
type Role = (typeof COMPETITION_ROLES)[number]

/**
 * The base and better models' files (flags, else the default model and the fine-tuned one),
 * checked to exist before anything starts.
 */
export function competitionModelPaths(flags: {
  baseModel?: string | undefined
  betterModel?: string | undefined
}): { base: string; better: string } {
  const base = flags.baseModel ?? DEFAULT_MODEL_PATH
  const better = flags.betterModel ?? FINE_TUNED_MODEL_PATH
  for (const [flag, path] of [
    ['--base-model', base],
    ['--better-model', better],
  ] as const)
    if (!existsSync(path))
      throw new UsageError(
        `${path} is missing: --competition needs the default model and the default model fine-tuned further (scripts/train-model.ts writes models/verity-tiny-ft.gguf), or ${flag} <file.gguf>`,
      )
  return { base, better }
}

/** Accounts the competition takes from the devnet: three model miners, two validators. */
export const COMPETITION_ACCOUNTS = 5

export type CompetitionReport = {
  netuid: number
  /** The last evaluated epoch's seed block. */
  seedBlock: string
  /** Every validator computed the same seed, losses and weights in every epoch. */
  validatorsAgree: boolean
  miners: {
    uid: number
    hotkey: Address
    role: Role
    modelRoot: Hex
    /** The last epoch's loss (nats Q16, decimal), null when unscored. */
    score: string | null
    reason?: string
    emission: string
    emissionByEpoch: string[]
  }[]
  /** Each validator's losses in the last epoch, by uid. */
  validators: { hotkey: Address; seedBlock: string; scores: Record<string, string | null> }[]
  /** Per epoch: which uids were scored and which committed too late for the seed. */
  epochs: { epoch: string; seedBlock: string; scored: number[]; pending: number[] }[]
  /** Milliseconds per model evaluation (fetch, checks, loss), averaged over what was evaluated. */
  evalMsPerModel: number | null
}

/**
 * `verity devnet --competition`: a model competition subnet beside the inference subnet (each
 * takes half the block emission), with three model miners (the default model, a better one and
 * a byte-identical copy of the better one published once the first epoch's seed is known) and two
 * competition validators that score them every epoch. The files come from `source` (by default
 * the local files).
 */
export class DevnetCompetition {
  private readonly epochs: CompetitionReport['epochs'] = []
  private agree = true
  private evalMs = 0
  private evaluations = 0
  private copyCommitted = false

  private readonly subnetEpochs: DevnetSubnetEpochs

  private constructor(
    private readonly devnet: Devnet,
    readonly netuid: number,
    private readonly competition: Address,
    readonly validators: CompetitionValidator[],
    private readonly miners: { index: number; role: Role; commitment: ModelCommitment }[],
    /** The miners' file servers and every peer, stopped last first. */
    private readonly running: { stop(): void | Promise<void> }[],
  ) {
    this.subnetEpochs = new DevnetSubnetEpochs(devnet, netuid)
  }

  /**
   * Sets the competition up: checks the model files (the better one must exist), halves the
   * inference subnet's emission share, creates and declares the subnet, and commits the base and
   * better models, then begins an epoch after those commitments.
   */
  static async start(
    devnet: Devnet,
    options: {
      competition: Address
      inferenceNetuid: number
      /** The subnet's served model (the devnet's). */
      model: Model
      ggufSha256: Uint8Array
      /** Devnet account indexes: COMPETITION_ACCOUNTS of them, miners first. */
      accounts: number[]
      /** The base and better models' files (competitionModelPaths). */
      files: { base: string; better: string }
      /**
       * Where validators get the files: over libp2p from the miners' nodes (default: each model
       * miner runs a peer serving its file on 127.0.0.1), or read from the local paths.
       */
      transport?: 'libp2p' | 'local'
    },
  ): Promise<DevnetCompetition> {
    const { base, better } = options.files
    const paths: Record<Role, string> = { base, better, copy: better }
    const [m0, m1, m2, v0, v1] = options.accounts
    const minerIdx = [m0!, m1!, m2!]
    const owner = devnet.walletClients[0]!
    const address = devnet.addresses.verity
    await enactGovernanceChange(owner, {
      address,
      change: { kind: 'emissionShare', netuid: options.inferenceNetuid, shareBps: 5_000 },
      mine: true,
    })
    const corpusSha256 = Uint8Array.from(Buffer.from(DEVNET_CORPUS_SHA256, 'hex'))
    const netuid = await setupCompetitionSubnet(devnet, {
      competition: options.competition,
      model: options.model,
      ggufSha256: options.ggufSha256,
      miners: minerIdx.map((i) => devnet.walletClients[i]!),
      validators: [v0!, v1!].map((i) => devnet.walletClients[i]!),
      rules: {
        evalSpecHash: viemToHex(evaluationSpecHash(DEVNET_EVALUATION_SPEC, corpusSha256)),
        maxParams: DEVNET_COMPETITION.maxParams,
        epsilonPpm: DEVNET_COMPETITION.epsilonPpm,
        minCommitAge: DEVNET_COMPETITION.minCommitAge,
      },
    })
    const miners = COMPETITION_ROLES.map((role, k) => ({
      index: minerIdx[k]!,
      role,
      commitment: modelCommitment(paths[role]),
    }))
    const byHotkey = new Map(
      miners.map((m) => [devnet.accounts[m.index]!.address, paths[m.role]] as const),
    )
    const running: { stop(): void | Promise<void> }[] = []
    const sources: ModelSource[] = []
    if ((options.transport ?? 'libp2p') === 'libp2p') {
      // Each model miner's node serves its committed file and is published on chain for its
      // hotkey, where each validator's node finds it (as `verity node --role model-miner` does).
      for (const m of miners) {
        const peer = await createPeer()
        running.push(peer)
        const server: ModelFileServer = await serveModelFiles(peer, [paths[m.role]])
        running.push(server)
        await serveNode(devnet.walletClients[m.index]!, {
          address,
          netuid,
          peerId: peerIdToBytes(peer.peerId),
          multiaddrs: peer.getMultiaddrs().map(String),
        })
      }
      for (let k = 0; k < 2; k++) {
        const peer: Peer = await createPeer()
        running.push(peer)
        sources.push(chainModelSource(peer, { publicClient: devnet.publicClient, address, netuid }))
      }
    } else sources.push(localFileSource(byHotkey), localFileSource(byHotkey))
    const evaluation = { corpus: devnetCorpus(), corpusSha256, spec: DEVNET_EVALUATION_SPEC }
    const validators = [v0!, v1!].map(
      (i, k) =>
        new CompetitionValidator({
          publicClient: devnet.publicClient,
          walletClient: devnet.walletClients[i]!,
          address,
          competition: options.competition,
          netuid,
          source: sources[k]!,
          evaluation,
          load: { sha256: nativeSha256 },
        }),
    )
    const comp = new DevnetCompetition(
      devnet,
      netuid,
      options.competition,
      validators,
      miners,
      running,
    )
    for (const m of miners.filter((m) => m.role !== 'copy')) await comp.commit(m)
    // The epoch that counts the commitments begins after them.
    await comp.subnetEpochs.run()
    return comp
  }

  private async commit(m: { index: number; commitment: ModelCommitment }): Promise<void> {
    const c = m.commitment
    await commitModel(this.devnet.walletClients[m.index]!, {
      address: this.competition,
      netuid: this.netuid,
      modelRoot: c.modelRoot,
      fileHash: c.fileHash,
      size: c.size,
      params: c.params,
    })
  }

  /**
   * One competition epoch: mines to the seed block, publishes the copy (once: after the first
   * seed is fixed, so that epoch does not count it), every validator evaluates and sets weights,
   * then the epoch runs and pays.
   */
  async epoch(): Promise<void> {
    const { seedBlock } = await this.validators[0]!.currentSeedBlock()
    await advanceClock(this.devnet.publicClient, {
      address: this.devnet.addresses.verity,
      to: seedBlock,
      mine: true,
    })
    if (!this.copyCommitted) {
      await this.commit(this.miners.find((m) => m.role === 'copy')!)
      this.copyCommitted = true
    }
    const results: CompetitionEpoch[] = []
    for (const v of this.validators) {
      const r = await v.tick()
      if (r.status === 'waiting') throw new Error(`seed block ${r.seedBlock} still to come`)
      if (r.status === 'evaluated') {
        this.evalMs += r.epoch.evalMs
        this.evaluations += r.epoch.evaluations
      }
      results.push(r.epoch)
    }
    const [first, ...rest] = results
    const key = (e: CompetitionEpoch) =>
      JSON.stringify([e.seed, e.scores.map((s) => [s.uid, String(s.loss), s.weight])])
    if (first && rest.some((e) => key(e) !== key(first))) this.agree = false
    if (first)
      this.epochs.push({
        epoch: first.epoch.toString(),
        seedBlock: first.seedBlock.toString(),
        scored: first.scores.map((s) => s.uid),
        pending: first.pending.map((p) => p.uid),
      })
    await this.subnetEpochs.run()
    await this.subnetEpochs.record()
  }

  /** The `competition` object of the devnet's JSON line. */
  async report(): Promise<CompetitionReport> {
    const neurons = await this.subnetEpochs.neurons()
    const last = this.validators[0]!.lastEpoch
    const scoreOf = (uid: number) => last?.scores.find((s) => s.uid === uid)
    return {
      netuid: this.netuid,
      seedBlock: last ? last.seedBlock.toString() : '',
      validatorsAgree: this.agree && this.epochs.length > 0,
      miners: this.miners.map((m) => {
        const hotkey = this.devnet.accounts[m.index]!.address
        const n = neurons.find((x) => x.hotkey.toLowerCase() === hotkey.toLowerCase())!
        const s = scoreOf(n.uid)
        const pending = last?.pending.some((p) => p.uid === n.uid)
        const reason =
          s?.reason ??
          (pending ? 'committed after the seed block' : s ? undefined : 'not committed')
        return {
          uid: n.uid,
          hotkey,
          role: m.role,
          modelRoot: m.commitment.modelRoot,
          score: s?.loss == null ? null : s.loss.toString(),
          ...(reason === undefined ? {} : { reason }),
          emission: n.emission.toString(),
          emissionByEpoch: this.subnetEpochs.emissionByEpoch(hotkey),
        }
      }),
      validators: this.validators.map((v) => ({
        hotkey: v.hotkey,
        seedBlock: v.lastEpoch?.seedBlock.toString() ?? '',
        scores: Object.fromEntries(
          (v.lastEpoch?.scores ?? []).map((s) => [
            String(s.uid),
            s.loss === null ? null : s.loss.toString(),
          ]),
        ),
      })),
      epochs: this.epochs,
      evalMsPerModel: this.evaluations > 0 ? Math.round(this.evalMs / this.evaluations) : null,
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.validators.map((v) => v.stop()))
    for (const r of [...this.running].reverse()) await Promise.resolve(r.stop()).catch(() => {})
  }
}
