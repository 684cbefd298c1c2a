import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectCleanError, runVerity } from '../../test/verity-cli.ts'
import { getModel } from '../chain/actions/getModel.ts'
import { getSubnet } from '../chain/actions/getSubnet.ts'
import { runEpoch } from '../chain/actions/runEpoch.ts'
import { writeDeployment } from '../chain/deployment.ts'
import { type Devnet, devnetDeployment, startDevnet } from '../chain/devnet.ts'
import { createWallet } from '../node/wallet.ts'

const root = join(import.meta.dirname, '../..')
const FINE_TUNED = join(root, 'models/verity-tiny-ft.gguf')
const dir = mkdtempSync(join(tmpdir(), 'verity-set-model-'))
const wallets = join(dir, 'wallets')
const pass = join(dir, 'pass')
const manifest = join(dir, 'deployment.json')
let devnet: Devnet

const verity = (...args: string[]) => runVerity(args)
const key = (wallet: string) => join(wallets, wallet, 'coldkey.json')
const chain = () => ['--rpc', devnet.rpcUrl, '--deployment', manifest, '--passphrase-file', pass]
const setModel = (wallet: string, ...args: string[]) =>
  verity('subnet', 'set-model', '--netuid', '1', '--key', key(wallet), ...args, ...chain())
const subnetModel = async () =>
  (await getSubnet(devnet.publicClient, { address: devnet.addresses.verity, netuid: 1 }))[2]
const subnetEpoch = async () =>
  (await getSubnet(devnet.publicClient, { address: devnet.addresses.verity, netuid: 1 }))[4]

beforeAll(async () => {
  devnet = await startDevnet({ accounts: 4 })
  writeDeployment(manifest, devnetDeployment(devnet))
  writeFileSync(pass, 'set-model test\n')
  for (const [wallet, index] of [
    ['owner', 0],
    ['stranger', 2],
  ] as const)
    createWallet({
      dir: wallets,
      wallet,
      passphrase: 'set-model test',
      dev: { chainId: 31337, index },
    })
}, 60_000)

afterAll(async () => {
  await devnet?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('verity subnet set-model', () => {
  it('registers the fine-tuned model on request and promotes it at the next epoch', async () => {
    const created = await verity(
      'subnet',
      'create',
      '--key',
      key('owner'),
      '--devnet-hyperparams',
      '--json',
      ...chain(),
    )
    expect(created.code, created.stderr).toBe(0)
    const defaultRoot = JSON.parse(created.stdout).modelRoot as string
    expect(await subnetModel()).toBe(defaultRoot)

    // unregistered without --register: refused before any transaction
    const unregistered = await setModel('owner', '--model', FINE_TUNED)
    expectCleanError(unregistered, 1, /is not in the model registry: add --register/)
    // not the owner: refused, nothing registered
    const stranger = await setModel('stranger', '--model', FINE_TUNED, '--register')
    expectCleanError(stranger, 1, /only the owner of subnet 1 \(0x[0-9a-fA-F]{40}\) may set/)

    const promoted = await setModel('owner', '--model', FINE_TUNED, '--register', '--json')
    expect(promoted.code, promoted.stderr).toBe(0)
    const out = JSON.parse(promoted.stdout)
    expect(out).toMatchObject({ netuid: 1, registered: true, status: 'pending' })
    expect(out.modelRoot).toMatch(/^0x[0-9a-f]{64}$/)
    expect(out.modelRoot).not.toBe(defaultRoot)
    const [name, ggufHash, owner] = await getModel(devnet.publicClient, {
      address: devnet.addresses.verity,
      modelRoot: out.modelRoot,
    })
    expect(name).toBe('verity-tiny-ft')
    const { createHash } = await import('node:crypto')
    expect(ggufHash).toBe(
      `0x${createHash('sha256').update(readFileSync(FINE_TUNED)).digest('hex')}`,
    )
    expect(owner).toBe(devnet.accounts[0]!.address)
    // The subnet already served a model: the change waits for the begin of epoch `out.epoch`.
    expect(out.epoch).toBe(Number(await subnetEpoch()) + 1)
    const epoch = () =>
      runEpoch(devnet.walletClients[0]!, { address: devnet.addresses.verity, netuid: 1 })
    while ((await subnetEpoch()) < BigInt(out.epoch)) {
      expect(await subnetModel()).toBe(defaultRoot)
      await epoch()
    }
    expect(await subnetModel()).toBe(defaultRoot)
    await epoch()
    expect(await subnetModel()).toBe(out.modelRoot)

    // back to the default by its root alone (registered already: nothing to register)
    const back = await setModel('owner', '--model', defaultRoot, '--json')
    expect(back.code, back.stderr).toBe(0)
    expect(JSON.parse(back.stdout)).toMatchObject({ modelRoot: defaultRoot, registered: false })
  }, 180_000)

  it('refuses unknown roots, --register with a root, a truncated file and a missing subnet', async () => {
    const truncated = join(dir, 'truncated.gguf')
    writeFileSync(truncated, readFileSync(FINE_TUNED).subarray(0, 4096))
    const cases: Array<[string[], number, RegExp]> = [
      [['--model', `0x${'ab'.repeat(32)}`], 1, /0xabab.* is not in the model registry/],
      [['--model', `0x${'ab'.repeat(32)}`, '--register'], 2, /--register needs the GGUF file/],
      [['--model', truncated, '--register'], 1, /truncated|GGUF/i],
      [[], 2, /set-model needs --model/],
    ]
    const results = await Promise.all(cases.map(([args]) => setModel('owner', ...args)))
    for (const [i, r] of results.entries()) expectCleanError(r, cases[i]![1], cases[i]![2])
    const missing = await verity(
      'subnet',
      'set-model',
      '--netuid',
      '9',
      '--model',
      FINE_TUNED,
      '--key',
      key('owner'),
      ...chain(),
    )
    expectCleanError(missing, 1, /no subnet 9 on this chain/)
  }, 120_000)
})
