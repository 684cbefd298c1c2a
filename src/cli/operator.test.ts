import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { toHex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectCleanError, runVerity } from '../../test/verity-cli.ts'
import { runEpoch } from '../chain/actions/runEpoch.ts'
import { writeDeployment } from '../chain/deployment.ts'
import { type Devnet, devnetDeployment, startDevnet } from '../chain/devnet.ts'
import { createWallet } from '../node/wallet.ts'

const dir = mkdtempSync(join(tmpdir(), 'verity-operator-'))
const wallets = join(dir, 'wallets')
const pass = join(dir, 'pass')
const manifest = join(dir, 'deployment.json')
let devnet: Devnet

const verity = (...args: string[]) => runVerity(args)

const key = (wallet: string) => join(wallets, wallet, 'coldkey.json')
const hot = (wallet: string) => join(wallets, wallet, 'hotkeys', 'default.json')
const chain = () => ['--rpc', devnet.rpcUrl, '--deployment', manifest, '--passphrase-file', pass]

beforeAll(async () => {
  devnet = await startDevnet({ accounts: 8 })
  writeDeployment(manifest, devnetDeployment(devnet))
  writeFileSync(pass, 'operator test\n')
  // owner: coldkey 0, hotkey 1; val: coldkey 2, hotkey 3; poor: coldkey 6 (ETH, no VTY)
  for (const [wallet, index] of [
    ['owner', 0],
    ['val', 2],
    ['poor', 6],
  ] as const)
    createWallet({
      dir: wallets,
      wallet,
      hotkey: 'default',
      passphrase: 'operator test',
      dev: { chainId: 31337, index },
    })
}, 60_000)

afterAll(async () => {
  await devnet?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('operator commands on a devnet', () => {
  it('create a subnet, register, stake, metagraph, weights commit/reveal, withdraw', async () => {
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
    const { netuid } = JSON.parse(created.stdout)
    expect(netuid).toBe(1)

    const listed = await verity('subnet', 'list', '--json', ...chain())
    expect(JSON.parse(listed.stdout)).toMatchObject([
      { netuid: 1, owner: devnet.accounts[0]!.address },
    ])

    for (const [wallet, uid] of [
      ['owner', 0],
      ['val', 1],
    ] as const) {
      const r = await verity(
        'subnet',
        'register',
        '--netuid',
        '1',
        '--hotkey',
        hot(wallet),
        '--key',
        key(wallet),
        '--json',
        ...chain(),
      )
      expect(r.code, r.stderr).toBe(0)
      expect(JSON.parse(r.stdout).uid).toBe(uid)
    }

    // own stake, and stake delegated to val's hotkey
    const own = await verity(
      'stake',
      'add',
      '--netuid',
      '1',
      '--hotkey',
      hot('owner'),
      '--amount',
      '50',
      '--key',
      key('owner'),
      ...chain(),
    )
    expect(own.code, own.stderr).toBe(0)
    const delegated = await verity(
      'stake',
      'add',
      '--netuid',
      '1',
      '--hotkey',
      devnet.accounts[3]!.address,
      '--amount',
      '100.5',
      '--key',
      key('owner'),
      ...chain(),
    )
    expect(delegated.code, delegated.stderr).toBe(0)
    const removed = await verity(
      'stake',
      'remove',
      '--netuid',
      '1',
      '--hotkey',
      hot('owner'),
      '--amount',
      '10',
      '--key',
      key('owner'),
      ...chain(),
    )
    expect(removed.code, removed.stderr).toBe(0)
    const stakes = JSON.parse(
      (await verity('stake', 'list', '--key', key('owner'), '--json', ...chain())).stdout,
    )
    expect(stakes.stakes).toEqual([
      expect.objectContaining({ netuid: 1, uid: 0, stake: '40', own: true }),
      expect.objectContaining({ netuid: 1, uid: 1, stake: '100.5', own: false }),
    ])
    expect(stakes.withdrawals.locked).toBe('10')
    const delegatedToVal = JSON.parse(
      (await verity('stake', 'list', '--key', key('val'), '--json', ...chain())).stdout,
    )
    expect(delegatedToVal.stakes).toEqual([])
    expect(delegatedToVal.hotkeys).toEqual([
      expect.objectContaining({ netuid: 1, uid: 1, total: '100.5', others: '100.5' }),
    ])
    const early = await verity('stake', 'withdraw', '--key', key('owner'), ...chain())
    expectCleanError(early, 1, /nothing to withdraw yet/)

    const meta = await verity('subnet', 'metagraph', '--netuid', '1', ...chain())
    expect(meta.code, meta.stderr).toBe(0)
    expect(meta.stdout).toMatch(/^UID\s+HOTKEY\s+STAKE/m)
    expect(meta.stdout).toMatch(new RegExp(`^1\\s+${devnet.accounts[3]!.address}\\s+100.5`, 'm'))
    const metaJson = JSON.parse(
      (await verity('subnet', 'metagraph', '--netuid', '1', '--json', ...chain())).stdout,
    )
    expect(metaJson.neurons.map((n: { hotkey: string }) => n.hotkey)).toEqual([
      devnet.accounts[1]!.address,
      devnet.accounts[3]!.address,
    ])

    const show = JSON.parse(
      (await verity('subnet', 'show', '--netuid', '1', '--json', ...chain())).stdout,
    )
    expect(show.hyperparams).toMatchObject({ tempo: 1, commitReveal: true })

    // weights: commit, a reveal before the window opens is refused, then reveal next epoch
    const salts = join(dir, 'salts.json')
    const commit = await verity(
      'weights',
      'commit',
      '--netuid',
      '1',
      '--key',
      hot('val'),
      '--weights',
      '0:1,1:3',
      '--salts',
      salts,
      ...chain(),
    )
    expect(commit.code, commit.stderr).toBe(0)
    expect(statSync(salts).mode & 0o777).toBe(0o600)
    const tooEarly = await verity(
      'weights',
      'reveal',
      '--netuid',
      '1',
      '--key',
      hot('val'),
      '--salts',
      salts,
      ...chain(),
    )
    expectCleanError(tooEarly, 1, /reveal window is not open yet/)
    await runEpoch(devnet.walletClients[0]!, { address: devnet.addresses.verity, netuid: 1 })
    const reveal = await verity(
      'weights',
      'reveal',
      '--netuid',
      '1',
      '--key',
      hot('val'),
      '--salts',
      salts,
      ...chain(),
    )
    expect(reveal.code, reveal.stderr).toBe(0)
    const weights = JSON.parse(
      (
        await verity(
          'weights',
          'show',
          '--netuid',
          '1',
          '--hotkey',
          hot('val'),
          '--json',
          ...chain(),
        )
      ).stdout,
    )
    expect(weights).toEqual({
      netuid: 1,
      uid: 1,
      weights: [
        { uid: 0, weight: 21845 },
        { uid: 1, weight: 65535 },
      ],
    })

    // the unstake delay (10 blocks on this devnet), then withdraw
    await devnet.publicClient.request({ method: 'anvil_mine', params: [toHex(2000)] } as never)
    const withdrawn = await verity('stake', 'withdraw', '--key', key('owner'), '--json', ...chain())
    expect(withdrawn.code, withdrawn.stderr).toBe(0)
    expect(JSON.parse(withdrawn.stdout).amount).toBe('10')
  }, 180_000)

  it('wallet import, balance and transfer', async () => {
    const pk = join(dir, 'pk')
    writeFileSync(pk, `${devnet.accounts[7]!.privateKey}\n`)
    const imported = await verity(
      'wallet',
      'import',
      '--name',
      'imp',
      '--private-key-file',
      pk,
      '--dir',
      wallets,
      '--passphrase-file',
      pass,
      '--json',
    )
    expect(imported.code, imported.stderr).toBe(0)
    expect(JSON.parse(imported.stdout).address).toBe(devnet.accounts[7]!.address)
    const sent = await verity(
      'wallet',
      'transfer',
      '--key',
      key('owner'),
      '--to',
      devnet.accounts[7]!.address,
      '--amount',
      '2.5',
      ...chain(),
    )
    expect(sent.code, sent.stderr).toBe(0)
    const eth = await verity(
      'wallet',
      'transfer',
      '--key',
      key('imp'),
      '--to',
      devnet.accounts[6]!.address,
      '--amount',
      '1',
      '--eth',
      ...chain(),
    )
    expect(eth.code, eth.stderr).toBe(0)
    const balance = JSON.parse(
      (await verity('wallet', 'balance', '--key', key('imp'), '--json', ...chain())).stdout,
    )
    expect(balance.vty).toBe('2.5')
    expect(Number(balance.eth)).toBeLessThan(999_999)
    const list = await verity('wallet', 'list', '--dir', wallets, '--json')
    expect(JSON.parse(list.stdout).map((e: { wallet: string }) => e.wallet)).toContain('imp')
  }, 60_000)

  it('ends every bad input in one clear line', async () => {
    const other = join(dir, 'other-chain.json')
    writeDeployment(other, { ...devnetDeployment(devnet), chainId: 1 })
    const nocode = join(dir, 'no-code.json')
    writeDeployment(nocode, {
      ...devnetDeployment(devnet),
      contracts: {
        ...devnetDeployment(devnet).contracts,
        verity: '0x000000000000000000000000000000000000dEaD',
      },
    })
    const malformed = join(dir, 'malformed.json')
    writeFileSync(malformed, '{"format": "verity-deployment/1"')
    // a dev keyfile bound to another devnet chain id
    const [otherDev] = createWallet({
      dir: join(dir, 'other-dev'),
      wallet: 'x',
      passphrase: 'operator test',
      dev: { chainId: 1337, index: 0 },
    })
    const wrongPass = join(dir, 'wrong-pass')
    writeFileSync(wrongPass, 'not it\n')
    const base = ['--rpc', devnet.rpcUrl, '--passphrase-file', pass]
    const stakeAdd = (...extra: string[]) => [
      'stake',
      'add',
      '--netuid',
      '1',
      '--hotkey',
      hot('owner'),
      '--key',
      key('owner'),
      ...extra,
    ]
    const cases: [string[], number, RegExp][] = [
      [['subnet', 'show', '--netuid', '99', ...chain()], 1, /no subnet 99/],
      [
        [
          'stake',
          'add',
          '--netuid',
          '1',
          '--hotkey',
          hot('owner'),
          '--amount',
          '5',
          '--key',
          key('poor'),
          ...chain(),
        ],
        1,
        /insufficient VTY balance/,
      ],
      [
        [
          'wallet',
          'transfer',
          '--key',
          key('owner'),
          '--to',
          devnet.accounts[5]!.address,
          '--amount',
          '1',
          ...base,
          '--deployment',
          manifest,
          '--passphrase-file',
          wrongPass,
        ],
        1,
        /wrong passphrase/,
      ],
      [
        [...stakeAdd('--amount', '1'), '--rpc', 'http://127.0.0.1:1', '--deployment', manifest],
        2,
        /cannot reach the chain/,
      ],
      [
        [...stakeAdd('--amount', '1'), ...base, '--deployment', other],
        1,
        /manifest is for chain 1, but the RPC serves chain 31337/,
      ],
      [
        [...stakeAdd('--amount', '1'), ...base, '--deployment', nocode],
        1,
        /no contract at 0x000000000000000000000000000000000000dEaD/,
      ],
      [
        [...stakeAdd('--amount', '1'), ...base, '--deployment', join(dir, 'absent.json')],
        1,
        /does not exist/,
      ],
      [[...stakeAdd('--amount', '1'), ...base, '--deployment', malformed], 1, /is not JSON/],
      [[...stakeAdd('--amount', '1'), ...base], 2, /--deployment <manifest> is required/],
      [
        [
          'wallet',
          'transfer',
          '--key',
          key('owner'),
          '--to',
          '0x1234',
          '--amount',
          '1',
          ...chain(),
        ],
        2,
        /--to must be an address/,
      ],
      [[...stakeAdd('--amount', '-1'), ...chain()], 2, /--amount must not be negative/],
      [[...stakeAdd('--amount', '1.0000000000000000001'), ...chain()], 2, /more than 18 decimals/],
      [[...stakeAdd('--amount', 'ten'), ...chain()], 2, /--amount must be a decimal number/],
      [
        [
          'stake',
          'add',
          '--netuid',
          '1',
          '--hotkey',
          devnet.accounts[5]!.address,
          '--amount',
          '1',
          '--key',
          key('owner'),
          ...chain(),
        ],
        1,
        /is not registered on subnet 1/,
      ],
      [['wallet', 'balance', '--address', 'nope', ...chain()], 2, /--address must be an address/],
      [
        [
          'wallet',
          'transfer',
          '--key',
          otherDev!.path,
          '--to',
          devnet.accounts[5]!.address,
          '--amount',
          '1',
          ...chain(),
        ],
        1,
        /is a dev key: it may only be used on devnet chain 1337/,
      ],
      [
        [
          'wallet',
          'create',
          '--name',
          'y',
          '--dir',
          join(dir, 'other-dev'),
          '--dev',
          '--chain-id',
          '1',
          '--passphrase-file',
          pass,
        ],
        1,
        /dev keys are only allowed on a devnet/,
      ],
      [
        ['chain', 'enact', '--key', key('owner'), ...chain()],
        1,
        /no queued change names a dispute game/,
      ],
      [['subnet', 'frobnicate'], 2, /unknown subnet command 'frobnicate'/],
    ]
    const results = await Promise.all(cases.map(([args]) => verity(...args)))
    for (const [i, r] of results.entries()) expectCleanError(r, cases[i]![1], cases[i]![2])
  }, 120_000)

  it('has --help for every command and subcommand, and lists each command once', async () => {
    const top = await verity('--help')
    const names = [...top.stdout.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1])
    expect(new Set(names).size).toBe(names.length)
    for (const name of ['chain', 'wallet', 'stake', 'subnet', 'weights', 'dispute', 'verify'])
      expect(names).toContain(name)
    // every command listed exists and answers --help
    const each = await Promise.all(names.map((name) => verity(name!, '--help')))
    for (const [i, r] of each.entries()) expect(r.code, `${names[i]}: ${r.stderr}`).toBe(0)
    const helps = [
      ['chain', 'deploy'],
      ['chain', 'enact'],
      ['chain', 'show'],
      ['wallet', 'balance'],
      ['wallet', 'transfer'],
      ['stake', 'withdraw'],
      ['subnet', 'register'],
      ['weights', 'reveal'],
      ['yuma', 'simulate'],
      ['wallet', 'import'],
      ['stake', 'add'],
      ['subnet', 'metagraph'],
      ['weights', 'commit'],
      ['dispute', 'status'],
      ['verify'],
    ]
    const results = await Promise.all(helps.map((words) => verity(...words, '--help')))
    for (const r of results) {
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout).toMatch(/^usage:\s+verity /)
    }
  }, 60_000)
})
