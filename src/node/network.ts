import { join } from 'node:path'
import { sha256 } from '@noble/hashes/sha2.js'
import {
  type Account,
  type Address,
  type Chain,
  maxUint256,
  type Transport,
  toHex as viemToHex,
  type WalletClient,
} from 'viem'
import type { LocalAccount } from 'viem/accounts'
import { readContract } from 'viem/actions'
import { verityAbi } from '../chain/abis.ts'
import { addStake } from '../chain/actions/addStake.ts'
import { advanceClock } from '../chain/actions/advanceClock.ts'
import { approveToken } from '../chain/actions/approveToken.ts'
import { createSubnet } from '../chain/actions/createSubnet.ts'
import { enactGovernanceChange } from '../chain/actions/enactGovernanceChange.ts'
import { getDisputeParams } from '../chain/actions/getDisputeParams.ts'
import { getModel } from '../chain/actions/getModel.ts'
import { registerModel } from '../chain/actions/registerModel.ts'
import { registerNeuron } from '../chain/actions/registerNeuron.ts'
import { runEpoch } from '../chain/actions/runEpoch.ts'
import { setSubnetModel } from '../chain/actions/setSubnetModel.ts'
import type { Devnet } from '../chain/devnet.ts'
import { DEFAULT_HYPERPARAMS, type Hyperparams } from '../chain/types.ts'
import type { Model } from '../runtime/model/load.ts'
import type { Tokenizer } from '../runtime/tokenizer/index.ts'
import { toHex } from '../runtime/trace/merkle.ts'
import { type ChainContext, publishNode } from './chain.ts'
import type { CheatMode } from './cheat.ts'
import { DisputeService, type DisputeServiceInit } from './disputes.ts'
import { INFER_PROTOCOL } from './frames.ts'
import { receiptTopic } from './gossip.ts'
import { chainProbe, connectedPeers, nodeHealth } from './health.ts'
import { NodeMetrics } from './metrics.ts'
import { type Admission, type MinerInit, MinerService } from './miner.ts'
import { type OpsServer, startOpsServer } from './ops-server.ts'
import { type PayeeInit, PaymentReceiver } from './payee.ts'
import { createPeer, loadPeerKey, type Peer, type PeerNetworkOptions } from './peer.ts'
import { longestGameBlocks, Retention, type RetentionInit } from './retention.ts'
import { NodeStore } from './store.ts'
import { SubnetView } from './subnet-view.ts'
import { type ValidatorInit, ValidatorService } from './validator.ts'

/**
 * Subnet parameters for a local network: epochs driven by the owner, commit-reveal on. Tempo 1:
 * an epoch may begin a block after the last one (the contract holds everyone, the owner too, to
 * the tempo). Weights need no permit, so a validator can reveal before its stake has counted at an
 * epoch (stake counts from the epoch after the one it arrived in).
 */
export const DEVNET_HYPERPARAMS: Hyperparams = {
  ...DEFAULT_HYPERPARAMS,
  tempo: 1,
  weightsNeedPermit: false,
  maxUids: 64,
  maxValidators: 16,
  immunityPeriod: 0,
  commitReveal: true,
  revealPeriodEpochs: 1,
  weightsRateLimit: 0,
  minAllowedWeights: 1,
  burn: 0n,
  minBurn: 0n,
  maxBurn: 0n,
  maxRegistrationsPerBlock: 0,
  targetRegistrationsPerInterval: 0,
  adjustmentInterval: 0,
  ownerCut: 0,
}

type Wallet = WalletClient<Transport, Chain, Account>

/**
 * Sets up a subnet on a devnet: registers the model, creates the subnet (owner: account 0, who
 * locks its creation cost) with the model and the block emission no other subnet has, registers
 * every hotkey (validators, miners, gateways), and stakes `validatorStake` from the owner on each
 * validator hotkey, then runs the subnet's first epoch, so that the stake counts from the next
 * one (stake counts from the epoch after it arrived). Returns the netuid.
 */
export async function setupSubnet(
  devnet: Devnet,
  options: {
    model: Model
    /** The model file's bytes, or its sha256 when it is too large to hold (streamed by the caller). */
    ggufBytes: Uint8Array | { sha256: Uint8Array }
    miners: Wallet[]
    validators: Wallet[]
    /** Hotkeys registered without stake, e.g. gateways (miners serve registered callers). */
    gateways?: Wallet[]
    validatorStake?: bigint
    /**
     * Stake from the owner on each miner hotkey (default none): what a dispute it loses slashes.
     * Keep it small next to the validators' (stake with no weights still counts in consensus).
     */
    minerStake?: bigint
    params?: Hyperparams
    signal?: AbortSignal
  },
): Promise<number> {
  const owner = devnet.walletClients[0]! as Wallet
  const address = devnet.addresses.verity
  const modelRoot = toHex(options.model.modelRoot)
  const o = options.signal ? { signal: options.signal } : {}
  const known = await getModel(devnet.publicClient, { address, modelRoot }, o).then(
    () => true,
    () => false,
  )
  if (!known)
    await registerModel(
      owner,
      {
        address,
        modelRoot,
        name: options.model.config.name,
        ggufHash: viemToHex(
          options.ggufBytes instanceof Uint8Array
            ? sha256(options.ggufBytes)
            : options.ggufBytes.sha256,
        ),
      },
      o,
    )
  // the owner locks the creation cost and stakes on the validators
  await approveToken(
    owner,
    { token: devnet.addresses.token, spender: address, amount: maxUint256 },
    o,
  )
  const { netuid } = await createSubnet(
    owner,
    { address, params: options.params ?? DEVNET_HYPERPARAMS },
    o,
  )
  await setSubnetModel(owner, { address, netuid, modelRoot }, o)
  // the emission not yet shared out (all subnets' shares add up to at most 100%), through the
  // governance delay (one block on a devnet)
  const shared = await readContract(devnet.publicClient, {
    address,
    abi: verityAbi,
    functionName: 'totalEmissionShare',
  })
  if (shared < 10_000)
    await enactGovernanceChange(
      owner,
      { address, change: { kind: 'emissionShare', netuid, shareBps: 10_000 - shared }, mine: true },
      o,
    )
  for (const w of [...options.validators, ...options.miners, ...(options.gateways ?? [])])
    await registerNeuron(w, { address, netuid, maxBurn: 0n }, o)
  if (options.minerStake)
    for (const m of options.miners)
      await addStake(
        owner,
        { address, netuid, hotkey: m.account.address, amount: options.minerStake },
        o,
      )
  if (options.validators.length > 0)
    await stakeValidators(
      devnet,
      {
        netuid,
        validators: options.validators,
        ...(options.validatorStake === undefined ? {} : { stake: options.validatorStake }),
      },
      o,
    )
  return netuid
}

/**
 * Stakes each validator hotkey from the devnet owner (default 1,000 VTY) and runs one epoch, mined
 * through its tempo: stake counts from the epoch after the one it arrived in, so the caller's
 * first epoch already weighs the validators.
 */
export async function stakeValidators(
  devnet: Devnet,
  options: { netuid: number; validators: Wallet[]; stake?: bigint },
  o: { signal?: AbortSignal } = {},
): Promise<void> {
  const owner = devnet.walletClients[0]! as Wallet
  const address = devnet.addresses.verity
  const { netuid } = options
  for (const v of options.validators)
    await addStake(
      owner,
      { address, netuid, hotkey: v.account.address, amount: options.stake ?? 1000n * 10n ** 18n },
      o,
    )
  const [due] = await readContract(devnet.publicClient, {
    address,
    abi: verityAbi,
    functionName: 'epochInfo',
    args: [netuid],
  })
  await advanceClock(devnet.publicClient, { address, to: due, mine: true }, o)
  await runEpoch(owner, { address, netuid }, o)
}

export type RunningNode = {
  role: 'miner' | 'validator'
  peer: Peer
  store: NodeStore
  service: MinerService | ValidatorService
  /** The node's side of the dispute game, when the chain context names one. */
  disputes: DisputeService | undefined
  /** The node's Prometheus registry (served at /metrics when `ops` is). */
  metrics: NodeMetrics
  /** The /metrics and /health server, when the node was given an address for it. */
  ops: OpsServer | undefined
  stop(): Promise<void>
}

/** Where a node serves GET /metrics and GET /health (port 0: a free one). */
export type OpsAddress = { host: string; port: number }

/** The metrics every role shares: chain calls, connected peers, the head block the node knows. */
function nodeMetrics(chain: ChainContext, peer: Peer, block: () => number): NodeMetrics {
  const metrics = new NodeMetrics()
  metrics.watchChain(chain.calls)
  metrics.gauge('verity_node_peers', 'Distinct peers connected now.', () => connectedPeers(peer))
  metrics.gauge('verity_chain_head_block', 'The latest block this node has read.', block)
  metrics.gauge(
    'verity_node_infer_streams',
    'Inference streams open now (all connections, both directions).',
    () =>
      peer
        .getConnections()
        .reduce((n, c) => n + c.streams.filter((s) => s.protocol === INFER_PROTOCOL).length, 0),
  )
  return metrics
}

async function serveOps(
  address: OpsAddress | undefined,
  metrics: NodeMetrics,
  role: 'miner' | 'validator',
  hotkey: Address,
  chain: ChainContext,
  peer: Peer,
  view: SubnetView,
): Promise<OpsServer | undefined> {
  if (!address) return undefined
  const health = nodeHealth({ role, hotkey, view, peer, chain: chainProbe(chain.publicClient) })
  return await startOpsServer({ ...address, metrics, health })
}

/** The game's longest receipt validity on this subnet (receipts must stay disputable). */
async function maxValidity(chain: ChainContext, signal?: AbortSignal): Promise<number | undefined> {
  if (!chain.disputeGame) return undefined
  const params = await getDisputeParams(
    chain.publicClient,
    { address: chain.disputeGame, netuid: chain.netuid },
    signal ? { signal } : {},
  )
  return params.maxValidity
}

/**
 * The default admission policy of a miner on a chain: serve the subnet's registered hotkeys
 * (gateways and validators register a uid), refuse anyone else.
 */
export function registeredCallers(view: SubnetView): (caller: Address) => Admission {
  return (caller) =>
    view.neuron(caller)
      ? { ok: true }
      : {
          ok: false,
          reason: `caller ${caller} is not registered on subnet ${view.netuid}: miners serve the subnet's gateways and validators`,
        }
}

/** Starts a miner: peer, SQLite store, the subnet view, the service, and its address published on chain. */
export async function startMinerNode(options: {
  hotkey: LocalAccount
  chain: ChainContext
  model: Model
  tokenizer: Tokenizer
  dataDir: string
  cheat?: CheatMode
  port?: number
  /** Listen, announce and bootstrap addresses, relay service (default: loopback on `port`). */
  network?: PeerNetworkOptions
  /** Serve any caller, registered or not (tests). */
  admitAll?: boolean
  /** Options of the node's dispute service (tests: a faster poll). */
  disputes?: Pick<DisputeServiceInit, 'pollMs'>
  /** Serve GET /metrics and GET /health here (absent: not served). */
  ops?: OpsAddress
  /** When receipts are pruned (tests: more often). */
  retention?: Pick<RetentionInit, 'everyBlocks' | 'pollMs'>
  service?: Partial<
    Pick<
      MinerInit,
      | 'maxConcurrent'
      | 'maxQueued'
      | 'maxPerCaller'
      | 'disputeWindowBlocks'
      | 'price'
      | 'creditLimit'
    >
  >
  /**
   * Payment by voucher (manifest `contracts.payments`): vouchers for priced answers are taken on
   * `/verity/voucher/1` and settled on chain (src/node/payee.ts). Absent: answers are not paid.
   */
  payments?: Omit<PayeeInit, 'peer' | 'store' | 'chain'>
  signal?: AbortSignal
}): Promise<RunningNode & { service: MinerService; view: SubnetView; payee?: PaymentReceiver }> {
  const peer = await createPeer({
    privateKey: await loadPeerKey(join(options.dataDir, 'peer.key')),
    ...(options.port === undefined ? {} : { port: options.port }),
    ...options.network,
  })
  const store = new NodeStore(options.dataDir)
  const { chain } = options
  // A receipt disputable for longer than the game allows would promise what the game cannot keep.
  const validity = await maxValidity(chain, options.signal)
  const window = options.service?.disputeWindowBlocks ?? 7200
  const view = new SubnetView({
    publicClient: chain.publicClient,
    address: chain.address,
    netuid: chain.netuid,
  })
  const metrics = nodeMetrics(chain, peer, () => view.block)
  const disputes = chain.disputeGame
    ? new DisputeService({
        role: 'miner',
        metrics,
        chain,
        game: chain.disputeGame,
        model: options.model,
        store,
        ...(options.cheat ? { cheat: options.cheat } : {}),
        ...options.disputes,
      })
    : undefined
  const payee = options.payments
    ? new PaymentReceiver({ ...options.payments, peer, store, chain })
    : undefined
  const service = new MinerService(peer, {
    ...(payee ? { payee } : {}),
    metrics,
    hotkey: options.hotkey,
    model: options.model,
    tokenizer: options.tokenizer,
    chainId: chain.chainId,
    netuid: chain.netuid,
    verifyingContract: chain.address,
    store,
    blockNumber: () => view.block,
    ...(options.admitAll ? {} : { admit: registeredCallers(view) }),
    // validators (staked hotkeys) check miners directly, unpriced: served free
    freeFor: (caller) => (view.neuron(caller)?.stake ?? 0n) > 0n,
    callerNeuron: (caller) => view.neuron(caller),
    epochSeenAt: () => view.epochSeenAt,
    ...(options.cheat ? { cheat: options.cheat } : {}),
    ...options.service,
    disputeWindowBlocks: validity === undefined ? window : Math.min(window, validity),
  })
  const retention = new Retention({
    store,
    block: () => view.block,
    epoch: () => view.epoch,
    longestGame: () => longestGameBlocks(chain),
    ...(chain.disputeGame
      ? { disputesSeenBefore: () => Number(store.disputeCursor(chain.disputeGame!) ?? 0n) }
      : {}),
    metrics,
    ...options.retention,
  })
  let ops: OpsServer | undefined
  const stop = async () => {
    await ops?.stop()
    await retention.stop()
    await disputes?.stop()
    await view.stop()
    await service.stop()
    // settles what it holds before the node goes
    await payee?.stop()
    await peer.stop()
    store.close()
  }
  try {
    await view.start()
    await service.start()
    await payee?.start()
    await disputes?.start()
    await publishNode(chain, peer, options.signal ? { signal: options.signal } : {})
    await view.refresh({ metagraph: true })
    await retention.start()
    ops = await serveOps(options.ops, metrics, 'miner', options.hotkey.address, chain, peer, view)
  } catch (error) {
    await stop()
    throw error
  }
  return {
    role: 'miner',
    peer,
    store,
    service,
    view,
    disputes,
    metrics,
    ops,
    stop,
    ...(payee ? { payee } : {}),
  }
}

/** Starts a validator: peer, SQLite store, the service loop, and its address published on chain. */
export async function startValidatorNode(
  options: Omit<ValidatorInit, 'store' | 'disputes'> & {
    dataDir: string
    port?: number
    /** Listen, announce and bootstrap addresses, relay service (default: loopback on `port`). */
    network?: PeerNetworkOptions
    loop?: boolean
    /** Options of the node's dispute service (tests: a faster poll, a lying challenger). */
    disputes?: Pick<DisputeServiceInit, 'pollMs' | 'maxActive' | 'liar'>
    /** Serve GET /metrics and GET /health here (absent: not served). */
    ops?: OpsAddress
    /** How long checks and evidence are kept (default 32 epochs, never less than scoreWindow). */
    retention?: Pick<RetentionInit, 'everyBlocks' | 'pollMs' | 'keepEpochs'>
    signal?: AbortSignal
  },
): Promise<RunningNode & { service: ValidatorService }> {
  const {
    dataDir,
    port,
    network,
    loop,
    signal,
    disputes: disputeOptions,
    ops: opsAddress,
    retention: retentionOptions,
    ...init
  } = options
  const peer = await createPeer({
    privateKey: await loadPeerKey(join(dataDir, 'peer.key')),
    ...(port === undefined ? {} : { port }),
    ...network,
    scoredTopics: [receiptTopic(init.chain.netuid)],
  })
  const store = new NodeStore(dataDir)
  const { chain } = init
  // Read at scrape time only, once the service (created below, with these metrics) exists.
  const metrics = nodeMetrics(chain, peer, () => service.view.block)
  const disputes = chain.disputeGame
    ? new DisputeService({
        role: 'challenger',
        metrics,
        chain,
        game: chain.disputeGame,
        model: init.model,
        store,
        ...disputeOptions,
      })
    : undefined
  // What the validator requires of a receipt's window must be what the game can give.
  const validity = await maxValidity(chain, signal)
  const minimum = init.minDisputeBlocks ?? 100
  const service = new ValidatorService(peer, {
    ...init,
    store,
    metrics,
    ...(disputes ? { disputes } : {}),
    minDisputeBlocks: validity === undefined ? minimum : Math.min(minimum, validity),
  })
  // Scores look back scoreWindow epochs: never keep fewer.
  const keepEpochs = Math.max(retentionOptions?.keepEpochs ?? 32, init.scoreWindow ?? 4)
  const retention = new Retention({
    store,
    block: () => service.view.block,
    epoch: () => service.view.epoch,
    metrics,
    ...retentionOptions,
    keepEpochs,
  })
  let ops: OpsServer | undefined
  const stop = async () => {
    await ops?.stop()
    await retention.stop()
    await disputes?.stop()
    await service.stop()
    await peer.stop()
    store.close()
  }
  try {
    await publishNode(options.chain, peer, signal ? { signal } : {})
    await disputes?.start()
    await service.start({ loop: loop !== false })
    await retention.start()
    const hotkey = init.hotkey.address
    ops = await serveOps(opsAddress, metrics, 'validator', hotkey, chain, peer, service.view)
  } catch (error) {
    await stop()
    throw error
  }
  return { role: 'validator', peer, store, service, disputes, metrics, ops, stop }
}
