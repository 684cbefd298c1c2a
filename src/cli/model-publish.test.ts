import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { keccak256, maxUint256, toHex, zeroAddress } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { trainedModelBytes } from '../../test/trained-model.ts'
import { expectCleanError, runVerity } from '../../test/verity-cli.ts'
import { approveToken } from '../chain/actions/approveToken.ts'
import { createSubnet } from '../chain/actions/createSubnet.ts'
import { declareCompetition } from '../chain/actions/declareCompetition.ts'
import { getModelCommit } from '../chain/actions/getModelCommit.ts'
import { registerNeuron } from '../chain/actions/registerNeuron.ts'
import { deployModelCompetition } from '../chain/competition.ts'
import { writeDeployment } from '../chain/deployment.ts'
import { type Devnet, devnetDeployment, startDevnet } from '../chain/devnet.ts'
import { fileRoot } from '../competition/file-root.ts'
import { DEVNET_HYPERPARAMS } from '../node/network.ts'
import { createWallet } from '../node/wallet.ts'
import { modelCommitment } from './model-commitment.ts'

/**
 * `verity model publish` against a devnet: the commitment it sends is the file's (modelRoot as
 * `model info` prints it, file root, size, parameters); a second hotkey publishing the same file is
 * told it is a copy; every refusal (no competition contract, a subnet that is not a competition,
 * a model over the limit, an unregistered hotkey, a file that is not a model) is one clean line.
 */
const dir = mkdtempSync(join(tmpdir(), 'verity-publish-'))
const wallets = join(dir, 'wallets')
const pass = join(dir, 'pass')
const manifest = join(dir, 'deployment.json')
const bare = join(dir, 'bare.json')
let devnet: Devnet
let competition: `0x${string}`

const hot = (wallet: string) => join(wallets, wallet, 'hotkeys', 'default.json')
const chain = (m = manifest) => [
  '--rpc',
  devnet.rpcUrl,
  '--deployment',
  m,
  '--passphrase-file',
  pass,
]
const publish = (wallet: string, netuid: number, file = 'default', m = manifest) =>
  runVerity([
    'model',
    'publish',
    file,
    '--netuid',
    String(netuid),
    '--key',
    hot(wallet),
    '--json',
    ...chain(m),
  ])

beforeAll(async () => {
  devnet = await startDevnet({ accounts: 8 })
  const owner = devnet.walletClients[0]!
  const core = devnet.addresses.verity
  competition = await deployModelCompetition(devnet.publicClient, owner, { core })
  writeDeployment(manifest, devnetDeployment(devnet, undefined, undefined, undefined, competition))
  writeDeployment(bare, devnetDeployment(devnet))
  writeFileSync(pass, 'publish test\n')
  // coldkey i, hotkey i + 1: alice's hotkey is account 3, bob's 5, eve's 7 (never registered)
  for (const [wallet, index] of [
    ['alice', 2],
    ['bob', 4],
    ['eve', 6],
  ] as const)
    createWallet({
      dir: wallets,
      wallet,
      hotkey: 'default',
      passphrase: 'publish test',
      dev: { chainId: 31337, index },
    })
  await approveToken(owner, { token: devnet.addresses.token, spender: core, amount: maxUint256 })
  const spec = keccak256(toHex('verity/eval/devnet/1'))
  // subnet 1: a competition up to 2M parameters; 2: up to 1M; 3: an inference subnet
  for (const maxParams of [2_000_000n, 1_000_000n, 0n]) {
    const { netuid } = await createSubnet(owner, { address: core, params: DEVNET_HYPERPARAMS })
    if (maxParams > 0n)
      await declareCompetition(owner, {
        address: competition,
        netuid,
        evalSpecHash: spec,
        maxParams,
        epsilonPpm: 5_000,
        minCommitAge: 2,
      })
    for (const i of [3, 5])
      await registerNeuron(devnet.walletClients[i]!, { address: core, netuid, maxBurn: maxUint256 })
  }
}, 120_000)

afterAll(async () => {
  await devnet?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('verity model publish', () => {
  it('commits the file it is given; the same file from another hotkey is a copy', async () => {
    const expected = modelCommitment('default')
    expect(expected.size).toBe(BigInt(trainedModelBytes().length))
    expect(expected.params).toBe(1_328_256n)
    // the file root over 1 MiB chunks, read from disk chunk by chunk, as computed in memory
    expect(expected.fileHash).toBe(fileRoot(trainedModelBytes()))
    const info = await runVerity(['model', 'info', 'default', '--json'])
    expect(JSON.parse(info.stdout).modelRoot).toBe(expected.modelRoot)

    const a = await publish('alice', 1)
    expect(a.code, a.stderr).toBe(0)
    const out = JSON.parse(a.stdout)
    expect(out).toMatchObject({
      netuid: 1,
      hotkey: devnet.accounts[3]!.address,
      modelRoot: expected.modelRoot,
      fileHash: expected.fileHash,
      size: expected.size.toString(),
      params: '1328256',
      seq: '0',
      copyOf: null,
    })
    const stored = await getModelCommit(devnet.publicClient, {
      address: competition,
      netuid: 1,
      hotkey: devnet.accounts[3]!.address,
    })
    expect(stored.commitBlock.toString()).toBe(out.commitBlock)
    expect(stored.copyOf).toBe(zeroAddress)

    const b = await publish('bob', 1)
    expect(b.code, b.stderr).toBe(0)
    expect(JSON.parse(b.stdout).copyOf).toBe(devnet.accounts[3]!.address)
    // human output says so
    const again = await runVerity([
      'model',
      'publish',
      'default',
      '--netuid',
      '2',
      '--key',
      hot('bob'),
      ...chain(),
    ])
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/1328256 parameters; subnet 2 allows at most 1000000/)
  })

  it('refuses with one clean line: replay, no competition, unregistered, no contract, bad file', async () => {
    expectCleanError(await publish('alice', 1), 1, /already committed this model on subnet 1/)
    expectCleanError(await publish('alice', 3), 1, /subnet 3 is not a model competition/)
    expectCleanError(await publish('eve', 1), 1, /is not registered on subnet 1/)
    expectCleanError(await publish('alice', 1, 'default', bare), 1, /no model competition contract/)
    const junk = join(dir, 'junk.gguf')
    writeFileSync(junk, 'not a model')
    const r = await publish('alice', 1, junk)
    expect(r.code).not.toBe(0)
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/)
    expectCleanError(
      await runVerity(['model', 'publish', 'default', '--key', hot('alice'), ...chain()]),
      2,
      /--netuid/,
    )
  })
})
