import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { type Browser, chromium, type Page } from 'playwright-core'
import { build } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
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
 * The dashboard in Debian's chromium, against a real gateway over a miner registered on an anvil
 * devnet: the metagraph it shows is the chain's, answers verify in the browser (and tampered ones
 * do not), and the playground chats through the gateway. Screenshots go to docs/dashboard/ with
 * VERITY_UPDATE_SCREENSHOTS=1.
 */
const run = promisify(execFile)
const CHROMIUM = process.env.VERITY_CHROMIUM ?? '/usr/bin/chromium'
const root = join(import.meta.dirname, '..')
// Committed screenshots are rewritten only on request, so a test run leaves the tree clean.
const shots =
  process.env.VERITY_UPDATE_SCREENSHOTS === '1'
    ? join(root, 'docs', 'dashboard')
    : mkdtempSync(join(tmpdir(), 'verity-dashboard-shots-'))
const model = testModel()
let devnet: Devnet
let netuid: number
let server: GatewayServer
let browser: Browser
let page: Page
const errors: string[] = []
/** Milliseconds from the Verify click to the verdict: the first includes fetching and loading the model. */
const timings: number[] = []

beforeAll(async () => {
  // Fail, do not skip: a machine without chromium has not run scripts/ci-deps.sh.
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium (scripts/ci-deps.sh) or set VERITY_CHROMIUM`,
    )
  // Built from the sources under test, not whatever dist/ an earlier install left.
  await build({ configFile: join(root, 'dashboard', 'vite.config.ts'), logLevel: 'warn' })
  devnet = await startDevnet({ accounts: 6 })
  netuid = await setupSubnet(devnet, {
    model,
    ggufBytes: trainedModelBytes(),
    miners: [devnet.walletClients[1]!, devnet.walletClients[2]!],
    validators: [devnet.walletClients[3]!],
    // plain set_weights, so the test can weight the miners in two calls
    params: { ...DEVNET_HYPERPARAMS, commitReveal: false },
  })
  const block = Number(await devnet.publicClient.getBlockNumber())
  // Two epochs with the validator's weights on the miners (2:1), so the table has values to show.
  const address = devnet.addresses.verity
  const neurons = await getMetagraph(devnet.publicClient, { address, netuid })
  const uidOf = (i: number) =>
    neurons.findIndex((n) => n.hotkey.toLowerCase() === devnet.accounts[i]!.address.toLowerCase())
  for (let e = 0; e < 2; e++) {
    await setWeights(devnet.walletClients[3]!, {
      address,
      netuid,
      uids: [uidOf(1), uidOf(2)],
      values: [65535, 32768],
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
    // root in a container: chromium's sandbox needs user namespaces it does not have
    args: ['--no-sandbox'],
  })
  page = await browser.newPage({ viewport: { width: 1280, height: 720 } })
  page.on('pageerror', (e) => errors.push(e.message))
  mkdirSync(shots, { recursive: true })
}, 180_000)

afterAll(async () => {
  if (process.env.VERITY_UPDATE_SCREENSHOTS !== '1') rmSync(shots, { recursive: true, force: true })
  if (timings.length)
    console.log(
      `in-browser verification: first ${timings[0]!.toFixed(0)} ms (model fetched and loaded), then ${timings
        .slice(1)
        .map((t) => t.toFixed(0))
        .join(', ')} ms`,
    )
  await browser?.close()
  await server?.stop()
  await devnet?.stop()
})

async function ask(body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  expect(res.status).toBe(200)
  return await res.text()
}

const chatBody = {
  model: 'tiny',
  messages: [{ role: 'user', content: 'Tell me about the sea.' }],
  max_tokens: 24,
  temperature: 0.8,
  seed: 5,
}

/** Pastes a saved response on the receipts page and returns the verdict's state and text. */
async function verifyInPage(text: string) {
  await page.goto(`${server.url}/dashboard/#/receipts`)
  await page.getByLabel('Saved response').fill(text)
  const started = performance.now()
  await page.getByRole('button', { name: 'Verify' }).click()
  const verdict = page.locator('.verdict')
  await verdict.waitFor({ timeout: 60_000 })
  timings.push(performance.now() - started)
  return { ok: await verdict.getAttribute('data-ok'), text: (await verdict.textContent()) ?? '' }
}

describe('dashboard in chromium', () => {
  it("shows the subnet's metagraph as the chain has it, sortable", async () => {
    await page.goto(`${server.url}/dashboard/`)
    const rows = page.locator('#metagraph tbody tr')
    await rows.first().waitFor({ timeout: 30_000 })
    const neurons = await getMetagraph(devnet.publicClient, {
      address: devnet.addresses.verity,
      netuid,
    })
    expect(neurons.length).toBe(3)
    expect(await rows.count()).toBe(neurons.length)
    const shown = await rows.evaluateAll((trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')),
    )
    expect(shown.map((r) => [Number(r[0]), r[1]])).toEqual(neurons.map((n, uid) => [uid, n.hotkey]))
    // incentive, dividends, permit and last update, as the chain says (u16 fractions shown to 4 places)
    const u16 = (x: number) => (x / 65535).toFixed(4)
    expect(shown.map((r) => r[5])).toEqual(neurons.map((n) => u16(n.incentive)))
    expect(shown.map((r) => r[6])).toEqual(neurons.map((n) => u16(n.dividends)))
    expect(shown.map((r) => r[8])).toEqual(neurons.map((n) => (n.validatorPermit ? 'yes' : 'no')))
    expect(shown.map((r) => r[9])).toEqual(neurons.map((n) => String(n.lastUpdate)))
    // the epochs ran: the miners earned incentive, 2:1 as weighted
    expect(neurons.filter((n) => n.incentive > 0).length).toBe(2)
    await expect.poll(() => page.locator('.facts').textContent()).toContain(toHex(model.modelRoot))
    await page.screenshot({ path: join(shots, 'subnets.png'), fullPage: true })

    // Sorting by keyboard: focus the UID header's button and press Enter twice (descending).
    const uidHeader = page.getByRole('button', { name: /^UID/ })
    await uidHeader.focus()
    await page.keyboard.press('Enter')
    await expect.poll(() => page.locator('th').first().getAttribute('aria-sort')).toBe('descending')
    const descending = await rows.evaluateAll((trs) =>
      trs.map((tr) => Number(tr.querySelector('td')?.textContent)),
    )
    expect(descending).toEqual([2, 1, 0])
    await page.getByRole('button', { name: /^Hotkey/ }).click()
    const byHotkey = await rows.evaluateAll((trs) =>
      trs.map((tr) => tr.querySelectorAll('td')[1]?.textContent ?? ''),
    )
    expect(byHotkey).toEqual(
      neurons.map((n) => n.hotkey).sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())),
    )
  })

  it('verifies a genuine answer in the browser and rejects tampered ones', async () => {
    const genuine = await ask(chatBody)
    const good = await verifyInPage(genuine)
    expect(good.text).toMatch(/^Verified/)
    expect(good.ok).toBe('true')
    expect(good.text).toMatch(/signature ok: signed by miner 0x/i)
    expect(good.text).toMatch(/text ok/)
    expect(good.text).toMatch(/registration ok/)
    await page.screenshot({ path: join(shots, 'receipts.png'), fullPage: true })

    const body = JSON.parse(genuine)
    const content: string = body.choices[0].message.content
    const altered = structuredClone(body)
    altered.choices[0].message.content = `${content.slice(0, 3)}X${content.slice(4)}`
    const a = await verifyInPage(JSON.stringify(altered))
    expect(a.ok).toBe('false')
    expect(a.text).toMatch(/^Does not verify/)
    expect(a.text).toMatch(/choices\[0\]\.message\.content: the text shown is not/)
    await page.screenshot({ path: join(shots, 'receipts-tampered.png'), fullPage: true })

    // A forged signature (one byte of s changed): the signer is no longer the miner.
    const forged = structuredClone(body)
    const sig: string = forged.verity.receipt.signature
    forged.verity.receipt.signature = `${sig.slice(0, 70)}${sig[70] === '0' ? '1' : '0'}${sig.slice(71)}`
    const f = await verifyInPage(JSON.stringify(forged))
    expect(f.ok).toBe('false')
    expect(f.text).toMatch(/receipt/)

    // Other tokens than the signed ones: the output hash breaks.
    const retokened = structuredClone(body)
    retokened.verity.tokens = [...retokened.verity.tokens.slice(0, -1), 1]
    const t = await verifyInPage(JSON.stringify(retokened))
    expect(t.ok).toBe('false')
    expect(t.text).toMatch(/tokens/)

    // Truncated text: a parse error, named, not a crash.
    const cut = await verifyInPage(genuine.slice(0, genuine.length >> 1))
    expect(cut.ok).toBe('false')
    expect(cut.text).toMatch(/response/)

    // A receipt naming a model the gateway does not serve.
    const other = structuredClone(body)
    other.verity.receipt.modelRoot = `0x${'11'.repeat(32)}`
    const o = await verifyInPage(JSON.stringify(other))
    expect(o.ok).toBe('false')
  })

  it('re-executes a verified answer in the browser, reproducing its traceRoot', async () => {
    const genuine = await ask({ ...chatBody, seed: 21, max_tokens: 32 })
    const { receipt } = JSON.parse(genuine).verity
    const v = await verifyInPage(genuine)
    expect(v.ok).toBe('true')
    await page.getByRole('button', { name: 'Re-execute in the browser' }).click()
    const result = page.locator('#reexecution')
    await result.waitFor({ timeout: 120_000 })
    expect(await result.getAttribute('data-ok')).toBe('true')
    const text = (await result.textContent()) ?? ''
    expect(text).toContain(`traceRoot ${receipt.traceRoot.slice(0, 10)}`)
    expect(text).toContain(`its ${receipt.traceLeaves} checkpoints reproduced`)
    const progress = page.locator('#reexecution-progress')
    expect(await progress.getAttribute('value')).toBe(await progress.getAttribute('max'))
    // the CLI reproduces the same receipt (and so the same traceRoot) from the same saved answer
    const saved = join(mkdtempSync(join(tmpdir(), 'verity-dashboard-')), 'answer.json')
    writeFileSync(saved, genuine)
    const cli = await run(process.execPath, [
      join(root, 'bin', 'verity.js'),
      'verify',
      saved,
      '--reexecute',
    ])
    expect(cli.stdout).toMatch(/^re-execution ok/m)
    rmSync(dirname(saved), { recursive: true, force: true })
    console.log(`in-browser re-execution: ${/([\d.]+) s in this browser/.exec(text)?.[1]} s`)
    await page.screenshot({ path: join(shots, 'receipts-reexecuted.png'), fullPage: true })
  })

  it('verifies a saved event stream as well', async () => {
    const stream = await ask({ ...chatBody, stream: true, seed: 9 })
    expect(stream.startsWith('data:')).toBe(true)
    const v = await verifyInPage(stream)
    expect(v.text).toMatch(/^Verified/)
  })

  it('chats in the playground and verifies the answer live', async () => {
    await page.goto(`${server.url}/dashboard/#/playground`)
    await page.getByLabel('Message').fill('Hello, who are you?')
    await page.getByRole('button', { name: 'Send' }).click()
    await page.locator('#answer').waitFor({ timeout: 60_000 })
    const answer = (await page.locator('#answer').textContent()) ?? ''
    expect(answer.length).toBeGreaterThan(0)
    const verdict = page.locator('.verdict')
    await verdict.waitFor()
    expect(await verdict.getAttribute('data-ok')).toBe('true')
    await page.screenshot({ path: join(shots, 'playground.png'), fullPage: true })
  })

  it("is readable at a phone's width (375 px): nothing but the table scrolls sideways", async () => {
    const phone = await browser.newPage({ viewport: { width: 375, height: 740 } })
    try {
      await phone.goto(`${server.url}/dashboard/#/subnets`)
      await phone.locator('#metagraph tbody tr').first().waitFor({ timeout: 30_000 })
      const width = await phone.evaluate<number>('document.documentElement.scrollWidth')
      expect(width).toBeLessThanOrEqual(375)
      await phone.screenshot({ path: join(shots, 'subnets-phone.png'), fullPage: true })
    } finally {
      await phone.close()
    }
    expect(errors).toEqual([])
  })
})
