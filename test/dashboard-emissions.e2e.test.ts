import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Browser, chromium, type Page } from 'playwright-core'
import { formatEther } from 'viem'
import { build } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verityAbi } from '../src/chain/abis.ts'
import { getMetagraph } from '../src/chain/actions/getMetagraph.ts'
import { runEpoch } from '../src/chain/actions/runEpoch.ts'
import { setWeights } from '../src/chain/actions/setWeights.ts'
import { type Devnet, devnetDeployment, startDevnet } from '../src/chain/devnet.ts'
import { LocalMiner } from '../src/gateway/local-miner.ts'
import { MinerPool } from '../src/gateway/pool.ts'
import { type GatewayServer, startGatewayServer } from '../src/gateway/server.ts'
import { DEVNET_HYPERPARAMS, setupSubnet } from '../src/node/network.ts'
import { testModel } from '../src/runtime/test-model.ts'
import { toHex } from '../src/runtime/trace/merkle.ts'
import { TRAINED_MODEL_PATH, trainedModelBytes } from './trained-model.ts'

/**
 * The dashboard's emissions charts and its receipts sources, in Debian's chromium against a
 * gateway over an anvil devnet: four epochs run with the validator's weights shifting between the
 * miners, the charts' tables must equal the metagraph read at each epoch's finishing block, and a
 * recent answer picked from the gateway, an opened file and a dropped file verify in the browser
 * (tampered ones do not). Screenshots go to docs/dashboard/ with VERITY_UPDATE_SCREENSHOTS=1.
 */
const CHROMIUM = process.env.VERITY_CHROMIUM ?? '/usr/bin/chromium'
const root = join(import.meta.dirname, '..')
const shots =
  process.env.VERITY_UPDATE_SCREENSHOTS === '1'
    ? join(root, 'docs', 'dashboard')
    : mkdtempSync(join(tmpdir(), 'verity-emissions-shots-'))
const model = testModel()
/** The validator's weights on the two miners, one pair per epoch: the lines must cross. */
const WEIGHTS: [number, number][] = [
  [65535, 16384],
  [32768, 65535],
  [65535, 65535],
  [8192, 65535],
]
let devnet: Devnet
let netuid: number
let server: GatewayServer
let browser: Browser
let page: Page
const errors: string[] = []

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium (scripts/ci-deps.sh) or set VERITY_CHROMIUM`,
    )
  await build({ configFile: join(root, 'dashboard', 'vite.config.ts'), logLevel: 'warn' })
  devnet = await startDevnet({ accounts: 6 })
  netuid = await setupSubnet(devnet, {
    model,
    ggufBytes: trainedModelBytes(),
    miners: [devnet.walletClients[1]!, devnet.walletClients[2]!],
    validators: [devnet.walletClients[3]!],
    params: { ...DEVNET_HYPERPARAMS, commitReveal: false },
  })
  const block = Number(await devnet.publicClient.getBlockNumber())
  const address = devnet.addresses.verity
  const neurons = await getMetagraph(devnet.publicClient, { address, netuid })
  const uidOf = (i: number) =>
    neurons.findIndex((n) => n.hotkey.toLowerCase() === devnet.accounts[i]!.address.toLowerCase())
  for (const values of WEIGHTS) {
    await setWeights(devnet.walletClients[3]!, {
      address,
      netuid,
      uids: [uidOf(1), uidOf(2)],
      values,
      versionKey: 0n,
    })
    await runEpoch(devnet.walletClients[0]!, { address, netuid })
  }
  const miner = new LocalMiner({
    model,
    account: devnet.accounts[1]!.account as never,
    chainId: devnet.chain.id,
    netuid,
    verifyingContract: devnet.addresses.verity,
    blockNumber: () => block,
  })
  server = startGatewayServer({
    port: 0,
    pools: [new MinerPool(miner.describe({ id: 'tiny' }), { miners: [miner] })],
    dashboard: {
      rpcUrl: devnet.rpcUrl,
      deployment: devnetDeployment(devnet),
      modelFiles: new Map([[toHex(model.modelRoot), TRAINED_MODEL_PATH]]),
    },
  })
  await server.start()
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox'],
  })
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
  page.on('pageerror', (e) => errors.push(e.message))
  mkdirSync(shots, { recursive: true })
}, 180_000)

afterAll(async () => {
  if (process.env.VERITY_UPDATE_SCREENSHOTS !== '1') rmSync(shots, { recursive: true, force: true })
  await browser?.close()
  await server?.stop()
  await devnet?.stop()
})

/** A chart's data table: the header's series labels and each row's epoch and cells. */
async function chartTable(p: Page, id: string) {
  const table = p.locator(`#${id} details table`)
  await table.waitFor({ state: 'attached', timeout: 30_000 })
  const head = await table.locator('thead th').allTextContents()
  const rows = await table
    .locator('tbody tr')
    .evaluateAll((trs) =>
      trs.map((tr) => [...tr.querySelectorAll('th, td')].map((c) => c.textContent ?? '')),
    )
  return { head, rows }
}

async function ask(body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'tiny',
      messages: [{ role: 'user', content: 'Tell me about the sea.' }],
      max_tokens: 16,
      temperature: 0.8,
      ...body,
    }),
  })
  expect(res.status).toBe(200)
  return await res.text()
}

async function verdict(p: Page) {
  const v = p.locator('.verdict')
  await v.waitFor({ timeout: 60_000 })
  return { ok: await v.getAttribute('data-ok'), text: (await v.textContent()) ?? '' }
}

describe('emissions and receipts sources in chromium', () => {
  it("charts each uid's emission and incentive per epoch as the chain has them", async () => {
    const address = devnet.addresses.verity
    const finished = await devnet.publicClient.getContractEvents({
      address,
      abi: verityAbi,
      eventName: 'EpochFinished',
      args: { netuid },
      fromBlock: 0n,
      strict: true,
    })
    expect(finished.length).toBeGreaterThanOrEqual(WEIGHTS.length)
    const last = finished.slice(-10)
    // the metagraph at each finishing block, read here without the dashboard's code
    const graphs = await Promise.all(
      last.map((log) =>
        devnet.publicClient.readContract({
          address,
          abi: verityAbi,
          functionName: 'metagraph',
          args: [netuid],
          blockNumber: log.blockNumber,
        }),
      ),
    )
    const n = graphs.at(-1)!.length
    expect(n).toBe(3)

    await page.goto(`${server.url}/dashboard/#/emissions`)
    const emission = await chartTable(page, 'chart-emission')
    expect(emission.head).toEqual([
      'Epoch',
      ...graphs
        .at(-1)!
        .map((nr, uid) => `uid ${uid} ${nr.hotkey.slice(0, 6)}…${nr.hotkey.slice(-4)}`),
    ])
    expect(emission.rows).toEqual(
      last.map((log, i) => [
        String(log.args.epochIndex),
        ...graphs[i]!.map((nr) => formatEther(BigInt(nr.emission))),
      ]),
    )
    const incentive = await chartTable(page, 'chart-incentive')
    expect(incentive.rows).toEqual(
      last.map((log, i) => [
        String(log.args.epochIndex),
        ...graphs[i]!.map((nr) => (nr.incentive / 65535).toFixed(4)),
      ]),
    )
    const total = await chartTable(page, 'chart-total')
    expect(total.rows).toEqual(
      last.map((log) => [String(log.args.epochIndex), formatEther(log.args.distributed)]),
    )
    // the total is what the uids got (to a wei per uid of rounding)
    for (const [i, log] of last.entries()) {
      const sum = graphs[i]!.reduce((s, nr) => s + BigInt(nr.emission), 0n)
      const gap = log.args.distributed - sum
      expect(gap >= -BigInt(n) && gap <= BigInt(n)).toBe(true)
    }
    // the lines move: the two miners' emissions change order over the weighted epochs
    const tail = graphs.slice(-WEIGHTS.length)
    const miners = [1, 2].map((i) =>
      tail[0]!.findIndex(
        (nr) => nr.hotkey.toLowerCase() === devnet.accounts[i]!.address.toLowerCase(),
      ),
    )
    const order = tail.map((g) =>
      Math.sign(Number(g[miners[0]!]!.emission - g[miners[1]!]!.emission)),
    )
    // (Yuma's bonds lag the weights, so which epoch flips it is the contract's business)
    expect(new Set(order).size).toBeGreaterThan(1)
    expect(new Set(tail.map((g) => g[miners[0]!]!.emission)).size).toBeGreaterThan(1)

    // each chart is a labelled image with a canvas, and the table opens from the keyboard
    for (const id of ['chart-emission', 'chart-incentive', 'chart-total']) {
      const img = page.locator(`#${id} [role="img"]`)
      expect(await img.getAttribute('aria-label')).toMatch(/line chart over epochs \d+ to \d+/)
      expect(await page.locator(`#${id} canvas`).count()).toBe(1)
    }
    const summary = page.locator('#chart-emission summary')
    await summary.focus()
    await page.keyboard.press('Enter')
    expect(await page.locator('#chart-emission details').getAttribute('open')).not.toBeNull()
    await page.screenshot({ path: join(shots, 'emissions.png'), fullPage: true })

    // fewer epochs from the picker
    await page.getByLabel('Epochs', { exact: true }).selectOption('5')
    await expect
      .poll(async () => (await chartTable(page, 'chart-total')).rows.length)
      .toBe(Math.min(5, finished.length))
  })

  it("fits a phone's width: the charts resize to 375 px", async () => {
    const phone = await browser.newPage({ viewport: { width: 375, height: 740 } })
    try {
      phone.on('pageerror', (e) => errors.push(e.message))
      await phone.goto(`${server.url}/dashboard/#/emissions`)
      await phone.locator('#chart-emission canvas').waitFor({ timeout: 30_000 })
      expect(
        await phone.evaluate<number>('document.documentElement.scrollWidth'),
      ).toBeLessThanOrEqual(375)
      const box = await phone.locator('#chart-emission canvas').boundingBox()
      expect(box!.width).toBeLessThanOrEqual(375)
      expect(box!.width).toBeGreaterThan(200)
      await phone.screenshot({ path: join(shots, 'emissions-phone.png'), fullPage: true })
      // the receipts page with its picker full of long answers fits as well
      await ask({ seed: 41, max_tokens: 48 })
      await phone.goto(`${server.url}/dashboard/#/receipts`)
      await phone.getByLabel('Recent answer').waitFor({ timeout: 30_000 })
      expect(
        await phone.evaluate<number>('document.documentElement.scrollWidth'),
      ).toBeLessThanOrEqual(375)
    } finally {
      await phone.close()
    }
  })

  it("verifies an answer picked from the gateway's recent ones", async () => {
    const plain = await ask({ seed: 11 })
    const stream = await ask({ seed: 12, stream: true })
    await page.goto(`${server.url}/dashboard/#/receipts`)
    const picker = page.getByLabel('Recent answer')
    await picker.waitFor({ timeout: 30_000 })
    const options = await picker.locator('option').allTextContents()
    // the phone test's answer (#1), then these two, newest first
    expect(options.length).toBe(3)
    expect(options[0]).toMatch(/^#3 .* tiny \(stream\)/)
    expect(options[1]).toMatch(/^#2 .* tiny:/)
    // the older, plain one: its text goes into the box and verifies
    await picker.selectOption({ index: 1 })
    await page.getByRole('button', { name: 'Check the picked answer' }).click()
    const v = await verdict(page)
    expect(v.ok).toBe('true')
    expect(v.text).toMatch(/registration ok/)
    expect(await page.getByLabel('Saved response').inputValue()).toBe(plain)
    await page.screenshot({ path: join(shots, 'receipts-picked.png'), fullPage: true })
    await picker.selectOption({ index: 0 })
    await page.getByRole('button', { name: 'Check the picked answer' }).click()
    await expect.poll(() => page.getByLabel('Saved response').inputValue()).toBe(stream)
    expect((await verdict(page)).ok).toBe('true')
  })

  it('verifies an opened or dropped file, and fails a tampered, truncated or oversized one', async () => {
    const genuine = await ask({ seed: 31 })
    await page.goto(`${server.url}/dashboard/#/receipts`)
    const input = page.getByLabel('Or open a saved file')
    await input.setInputFiles({
      name: 'answer.json',
      mimeType: 'application/json',
      buffer: Buffer.from(genuine),
    })
    const good = await verdict(page)
    expect(good.ok).toBe('true')
    expect(good.text).toMatch(/signature ok/)

    const body = JSON.parse(genuine)
    const tampered = structuredClone(body)
    const content: string = tampered.choices[0].message.content
    tampered.choices[0].message.content = `${content}!`
    await input.setInputFiles({
      name: 'tampered.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify(tampered)),
    })
    await expect.poll(async () => (await verdict(page)).ok).toBe('false')
    expect((await verdict(page)).text).toMatch(/message\.content/)

    await input.setInputFiles({
      name: 'cut.json',
      mimeType: 'application/json',
      buffer: Buffer.from(genuine.slice(0, 200)),
    })
    await expect.poll(async () => (await verdict(page)).text).toMatch(/^Does not verify.*response/)

    await input.setInputFiles({
      name: 'huge.json',
      mimeType: 'application/json',
      buffer: Buffer.alloc(5 << 20, 32),
    })
    await expect.poll(async () => (await verdict(page)).text).toMatch(/at most 4 MiB/)

    // a saved event stream dropped on the page
    const stream = await ask({ seed: 32, stream: true })
    const drop = async (text: string) => {
      // built in the page (DataTransfer is a DOM type), the text passed as a JSON literal
      const transfer = await page.evaluateHandle(
        `(() => { const dt = new DataTransfer(); dt.items.add(new File([${JSON.stringify(text)}], 'answer.sse', { type: 'text/event-stream' })); return dt })()`,
      )
      await page.locator('form').dispatchEvent('drop', { dataTransfer: transfer })
    }
    await drop(stream)
    await expect.poll(() => page.getByLabel('Saved response').inputValue()).toBe(stream)
    expect((await verdict(page)).ok).toBe('true')
    // the same stream with one token's text changed
    const forged = stream.replace(/"content":"([^"\\])/, '"content":"X$1')
    expect(forged).not.toBe(stream)
    await drop(forged)
    await expect.poll(async () => (await verdict(page)).ok).toBe('false')
    expect(errors).toEqual([])
  })
})
