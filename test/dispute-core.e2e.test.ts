import { parseEther, toHex } from 'viem'
import { readContract } from 'viem/actions'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verityAbi, verityTokenAbi } from '../src/chain/abis.ts'
import { addStake } from '../src/chain/actions/addStake.ts'
import { approveToken } from '../src/chain/actions/approveToken.ts'
import { openDispute } from '../src/chain/actions/openDispute.ts'
import { type Devnet, startDevnet } from '../src/chain/devnet.ts'
import {
  DEVNET_DISPUTE_PARAMS,
  DEVNET_DISPUTE_UNSTAKE_DELAY,
  installDisputeGame,
} from '../src/chain/devnet-dispute.ts'
import { subtleFault } from '../src/node/cheat.ts'
import { setupSubnet } from '../src/node/network.ts'
import { generate } from '../src/runtime/generate.ts'
import { testModel, trainedModelBytes } from '../src/runtime/test-model.ts'
import type { TraceFault } from '../src/runtime/trace/ops.ts'
import { disputeRequest, openParams } from '../src/verify/dispute/open.ts'
import { playDispute } from '../src/verify/dispute/play.ts'
import { DisputePlayer } from '../src/verify/dispute/player.ts'
import { completionRequest, signedCoreAnswer } from './core-answer.ts'

/**
 * The dispute game against the real core (not the stand-in the game's own tests use): named by
 * governance, it is the only caller that can slash, and a lost dispute moves a miner's stake.
 */

const model = testModel()
const STAKE = parseEther('1000')
let devnet: Devnet
let game: `0x${string}`
let netuid: number

type Wallet = Devnet['walletClients'][number]

beforeAll(async () => {
  devnet = await startDevnet({ accounts: 6, unstakeDelay: DEVNET_DISPUTE_UNSTAKE_DELAY })
  ;({ game } = await installDisputeGame(devnet))
  const [owner, validator, honest, cheater, challenger] = devnet.walletClients as Wallet[]
  netuid = await setupSubnet(devnet, {
    model,
    ggufBytes: trainedModelBytes(),
    miners: [honest!, cheater!],
    validators: [validator!],
  })
  const address = devnet.addresses.verity
  for (const m of [honest!, cheater!])
    await addStake(owner!, { address, netuid, hotkey: m.account.address, amount: STAKE })
  await owner!.writeContract({
    address: devnet.addresses.token,
    abi: verityTokenAbi,
    functionName: 'transfer',
    args: [challenger!.account.address, parseEther('100')],
  })
  await approveToken(challenger!, {
    token: devnet.addresses.token,
    spender: game,
    amount: parseEther('100'),
  })
}, 600_000)

afterAll(async () => {
  await devnet?.stop()
})

const request = completionRequest(model)

const signedAnswer = (miner: Wallet, fault?: TraceFault) =>
  signedCoreAnswer({
    devnet,
    netuid,
    model,
    miner: miner.account,
    request,
    validity: DEVNET_DISPUTE_PARAMS.maxValidity,
    ...(fault ? { fault } : {}),
  })

/** Challenges `miner`'s answer: honestly (a cheater's), or as a liar claiming a random root. */
async function challenge(miner: Wallet, fault?: TraceFault) {
  const challenger = devnet.walletClients[4]!
  const answer = await signedAnswer(miner, fault)
  const honest = generate(model, disputeRequest(request, answer.tokens))
  const open = openParams({
    receipt: answer.receipt,
    request,
    tokens: answer.tokens,
    model,
    claimedRoot: fault
      ? toHex(honest.traceRoot!)
      : toHex(crypto.getRandomValues(new Uint8Array(32))),
  })
  const { id } = await openDispute(challenger, { address: game, open })
  const player = (role: 'miner' | 'challenger') =>
    new DisputePlayer({
      model,
      request: disputeRequest(request, answer.tokens),
      role,
      partElements: 4096,
      ...(role === 'miner' && fault ? { fault } : {}),
      ...(role === 'challenger' && !fault ? { liar: { seed: 11 } } : {}),
    })
  return await playDispute({
    client: devnet.publicClient,
    game,
    id,
    miner: { wallet: miner, player: player('miner') },
    challenger: { wallet: challenger, player: player('challenger') },
  })
}

const stakeOf = async (hotkey: `0x${string}`) =>
  await readContract(devnet.publicClient, {
    address: devnet.addresses.verity,
    abi: verityAbi,
    functionName: 'stakeOf',
    args: [netuid, hotkey],
  })

describe('the dispute game on the real core', () => {
  it('is the game governance named, and the only caller that can slash', async () => {
    const core = await readContract(devnet.publicClient, {
      address: devnet.addresses.verity,
      abi: verityAbi,
      functionName: 'disputeGame',
    })
    expect(core).toBe(game)
    const owner = devnet.walletClients[0]!
    const cheater = devnet.walletClients[3]!.account.address
    await expect(
      owner.writeContract({
        address: devnet.addresses.verity,
        abi: verityAbi,
        functionName: 'slashForDispute',
        args: [netuid, cheater, STAKE, owner.account.address, 10_000],
      }),
    ).rejects.toThrow(/NotDisputeGame/)
  })

  it('slashes a subtle cheater through a dispute it loses, and the challenger is paid', async () => {
    const cheater = devnet.walletClients[3]!
    const before = await stakeOf(cheater.account.address)
    const fault = subtleFault(model.config, request)
    const result = await challenge(cheater, fault)
    expect(result.minerLost).toBe(true)
    expect(result.slashed).toBe(before / 2n)
    expect(await stakeOf(cheater.account.address)).toBe(before - result.slashed)
  }, 600_000)

  it('leaves an honest miner whole; the challenger loses its bond', async () => {
    const honest = devnet.walletClients[2]!
    const challenger = devnet.walletClients[4]!.account.address
    const balance = () =>
      readContract(devnet.publicClient, {
        address: devnet.addresses.token,
        abi: verityTokenAbi,
        functionName: 'balanceOf',
        args: [challenger],
      })
    const [stake, bondsBefore] = [await stakeOf(honest.account.address), await balance()]
    const result = await challenge(honest)
    expect(result.minerLost).toBe(false)
    expect(await stakeOf(honest.account.address)).toBe(stake)
    expect(await balance()).toBe(bondsBefore - DEVNET_DISPUTE_PARAMS.bond)
  }, 600_000)
})
