import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Address, type Hex, parseAbi } from 'viem'
import { enactGovernanceChange } from '../chain/actions/enactGovernanceChange.ts'
import { serveNode } from '../chain/actions/serveNode.ts'
import type { Devnet } from '../chain/devnet.ts'
import { deployVisionSubnets } from '../chain/vision-subnets.ts'
import { createPeer, type Peer, peerIdToBytes } from '../node/peer.ts'
import { RemoteVisionMiner } from '../node/vision/client.ts'
import { VisionEvidenceStore } from '../node/vision/evidence-store.ts'
import { VisionMinerServer } from '../node/vision/server.ts'
import { setupVisionSubnet } from '../node/vision/subnet.ts'
import { VisionValidator } from '../node/vision/validator.ts'
import { deployVisionAnswers } from '../vision/chain/deployVisionAnswers.ts'
import { readDigits, splitDigits } from '../vision/dataset.ts'
import { LocalVisionMiner, type VisionMiner } from '../vision/local-miner.ts'
import { parseDigitsModel } from '../vision/model.ts'
import { visionModelId } from '../vision/model-id.ts'
import { loadDigitsCircuit, stopProver } from '../vision/prover.ts'
import { DevnetSubnetEpochs } from './devnet-subnet-epoch.ts'

const root = join(import.meta.dirname, '../..')
/** The digits classifier (scripts/train-digits.ts) and its circuit's build. */
export const DIGITS_MODEL_PATH = join(root, 'models/digits.json')
export const DIGITS_CIRCUIT_DIR = join(root, 'circuits/build/digits')

/** Accounts the vision subnet takes from the devnet: two miners, two validators. */
export const VISION_ACCOUNTS = 4

export type VisionReport = {
  netuid: number
  modelId: Hex
  /** The VisionSubnets and VisionAnswers contracts. */
  contracts: { vision: Address; answers: Address }
  miners: {
    uid: number
    hotkey: Address
    task: 'vision'
    cheater: boolean
    emission: string
    emissionByEpoch: string[]
    /** Answers that checked, and that did not, summed over validators and epochs. */
    validProofs: number
    invalidProofs: number
    /** Evidence records (signed answers refuted by their own proof) against it at all validators. */
    evidence: number
  }[]
}

/**
 * `verity devnet --vision`: a proven-classification subnet beside the others (it takes half of
 * the inference subnet's emission share), bound by VisionSubnets to the digits model's
 * VisionAnswers; two vision miners, each a libp2p node published on chain serving
 * `/verity/classify/1` (one honest, one sending made-up proofs), and two vision validators that
 * query them every epoch, check every proof and set weights.
 */
export class DevnetVision {
  private readonly subnetEpochs: DevnetSubnetEpochs

  private constructor(
    devnet: Devnet,
    readonly netuid: number,
    readonly modelId: Hex,
    readonly contracts: { vision: Address; answers: Address },
    readonly validators: VisionValidator[],
    private readonly miners: { hotkey: Address; cheater: boolean }[],
    private readonly clients: VisionMiner[],
    private readonly stores: VisionEvidenceStore[],
    /** Servers and peers, stopped last first. */
    private readonly running: { stop(): unknown }[],
  ) {
    this.subnetEpochs = new DevnetSubnetEpochs(devnet, netuid)
  }

  static async start(
    devnet: Devnet,
    options: {
      /** The subnet whose emission share the vision subnet halves (none: it takes what is free). */
      inferenceNetuid?: number
      /** Devnet account indexes: VISION_ACCOUNTS of them, miners first. */
      accounts: number[]
      /** An existing VisionSubnets contract (default: deploy one). */
      vision?: Address
      modelPath?: string
      circuitDir?: string
      /** Images per miner per validator per epoch (default 2). */
      perEpoch?: number
    },
  ): Promise<DevnetVision> {
    const [m0, m1, v0, v1] = options.accounts as [number, number, number, number]
    const owner = devnet.walletClients[0]!
    const address = devnet.addresses.verity
    const model = parseDigitsModel(
      JSON.parse(readFileSync(options.modelPath ?? DIGITS_MODEL_PATH, 'utf8')),
    )
    const circuitDir = options.circuitDir ?? DIGITS_CIRCUIT_DIR
    const circuit = loadDigitsCircuit(circuitDir)
    const modelId = visionModelId(circuit.vkey)
    const vision =
      options.vision ?? (await deployVisionSubnets(devnet.publicClient, owner, { core: address }))
    const { answers } = await deployVisionAnswers(devnet.publicClient, owner, { modelId })
    if (options.inferenceNetuid !== undefined) {
      const [share] = await devnet.publicClient.readContract({
        address,
        abi: parseAbi([
          'function subnetEconomics(uint16) view returns (uint16 shareBps, uint128 locked, bool dissolved)',
        ]),
        functionName: 'subnetEconomics',
        args: [options.inferenceNetuid],
      })
      await enactGovernanceChange(owner, {
        address,
        change: {
          kind: 'emissionShare',
          netuid: options.inferenceNetuid,
          shareBps: share - Math.floor(share / 2),
        },
        mine: true,
      })
    }
    const netuid = await setupVisionSubnet(devnet, {
      vision,
      answers,
      modelId,
      vkeyJson: readFileSync(join(circuitDir, 'vkey.json'), 'utf8'),
      miners: [m0, m1].map((i) => devnet.walletClients[i]!),
      validators: [v0, v1].map((i) => devnet.walletClients[i]!),
    })
    const running: { stop(): unknown }[] = []
    // The block the miners' receipts name as issued: the chain's height, followed every second.
    let height = await devnet.publicClient.getBlockNumber({ cacheTime: 0 })
    const follow = setInterval(() => {
      devnet.publicClient
        .getBlockNumber({ cacheTime: 0 })
        .then((h) => {
          height = h
        })
        .catch(() => {})
    }, 1000)
    running.push({ stop: () => clearInterval(follow) })
    const miners: { hotkey: Address; cheater: boolean }[] = []
    // Each miner's node serves its prover and is published on chain for its hotkey.
    for (const [k, i] of [m0, m1].entries()) {
      const cheater = k === 1
      const account = devnet.accounts[i]!.account
      const peer = await createPeer()
      running.push(peer)
      const local = new LocalVisionMiner({
        account: account as never,
        model,
        circuit,
        chainId: devnet.chain.id,
        netuid,
        verifyingContract: address,
        blockNumber: () => height,
        ...(cheater ? { cheat: 'invalid-proof' as const } : {}),
      })
      // One proof before serving: the prover's worker threads start now, not in a validator's
      // first timed call.
      if (!cheater) await local.classify(new Array(64).fill(0), { nonce: `0x${'00'.repeat(32)}` })
      const server = new VisionMinerServer({ peer, miner: local })
      await server.start()
      running.push(server)
      await serveNode(devnet.walletClients[i]!, {
        address,
        netuid,
        peerId: peerIdToBytes(peer.peerId),
        multiaddrs: peer.getMultiaddrs().map(String),
      })
      miners.push({ hotkey: account.address, cheater })
    }
    let images: number[][] = []
    try {
      images = splitDigits(readDigits()).test.map((s) => s.pixels)
    } catch {
      // no data set installed: the validators draw random pixels
    }
    const stores: VisionEvidenceStore[] = []
    const validators: VisionValidator[] = []
    for (const i of [v0, v1]) {
      const peer: Peer = await createPeer()
      running.push(peer)
      const store = new VisionEvidenceStore(':memory:')
      stores.push(store)
      validators.push(
        new VisionValidator({
          publicClient: devnet.publicClient,
          walletClient: devnet.walletClients[i]!,
          address,
          netuid,
          chainId: devnet.chain.id,
          vkey: circuit.vkey,
          modelId,
          images,
          perEpoch: options.perEpoch ?? 2,
          peer,
          caller: devnet.accounts[i]!.account as never,
          store,
        }),
      )
    }
    // The gateway's view: remote clients dialling the miners' published nodes.
    const clientPeer = await createPeer()
    running.push(clientPeer)
    const clients: VisionMiner[] = []
    for (const m of miners)
      clients.push(
        await RemoteVisionMiner.fromChain(devnet.publicClient, {
          peer: clientPeer,
          caller: devnet.accounts[0]!.account as never,
          address,
          netuid,
          hotkey: m.hotkey,
        }),
      )
    return new DevnetVision(
      devnet,
      netuid,
      modelId,
      { vision, answers },
      validators,
      miners,
      clients,
      stores,
      running,
    )
  }

  /** The subnet's miners as VisionMiner clients over libp2p (for a gateway). */
  visionMiners(): VisionMiner[] {
    return [...this.clients]
  }

  /** One vision epoch: every validator queries, checks and sets weights; then the epoch runs. */
  async epoch(): Promise<void> {
    await Promise.all(this.validators.map((v) => v.epoch()))
    await this.subnetEpochs.run()
    await this.subnetEpochs.record()
  }

  /** The `vision` object of the devnet's JSON line. */
  async report(): Promise<VisionReport> {
    const neurons = await this.subnetEpochs.neurons()
    return {
      netuid: this.netuid,
      modelId: this.modelId,
      contracts: this.contracts,
      miners: this.miners.map((m) => {
        const key = m.hotkey.toLowerCase()
        const n = neurons.find((x) => x.hotkey.toLowerCase() === key)!
        const totals = this.validators.map((v) => v.totals.get(key))
        return {
          uid: n.uid,
          hotkey: m.hotkey,
          task: 'vision' as const,
          cheater: m.cheater,
          emission: n.emission.toString(),
          emissionByEpoch: this.subnetEpochs.emissionByEpoch(key),
          validProofs: totals.reduce((s, t) => s + (t?.valid ?? 0), 0),
          invalidProofs: totals.reduce((s, t) => s + (t?.invalid ?? 0), 0),
          evidence: this.stores.reduce((s, st) => s + st.list(m.hotkey).length, 0),
        }
      }),
    }
  }

  async stop(): Promise<void> {
    for (const r of [...this.running].reverse()) await Promise.resolve(r.stop()).catch(() => {})
    for (const s of this.stores) s.close()
    await stopProver()
  }
}
