import {
  type Account,
  type Address,
  type Chain,
  type Client,
  createWalletClient,
  decodeEventLog,
  type Hash,
  type Hex,
  http,
  keccak256,
  maxUint256,
  type Transport,
  toHex,
  type WalletClient,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { readContract, waitForTransactionReceipt, writeContract } from 'viem/actions'
import type { Scenario, ScenarioEpochResult } from '../consensus/scenario/types.ts'
import { EpochError } from '../errors/chain.ts'
import { verityAbi } from './abis.ts'
import { epochEmissions, runEpoch } from './actions/runEpoch.ts'
import {
  DEVNET_PROTOCOL_PARAMS,
  type Devnet,
  deployToken,
  deployVerity,
  startDevnet,
} from './devnet.ts'
import type { Hyperparams } from './types.ts'

export type RunScenarioOnchainOptions = {
  /** Reuse a running devnet (a fresh subnet is created on it); otherwise one is started and stopped. */
  devnet?: Devnet
  signal?: AbortSignal
}

/** Hyperparameters that make the chain apply scenario events unconditionally (see yuma-scenarios.md). */
export function scenarioHyperparams(scenario: Scenario): Hyperparams {
  const p = scenario.params
  return {
    tempo: p.tempo,
    kappa: p.kappa,
    bondsPenalty: p.bondsPenalty,
    bondsMovingAverage: p.bondsMovingAverage,
    yuma3: p.yuma3,
    liquidAlpha: p.liquidAlpha,
    alphaLow: p.alphaLow,
    alphaHigh: p.alphaHigh,
    alphaSigmoidSteepness: p.alphaSigmoidSteepness,
    maxUids: p.n,
    maxValidators: p.maxAllowedValidators,
    immunityPeriod: 0,
    commitReveal: p.commitReveal,
    revealPeriodEpochs: 1,
    activityCutoff: p.activityCutoff,
    weightsRateLimit: 0,
    minAllowedWeights: 0,
    maxWeightLimit: 65535,
    weightsVersionKey: 0n,
    weightsNeedPermit: false,
    bondsResetOn: p.bondsResetOn,
    stakeThreshold: p.stakeThreshold,
    burn: 0n,
    minBurn: 0n,
    maxBurn: 0n,
    targetRegistrationsPerInterval: 0,
    adjustmentInterval: 0,
    adjustmentAlpha: 0n,
    maxRegistrationsPerBlock: 0,
    ownerCut: 0,
  }
}

type Wallet = WalletClient<Transport, Chain, Account>
type Rpc = Client<Transport, Chain>

async function rpc(client: Rpc, method: string, params: unknown[] = []): Promise<unknown> {
  return await client.request({ method, params } as never)
}

/**
 * Runs a parsed `verity-yuma-scenario/1` on the contracts of a devnet and returns exactly what the
 * TypeScript runner (`runScenario` in src/consensus) returns: one result per epoch event.
 *
 * Each scenario block b is one chain block (b + offset): automine is off, the block's transactions
 * are queued in event order (anvil orders fifo) and mined together, so same-block ordering holds.
 * An epoch's transactions (begin, consensus chunks, bonds chunks, finish) are part of that block;
 * weighted-median hints and outputs are read from the pending state between them.
 * Events are applied through the contracts' ordinary functions; the subnet is configured so that
 * subtensor's extrinsic checks do not interfere (no rate limit, no permit needed, no burn).
 *
 * The replay runs on a VerityScenarioHarness (NOT FOR DEPLOYMENT) deployed for it with its own
 * token, linked to the devnet's epoch libraries: subtensor's scenarios run epochs back to back
 * in one block and set stake in the block of the epoch that uses it, which the production
 * contract forbids (an epoch waits for its tempo; stake counts from the epoch after it arrived).
 * The harness lifts exactly these two guards and keeps no keeper reward, so the epoch math is the
 * production libraries' own.
 */
export async function runScenarioOnchain(
  scenario: Scenario,
  options: RunScenarioOnchainOptions = {},
): Promise<ScenarioEpochResult[]> {
  const { signal } = options
  if (scenario.params.ownerUid !== null && scenario.params.ownerUid !== undefined) {
    throw new EpochError('onchain scenarios do not support ownerUid')
  }
  const devnet =
    options.devnet ?? (await startDevnet({ accounts: 2, ...(signal ? { signal } : {}) }))
  try {
    return await replay(devnet, scenario, signal)
  } finally {
    if (!options.devnet) await devnet.stop()
  }
}

async function replay(
  devnet: Devnet,
  scenario: Scenario,
  signal?: AbortSignal,
): Promise<ScenarioEpochResult[]> {
  const { publicClient } = devnet
  const owner = devnet.walletClients[0]! as Wallet
  const n = scenario.params.n
  const waitOk = async (hash: Hash) => {
    const r = await waitForTransactionReceipt(publicClient, { hash, pollingInterval: 20 })
    if (r.status !== 'success') throw new EpochError('scenario setup reverted', { details: hash })
    return r
  }

  // --- setup: a harness with its own token, allowance for the lock, stakes and emission
  const token = await deployToken(publicClient, owner as never, 10n ** 25n, signal)
  const verity = await deployVerity(publicClient, owner as never, {
    token,
    libraries: devnet.addresses.libraries,
    config: {
      clockMode: 0,
      minUnstakeDelay: 1,
      minGovernanceDelay: 1,
      params: { ...DEVNET_PROTOCOL_PARAMS, unstakeDelay: 1, keeperBps: 0 },
      guardian: owner.account.address,
    },
    harness: true,
    ...(signal ? { signal } : {}),
  })
  await waitOk(
    await writeContract(owner, {
      address: token,
      abi: [
        {
          type: 'function',
          name: 'approve',
          stateMutability: 'nonpayable',
          inputs: [
            { name: 'spender', type: 'address' },
            { name: 'value', type: 'uint256' },
          ],
          outputs: [{ name: '', type: 'bool' }],
        },
      ] as const,
      functionName: 'approve',
      args: [verity, maxUint256],
    }),
  )
  const create = await writeContract(owner, {
    address: verity,
    abi: verityAbi,
    functionName: 'createSubnet',
    args: [scenarioHyperparams(scenario), maxUint256],
  })
  const created = await waitOk(create)
  let netuid = 0
  for (const log of created.logs) {
    try {
      const ev = decodeEventLog({ abi: verityAbi, data: log.data, topics: log.topics })
      if (ev.eventName === 'SubnetCreated') netuid = ev.args.netuid
    } catch {
      // not ours
    }
  }

  // --- hotkeys: deterministic keys, funded with ETH
  const seed = keccak256(toHex(`verity-scenario:${scenario.name}:${netuid}`))
  let keyCount = 0
  const newHotkey = async (): Promise<Wallet> => {
    const key = keccak256(`${seed}${(keyCount++).toString(16).padStart(8, '0')}` as Hex)
    const account = privateKeyToAccount(key)
    await rpc(publicClient, 'anvil_setBalance', [account.address, toHex(10n ** 24n)])
    return createWalletClient({
      account,
      chain: devnet.chain,
      transport: http(devnet.rpcUrl, { retryCount: 0 }),
    }) as Wallet
  }
  const hotkeys: Wallet[] = []
  for (let i = 0; i < n; i++) hotkeys.push(await newHotkey())
  const stakes = scenario.neurons.map(() => 0n)

  // --- blocks
  const blocks = new Set<number>()
  for (const nr of scenario.neurons) blocks.add(nr.registrationBlock)
  for (const e of scenario.events) blocks.add(e.block)
  const ordered = [...blocks].sort((a, b) => a - b)
  for (let i = 1; i < scenario.neurons.length; i++) {
    if (scenario.neurons[i]!.registrationBlock < scenario.neurons[i - 1]!.registrationBlock) {
      throw new EpochError('onchain scenarios need registration blocks ascending by uid')
    }
  }
  const start = Number(await publicClient.getBlockNumber({ cacheTime: 0 })) + 1
  const offset = start - (ordered[0] ?? 0)
  await rpc(publicClient, 'evm_setAutomine', [false])
  const results: ScenarioEpochResult[] = []
  try {
    for (const b of ordered) {
      signal?.throwIfAborted()
      const target = b + offset
      const current = Number(await publicClient.getBlockNumber({ cacheTime: 0 }))
      if (target - 1 > current) await rpc(publicClient, 'anvil_mine', [toHex(target - 1 - current)])
      const pending: Hash[] = []
      const send = async (wallet: Wallet, functionName: string, args: readonly unknown[]) => {
        const hash = await writeContract(wallet, {
          address: verity,
          abi: verityAbi,
          functionName,
          args,
          gas: 12_000_000n,
          account: wallet.account,
          chain: wallet.chain,
        } as Parameters<typeof writeContract>[1])
        pending.push(hash)
      }
      const setStake = async (uid: number, value: bigint) => {
        const hotkey = hotkeys[uid]!.account.address
        if (value > stakes[uid]!) await send(owner, 'stake', [netuid, hotkey, value - stakes[uid]!])
        else if (value < stakes[uid]!)
          await send(owner, 'unstake', [netuid, hotkey, stakes[uid]! - value])
        stakes[uid] = value
      }
      // initial registrations of this block, in uid order
      for (const nr of scenario.neurons) {
        if (nr.registrationBlock !== b) continue
        await send(hotkeys[nr.uid]!, 'register', [netuid, 0n])
        await setStake(nr.uid, nr.stake)
      }
      const epochs: Array<{
        finish: number[]
        result: Omit<ScenarioEpochResult, 'serverEmission' | 'validatorEmission'>
      }> = []
      const registered: Array<{ uid: number; hotkey: Address }> = []
      for (const e of scenario.events) {
        if (e.block !== b) continue
        switch (e.type) {
          case 'setWeights':
            await send(hotkeys[e.uid]!, 'setWeights', [
              netuid,
              e.weights.map(([j]) => j),
              e.weights.map(([, v]) => v),
              0n,
            ])
            break
          case 'register': {
            const fresh = await newHotkey()
            stakes[e.uid] = 0n
            hotkeys[e.uid] = fresh
            await send(fresh, 'register', [netuid, 0n])
            registered.push({ uid: e.uid, hotkey: fresh.account.address })
            await setStake(e.uid, e.stake)
            break
          }
          case 'setStake':
            await setStake(e.uid, e.stake)
            break
          case 'resetBonds':
            await send(hotkeys[e.uid]!, 'resetBonds', [netuid])
            break
          case 'epoch': {
            // rounding dust of earlier epochs stays pending: top up to exactly e.emission
            const info = await readContract(publicClient, {
              address: verity,
              abi: verityAbi,
              functionName: 'subnetInfo',
              args: [netuid],
              blockTag: 'pending',
            })
            const dust = info[5]
            if (dust > e.emission)
              throw new EpochError('pending emission exceeds the epoch emission')
            if (e.emission > dust) await send(owner, 'fundEmission', [netuid, e.emission - dust])
            const base = pending.length
            const run = await runEpoch(owner, {
              address: verity,
              netuid,
              wait: false,
              gas: 16_000_000n,
            })
            pending.push(...run.hashes)
            epochs.push({
              finish: run.finish.map((k) => base + k),
              result: await readOutputs(publicClient, verity, netuid, n, e.block),
            })
            break
          }
        }
      }
      await rpc(publicClient, 'evm_mine', [])
      const receipts = await Promise.all(
        pending.map((hash) =>
          waitForTransactionReceipt(publicClient, { hash, pollingInterval: 20 }),
        ),
      )
      receipts.forEach((r, k) => {
        if (r.status !== 'success') {
          throw new EpochError(`scenario block ${b}: transaction ${k} reverted`, {
            details: r.transactionHash,
          })
        }
        if (Number(r.blockNumber) !== target) {
          throw new EpochError(
            `scenario block ${b}: transaction mined in block ${r.blockNumber}, not ${target}`,
          )
        }
      })
      for (const reg of registered) {
        const uid = await readContract(publicClient, {
          address: verity,
          abi: verityAbi,
          functionName: 'uidOf',
          args: [netuid, reg.hotkey],
        })
        if (uid !== reg.uid) {
          throw new EpochError(
            `register at block ${b}: the chain pruned uid ${uid}, the scenario replaces ${reg.uid}`,
          )
        }
      }
      for (const ep of epochs) {
        const { server, validator } = epochEmissions(
          ep.finish.map((k) => receipts[k]!.logs),
          verity,
          n,
        )
        results.push({
          ...ep.result,
          serverEmission: server.map(String),
          validatorEmission: validator.map(String),
        })
      }
    }
  } finally {
    await rpc(publicClient, 'evm_setAutomine', [true])
  }
  return results
}

async function readOutputs(
  client: Rpc,
  verity: Address,
  netuid: number,
  n: number,
  block: number,
): Promise<Omit<ScenarioEpochResult, 'serverEmission' | 'validatorEmission'>> {
  const [neurons, words] = await Promise.all([
    readContract(client, {
      address: verity,
      abi: verityAbi,
      functionName: 'metagraph',
      args: [netuid],
      blockTag: 'pending',
    }),
    readContract(client, {
      address: verity,
      abi: verityAbi,
      functionName: 'bondWords',
      args: [netuid],
      blockTag: 'pending',
    }),
  ])
  const perRow = Math.ceil(n / 16)
  const bondsU16 = Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) =>
      Number((words[i * perRow + (j >> 4)]! >> BigInt((j & 15) * 16)) & 0xffffn),
    ),
  )
  return {
    block,
    stakeWeightU16: neurons.map((x) => x.stakeWeight),
    active: neurons.map((x) => x.active),
    consensusU16: neurons.map((x) => x.consensus),
    incentiveU16: neurons.map((x) => x.incentive),
    dividendsU16: neurons.map((x) => x.dividends),
    validatorTrustU16: neurons.map((x) => x.validatorTrust),
    validatorPermit: neurons.map((x) => x.validatorPermit),
    bondsU16,
    emission: neurons.map((x) => x.emission.toString()),
  }
}
