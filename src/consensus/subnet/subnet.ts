import { SubnetError } from '../../errors/consensus.ts'
import { runEpoch } from '../epoch.ts'
import type { EpochOutput, SparseMatrix } from '../types.ts'
import { isMaxLimited, storeWeights } from '../weights.ts'
import { bumpBurn, decayBurn } from './burn.ts'
import { commitHash } from './commit.ts'
import type { SubnetConfig } from './config.ts'
import { blockEmission } from './emission-schedule.ts'
import { neuronToPrune } from './prune.ts'
import { epochIndex, isEpochBlock } from './schedule.ts'

type Commit = { hash: string; epoch: number; block: number }

/** Cumulative earnings of one hotkey (rao). */
export type Earnings = { server: bigint; validator: bigint }

/**
 * One subnet's lifecycle around the epoch: burned registration with a decaying price, immunity
 * and pruning, set_weights checks, CR-v2 commit-reveal, tempo scheduling and the halving
 * emission schedule. Extrinsics act in the current block; `step()` closes it and opens the next
 * (burn decay, mint, and the epoch on epoch blocks). Errors are SubnetError with subtensor's code.
 */
export class Subnet {
  readonly config: SubnetConfig
  block = 0
  burn: bigint
  /** Alpha issued so far (drives the halvings), recycled by registration, owed to the owner. */
  issuance = 0n
  recycled = 0n
  ownerEarned = 0n
  /** Emission accumulated since the last epoch (after the owner cut). */
  pending = 0n
  hotkeys: string[] = []
  stake: bigint[] = []
  registrationBlock: number[] = []
  lastUpdate: number[] = []
  permits: boolean[] = []
  weights: SparseMatrix = []
  bonds: SparseMatrix = []
  /** Last epoch's combined emission per uid (pruning ranks by it). */
  emission: bigint[] = []
  ownerHotkey: string | null = null
  lastEpoch: EpochOutput | null = null
  readonly earned = new Map<string, Earnings>()
  private readonly commits = new Map<string, Commit[]>()
  private registrationsThisBlock = 0

  constructor(config: SubnetConfig) {
    this.config = config
    this.burn = config.initialBurn
  }

  get n(): number {
    return this.hotkeys.length
  }

  uidOf(hotkey: string): number {
    const uid = this.hotkeys.indexOf(hotkey)
    if (uid < 0)
      throw new SubnetError('HotKeyNotRegisteredInSubNet', `'${hotkey}' is not registered`)
    return uid
  }

  /** Burned registration. Pays the current burn from `balance`; returns the uid assigned. */
  register(hotkey: string, options: { stake?: bigint; balance?: bigint; owner?: boolean } = {}) {
    const c = this.config
    if (this.hotkeys.includes(hotkey))
      throw new SubnetError('HotKeyAlreadyRegisteredInSubNet', `'${hotkey}' is already registered`)
    if (this.registrationsThisBlock >= c.maxRegistrationsPerBlock)
      throw new SubnetError('TooManyRegistrationsThisBlock', `block ${this.block} is full`)
    if (options.balance !== undefined && options.balance < this.burn)
      throw new SubnetError('NotEnoughBalanceToPayBurn', `burn is ${this.burn} rao`)
    let uid: number
    if (this.n < c.maxAllowedUids) {
      uid = this.n
      this.hotkeys.push(hotkey)
      this.stake.push(0n)
      this.registrationBlock.push(0)
      this.lastUpdate.push(0)
      this.permits.push(false)
      this.weights.push([])
      this.bonds.push([])
      this.emission.push(0n)
    } else {
      const pruned = neuronToPrune(
        this.hotkeys.map((h, i) => ({
          uid: i,
          emission: this.emission[i]!,
          registrationBlock: this.registrationBlock[i]!,
          immortal: h === this.ownerHotkey,
        })),
        this.block,
        c.immunityPeriod,
        c.minNonImmuneUids,
      )
      if (pruned === null) throw new SubnetError('NoNeuronIdAvailable', 'every uid is protected')
      uid = pruned
      this.replaceNeuron(uid, hotkey)
    }
    this.registrationBlock[uid] = this.block
    this.lastUpdate[uid] = this.block
    this.stake[uid] = options.stake ?? 0n
    if (options.owner) this.ownerHotkey = hotkey
    this.recycled += this.burn
    this.burn = bumpBurn(this.burn, c.burn)
    this.registrationsThisBlock += 1
    return uid
  }

  /** `replace_neuron`: new hotkey, own rows deleted, others' weights to it zeroed, terms reset. */
  private replaceNeuron(uid: number, hotkey: string): void {
    this.commits.delete(this.hotkeys[uid]!)
    this.hotkeys[uid] = hotkey
    this.weights[uid] = []
    this.bonds[uid] = []
    this.weights = this.weights.map((row) =>
      row.map(([j, v]): [number, number] => [j, j === uid ? 0 : v]),
    )
    this.permits[uid] = false
    this.emission[uid] = 0n
  }

  setStake(hotkey: string, stake: bigint): void {
    if (stake < 0n) throw new SubnetError('InvalidStake', 'stake must not be negative')
    this.stake[this.uidOf(hotkey)] = stake
  }

  /** `set_weights`: only with commit-reveal off. Checks in subtensor's order (spec §3.5). */
  setWeights(hotkey: string, uids: number[], values: number[], versionKey = 0n): void {
    if (this.config.commitReveal)
      throw new SubnetError('CommitRevealEnabled', 'use commitWeights / revealWeights')
    const uid = this.checkWeights(hotkey, uids, values, versionKey, true)
    this.weights[uid] = storeWeights(uids.map((j, k): [number, number] => [j, values[k]!]))
    this.lastUpdate[uid] = this.block
  }

  private checkWeights(
    hotkey: string,
    uids: number[],
    values: number[],
    versionKey: bigint,
    rateLimited: boolean,
  ): number {
    const c = this.config
    if (uids.length !== values.length)
      throw new SubnetError('WeightVecNotEqualSize', 'uids and values differ in length')
    if (uids.length > this.n) throw new SubnetError('UidsLengthExceedUidsInSubNet', 'too many uids')
    const uid = this.uidOf(hotkey)
    const isOwner = hotkey === this.ownerHotkey
    if (!isOwner && this.stake[uid]! < c.stakeThreshold)
      throw new SubnetError('NotEnoughStakeToSetWeights', `stake below ${c.stakeThreshold}`)
    if (c.weightsVersionKey !== 0n && versionKey < c.weightsVersionKey)
      throw new SubnetError('IncorrectWeightVersionKey', `need ${c.weightsVersionKey}`)
    const last = this.lastUpdate[uid]!
    if (rateLimited && last !== 0 && this.block - last < c.weightsSetRateLimit)
      throw new SubnetError(
        'SettingWeightsTooFast',
        `wait until block ${last + c.weightsSetRateLimit}`,
      )
    const selfWeight = uids.length === 1 && uids[0] === uid
    if (!this.permits[uid] && !selfWeight && !isOwner)
      throw new SubnetError('NeuronNoValidatorPermit', `uid ${uid} has no validator permit`)
    if (new Set(uids).size !== uids.length) throw new SubnetError('DuplicateUids', 'duplicate uids')
    for (const j of uids)
      if (!Number.isInteger(j) || j < 0 || j >= this.n)
        throw new SubnetError('UidVecContainInvalidOne', `uid ${j} does not exist`)
    for (const v of values)
      if (!Number.isInteger(v) || v < 0 || v > 65535)
        throw new SubnetError('InvalidWeightValue', `weight ${v} is not a u16`)
    if (!selfWeight && values.length < Math.min(c.minAllowedWeights, this.n))
      throw new SubnetError('WeightVecLengthIsLow', `need at least ${c.minAllowedWeights} weights`)
    if (!selfWeight && c.maxWeightsLimit !== 65535 && !isMaxLimited(values, c.maxWeightsLimit))
      throw new SubnetError('MaxWeightExceeded', `a weight exceeds ${c.maxWeightsLimit}/65535`)
    return uid
  }

  /** CR-v2 `commit_weights(hash)`: rate-limited like set_weights; sets LastUpdate. */
  commitWeights(hotkey: string, hash: string): void {
    const c = this.config
    if (!c.commitReveal) throw new SubnetError('CommitRevealDisabled', 'commit-reveal is off')
    const uid = this.uidOf(hotkey)
    const last = this.lastUpdate[uid]!
    if (last !== 0 && this.block - last < c.weightsSetRateLimit && this.hasCommits(hotkey))
      throw new SubnetError(
        'CommittingWeightsTooFast',
        `wait until block ${last + c.weightsSetRateLimit}`,
      )
    const now = this.epoch()
    const queue = (this.commits.get(hotkey) ?? []).filter((x) => !this.expired(x, now))
    if (queue.length >= c.maxCommitsPerHotkey)
      throw new SubnetError('TooManyUnrevealedCommits', `at most ${c.maxCommitsPerHotkey}`)
    queue.push({ hash, epoch: now, block: this.block })
    this.commits.set(hotkey, queue)
    this.lastUpdate[uid] = this.block
  }

  /** The hash a validator commits to (see commit.ts). */
  commitHashFor(hotkey: string, uids: number[], values: number[], salt: number[], versionKey = 0n) {
    return commitHash(hotkey, this.config.netuid, uids, values, salt, versionKey)
  }

  /** CR-v2 `reveal_weights`: valid only in epoch commit_epoch + RevealPeriodEpochs. */
  revealWeights(hotkey: string, uids: number[], values: number[], salt: number[], versionKey = 0n) {
    const hash = this.commitHashFor(hotkey, uids, values, salt, versionKey)
    const queue = this.commits.get(hotkey) ?? []
    const k = queue.findIndex((x) => x.hash === hash)
    if (k < 0) throw new SubnetError('InvalidRevealCommitHashNotMatch', 'no commit with this hash')
    const commit = queue[k]!
    const now = this.epoch()
    if (now < commit.epoch + this.config.revealPeriodEpochs)
      throw new SubnetError(
        'RevealTooEarly',
        `reveal in epoch ${commit.epoch + this.config.revealPeriodEpochs}`,
      )
    if (this.expired(commit, now))
      throw new SubnetError('ExpiredWeightCommit', 'the commit expired')
    const uid = this.checkWeights(hotkey, uids, values, versionKey, false)
    queue.splice(k, 1)
    this.weights[uid] = storeWeights(uids.map((j, i): [number, number] => [j, values[i]!]))
  }

  private hasCommits(hotkey: string): boolean {
    return (this.commits.get(hotkey)?.length ?? 0) > 0
  }

  private expired(c: Commit, now: number): boolean {
    return now > c.epoch + this.config.revealPeriodEpochs
  }

  /** The current epoch index. */
  epoch(): number {
    return epochIndex(this.block, this.config.netuid, this.config.tempo)
  }

  /** Closes the current block: decay the burn, mint, run the epoch when due, open the next. */
  step(): EpochOutput | null {
    const c = this.config
    this.burn = decayBurn(this.burn, c.burn)
    const minted = blockEmission(this.issuance)
    this.issuance += minted
    const cut = (minted * BigInt(c.ownerCut)) / 65535n
    this.ownerEarned += cut
    this.pending += minted - cut
    let out: EpochOutput | null = null
    if (this.n > 0 && isEpochBlock(this.block, c.netuid, c.tempo)) {
      out = this.runEpochNow(this.pending)
      this.pending = 0n
    }
    this.block += 1
    this.registrationsThisBlock = 0
    return out
  }

  /** Runs one epoch in the current block over `emission` and persists its results. */
  runEpochNow(emission: bigint): EpochOutput {
    const now = this.epoch()
    const commitBlock = this.hotkeys.map((h) => {
      const live = (this.commits.get(h) ?? []).filter((x) => !this.expired(x, now))
      return live.length ? Math.min(...live.map((x) => x.block)) : null
    })
    const ownerUid = this.ownerHotkey === null ? null : this.hotkeys.indexOf(this.ownerHotkey)
    const out = runEpoch({
      block: this.block,
      params: { ...this.config, ownerUid: ownerUid !== null && ownerUid >= 0 ? ownerUid : null },
      stake: this.stake,
      lastUpdate: this.lastUpdate,
      blockAtRegistration: this.registrationBlock,
      validatorPermit: this.permits,
      weights: this.weights,
      bonds: this.bonds,
      commitBlock,
      emission,
    })
    out.bonds.forEach((row, i) => {
      if (row) this.bonds[i] = row
    })
    this.permits = out.validatorPermit.slice()
    this.emission = out.emission.slice()
    this.hotkeys.forEach((h, i) => {
      const e = this.earned.get(h) ?? { server: 0n, validator: 0n }
      e.server += out.serverEmission[i]!
      e.validator += out.validatorEmission[i]!
      this.earned.set(h, e)
    })
    this.lastEpoch = out
    return out
  }

  /** Advances to the next epoch block and runs it; returns its output. */
  stepToEpoch(): EpochOutput {
    for (;;) {
      const out = this.step()
      if (out) return out
    }
  }
}
