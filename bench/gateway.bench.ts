// Gateway overhead: requests/s and p50/p99 latency through the gateway (POST /v1/chat/completions)
// vs straight to the miner it routes to (the same LocalMiner called directly behind a bare
// node:http endpoint), same prompt tokens, seed, length and concurrency, both over HTTP on
// loopback; and the gateway with accounts on (API key auth, limits and metering against a real
// SQLite AccountStore) vs off, the same gateway code on another port. Rounds rotate between the
// three so background load hits them alike.
// Usage: npm run bench:gateway [-- --json] [-- --concurrency N] [-- --rounds R] [-- --requests N]

import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { privateKeyToAccount } from 'viem/accounts'
import { Accounts } from '../src/gateway/accounts/meter.ts'
import { fixedPriceBook } from '../src/gateway/accounts/price.ts'
import { AccountStore, accountStorePath } from '../src/gateway/accounts/store.ts'
import { LocalMiner, MinerPool, startGatewayServer } from '../src/gateway/index.ts'
import { defaultModelBytes } from '../src/runtime/model/default.ts'
import { loadModel } from '../src/runtime/model/load.ts'
import type { InferenceEvent, InferenceRequest } from '../src/types/inference.ts'

const argv = process.argv.slice(2)
const flag = (name: string, dflt: number) => {
  const i = argv.indexOf(`--${name}`)
  return i === -1 ? dflt : Number(argv[i + 1])
}
const json = argv.includes('--json')
const CONCURRENCY = flag('concurrency', 4)
const ROUNDS = flag('rounds', 6)
const PER_ROUND = flag('requests', 60)
const MAX_TOKENS = 16

const miner = new LocalMiner({
  model: loadModel(defaultModelBytes()),
  account: privateKeyToAccount(
    '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  ),
})
const model = miner.describe()

// --- gateway
const gateway = startGatewayServer({
  port: 0,
  host: '127.0.0.1',
  pools: [new MinerPool(model, { miners: [miner] })],
})
await gateway.start()
// --- the same gateway with accounts on: every request authenticated, reserved and settled in SQLite
const accountsDir = mkdtempSync(join(tmpdir(), 'verity-bench-accounts-'))
const store = new AccountStore(accountStorePath(accountsDir))
const { secret } = store.create({
  credit: 10n ** 15n,
  limits: { rpm: 0, tpm: 0, concurrency: 0 },
})
const authed = startGatewayServer({
  port: 0,
  host: '127.0.0.1',
  pools: [new MinerPool(model, { miners: [miner] })],
  accounts: new Accounts({
    store,
    prices: fixedPriceBook({ promptPerMillion: 100_000n, completionPerMillion: 400_000n }),
  }),
})
await authed.start()
const chatBody = JSON.stringify({
  model: model.id,
  messages: [{ role: 'user', content: 'Hello, how are you?' }],
  max_tokens: MAX_TOKENS,
  seed: 1,
})

// --- the miner directly: the same InferenceRequest the gateway builds
const probe = await fetch(`${gateway.url}/v1/chat/completions`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: chatBody,
})
const { verity } = (await probe.json()) as { verity: { request: InferenceRequest } }
const directBody = JSON.stringify(verity.request)

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

const direct: Server = createServer(async (req, res) => {
  const request = JSON.parse(await readBody(req)) as InferenceRequest
  let done: Extract<InferenceEvent, { type: 'done' }> | undefined
  for await (const e of miner.infer(request)) if (e.type === 'done') done = e
  res.writeHead(200, { 'content-type': 'application/json' })
  res.end(JSON.stringify({ tokens: done!.tokens, receipt: done!.receipt }))
})
await new Promise<void>((resolve) => direct.listen(0, '127.0.0.1', resolve))
const directUrl = `http://127.0.0.1:${(direct.address() as AddressInfo).port}/infer`

// --- load generator
async function round(
  url: string,
  body: string,
  n: number,
  headers: Record<string, string> = {},
): Promise<number[]> {
  const latencies: number[] = []
  let next = 0
  const worker = async () => {
    while (next < n) {
      next++
      const t0 = performance.now()
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      })
      if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status} ${await res.text()}`)
      await res.arrayBuffer()
      latencies.push(performance.now() - t0)
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  return latencies
}

type Target = {
  url: string
  body: string
  headers?: Record<string, string>
  latencies: number[]
  wall: number
}
const targets: Record<'direct' | 'gateway' | 'auth', Target> = {
  direct: { url: directUrl, body: directBody, latencies: [], wall: 0 },
  gateway: { url: `${gateway.url}/v1/chat/completions`, body: chatBody, latencies: [], wall: 0 },
  auth: {
    url: `${authed.url}/v1/chat/completions`,
    body: chatBody,
    headers: { authorization: `Bearer ${secret}` },
    latencies: [],
    wall: 0,
  },
}
for (const t of Object.values(targets)) await round(t.url, t.body, 20, t.headers) // warm-up
const names = ['direct', 'gateway', 'auth'] as const
for (let r = 0; r < ROUNDS; r++) {
  // rotate (and reverse every other round) so no target always runs first or last
  const rotated = names.map((_, i) => names[(i + r) % names.length]!)
  for (const k of r % 2 === 0 ? rotated : rotated.reverse()) {
    const t = targets[k]
    const t0 = performance.now()
    t.latencies.push(...(await round(t.url, t.body, PER_ROUND, t.headers)))
    t.wall += performance.now() - t0
  }
}

// The accounts' own work per request, measured alone (the HTTP figures above carry the shared
// machine's noise): authenticate + count the request, reserve, settle, on the same SQLite store.
const meter = new Accounts({
  store,
  prices: fixedPriceBook({ promptPerMillion: 100_000n, completionPerMillion: 400_000n }),
})
const METER_N = 2000
const m0 = performance.now()
for (let i = 0; i < METER_N; i++) {
  const req = new Request('http://127.0.0.1/v1/chat/completions', {
    method: 'POST',
    headers: { authorization: `Bearer ${secret}` },
  })
  const { account } = meter.admit(req)
  meter
    .reserve(account, model.id, 56, MAX_TOKENS)
    .settle({ completionTokens: MAX_TOKENS, outcome: 'ok' })
}
const meterMs = (performance.now() - m0) / METER_N

await gateway.stop()
await authed.stop()
store.close()
rmSync(accountsDir, { recursive: true, force: true })
await new Promise((resolve) => direct.close(resolve))

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!
}
const stats = (t: Target) => ({
  requests: t.latencies.length,
  rps: +((t.latencies.length / t.wall) * 1000).toFixed(1),
  p50Ms: +pct(t.latencies, 50).toFixed(2),
  p99Ms: +pct(t.latencies, 99).toFixed(2),
})
const d = stats(targets.direct)
const g = stats(targets.gateway)
const a = stats(targets.auth)
const authOverheadPercent = +((g.rps / a.rps - 1) * 100).toFixed(1)
const authP50OverheadPercent = +((a.p50Ms / g.p50Ms - 1) * 100).toFixed(1)
// the gateway's wall time per request at this concurrency, and the metering's share of it
const gatewayMsPerRequest = targets.gateway.wall / targets.gateway.latencies.length
const meterSharePercent = +((meterMs / gatewayMsPerRequest) * 100).toFixed(2)
const overheadPercent = +((d.rps / g.rps - 1) * 100).toFixed(1)
const p50OverheadPercent = +((g.p50Ms / d.p50Ms - 1) * 100).toFixed(1)
const result = {
  bench: 'gateway',
  concurrency: CONCURRENCY,
  maxTokens: MAX_TOKENS,
  promptTokens: verity.request.promptTokens.length,
  direct: d,
  gateway: g,
  gatewayAuth: a,
  overheadPercent,
  p50OverheadPercent,
  targetMet: overheadPercent <= 10,
  authOverheadPercent,
  authP50OverheadPercent,
  authTargetMet: authOverheadPercent <= 5,
  meterMsPerRequest: +meterMs.toFixed(3),
  meterSharePercent,
}
if (json) console.log(JSON.stringify(result))
else {
  console.log(
    `gateway bench: ${result.promptTokens} prompt tokens, ${MAX_TOKENS} completion tokens, concurrency ${CONCURRENCY}, ${ROUNDS} alternating rounds of ${PER_ROUND}`,
  )
  for (const [name, s] of [
    ['direct to miner', d],
    ['through gateway', g],
    ['gateway + auth', a],
  ] as const)
    console.log(
      `  ${name.padEnd(16)} ${String(s.rps).padStart(7)} req/s  p50 ${s.p50Ms} ms  p99 ${s.p99Ms} ms  (${s.requests} requests)`,
    )
  console.log(
    `  overhead: ${overheadPercent}% throughput, ${p50OverheadPercent}% p50 latency (target <= 10%: ${result.targetMet ? 'met' : 'missed'})`,
  )
  console.log(
    `  auth and metering on vs off: ${authOverheadPercent}% throughput, ${authP50OverheadPercent}% p50 latency (target <= 5%: ${result.authTargetMet ? 'met' : 'missed'})`,
  )
  console.log(
    `  accounts' own work: ${result.meterMsPerRequest} ms per request (auth, limits, reserve, settle in SQLite) = ${meterSharePercent}% of the gateway's ${gatewayMsPerRequest.toFixed(1)} ms wall per request`,
  )
}
