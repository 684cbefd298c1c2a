import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { keccak256, maxUint256, toHex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectCleanError, runVerity } from '../../test/verity-cli.ts'
import { approveToken } from '../chain/actions/approveToken.ts'
import { commitModel } from '../chain/actions/commitModel.ts'
import { createSubnet } from '../chain/actions/createSubnet.ts'
import { declareCompetition } from '../chain/actions/declareCompetition.ts'
import { getModel } from '../chain/actions/getModel.ts'
import { registerNeuron } from '../chain/actions/registerNeuron.ts'
import { setWeights } from '../chain/actions/setWeights.ts'
import { deployModelCompetition } from '../chain/competition.ts'
import { writeDeployment } from '../chain/deployment.ts'
import { type Devnet, devnetDeployment, startDevnet } from '../chain/devnet.ts'
import { fileRoot } from '../competition/file-root.ts'
import { DEVNET_HYPERPARAMS } from '../node/network.ts'
import { createWallet } from '../node/wallet.ts'
import { modelCommitment } from './model-commitment.ts'

/**
 * `verity competition winner` against a devnet: subnet 1 is a competition where alice (uid 0)
 * committed the default model and bob (uid 1) the fine-tuned one; a validator (uid 2) weights bob
 * first. Subnet 2 is an inference subnet serving the default; --promote makes it serve bob's model.
 */
const root = join(import.meta.dirname, '../..')
const FINE_TUNED = join(root, 'models/verity-tiny-ft.gguf')
const dir = mkdtempSync(join(tmpdir(), 'verity-winner-'))
const wallets = join(dir, 'wallets')
const pass = join(dir, 'pass')
const manifest = join(dir, 'deployment.json')
let devnet: Devnet
let ftRoot: `0x${string}`

const key = (wallet: string) => join(wallets, wallet, 'coldkey.json')
const chain = () => ['--rpc', devnet.rpcUrl, '--deployment', manifest, '--passphrase-file', pass]
const winner = (...args: string[]) => runVerity(['competition', 'winner', ...args, ...chain()])

beforeAll(async () => {
  devnet = await startDevnet({ accounts: 8 })
  const owner = devnet.walletClients[0]!
  const core = devnet.addresses.verity
  const competition = await deployModelCompetition(devnet.publicClient, owner, { core })
  writeDeployment(manifest, devnetDeployment(devnet, undefined, undefined, undefined, competition))
  writeFileSync(pass, 'winner test\n')
  for (const [wallet, index] of [
    ['owner', 0],
    ['stranger', 2],
  ] as const)
    createWallet({
      dir: wallets,
      wallet,
      passphrase: 'winner test',
      dev: { chainId: 31337, index },
    })
  await approveToken(owner, { token: devnet.addresses.token, spender: core, amount: maxUint256 })
  const params = { ...DEVNET_HYPERPARAMS, commitReveal: false }
  const { netuid } = await createSubnet(owner, { address: core, params })
  expect(netuid).toBe(1)
  await declareCompetition(owner, {
    address: competition,
    netuid,
    evalSpecHash: keccak256(toHex('verity/eval/devnet/1')),
    maxParams: 2_000_000n,
    epsilonPpm: 5_000,
    minCommitAge: 0,
  })
  // alice's hotkey is account 3 (uid 0), bob's 5 (uid 1), the validator's 1 (uid 2)
  for (const i of [3, 5, 1])
    await registerNeuron(devnet.walletClients[i]!, { address: core, netuid, maxBurn: maxUint256 })
  for (const [i, file] of [
    [3, 'default'],
    [5, FINE_TUNED],
  ] as const) {
    const { modelRoot, fileHash, size, params: n } = modelCommitment(file)
    await commitModel(devnet.walletClients[i]!, {
      address: competition,
      netuid,
      modelRoot,
      fileHash,
      size,
      params: n,
    })
    if (i === 5) ftRoot = modelRoot
  }
  // subnet 2: an inference subnet serving the default model
  const created = await runVerity([
    'subnet',
    'create',
    '--key',
    key('owner'),
    '--devnet-hyperparams',
    '--json',
    ...chain(),
  ])
  expect(created.code, created.stderr).toBe(0)
  expect(JSON.parse(created.stdout).netuid).toBe(2)
}, 180_000)

afterAll(async () => {
  await devnet?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('verity competition winner', () => {
  it('names the model the weights put first, and promotes it to an inference subnet', async () => {
    expectCleanError(await winner('--netuid', '1'), 1, /no validator has set weights on subnet 1/)
    await setWeights(devnet.walletClients[1]!, {
      address: devnet.addresses.verity,
      netuid: 1,
      uids: [0, 1],
      values: [1000, 9000],
      versionKey: 0n,
    })
    const r = await winner('--netuid', '1', '--json')
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({
      netuid: 1,
      uid: 1,
      hotkey: devnet.accounts[5]!.address,
      modelRoot: ftRoot,
      fileHash: fileRoot(readFileSync(FINE_TUNED)),
    })
    // 1000 : 9000, as the core stores it (max-upscaled to u16: 7281 : 65535)
    expect(JSON.parse(r.stdout).share).toBeCloseTo(0.9, 4)

    // a stranger cannot promote it; the owner of subnet 2 can
    const stranger = await winner(
      '--netuid',
      '1',
      '--promote',
      '--to',
      '2',
      '--key',
      key('stranger'),
    )
    expectCleanError(stranger, 1, /only the owner of subnet 2 .* may set its model/)
    const promoted = await winner(
      '--netuid',
      '1',
      '--promote',
      '--to',
      '2',
      '--key',
      key('owner'),
      '--json',
    )
    expect(promoted.code, promoted.stderr).toBe(0)
    expect(JSON.parse(promoted.stdout).promoted).toMatchObject({
      netuid: 2,
      modelRoot: ftRoot,
      registered: true,
      status: 'pending',
    })
    const [name, ggufHash] = await getModel(devnet.publicClient, {
      address: devnet.addresses.verity,
      modelRoot: ftRoot,
    })
    expect(name).toBe('competition-1-uid-1')
    expect(ggufHash).toBe(JSON.parse(promoted.stdout).fileHash)
  }, 180_000)

  it('refuses an inference subnet, --promote without --to and --to without --promote', async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [['--netuid', '2'], 1, /subnet 2 is not a model competition/],
      [['--netuid', '1', '--promote', '--key', key('owner')], 2, /--promote needs --to/],
      [['--netuid', '1', '--to', '2'], 2, /--to needs --promote/],
      [['--netuid', '1', '--promote', '--to', 'x', '--key', key('owner')], 2, /--netuid must be/],
    ]
    const results = await Promise.all(cases.map(([args]) => winner(...args)))
    for (const [i, r] of results.entries()) expectCleanError(r, cases[i]![1], cases[i]![2])
  }, 120_000)
})
