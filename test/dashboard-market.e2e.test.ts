import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Browser, chromium, type Page } from 'playwright-core'
import { formatEther, keccak256, parseEther, stringToHex, toHex } from 'viem'
import { build } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verityTokenAbi } from '../src/chain/abis.ts'
import { acceptBid } from '../src/chain/actions/acceptBid.ts'
import { addStake } from '../src/chain/actions/addStake.ts'
import { approveToken } from '../src/chain/actions/approveToken.ts'
import { createOrder } from '../src/chain/actions/createOrder.ts'
import { getBid } from '../src/chain/actions/getBid.ts'
import { getDispute } from '../src/chain/actions/getDispute.ts'
import { getDisputeLog } from '../src/chain/actions/getDisputeLog.ts'
import { getLease } from '../src/chain/actions/getLease.ts'
import { getOpenBids } from '../src/chain/actions/getOpenBids.ts'
import { getOrder } from '../src/chain/actions/getOrder.ts'
import { listDisputes } from '../src/chain/actions/listDisputes.ts'
import { listLeases } from '../src/chain/actions/listLeases.ts'
import { listOrders } from '../src/chain/actions/listOrders.ts'
import { listProviders } from '../src/chain/actions/listProviders.ts'
import { openDispute } from '../src/chain/actions/openDispute.ts'
import { placeBid } from '../src/chain/actions/placeBid.ts'
import { registerProvider } from '../src/chain/actions/registerProvider.ts'
import { signAttributes } from '../src/chain/actions/signAttributes.ts'
import { withdrawLease } from '../src/chain/actions/withdrawLease.ts'
import { type Devnet, devnetDeployment, startDevnet } from '../src/chain/devnet.ts'
import {
  DEVNET_DISPUTE_PARAMS,
  DEVNET_DISPUTE_UNSTAKE_DELAY,
  installDisputeGame,
} from '../src/chain/devnet-dispute.ts'
import { DisputePhase, DisputeReason } from '../src/chain/dispute.ts'
import { deployMarket, fromBytes32 } from '../src/chain/market.ts'
import { type GatewayServer, startGatewayServer } from '../src/gateway/server.ts'
import { subtleFault } from '../src/node/cheat.ts'
import { setupSubnet } from '../src/node/network.ts'
import { generate } from '../src/runtime/generate.ts'
import { testModel, trainedModelBytes } from '../src/runtime/test-model.ts'
import type { TraceFault } from '../src/runtime/trace/ops.ts'
import { disputeRequest, openParams } from '../src/verify/dispute/open.ts'
import { type PlayResult, playDispute } from '../src/verify/dispute/play.ts'
import { DisputePlayer } from '../src/verify/dispute/player.ts'
import { completionRequest, signedCoreAnswer } from './core-answer.ts'

/**
 * The dashboard's disputes and market pages in Debian's chromium, against a devnet with the
 * dispute game and the compute market: a cheater's lost dispute, one left mid-bisection and one
 * just opened; two providers (one audited), a leased order with a settled lease and an order with
 * an open bid. Every row the pages show is compared with what the same chain actions read.
 * Screenshots go to docs/dashboard/ with VERITY_UPDATE_SCREENSHOTS=1.
 */
const CHROMIUM = process.env.VERITY_CHROMIUM ?? '/usr/bin/chromium'
const root = join(import.meta.dirname, '..')
const shots =
  process.env.VERITY_UPDATE_SCREENSHOTS === '1'
    ? join(root, 'docs', 'dashboard')
    : mkdtempSync(join(tmpdir(), 'verity-dashboard-market-shots-'))
const model = testModel()
const STAKE = parseEther('1000')
type Wallet = Devnet['walletClients'][number]
let devnet: Devnet
let game: `0x${string}`
let market: `0x${string}`
let netuid: number
/**
 * With the game and market; without either; naming another contract (the token) as both, which
 * logged none of their events; and one whose RPC nothing answers.
 */
let server: GatewayServer
let bare: GatewayServer
let elsewhere: GatewayServer
let unreachable: GatewayServer
let browser: Browser
let page: Page
const errors: string[] = []
let cheaterGame: PlayResult
const PARTIAL_ROUNDS = 2

const request = completionRequest(model)
const wallet = (i: number) => devnet.walletClients[i] as Wallet

/** Opens a dispute on `miner`'s answer: with the honest root on a cheater, a random one otherwise. */
async function open(miner: Wallet, fault?: TraceFault) {
  const answer = await signedCoreAnswer({
    devnet,
    netuid,
    model,
    miner: miner.account,
    request,
    validity: DEVNET_DISPUTE_PARAMS.maxValidity,
    ...(fault ? { fault } : {}),
  })
  const honest = generate(model, disputeRequest(request, answer.tokens))
  const params = openParams({
    receipt: answer.receipt,
    request,
    tokens: answer.tokens,
    model,
    claimedRoot: fault
      ? toHex(honest.traceRoot!)
      : toHex(crypto.getRandomValues(new Uint8Array(32))),
  })
  const { id } = await openDispute(wallet(4), { address: game, open: params })
  const player = (role: 'miner' | 'challenger') =>
    new DisputePlayer({
      model,
      request: disputeRequest(request, answer.tokens),
      role,
      partElements: 4096,
      ...(role === 'miner' && fault ? { fault } : {}),
      ...(role === 'challenger' && !fault ? { liar: { seed: 11 } } : {}),
    })
  const play = (maxMoves?: number) =>
    playDispute({
      client: devnet.publicClient,
      game,
      id,
      miner: { wallet: miner, player: player('miner') },
      challenger: { wallet: wallet(4), player: player('challenger') },
      ...(maxMoves ? { maxMoves } : {}),
    })
  return { id, play }
}

async function fund(to: Wallet, amount: bigint, spender: `0x${string}`) {
  const hash = await wallet(0).writeContract({
    address: devnet.addresses.token,
    abi: verityTokenAbi,
    functionName: 'transfer',
    args: [to.account.address, amount],
  })
  await devnet.publicClient.waitForTransactionReceipt({ hash })
  await approveToken(to, { token: devnet.addresses.token, spender, amount })
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium (scripts/ci-deps.sh) or set VERITY_CHROMIUM`,
    )
  await build({ configFile: join(root, 'dashboard', 'vite.config.ts'), logLevel: 'warn' })
  // 0 owner, 1 validator, 2 honest miner, 3 cheater, 4 challenger, 5-6 providers, 7 auditor, 8 tenant
  devnet = await startDevnet({ accounts: 9, unstakeDelay: DEVNET_DISPUTE_UNSTAKE_DELAY })
  ;({ game } = await installDisputeGame(devnet))
  netuid = await setupSubnet(devnet, {
    model,
    ggufBytes: trainedModelBytes(),
    miners: [wallet(2), wallet(3)],
    validators: [wallet(1)],
  })
  for (const m of [wallet(2), wallet(3)])
    await addStake(wallet(0), {
      address: devnet.addresses.verity,
      netuid,
      hotkey: m.account.address,
      amount: STAKE,
    })
  await fund(wallet(4), parseEther('100'), game)

  // Disputes: the cheater's, played to its end; the honest miner's, two rounds in; a fresh one.
  cheaterGame = await (await open(wallet(3), subtleFault(model.config, request))).play()
  const partial = await open(wallet(2))
  await expect(partial.play(2 * PARTIAL_ROUNDS - 1)).rejects.toThrow(/did not end/)
  await open(wallet(2))

  // The market: provider 5 (audited by 7) leases order 1 to tenant 8; provider 6 bids on order 2.
  market = await deployMarket(devnet.publicClient, wallet(0), {
    token: devnet.addresses.token,
    bidDeposit: parseEther('5'),
    minEscrow: parseEther('1'),
  })
  for (const i of [5, 6, 8]) await fund(wallet(i), parseEther('1000'), market)
  const attributes = { region: 'eu-west', gpu: 'h100' }
  await registerProvider(wallet(5), {
    address: market,
    hostUri: 'https://provider-a.example:8443',
    attributes,
  })
  await registerProvider(wallet(6), {
    address: market,
    hostUri: 'https://provider-b.example',
    attributes: { region: 'us-east' },
  })
  await signAttributes(wallet(7), {
    address: market,
    provider: wallet(5).account.address,
    attributes,
  })
  // a signature of a value provider 6 does not claim: it does not make provider 6 audited
  await signAttributes(wallet(7), {
    address: market,
    provider: wallet(6).account.address,
    attributes: { region: 'eu-central' },
  })
  const spec = (name: string, gpuUnits: number) => ({
    specHash: keccak256(stringToHex(name)),
    resources: {
      cpuMilli: 2000,
      gpuUnits,
      memoryBytes: 4n * 1024n ** 3n,
      storageBytes: 10n * 1024n ** 3n,
    },
    maxPricePerBlock: parseEther('0.5'),
    bidWindow: 1000n,
  })
  const leased = await createOrder(wallet(8), {
    address: market,
    order: spec('inference deployment', 1),
    deposit: parseEther('100'),
  })
  const waiting = await createOrder(wallet(8), {
    address: market,
    order: spec('batch deployment', 0),
    deposit: parseEther('20'),
  })
  const { bidId } = await placeBid(wallet(5), {
    address: market,
    orderId: leased.orderId,
    pricePerBlock: parseEther('0.25'),
  })
  await placeBid(wallet(6), {
    address: market,
    orderId: waiting.orderId,
    pricePerBlock: parseEther('0.125'),
  })
  const { leaseId } = await acceptBid(wallet(8), { address: market, bidId })
  await devnet.publicClient.request({ method: 'anvil_mine', params: ['0x4'] } as never)
  await withdrawLease(wallet(5), { address: market, leaseId, amount: parseEther('0.5') })

  const dashboard = { rpcUrl: devnet.rpcUrl }
  server = startGatewayServer({
    port: 0,
    pools: [],
    dashboard: { ...dashboard, deployment: devnetDeployment(devnet, game, market) },
  })
  bare = startGatewayServer({
    port: 0,
    pools: [],
    dashboard: { ...dashboard, deployment: devnetDeployment(devnet) },
  })
  const token = devnet.addresses.token
  elsewhere = startGatewayServer({
    port: 0,
    pools: [],
    dashboard: { ...dashboard, deployment: devnetDeployment(devnet, token, token) },
  })
  // a port nothing listens on: the pages must say they cannot read the chain
  unreachable = startGatewayServer({
    port: 0,
    pools: [],
    dashboard: { rpcUrl: 'http://127.0.0.1:9', deployment: devnetDeployment(devnet, game, market) },
  })
  await Promise.all([server.start(), bare.start(), elsewhere.start(), unreachable.start()])
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox'],
  })
  page = await browser.newPage({ viewport: { width: 1280, height: 720 } })
  page.on('pageerror', (e) => errors.push(e.message))
  mkdirSync(shots, { recursive: true })
}, 600_000)

afterAll(async () => {
  if (process.env.VERITY_UPDATE_SCREENSHOTS !== '1') rmSync(shots, { recursive: true, force: true })
  await browser?.close()
  await Promise.all([server?.stop(), bare?.stop(), elsewhere?.stop(), unreachable?.stop()])
  await devnet?.stop()
})

/** The text of every cell of a table's body, row by row. */
const cells = (p: Page, table: string) =>
  p
    .locator(`#${table} tbody tr`)
    .evaluateAll((trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')),
    )
/** The tooltips (title) of one column's cells. */
const titles = (p: Page, table: string, column: number) =>
  p
    .locator(`#${table} tbody tr td:nth-child(${column + 1})`)
    .evaluateAll((tds) => tds.map((td) => td.getAttribute('title')))
const short = (hex: string) => `${hex.slice(0, 6)}…${hex.slice(-4)}`
const reasonText = (reason: number) =>
  Object.entries(DisputeReason)
    .find(([, v]) => v === reason)![0]
    .toLowerCase()
    .replaceAll('_', ' ')

describe('disputes page', () => {
  it("lists every dispute as the game has it, undecided first, and opens one's move log", async () => {
    const started = performance.now()
    await page.goto(`${server.url}/dashboard/#/disputes`)
    await page.locator('#disputes tbody tr').first().waitFor({ timeout: 30_000 })
    console.log(
      `disputes page: rows shown ${(performance.now() - started).toFixed(0)} ms after navigation`,
    )
    const address = game
    const listed = await listDisputes(devnet.publicClient, { address })
    expect(listed.map((d) => d.id)).toEqual([1n, 2n, 3n])
    const stored = await Promise.all(
      listed.map((d) => getDispute(devnet.publicClient, { address, id: d.id })),
    )
    // the chain: 1 decided against the cheater, 2 mid-bisection, 3 not yet answered
    expect(listed[0]!.decided?.minerLost).toBe(true)
    expect(listed[0]!.slashed).toBe(cheaterGame.slashed)
    expect(cheaterGame.slashed).toBeGreaterThan(0n)
    expect(stored[1]!.phase).not.toBe(DisputePhase.DONE)
    expect(stored[2]!.phase).toBe(DisputePhase.BISECT)

    const expected = listed.map((d, i) => {
      const s = stored[i]!
      const rounds = [cheaterGame.rounds, PARTIAL_ROUNDS, 0][i]!
      const range =
        d.decided === undefined
          ? `bisect: leaves ${s.index << BigInt(s.height)}–${((s.index + 1n) << BigInt(s.height)) - 1n}`
          : ''
      return [
        String(d.id),
        String(d.netuid),
        short(d.miner),
        short(d.challenger),
        short(d.receiptDigest),
        d.decided ? 'decided' : rounds > 0 ? 'rounds played' : 'open',
        String(rounds),
        range,
        d.decided ? `miner lost (${reasonText(d.decided.reason)})` : '',
        formatEther(d.slashed),
        formatEther(s.bond),
      ]
    })
    // undecided first (2, 3), then the decided one
    expect(await cells(page, 'disputes')).toEqual([expected[1], expected[2], expected[0]])
    expect(expected[0]![10]).toBe(formatEther(DEVNET_DISPUTE_PARAMS.bond))
    // shortened cells carry the whole value as their tooltip
    expect(await titles(page, 'disputes', 2)).toEqual(
      [listed[1], listed[2], listed[0]].map((d) => d!.miner),
    )
    expect(await titles(page, 'disputes', 4)).toEqual(
      [listed[1], listed[2], listed[0]].map((d) => d!.receiptDigest),
    )
    expect(await page.locator('#disputes caption').textContent()).toMatch(/: 3, 2 undecided$/)
    await page.screenshot({ path: join(shots, 'disputes.png'), fullPage: true })

    // Sorting by keyboard: the ID header, Enter: ascending ids.
    await page.getByRole('button', { name: /^ID/ }).focus()
    await page.keyboard.press('Enter')
    expect((await cells(page, 'disputes')).map((r) => r[0])).toEqual(['1', '2', '3'])
    await page.keyboard.press('Enter')
    expect((await cells(page, 'disputes')).map((r) => r[0])).toEqual(['3', '2', '1'])

    // The decided dispute's log, opened by keyboard: its events as the game logged them.
    await page.getByRole('button', { name: 'Open id 1' }).focus()
    await page.keyboard.press('Enter')
    const moves = page.locator('#moves tbody tr')
    await moves.first().waitFor({ timeout: 30_000 })
    await expect
      .poll(() => page.evaluate<string | undefined>('document.activeElement?.id'))
      .toBe('dispute-log-title')
    const log = await getDisputeLog(devnet.publicClient, { address, id: 1n })
    const shown = await cells(page, 'moves')
    const names = shown.map((r) => r[2])
    expect(names[0]).toBe('DisputeOpened')
    expect(names).toContain('MinerSlashed')
    expect(names.filter((n) => n === 'DisputeDecided')).toHaveLength(1)
    expect(shown.find((r) => r[2] === 'MinerSlashed')?.[3]).toBe(
      `miner ${short(listed[0]!.miner)}, slashed ${formatEther(log.slashed!.slashed)} VTY, paid ${formatEther(log.slashed!.paid)} VTY`,
    )
    // every reveal the log holds is in one ChildrenRevealed row
    const revealedNodes = [...log.revealed.values()].reduce((n, m) => n + m.size, 0)
    const revealRows = shown.filter((r) => r[2] === 'ChildrenRevealed')
    expect(revealRows.length).toBeGreaterThan(0)
    expect(
      revealRows.reduce((n, r) => n + Number(/nodes \[(\d+)\]/.exec(r[3]!)?.[1] ?? Number.NaN), 0),
    ).toBe(revealedNodes)
    const facts = (await page.locator('#dispute-log .facts').textContent()) ?? ''
    expect(facts).toContain(log.claimedRoot!)
    expect(facts).toContain(
      `${formatEther(log.slashed!.slashed)} VTY, ${formatEther(log.slashed!.paid)} VTY`,
    )
    await page.screenshot({ path: join(shots, 'disputes-log.png'), fullPage: true })

    // The fresh dispute's log: opened and bonded, nothing else (not another dispute's events).
    await page.getByRole('button', { name: 'Open id 3' }).click()
    await expect
      .poll(async () => (await cells(page, 'moves')).map((r) => r[2]))
      .toEqual(['DisputeOpened', 'BondTaken'])
  })

  it('says when there is no dispute game or no dispute, and shows an unreachable chain as an alert', async () => {
    await page.goto(`${bare.url}/dashboard/#/disputes`)
    await expect
      .poll(() => page.locator('main p').first().textContent())
      .toBe('No dispute game is named on this deployment.')
    await page.goto(`${elsewhere.url}/dashboard/#/disputes`)
    await page.locator('#no-disputes').waitFor({ timeout: 30_000 })
    expect(await page.locator('#no-disputes').textContent()).toBe(
      'No dispute has been opened on this chain.',
    )
    expect(await page.locator('table').count()).toBe(0)
    await page.goto(`${unreachable.url}/dashboard/#/disputes`)
    const alert = page.getByRole('alert')
    await alert.waitFor({ timeout: 30_000 })
    expect(await alert.textContent()).toMatch(
      /^Cannot read the disputes at http:\/\/127\.0\.0\.1:9/,
    )
  })
})

describe('market page', () => {
  it('shows providers, orders, open bids and leases as the market has them', async () => {
    const started = performance.now()
    await page.goto(`${server.url}/dashboard/#/market`)
    await page.locator('#leases tbody tr').first().waitFor({ timeout: 30_000 })
    console.log(
      `market page: rows shown ${(performance.now() - started).toFixed(0)} ms after navigation`,
    )
    const address = market
    const client = devnet.publicClient

    const providers = await listProviders(client, { address })
    expect(providers).toHaveLength(2)
    const auditor = wallet(7).account.address
    expect(await cells(page, 'providers')).toEqual(
      providers.map((p, i) => [
        short(p.provider),
        p.hostUri,
        p.attributes.map((a) => `${fromBytes32(a.key)}=${fromBytes32(a.value)}`).join(', '),
        // provider 5's attributes are signed by the auditor, provider 6's region is not
        i === 0 ? `yes, by ${short(auditor)}` : 'no',
        'yes',
      ]),
    )
    expect((await cells(page, 'providers'))[0]![2]).toBe('region=eu-west, gpu=h100')
    expect(await titles(page, 'providers', 0)).toEqual(providers.map((p) => p.provider))
    expect(await titles(page, 'leases', 2)).toEqual([wallet(8).account.address])

    const orders = await listOrders(client, { address })
    const stored = await Promise.all(
      orders.map((o) => getOrder(client, { address, orderId: o.orderId })),
    )
    expect(stored.map((o) => o.state)).toEqual([2, 1])
    const shownOrders = await cells(page, 'orders')
    expect(shownOrders.map((r) => [r[0], r[1], r[3], r[4], r[5]])).toEqual(
      orders.map((o, i) => [
        String(o.orderId),
        short(o.tenant),
        formatEther(stored[i]!.maxPricePerBlock),
        ['none', 'open', 'active', 'closed'][stored[i]!.state],
        formatEther(stored[i]!.escrow),
      ]),
    )
    expect(shownOrders.map((r) => r[2])).toEqual([
      `${short(orders[0]!.specHash)}: 2 CPU, 1 GPU, 4 GiB RAM, 10 GiB disk`,
      `${short(orders[1]!.specHash)}: 2 CPU, 0 GPU, 4 GiB RAM, 10 GiB disk`,
    ])
    // the leased order's escrow has paid the provider: less than it opened with
    expect(stored[0]!.escrow).toBeLessThan(parseEther('100'))

    const bidIds = await getOpenBids(client, { address, orderId: orders[1]!.orderId })
    expect(bidIds).toHaveLength(1)
    const bid = await getBid(client, { address, bidId: bidIds[0]! })
    expect(await cells(page, 'bids')).toEqual([
      [
        String(bidIds[0]),
        String(bid.orderId),
        short(bid.provider),
        formatEther(bid.pricePerBlock),
        formatEther(bid.deposit),
      ],
    ])
    expect(bid.provider).toBe(wallet(6).account.address)

    const leases = await listLeases(client, { address })
    expect(leases).toHaveLength(1)
    const lease = await getLease(client, { address, leaseId: leases[0]!.leaseId })
    expect(lease.paid).toBeGreaterThan(0n)
    expect(await cells(page, 'leases')).toEqual([
      [
        String(leases[0]!.leaseId),
        short(lease.provider),
        short(lease.tenant),
        formatEther(lease.pricePerBlock),
        'active',
        formatEther(stored[0]!.escrow),
        String(lease.settledBlock),
        formatEther(lease.paid),
      ],
    ])
    for (const table of ['providers', 'orders', 'bids', 'leases'])
      expect(await page.locator(`#${table} caption`).textContent()).toMatch(/^[A-Z][a-z ]+: \d+$/)
    await page.screenshot({ path: join(shots, 'market.png'), fullPage: true })
  })

  it('says when the deployment has no market or the market is empty, and shows an unreachable chain as an alert', async () => {
    await page.goto(`${bare.url}/dashboard/#/market`)
    await page.locator('#no-market').waitFor({ timeout: 30_000 })
    expect(await page.locator('#no-market').textContent()).toBe(
      'There is no compute market on this deployment.',
    )
    expect(await page.locator('table').count()).toBe(0)
    // a market that logged nothing: each listing says it is empty
    await page.goto(`${elsewhere.url}/dashboard/#/market`)
    await page.locator('#no-leases').waitFor({ timeout: 30_000 })
    expect(await page.locator('main p[id^="no-"]').allTextContents()).toEqual([
      'No providers yet.',
      'No orders yet.',
      'No open bids yet.',
      'No leases yet.',
    ])
    await page.goto(`${unreachable.url}/dashboard/#/market`)
    const alert = page.getByRole('alert')
    await alert.waitFor({ timeout: 30_000 })
    expect(await alert.textContent()).toMatch(/^Cannot read the market at http:\/\/127\.0\.0\.1:9/)
  })

  it("is readable at a phone's width (375 px): only the tables scroll sideways", async () => {
    const phone = await browser.newPage({ viewport: { width: 375, height: 740 } })
    try {
      for (const [name, row] of [
        ['market', '#leases tbody tr'],
        ['disputes', '#disputes tbody tr'],
      ] as const) {
        await phone.goto(`${server.url}/dashboard/#/${name}`)
        await phone.locator(row).first().waitFor({ timeout: 30_000 })
        expect(
          await phone.evaluate<number>('document.documentElement.scrollWidth'),
        ).toBeLessThanOrEqual(375)
      }
      await phone.screenshot({ path: join(shots, 'disputes-phone.png'), fullPage: true })
    } finally {
      await phone.close()
    }
    expect(errors).toEqual([])
  })
})
