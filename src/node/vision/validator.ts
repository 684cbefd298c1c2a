import {
  type Account,
  type Address,
  bytesToHex,
  type Chain,
  type Client,
  encodePacked,
  type Hex,
  isAddressEqual,
  keccak256,
  type Transport,
} from 'viem'
import type { LocalAccount } from 'viem/accounts'
import { getHyperparams } from '../../chain/actions/getHyperparams.ts'
import { getSubnet } from '../../chain/actions/getSubnet.ts'
import { setWeights } from '../../chain/actions/setWeights.ts'
import { NodeError } from '../../errors/node.ts'
import { type CheckVisionAnswerOptions, checkVisionAnswer } from '../../vision/answer.ts'
import type { VisionMiner } from '../../vision/local-miner.ts'
import { PIXEL_MAX, PIXELS } from '../../vision/model.ts'
import { type NeuronNode, readNeurons } from '../chain.ts'
import { log } from '../log.ts'
import type { Peer } from '../peer.ts'
import { RemoteVisionMiner } from './client.ts'
import type { VisionEvidenceStore } from './evidence-store.ts'
import { type VisionTally, visionScore, visionWeights } from './scoring.ts'

/** One miner's epoch at one vision validator. */
export type VisionMinerResult = VisionTally & {
  uid: number
  hotkey: Address
  /** Answers that did not check (convicting or not). */
  invalid: number
  score: number
  /** u16 weight set for the uid (0: none). */
  weight: number
  /** The first failure's reason, when a call failed. */
  reason?: string
}

export type VisionEpoch = {
  epoch: bigint
  miners: VisionMinerResult[]
  weightsSet: boolean
}

export type VisionValidatorInit = {
  publicClient: Client<Transport, Chain>
  /** The validator's hotkey (registered and staked on the subnet): sets the weights. */
  walletClient: Client<Transport, Chain, Account>
  /** The Verity core (also the receipts' verifyingContract). */
  address: Address
  netuid: number
  chainId: number
  /** The subnet's model: its verification key and id (VisionSubnets.visionOf). */
  vkey: CheckVisionAnswerOptions['vkey']
  modelId: Hex
  /** Where images come from: the held-out digits, say. Empty: uniform random pixels. */
  images: readonly (readonly number[])[]
  /** Images per miner per epoch (default 2). */
  perEpoch?: number
  /** This validator's secret: which images each miner gets is drawn from it (default: random). */
  secret?: Hex
  /** Reaches a neuron's miner; default: a RemoteVisionMiner on `peer` signing with `caller`. */
  minerFor?: (n: NeuronNode) => VisionMiner | undefined
  peer?: Peer
  caller?: LocalAccount
  store?: VisionEvidenceStore
  /** Longest one call may take (default 15 s). */
  callTimeoutMs?: number
  /** Median latency up to which a miner loses nothing (default 2 s). */
  latencyTargetMs?: number
}

/**
 * A validator of a proven-classification subnet. Each epoch it sends every published neuron
 * (itself aside) `perEpoch` images drawn secretly from its pool, with fresh nonces; checks each
 * answer with checkVisionAnswer (pixels, nonce, miner, chain, subnet, model, proof); scores valid
 * proofs × availability × latency (scoring.ts; a convicting answer: 0); keeps every convicting
 * answer in its evidence store; and sets the weights on chain directly (the subnet has
 * commit-reveal off: an honest validator's scores are no secret worth copying).
 */
export class VisionValidator {
  private readonly log = log('node:vision-validator')
  private readonly secret: Hex
  private readonly clients = new Map<string, VisionMiner>()
  private last: VisionEpoch | undefined
  /** Per hotkey (lower case), over every epoch: valid and invalid answers. */
  readonly totals = new Map<string, { valid: number; invalid: number; convicted: number }>()

  constructor(private readonly init: VisionValidatorInit) {
    this.secret = init.secret ?? bytesToHex(crypto.getRandomValues(new Uint8Array(32)))
  }

  get hotkey(): Address {
    return this.init.walletClient.account.address
  }

  get lastEpoch(): VisionEpoch | undefined {
    return this.last
  }

  /** The image a miner gets for its k-th call of an epoch: a secret, reproducible draw. */
  imageFor(epoch: bigint, hotkey: Address, k: number): number[] {
    const h = keccak256(
      encodePacked(['bytes32', 'uint64', 'address', 'uint32'], [this.secret, epoch, hotkey, k]),
    )
    const { images } = this.init
    if (images.length > 0)
      return [...(images[Number(BigInt(h) % BigInt(images.length))] as number[])]
    // no pool: 64 pixels from the hash's bytes, each 0..16
    const bytes = Buffer.from(keccak256(h).slice(2) + h.slice(2), 'hex')
    return Array.from({ length: PIXELS }, (_, i) => (bytes[i] as number) % (PIXEL_MAX + 1))
  }

  /** Queries every miner, scores them and sets weights for the subnet's current epoch. */
  async epoch(options: { signal?: AbortSignal } = {}): Promise<VisionEpoch> {
    const o = options.signal ? { signal: options.signal } : {}
    const { publicClient, address, netuid } = this.init
    const [, , , , epoch] = await getSubnet(publicClient, { address, netuid }, o)
    const neurons = (await readNeurons({ publicClient, address, netuid }, o)).filter(
      (n) => !isAddressEqual(n.hotkey, this.hotkey) && n.peerId !== undefined,
    )
    const results = await Promise.all(neurons.map((n) => this.query(n, epoch, o)))
    const weights = visionWeights(results.map((r) => r.score))
    results.forEach((r, i) => {
      r.weight = weights[i] as number
    })
    const given = results.filter((r) => r.weight > 0)
    let weightsSet = false
    if (given.length > 0) {
      const hp = await getHyperparams(publicClient, { address, netuid }, o)
      if (hp.commitReveal)
        throw new NodeError(
          `subnet ${netuid} has commit-reveal on; the vision validator sets weights directly`,
        )
      await setWeights(
        this.init.walletClient,
        {
          address,
          netuid,
          uids: given.map((r) => r.uid),
          values: given.map((r) => r.weight),
          versionKey: BigInt(hp.weightsVersionKey),
        },
        o,
      )
      weightsSet = true
    }
    this.last = { epoch, miners: results, weightsSet }
    this.log.info(
      'epoch %s: %o',
      epoch,
      results.map((r) => [r.uid, r.valid, r.invalid, r.weight]),
    )
    return this.last
  }

  private minerFor(n: NeuronNode): VisionMiner | undefined {
    if (this.init.minerFor) return this.init.minerFor(n)
    const { peer, caller } = this.init
    if (!peer || !caller || n.peerId === undefined) return undefined
    const key = `${n.hotkey.toLowerCase()}:${n.peerId}`
    let m = this.clients.get(key)
    if (!m) {
      m = new RemoteVisionMiner({
        peer,
        caller,
        hotkey: n.hotkey,
        peerId: n.peerId,
        multiaddrs: n.multiaddrs,
        timeoutMs: this.init.callTimeoutMs ?? 15_000,
      })
      this.clients.set(key, m)
    }
    return m
  }

  private async query(
    n: NeuronNode,
    epoch: bigint,
    o: { signal?: AbortSignal },
  ): Promise<VisionMinerResult> {
    const sent = this.init.perEpoch ?? 2
    const r: VisionMinerResult = {
      uid: n.uid,
      hotkey: n.hotkey,
      sent,
      answered: 0,
      valid: 0,
      invalid: 0,
      convicted: 0,
      latenciesMs: [],
      score: 0,
      weight: 0,
    }
    const miner = this.minerFor(n)
    const fail = (reason: string) => {
      r.reason ??= reason
    }
    if (!miner) fail('no way to reach its node')
    for (let k = 0; miner && k < sent; k++) {
      const pixels = this.imageFor(epoch, n.hotkey, k)
      const nonce = bytesToHex(crypto.getRandomValues(new Uint8Array(32)))
      const started = performance.now()
      let answer: unknown
      try {
        answer = await miner.classify(pixels, {
          nonce,
          signal: AbortSignal.any([
            ...(o.signal ? [o.signal] : []),
            AbortSignal.timeout(this.init.callTimeoutMs ?? 15_000),
          ]),
        })
      } catch (error) {
        o.signal?.throwIfAborted()
        fail(error instanceof Error ? error.message : String(error))
        continue
      }
      r.latenciesMs.push(Math.round(performance.now() - started))
      r.answered++
      const verdict = await checkVisionAnswer(answer, {
        vkey: this.init.vkey,
        modelId: this.init.modelId,
        chainId: this.init.chainId,
        netuid: this.init.netuid,
        verifyingContract: this.init.address,
        pixels,
        nonce,
        miner: n.hotkey,
      })
      if (verdict.ok) {
        r.valid++
        continue
      }
      r.invalid++
      fail(verdict.reason)
      if (verdict.signed) {
        r.convicted++
        this.init.store?.add({
          nonce,
          netuid: this.init.netuid,
          epoch,
          uid: n.uid,
          miner: n.hotkey,
          reason: verdict.reason,
          answer,
        })
      }
    }
    r.score = visionScore(r, this.init.latencyTargetMs ?? 2000)
    const key = n.hotkey.toLowerCase()
    const t = this.totals.get(key) ?? { valid: 0, invalid: 0, convicted: 0 }
    this.totals.set(key, {
      valid: t.valid + r.valid,
      invalid: t.invalid + r.invalid,
      convicted: t.convicted + r.convicted,
    })
    return r
  }
}
