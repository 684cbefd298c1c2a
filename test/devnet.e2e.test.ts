import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { createPublicClient, http } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verityAbi } from '../src/chain/abis.ts'
import { ABI_VERSION, DEPLOYMENT_FORMAT, writeDeployment } from '../src/chain/deployment.ts'
import { runVerity } from './verity-cli.ts'

/**
 * End to end, as a newcomer runs it: `verity devnet` (anvil, contracts, subnet, libp2p miners and
 * validators, gateway) in its own process, used through the `openai` npm client, then Ctrl-C.
 */
const root = join(import.meta.dirname, '..')
const bin = join(root, 'bin/verity.js')
const dir = mkdtempSync(join(tmpdir(), 'verity-e2e-'))
let devnet: ChildProcess
let output = ''
let baseURL = ''

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

beforeAll(async () => {
  const port = await freePort()
  devnet = spawn(process.execPath, [bin, 'devnet', '--port', String(port), '--providers', '2'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  devnet.stdout!.on('data', (d: Buffer) => {
    output += d.toString()
  })
  devnet.stderr!.on('data', (d: Buffer) => {
    output += d.toString()
  })
  await new Promise<void>((resolve, reject) => {
    // The dispute game's installation mines through a game change's governance delay (about a
    // minute of anvil's time) before the nodes start.
    const timer = setTimeout(() => reject(new Error(`devnet did not come up:\n${output}`)), 240_000)
    const check = setInterval(() => {
      if (output.includes('Ctrl-C stops everything')) {
        clearInterval(check)
        clearTimeout(timer)
        resolve()
      }
    }, 100)
    devnet.once('exit', (code) => reject(new Error(`devnet exited with ${code}:\n${output}`)))
  })
  baseURL = `http://127.0.0.1:${port}/v1`
}, 300_000)

afterAll(async () => {
  if (devnet.exitCode === null) {
    const exited = new Promise((r) => devnet.once('exit', r))
    devnet.kill('SIGINT')
    await exited
  }
  rmSync(dir, { recursive: true, force: true })
})

describe('npm start (verity devnet) through the openai client', () => {
  const messages = [{ role: 'user' as const, content: 'Tell me about the harbour.' }]

  it('prints the base URL with a curl and an openai-client example', () => {
    expect(output).toContain(`OpenAI-compatible API: ${baseURL}`)
    expect(output).toMatch(/curl http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions/)
    expect(output).toMatch(/new OpenAI\(\{baseURL:/)
    expect(output).toMatch(/API keys are off .*--auth.*verity gateway keys create/)
  })

  it('answers streamed and not; the same seed gives the same text; the receipt verifies and re-executes', async () => {
    const client = new OpenAI({ baseURL, apiKey: 'none', maxRetries: 0 })
    const models = await client.models.list()
    const model = models.data[0]!.id
    const plain = await client.chat.completions.create({
      model,
      messages,
      seed: 42,
      temperature: 0.8,
      max_tokens: 12,
    })
    const text = plain.choices[0]!.message.content!
    expect(plain.usage?.completion_tokens).toBe(12)
    expect(text.length).toBeGreaterThan(0)

    const stream = await client.chat.completions.create({
      model,
      messages,
      seed: 42,
      temperature: 0.8,
      max_tokens: 12,
      stream: true,
      stream_options: { include_usage: true },
    })
    let streamed = ''
    let last: unknown
    for await (const chunk of stream) {
      streamed += chunk.choices[0]?.delta?.content ?? ''
      last = chunk
    }
    expect(streamed).toBe(text)
    expect((last as { verity?: { receipt?: unknown } }).verity?.receipt).toBeDefined()

    // The receipt in the body is what `verity verify` takes; --reexecute runs the request again.
    const file = join(dir, 'receipt.json')
    writeFileSync(file, JSON.stringify(plain))
    // The devnet prints the chain and the contract a user checks the signer against.
    const chainUrl = /chain (http:\/\/127\.0\.0\.1:\d+)/.exec(output)![1]!
    const contract = /Verity contract (0x[0-9a-fA-F]{40})/.exec(output)![1]!
    // the manifest a user writes for the contract they trust (verify reads the chain through one)
    const chain = createPublicClient({ transport: http(chainUrl) })
    const read = (functionName: 'token' | 'owner') =>
      chain.readContract({ address: contract as `0x${string}`, abi: verityAbi, functionName })
    const manifest = join(dir, 'deployment.json')
    writeDeployment(manifest, {
      format: DEPLOYMENT_FORMAT,
      chainId: await chain.getChainId(),
      abiVersion: ABI_VERSION,
      block: 0n,
      deployer: await read('owner'),
      contracts: { verity: contract as `0x${string}`, token: await read('token'), libraries: {} },
    })
    // Async children: a blocked event loop keeps the HTTP client's idle keep-alive sockets past
    // the server's timeout, and the next request then meets a socket the server has closed.
    const ok = await runVerity([
      'verify',
      file,
      '--reexecute',
      '--rpc',
      chainUrl,
      '--deployment',
      manifest,
    ])
    expect(ok.stderr).toBe('')
    expect(ok.code).toBe(0)
    expect(ok.stdout).toMatch(/^registration ok/m)
    expect(ok.stdout).toMatch(/^text ok/m)
    const bundle = (plain as unknown as { verity: { receipt: { traceRoot: string } } }).verity
    const tampered = {
      ...plain,
      verity: { ...bundle, receipt: { ...bundle.receipt, traceRoot: `0x${'0'.repeat(64)}` } },
    }
    writeFileSync(file, JSON.stringify(tampered))
    const bad = await runVerity(['verify', file])
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toMatch(/^error: /)
  })

  it('gives OpenAI-shaped errors and keeps serving', async () => {
    const client = new OpenAI({ baseURL, apiKey: 'none', maxRetries: 0 })
    await expect(
      client.chat.completions.create({ model: 'no-such-model', messages }),
    ).rejects.toMatchObject({ status: 404 })
    const res = await fetch(`${baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe(
      'invalid_request_error',
    )
    const models = await client.models.list()
    expect(models.data.length).toBeGreaterThan(0)
  })

  it('rents the model on the compute market with the commands it prints (--providers 2)', async () => {
    const providers = [...output.matchAll(/Provider (0x[0-9a-fA-F]{40}) at (http\S+)/g)]
    expect(providers).toHaveLength(2)
    const index = /--dev-index (\d+)/.exec(output)![1]!
    const rpc = /--rpc (http\S+) --deployment (\S+)/.exec(output)!
    const wallets = join(dir, 'wallets')
    const env = { ...process.env, VERITY_PASSPHRASE: 'e2e tenant' }
    const created = await runVerity(
      [
        'wallet',
        'create',
        '--name',
        'tenant',
        '--dev',
        '--chain-id',
        '31337',
        '--dev-index',
        index,
        '--dir',
        wallets,
      ],
      env,
    )
    expect(created.code, created.stderr).toBe(0)
    const deploy = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
      (resolve) => {
        const child = spawn(
          process.execPath,
          [
            bin,
            'deploy',
            join(root, 'examples/market/tiny.yaml'),
            '--key',
            join(wallets, 'tenant', 'coldkey.json'),
            '--rpc',
            rpc[1]!,
            '--deployment',
            rpc[2]!,
            '--json',
          ],
          { env },
        )
        let stdout = ''
        let stderr = ''
        child.stdout.on('data', (d) => (stdout += d))
        child.stderr.on('data', (d) => (stderr += d))
        child.on('close', (code) => resolve({ code, stdout, stderr }))
      },
    )
    expect(deploy.code, deploy.stderr).toBe(0)
    const lease = JSON.parse(deploy.stdout.trim()) as {
      provider: string
      baseUrl: string
      apiKey: string
      pricePerBlock: string
    }
    // the cheaper of the two (0.001 VTY per block)
    expect(lease.provider).toBe(providers[0]![1])
    expect(lease.pricePerBlock).toBe('1000000000000000')
    const client = new OpenAI({ baseURL: lease.baseUrl, apiKey: lease.apiKey, maxRetries: 0 })
    const answer = await client.chat.completions.create({
      model: (await client.models.list()).data[0]!.id,
      messages,
      max_tokens: 6,
    })
    expect(answer.choices[0]!.message.content!.length).toBeGreaterThan(0)
  }, 120_000)

  it('stops cleanly on Ctrl-C', async () => {
    const exited = new Promise<number | null>((r) => devnet.once('exit', (code) => r(code)))
    devnet.kill('SIGINT')
    expect(await exited).toBe(0)
    expect(output).toContain('stopping')
  })
})
