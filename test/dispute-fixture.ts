import { type Address, type Hex, parseEther, toHex } from 'viem'
import { disputeCoreStandInAbi, disputeGameAbi, verityTokenAbi } from '../src/chain/abis.ts'
import { openDispute } from '../src/chain/actions/openDispute.ts'
import { type Devnet, startDevnet } from '../src/chain/devnet.ts'
import {
  type DisputeParams,
  deployDisputeGame,
  deployDisputeStandIn,
  waitMined,
} from '../src/chain/dispute.ts'
import { generate } from '../src/runtime/generate.ts'
import type { Model } from '../src/runtime/model/load.ts'
import type { SamplingParams } from '../src/runtime/sampler/sample.ts'
import { testModel } from '../src/runtime/test-model.ts'
import type { TraceFault } from '../src/runtime/trace/ops.ts'
import type { InferenceRequest, SignedReceipt } from '../src/types/inference.ts'
import { disputeRequest, openParams } from '../src/verify/dispute/open.ts'
import { type PlayResult, playDispute } from '../src/verify/dispute/play.ts'
import { DisputePlayer } from '../src/verify/dispute/player.ts'
import { signReceipt } from '../src/verify/receipt.ts'
import { outputHash, requestHash } from '../src/verify/request.ts'

/**
 * A devnet with the dispute game against the core's stand-in (contracts/src/test/
 * DisputeCoreStandIn.sol): one subnet serving the trained test model, staked miners, funded
 * challengers, and helpers to answer requests (honestly or with a fault), sign receipts and play
 * disputes. Shared by the dispute tests and bench/dispute.bench.ts.
 */

export type Wallet = Devnet['walletClients'][number]

export const NETUID = 1
export const STAKE = parseEther('1000')
export const UNSTAKE_DELAY = 100_000

export const PARAMS: DisputeParams = {
  bond: parseEther('10'),
  slashMin: parseEther('5'),
  slashBps: 5000,
  rewardBps: 5000,
  window: 20,
  maxValidity: 1000,
}

export type GameSetup = {
  core: Address
  game: Address
  stepLib: Address
  partElements: number
}

export type DisputeFixture = {
  devnet: Devnet
  model: Model
  token: Address
  owner: Wallet
  subnetOwner: Wallet
  miners: Wallet[]
  challengers: Wallet[]
  games: GameSetup[]
  stop(): Promise<void>
}

export async function rpc(
  devnet: Devnet,
  method: string,
  params: unknown[] = [],
): Promise<unknown> {
  return await devnet.publicClient.request({ method, params } as never)
}

async function send(
  devnet: Devnet,
  wallet: Wallet,
  address: Address,
  abi: unknown,
  functionName: string,
  args: unknown[],
) {
  const hash = await wallet.writeContract({ address, abi, functionName, args } as never)
  const r = await waitMined(devnet.publicClient, hash)
  if (r.status !== 'success') throw new Error(`${functionName} reverted`)
  return r
}

/**
 * Starts the devnet and deploys one stand-in core and game per `partElements` (the game's part
 * size for long sums), each with subnet 1 serving the test model (or `model`), `miners`
 * registered and staked, and `challengers` funded and approved.
 */
export async function startDisputeFixture(
  options: {
    partElements?: number[]
    miners?: number
    challengers?: number
    window?: number
    /** The subnet's model (default: the trained test model). */
    model?: Model
  } = {},
): Promise<DisputeFixture> {
  const nMiners = options.miners ?? 4
  const nChallengers = options.challengers ?? 3
  const devnet = await startDevnet({ accounts: 2 + nMiners + nChallengers })
  const model = options.model ?? testModel()
  const [owner, subnetOwner] = devnet.walletClients as [Wallet, Wallet]
  const miners = devnet.walletClients.slice(2, 2 + nMiners)
  const challengers = devnet.walletClients.slice(2 + nMiners)
  const token = devnet.addresses.token
  const params = { ...PARAMS, window: options.window ?? PARAMS.window }
  const games: GameSetup[] = []
  for (const w of [...miners, ...challengers])
    await send(devnet, owner, token, verityTokenAbi, 'transfer', [
      w.account.address,
      parseEther('50000'),
    ])
  for (const partElements of options.partElements ?? [4096]) {
    const core = await deployDisputeStandIn(devnet.publicClient, owner, {
      token,
      minUnstakeDelay: UNSTAKE_DELAY,
    })
    const { game, stepLib } = await deployDisputeGame(devnet.publicClient, owner, {
      core,
      token,
      minBond: parseEther('1'),
      maxBond: parseEther('1000'),
      paramsDelay: 10n,
      partElements: BigInt(partElements),
      defaults: params,
    })
    await send(devnet, owner, core, disputeCoreStandInAbi, 'setDisputeGame', [game])
    await send(devnet, owner, core, disputeCoreStandInAbi, 'createSubnet', [
      NETUID,
      subnetOwner.account.address,
      toHex(model.modelRoot),
    ])
    for (const m of miners) {
      await send(devnet, m, core, disputeCoreStandInAbi, 'register', [NETUID])
      await send(devnet, m, token, verityTokenAbi, 'approve', [core, STAKE])
      await send(devnet, m, core, disputeCoreStandInAbi, 'stake', [
        NETUID,
        m.account.address,
        STAKE,
      ])
    }
    for (const c of challengers)
      await send(devnet, c, token, verityTokenAbi, 'approve', [game, parseEther('100000')])
    games.push({ core, game, stepLib, partElements })
  }
  return {
    devnet,
    model,
    token,
    owner,
    subnetOwner,
    miners,
    challengers,
    games,
    stop: () => devnet.stop(),
  }
}

/** A request for the test model. */
export function makeRequest(
  model: Model,
  promptTokens: number[],
  params: SamplingParams,
  seed: number,
  maxTokens: number,
  stopTokens: number[] = [],
): InferenceRequest {
  return {
    modelRoot: toHex(model.modelRoot),
    promptTokens,
    maxTokens,
    params,
    seed,
    stopTokens,
    stop: [],
  }
}

export type Answer = { receipt: SignedReceipt; tokens: number[] }

/**
 * A miner's answer: the run (with `fault`, a cheater's) and its signed receipt. `edit` changes
 * the receipt or the tokens after the run (receipts that contradict themselves).
 */
export async function answer(
  fx: DisputeFixture,
  setup: GameSetup,
  miner: Wallet,
  request: InferenceRequest,
  options: {
    fault?: TraceFault
    tokens?: (tokens: number[]) => number[]
    receipt?: Partial<SignedReceipt>
    signer?: Wallet
    /** The request actually run (a miner that ignored the signed one). */
    run?: InferenceRequest
  } = {},
): Promise<Answer> {
  const ran = options.run ?? request
  const run = generate(
    fx.model,
    {
      promptTokens: ran.promptTokens,
      maxTokens: ran.maxTokens,
      params: ran.params,
      seed: ran.seed,
      stopTokens: ran.stopTokens,
    },
    options.fault ? { fault: options.fault } : {},
  )
  const tokens = options.tokens ? options.tokens(run.tokens) : run.tokens
  const block = Number(await fx.devnet.publicClient.getBlockNumber())
  const nonce = toHex(crypto.getRandomValues(new Uint8Array(32)))
  const receipt = {
    chainId: fx.devnet.chain.id,
    netuid: NETUID,
    modelRoot: toHex(fx.model.modelRoot),
    requestHash: requestHash(request),
    outputHash: outputHash(tokens),
    traceRoot: toHex(run.traceRoot!),
    traceLeaves: run.traceLeafCount!,
    minerHotkey: miner.account.address,
    issuedBlock: block,
    validUntilBlock: block + 500,
    nonce,
    verifyingContract: setup.core,
    ...options.receipt,
  }
  const signer = options.signer ?? miner
  const signed = await signReceipt(signer.account, {
    ...receipt,
    minerHotkey: signer.account.address,
  })
  return { receipt: { ...signed, minerHotkey: receipt.minerHotkey }, tokens }
}

/** The honest traceRoot of a request (what an honest challenger claims). */
export function honestRoot(model: Model, request: InferenceRequest, tokens: number[]): Hex {
  const run = generate(model, disputeRequest(request, tokens))
  return toHex(run.traceRoot!)
}

/** Opens a dispute and plays it with the two players to its end. */
export async function dispute(
  fx: DisputeFixture,
  setup: GameSetup,
  args: {
    miner: Wallet
    challenger: Wallet
    request: InferenceRequest
    answer: Answer
    fault?: TraceFault
    claimedRoot?: Hex
    outputIndex?: number
    liar?: { seed: number }
    lazy?: boolean
    stall?: { role: 'miner' | 'challenger'; after: number }
  },
): Promise<PlayResult & { id: bigint; openGas: number }> {
  const { request, answer: a } = args
  const open = openParams({
    receipt: a.receipt,
    request,
    tokens: a.tokens,
    model: fx.model,
    ...(args.outputIndex === undefined
      ? { claimedRoot: args.claimedRoot ?? honestRoot(fx.model, request, a.tokens) }
      : { outputIndex: args.outputIndex }),
  })
  const { id, receipt } = await openDispute(args.challenger, { address: setup.game, open })
  const run = disputeRequest(request, a.tokens)
  const player = (role: 'miner' | 'challenger') =>
    new DisputePlayer({
      model: fx.model,
      request: run,
      role,
      partElements: setup.partElements,
      ...(role === 'miner' && args.fault ? { fault: args.fault } : {}),
      ...(role === 'miner' && args.lazy ? { lazy: true } : {}),
      ...(role === 'challenger' && args.liar ? { liar: args.liar } : {}),
    })
  const result = await playDispute({
    client: fx.devnet.publicClient,
    game: setup.game,
    id,
    miner: { wallet: args.miner, player: player('miner') },
    challenger: { wallet: args.challenger, player: player('challenger') },
    ...(args.stall ? { stall: args.stall } : {}),
  })
  return { ...result, id, openGas: Number(receipt.gasUsed) }
}

export { disputeGameAbi }
