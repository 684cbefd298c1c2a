import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Address, formatEther, keccak256, parseEther, toHex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectCleanError, runVerity } from '../../test/verity-cli.ts'
import { verityTokenAbi } from '../chain/abis.ts'
import { acceptBid } from '../chain/actions/acceptBid.ts'
import { approveToken } from '../chain/actions/approveToken.ts'
import { createOrder } from '../chain/actions/createOrder.ts'
import { placeBid } from '../chain/actions/placeBid.ts'
import { registerProvider } from '../chain/actions/registerProvider.ts'
import { transferToken } from '../chain/actions/transferToken.ts'
import { writeDeployment } from '../chain/deployment.ts'
import { type Devnet, devnetDeployment, startDevnet } from '../chain/devnet.ts'
import { deployMarket } from '../chain/market.ts'
import { createWallet } from '../node/wallet.ts'

const dir = mkdtempSync(join(tmpdir(), 'verity-market-'))
const wallets = join(dir, 'wallets')
const pass = join(dir, 'pass')
const manifest = join(dir, 'deployment.json')
const bare = join(dir, 'bare.json')
let devnet: Devnet
let market: Address

const verity = (...args: string[]) => runVerity(args)

/** Runs `run` over `items`, `size` at a time. */
async function inBatches<T>(items: T[], size: number, run: (item: T) => Promise<void>) {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(run))
}

const key = (wallet: string) => join(wallets, wallet, 'coldkey.json')
const chain = (m = manifest) => [
  '--rpc',
  devnet.rpcUrl,
  '--deployment',
  m,
  '--passphrase-file',
  pass,
]
const ok = (r: Awaited<ReturnType<typeof verity>>) => {
  expect(r.code, r.stderr).toBe(0)
  return r
}
const json = async (...args: string[]) => JSON.parse(ok(await verity(...args, '--json')).stdout)

const PRICE = parseEther('0.25')
const vty = (wei: bigint) => formatEther(wei)

async function balance(who: Address): Promise<bigint> {
  return await devnet.publicClient.readContract({
    address: devnet.addresses.token,
    abi: verityTokenAbi,
    functionName: 'balanceOf',
    args: [who],
  })
}

beforeAll(async () => {
  // 0 deploys; 1 tenant; 2 provider; 3 a rival provider (and a stranger to the lease)
  devnet = await startDevnet({ accounts: 4 })
  const w = devnet.walletClients
  market = await deployMarket(devnet.publicClient, w[0]!, {
    token: devnet.addresses.token,
    bidDeposit: parseEther('5'),
    minEscrow: parseEther('1'),
  })
  for (const i of [1, 2, 3])
    await transferToken(w[0]!, {
      token: devnet.addresses.token,
      to: devnet.accounts[i]!.address,
      amount: parseEther('1000'),
    })
  writeDeployment(manifest, devnetDeployment(devnet, undefined, market))
  writeDeployment(bare, devnetDeployment(devnet))
  writeFileSync(pass, 'market test\n')
  for (const [wallet, index] of [
    ['tenant', 1],
    ['provider', 2],
    ['rival', 3],
  ] as const)
    createWallet({
      dir: wallets,
      wallet,
      passphrase: 'market test',
      dev: { chainId: 31337, index },
    })
}, 60_000)

afterAll(async () => {
  await devnet?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('verity market on a devnet', () => {
  it('a whole lease: register, order, bids, accept, list, deposit, withdraw, close', async () => {
    const w = devnet.walletClients
    const tenant = devnet.accounts[1]!.address
    const provider = devnet.accounts[2]!.address
    const rival = devnet.accounts[3]!.address

    const registered = await json(
      'market',
      'provider',
      'register',
      '--key',
      key('provider'),
      '--host-uri',
      'https://p1.example:8443',
      '--attributes',
      'region=eu-west,gpu=h100',
      ...chain(),
    )
    expect(registered).toMatchObject({ provider, hostUri: 'https://p1.example:8443' })
    await registerProvider(w[3]!, {
      address: market,
      hostUri: 'https://p2.example',
      attributes: { region: 'eu-west' },
    })

    // the tenant's order, through the chain actions
    const specHash = keccak256(toHex('a deployment spec'))
    await approveToken(w[1]!, {
      token: devnet.addresses.token,
      spender: market,
      amount: 10n ** 30n,
    })
    const { orderId } = await createOrder(w[1]!, {
      address: market,
      order: {
        specHash,
        resources: { cpuMilli: 1000, gpuUnits: 1, memoryBytes: 2n ** 30n, storageBytes: 2n ** 32n },
        maxPricePerBlock: parseEther('1'),
        bidWindow: 50n,
        requirements: { region: 'eu-west' },
      },
      deposit: parseEther('100'),
    })
    expect(orderId).toBe(1n)
    const created = await devnet.publicClient.getBlockNumber()

    for (const i of [2, 3])
      await approveToken(w[i]!, {
        token: devnet.addresses.token,
        spender: market,
        amount: 10n ** 30n,
      })
    const { bidId } = await placeBid(w[2]!, { address: market, orderId, pricePerBlock: PRICE })
    const { bidId: rivalBid } = await placeBid(w[3]!, {
      address: market,
      orderId,
      pricePerBlock: parseEther('0.5'),
    })

    // before acceptance: the order is open, two open bids
    expect(await json('market', 'orders', '--open', ...chain())).toEqual([
      {
        orderId: 1,
        tenant,
        state: 'open',
        maxPricePerBlock: '1',
        bidDeadline: Number(created + 50n),
        escrow: '100',
        specHash,
        leaseId: null,
      },
    ])
    const providers = await json('market', 'providers', ...chain())
    expect(providers).toEqual([
      {
        provider,
        hostUri: 'https://p1.example:8443',
        attributes: { region: 'eu-west', gpu: 'h100' },
        generation: 1,
        openBids: 1,
        openLeases: 0,
      },
      {
        provider: rival,
        hostUri: 'https://p2.example',
        attributes: { region: 'eu-west' },
        generation: 1,
        openBids: 1,
        openLeases: 0,
      },
    ])

    const { leaseId } = await acceptBid(w[1]!, { address: market, bidId })
    expect(leaseId).toBe(bidId)
    const start = await devnet.publicClient.getBlockNumber()
    await devnet.publicClient.request({ method: 'anvil_mine', params: [toHex(8)] } as never)

    // read-only: four at a time
    const [openOrders, tenantOrders, providerOrders, bidList] = await Promise.all([
      json('market', 'orders', '--open', ...chain()),
      json('market', 'orders', '--tenant', tenant, ...chain()),
      json('market', 'orders', '--tenant', provider, ...chain()),
      json('market', 'bids', '1', ...chain()),
    ])
    expect(openOrders).toEqual([])
    expect(tenantOrders).toEqual([
      {
        orderId: 1,
        tenant,
        state: 'leased',
        maxPricePerBlock: '1',
        bidDeadline: Number(created + 50n),
        escrow: '98',
        specHash,
        leaseId: Number(leaseId),
      },
    ])
    expect(providerOrders).toEqual([])
    expect(bidList).toEqual([
      {
        bidId: Number(bidId),
        orderId: 1,
        provider,
        pricePerBlock: '0.25',
        deposit: '5',
        state: 'active',
        createdBlock: Number(created + 3n),
      },
      {
        bidId: Number(rivalBid),
        orderId: 1,
        provider: rival,
        pricePerBlock: '0.5',
        deposit: '5',
        state: 'lost',
        createdBlock: Number(created + 4n),
      },
    ])
    const lease = {
      leaseId: Number(leaseId),
      orderId: 1,
      provider,
      tenant,
      pricePerBlock: '0.25',
      state: 'active',
      closeReason: null,
      startBlock: Number(start),
      closedBlock: null,
      earned: '2',
      settled: '0',
      pending: '2',
      withdrawn: '0',
      withdrawable: '2',
      depleted: false,
    }
    const [providerLeases, rivalLeases, shown, table] = await Promise.all([
      json('market', 'leases', '--provider', provider, ...chain()),
      json('market', 'leases', '--tenant', rival, ...chain()),
      json('market', 'provider', 'show', provider, ...chain()),
      verity('market', 'leases', ...chain()),
    ])
    expect(providerLeases).toEqual([lease])
    expect(rivalLeases).toEqual([])
    expect(shown).toEqual({
      provider,
      hostUri: 'https://p1.example:8443',
      attributes: { region: 'eu-west', gpu: 'h100' },
      generation: 1,
      openBids: 0,
      openLeases: 1,
      leases: [Number(leaseId)],
    })
    // the table form prints too
    expect(ok(table).stdout).toMatch(/^LEASE\s+ORDER\s+PROVIDER/)

    // the tenant tops up through the lease's id (approve, then deposit: settled first)
    const deposited = await json(
      'market',
      'deposit',
      String(leaseId),
      '10',
      '--lease',
      '--key',
      key('tenant'),
      ...chain(),
    )
    const d = BigInt(deposited.block)
    expect(deposited).toMatchObject({
      orderId: 1,
      amount: '10',
      escrow: vty(parseEther('110') - PRICE * (d - start)),
    })

    // the provider takes all it has earned up to now
    const before = await balance(provider)
    const now = await devnet.publicClient.getBlockNumber()
    const withdrawn = await json(
      'market',
      'withdraw',
      String(leaseId),
      '--key',
      key('provider'),
      ...chain(),
    )
    expect(withdrawn).toMatchObject({ amount: vty(PRICE * (now - start)), closed: null })
    expect(await balance(provider)).toBe(before + PRICE * (now - start))
    const wBlock = BigInt(withdrawn.block)
    // and a part, explicitly
    const part = await json(
      'market',
      'withdraw',
      String(leaseId),
      '--amount',
      '0.1',
      '--key',
      key('provider'),
      ...chain(),
    )
    expect(part.amount).toBe('0.1')
    const pBlock = BigInt(part.block)

    // the tenant closes: the rest of the escrow comes back
    const tenantBefore = await balance(tenant)
    const providerBefore = await balance(provider)
    const closed = await json(
      'market',
      'close',
      String(leaseId),
      '--key',
      key('tenant'),
      ...chain(),
    )
    const c = BigInt(closed.block)
    const refund = parseEther('110') - PRICE * (c - start)
    // unwithdrawn: one block settled at the first withdrawal, the blocks since, less 0.1
    const earnedLeft = PRICE * (c - wBlock) + PRICE * (wBlock - now) - parseEther('0.1')
    expect(pBlock).toBe(wBlock + 1n)
    expect(closed).toMatchObject({
      leaseId: Number(leaseId),
      orderId: 1,
      reason: 'tenant',
      closedBy: tenant,
      provider,
      tenant,
      tenantRefund: vty(refund),
      providerPaid: vty(earnedLeft + parseEther('5')),
    })
    expect(await balance(tenant)).toBe(tenantBefore + refund)
    expect(await balance(provider)).toBe(providerBefore + earnedLeft + parseEther('5'))
    const [after] = await json('market', 'leases', ...chain())
    expect(after).toMatchObject({
      state: 'closed',
      closeReason: 'tenant',
      closedBlock: Number(c),
      earned: vty(PRICE * (c - start)),
      settled: vty(PRICE * (c - start)),
      pending: '0',
      withdrawn: vty(PRICE * (now - start) + parseEther('0.1')),
      withdrawable: '0',
    })
    expect((await json('market', 'orders', ...chain()))[0]).toMatchObject({
      state: 'closed',
      escrow: '0',
    })

    // refusals after the close
    expectCleanError(
      await verity('market', 'close', String(leaseId), '--key', key('tenant'), ...chain()),
      1,
      /lease 1 is already closed \(tenant/,
    )
    expectCleanError(
      await verity('market', 'deposit', '1', '5', '--key', key('tenant'), ...chain()),
      1,
      /order 1 is closed/,
    )
  })

  it('refuses bad input and other people’s leases in one line', async () => {
    const w = devnet.walletClients
    // a fresh lease for the refusals: order 2, the provider's bid accepted (the CLI's deposit
    // approved exactly what it deposited, so the tenant approves again)
    await approveToken(w[1]!, {
      token: devnet.addresses.token,
      spender: market,
      amount: 10n ** 30n,
    })
    const { orderId } = await createOrder(w[1]!, {
      address: market,
      order: {
        specHash: keccak256(toHex('another spec')),
        resources: { cpuMilli: 500, gpuUnits: 0, memoryBytes: 1n, storageBytes: 1n },
        maxPricePerBlock: parseEther('1'),
        bidWindow: 50n,
      },
      deposit: parseEther('20'),
    })
    const { bidId } = await placeBid(w[2]!, { address: market, orderId, pricePerBlock: PRICE })
    const { leaseId } = await acceptBid(w[1]!, { address: market, bidId })
    const id = String(leaseId)
    // none of these changes the chain: they run a few at a time
    const cases: [() => ReturnType<typeof verity>, number, RegExp][] = []
    const refuse = (run: () => ReturnType<typeof verity>, code: number, message: RegExp) =>
      cases.push([run, code, message])

    refuse(
      () => verity('market', 'orders', ...chain(bare)),
      1,
      /this deployment has no compute market/,
    )
    refuse(() => verity('market', 'bids', 'abc', ...chain()), 2, /<orderId> must be/)
    refuse(() => verity('market', 'bids', '0', ...chain()), 2, /<orderId> must be/)
    refuse(() => verity('market', 'bids', '999', ...chain()), 1, /no order 999/)
    refuse(() => verity('market', 'bids', ...chain()), 2, /<orderId> is required/)
    refuse(() => verity('market', 'frob', ...chain()), 2, /unknown market command 'frob'/)
    refuse(
      () => verity('market', 'orders', '--tenant', 'nobody', ...chain()),
      2,
      /--tenant must be an address/,
    )
    refuse(
      () => verity('market', 'deposit', '2', '-5', '--key', key('tenant'), ...chain()),
      2,
      /must not be negative/,
    )
    refuse(
      () => verity('market', 'deposit', '2', 'ten', '--key', key('tenant'), ...chain()),
      2,
      /must be a decimal number/,
    )
    refuse(
      () => verity('market', 'deposit', '2', '1', '--key', key('rival'), ...chain()),
      1,
      /is not the tenant of order 2/,
    )
    refuse(
      () => verity('market', 'close', id, '--reason', 'bored', '--key', key('tenant'), ...chain()),
      2,
      /--reason must be tenant, provider-gone, provider or insufficient-funds/,
    )
    refuse(
      () => verity('market', 'close', '999', '--key', key('tenant'), ...chain()),
      1,
      /no lease 999/,
    )
    // someone else's lease: the contract refuses, in words
    refuse(
      () => verity('market', 'close', id, '--key', key('rival'), ...chain()),
      1,
      new RegExp(`${devnet.accounts[3]!.address} may not close lease ${id} for reason tenant`),
    )
    refuse(
      () =>
        verity('market', 'close', id, '--reason', 'provider', '--key', key('tenant'), ...chain()),
      1,
      /may not close lease .* for reason provider/,
    )
    refuse(
      () =>
        verity(
          'market',
          'close',
          id,
          '--reason',
          'insufficient-funds',
          '--key',
          key('rival'),
          ...chain(),
        ),
      1,
      /is not out of funds/,
    )
    refuse(
      () => verity('market', 'withdraw', id, '--key', key('tenant'), ...chain()),
      1,
      /is not the provider of lease/,
    )
    refuse(
      () =>
        verity('market', 'withdraw', id, '--amount', '1000', '--key', key('provider'), ...chain()),
      1,
      /cannot withdraw 1000 VTY from lease .*: it has earned/,
    )
    refuse(
      () =>
        verity('market', 'withdraw', id, '--amount', '-1', '--key', key('provider'), ...chain()),
      2,
      /--amount must not be negative/,
    )
    refuse(
      () =>
        verity(
          'market',
          'provider',
          'register',
          '--key',
          key('provider'),
          '--host-uri',
          'https://again.example',
          ...chain(),
        ),
      1,
      /is already a registered provider/,
    )
    refuse(
      () =>
        verity(
          'market',
          'provider',
          'register',
          '--key',
          key('rival'),
          '--host-uri',
          'not a url',
          ...chain(),
        ),
      2,
      /--host-uri must be an http\(s\) URL/,
    )
    refuse(
      () =>
        verity(
          'market',
          'provider',
          'register',
          '--key',
          key('rival'),
          '--host-uri',
          'https://x.example',
          '--attributes',
          'region',
          ...chain(),
        ),
      2,
      /--attributes must be key=value pairs/,
    )
    refuse(
      () => verity('market', 'provider', 'show', '0x1234', ...chain()),
      2,
      /<address> must be an address/,
    )
    refuse(
      () => verity('market', 'provider', 'show', devnet.accounts[0]!.address, ...chain()),
      1,
      /is not a registered provider/,
    )

    await inBatches(cases, 3, async ([run, code, message]) =>
      expectCleanError(await run(), code, message),
    )

    // the escrow (20 VTY at 0.25 a block) runs out: no more deposits; the provider closes its
    // lease (by default for reason provider, which the contract records as insufficient-funds)
    await devnet.publicClient.request({ method: 'anvil_mine', params: [toHex(100)] } as never)
    expectCleanError(
      await verity('market', 'deposit', '2', '5', '--key', key('tenant'), ...chain()),
      1,
      new RegExp(`the escrow of lease ${id} has run out: the lease can only be closed now`),
    )
    const [depleted] = await json(
      'market',
      'leases',
      '--tenant',
      devnet.accounts[1]!.address,
      ...chain(),
    ).then((all: { leaseId: number }[]) => all.filter((l) => l.leaseId === Number(leaseId)))
    expect(depleted).toMatchObject({ state: 'active', depleted: true, earned: '20', pending: '20' })
    const closed = await json('market', 'close', id, '--key', key('provider'), ...chain())
    expect(closed).toMatchObject({
      reason: 'insufficient-funds',
      closedBy: devnet.accounts[2]!.address,
      providerPaid: '25',
      tenantRefund: '0',
    })

    const subs = ['orders', 'bids', 'leases', 'providers', 'close', 'deposit', 'withdraw']
    await inBatches(subs, 3, async (sub) => {
      const r = ok(await verity('market', sub, '--help'))
      expect(r.stdout).toMatch(/usage: verity market orders/)
    })
    expect(ok(await verity('market', 'provider', 'register', '--help')).stdout).toMatch(
      /verity market provider register/,
    )
    expect(ok(await verity('--help')).stdout).toMatch(/\n {2}market /)
  })
})
