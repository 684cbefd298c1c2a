/**
 * Gas of the protocol's hot paths on an anvil devnet: register, set_weights, commit, reveal, and a
 * full Yuma epoch (all its transactions) at (64 uids, 16 validators) and (256 uids, 64 validators).
 *
 *   npm run bench:gas            a table
 *   npm run bench:gas -- --json  one JSON line
 *
 * Epoch figures are for a steady-state epoch (the third with stake counted: bonds exist and are
 * rewritten), Yuma3
 * with liquid alpha on, bonds penalty 1, every validator weighting every uid. The epoch that first
 * creates the bonds (zero -> non-zero storage) is reported separately as `...Create`.
 */
import { createWalletClient, type Hex, http, keccak256, parseEther, toHex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { verityAbi } from '../src/chain/abis.ts'
import { approveToken } from '../src/chain/actions/approveToken.ts'
import { computeCommitHash } from '../src/chain/actions/computeCommitHash.ts'
import { runEpoch } from '../src/chain/actions/runEpoch.ts'
import { type Devnet, startDevnet } from '../src/chain/devnet.ts'
import { DEFAULT_HYPERPARAMS, type Hyperparams } from '../src/chain/types.ts'

const TX_CAP = 16_777_216n
const json = process.argv.includes('--json')

type Wallet = Devnet['walletClients'][number]

function rng(seed: number) {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

async function send(
  devnet: Devnet,
  wallet: Wallet,
  functionName: string,
  args: readonly unknown[],
): Promise<bigint> {
  const hash = await wallet.writeContract({
    address: devnet.addresses.verity,
    abi: verityAbi,
    functionName,
    args,
  } as Parameters<Wallet['writeContract']>[0])
  const r = await devnet.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 20 })
  if (r.status !== 'success') throw new Error(`${functionName} reverted`)
  return r.gasUsed
}

async function hotkeys(devnet: Devnet, count: number, tag: string): Promise<Wallet[]> {
  const out: Wallet[] = []
  for (let i = 0; i < count; i++) {
    const account = privateKeyToAccount(keccak256(toHex(`${tag}:${i}`)) as Hex)
    await devnet.publicClient.request({
      method: 'anvil_setBalance',
      params: [account.address, toHex(10n ** 24n)],
    } as never)
    out.push(
      createWalletClient({
        account,
        chain: devnet.chain,
        transport: http(devnet.rpcUrl),
      }) as unknown as Wallet,
    )
  }
  return out
}

async function createSubnet(devnet: Devnet, params: Hyperparams): Promise<number> {
  const owner = devnet.walletClients[0]!
  await send(devnet, owner, 'createSubnet', [params, parseEther('1000000')])
  return Number(
    await devnet.publicClient.readContract({
      address: devnet.addresses.verity,
      abi: verityAbi,
      functionName: 'subnetCount',
    }),
  )
}

async function epochBench(devnet: Devnet, n: number, v: number) {
  const owner = devnet.walletClients[0]!
  const netuid = await createSubnet(devnet, {
    ...DEFAULT_HYPERPARAMS,
    tempo: 1,
    maxUids: n,
    maxValidators: v,
    liquidAlpha: true,
    yuma3: true,
    weightsRateLimit: 0,
    weightsNeedPermit: false,
    minAllowedWeights: 0,
    burn: 0n,
    minBurn: 0n,
    maxBurn: 0n,
    maxRegistrationsPerBlock: 0,
    targetRegistrationsPerInterval: 0,
    adjustmentInterval: 0,
    immunityPeriod: 0,
  })
  const keys = await hotkeys(devnet, n, `bench:${n}x${v}`)
  for (const k of keys) await send(devnet, k, 'register', [netuid, 0n])
  const random = rng(n * 1000 + v)
  await approveToken(owner, {
    token: devnet.addresses.token,
    spender: devnet.addresses.verity,
    amount: parseEther('1000000'),
  })
  for (let i = 0; i < v; i++) {
    await send(devnet, owner, 'stake', [
      netuid,
      keys[i]!.account.address,
      parseEther(String(100 + i)),
    ])
  }
  for (let i = 0; i < v; i++) {
    const uids = Array.from({ length: n }, (_, j) => j)
    const values = uids.map(() => 1 + Math.floor(random() * 65534))
    await send(devnet, keys[i]!, 'setWeights', [netuid, uids, values, 0n])
  }
  await send(devnet, owner, 'fundEmission', [netuid, parseEther('10')])
  // stake counts from the epoch after the one it arrived in: one epoch without it first
  await runEpoch(owner, { address: devnet.addresses.verity, netuid })
  const epochs: { total: bigint; max: bigint; txs: number }[] = []
  for (let e = 0; e < 3; e++) {
    const run = await runEpoch(owner, { address: devnet.addresses.verity, netuid })
    const gas = run.receipts.map((r) => r.gasUsed)
    if (process.env.GAS_DEBUG) console.error(n, v, e, gas.map(String).join(' '))
    let total = 0n
    let max = 0n
    for (const g of gas) {
      total += g
      if (g > max) max = g
    }
    epochs.push({ total, max, txs: gas.length })
    await send(devnet, owner, 'fundEmission', [netuid, parseEther('10')])
  }
  return { create: epochs[1]!, steady: epochs[2]! }
}

async function singleOps(devnet: Devnet) {
  const owner = devnet.walletClients[0]!
  await approveToken(owner, {
    token: devnet.addresses.token,
    spender: devnet.addresses.verity,
    amount: parseEther('1000000'),
  })
  const netuid = await createSubnet(devnet, {
    ...DEFAULT_HYPERPARAMS,
    maxUids: 256,
    weightsRateLimit: 0,
    weightsNeedPermit: false,
    maxRegistrationsPerBlock: 0,
    targetRegistrationsPerInterval: 0,
  })
  const crNet = await createSubnet(devnet, {
    ...DEFAULT_HYPERPARAMS,
    tempo: 1,
    maxUids: 256,
    immunityPeriod: 0,
    commitReveal: true,
    weightsRateLimit: 0,
    weightsNeedPermit: false,
    maxRegistrationsPerBlock: 0,
    targetRegistrationsPerInterval: 0,
  })
  const keys = await hotkeys(devnet, 64, 'bench:ops')
  let register = 0n
  for (const k of keys) {
    await devnet.walletClients[0]!.writeContract({
      address: devnet.addresses.token,
      abi: [
        {
          type: 'function',
          name: 'transfer',
          stateMutability: 'nonpayable',
          inputs: [
            { name: 'to', type: 'address' },
            { name: 'v', type: 'uint256' },
          ],
          outputs: [{ type: 'bool' }],
        },
      ] as const,
      functionName: 'transfer',
      args: [k.account.address, parseEther('10')],
    })
    await approveToken(k, {
      token: devnet.addresses.token,
      spender: devnet.addresses.verity,
      amount: parseEther('10'),
    })
    register = await send(devnet, k, 'register', [netuid, parseEther('10')])
    await send(devnet, k, 'register', [crNet, parseEther('10')])
  }
  const uids = Array.from({ length: 64 }, (_, j) => j)
  const values = uids.map((j) => 1000 + j * 100)
  const setWeights = await send(devnet, keys[0]!, 'setWeights', [netuid, uids, values, 0n])
  const salt = keccak256(toHex('salt'))
  const hash = computeCommitHash({
    hotkey: keys[0]!.account.address,
    netuid: crNet,
    uids,
    values,
    salt,
    versionKey: 0n,
  })
  const commit = await send(devnet, keys[0]!, 'commitWeights', [crNet, hash])
  await runEpoch(owner, { address: devnet.addresses.verity, netuid: crNet })
  const reveal = await send(devnet, keys[0]!, 'revealWeights', [crNet, uids, values, salt, 0n])
  return { register, setWeights, commit, reveal }
}

const devnet = await startDevnet({ accounts: 2 })
try {
  const ops = await singleOps(devnet)
  const small = await epochBench(devnet, 64, 16)
  const large = await epochBench(devnet, 256, 64)
  const result = {
    register: Number(ops.register),
    setWeights64: Number(ops.setWeights),
    commit: Number(ops.commit),
    reveal64: Number(ops.reveal),
    epoch64x16: Number(small.steady.total),
    epoch64x16MaxTx: Number(small.steady.max),
    epoch256x64: Number(large.steady.total),
    epoch256x64MaxTx: Number(large.steady.max),
    epoch256x64Txs: large.steady.txs,
    epoch256x64Create: Number(large.create.total),
    epoch256x64CreateMaxTx: Number(large.create.max),
    txCapOk: large.steady.max <= TX_CAP && large.create.max <= TX_CAP && small.steady.max <= TX_CAP,
  }
  if (json) console.log(JSON.stringify(result))
  else for (const [k, v] of Object.entries(result)) console.log(k.padEnd(24), v)
} finally {
  await devnet.stop()
}
