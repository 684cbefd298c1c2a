import { createServer, type Server } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_MODEL_PATH, loadModelFile } from '../cli/model-file.ts'
import { MarketError } from '../errors/market.ts'
import { toHex } from '../runtime/trace/merkle.ts'
import { processAlive, startWorkload, type WorkloadOptions } from './workload.ts'

// A loopback JSON-RPC endpoint that answers eth_chainId and eth_blockNumber: all a workload asks
// of the chain (the block its receipts are valid from).
let rpc: Server
let rpcUrl: string
let root: `0x${string}`

beforeAll(async () => {
  rpc = createServer((req, res) => {
    let body = ''
    req.on('data', (d) => (body += d))
    req.on('end', () => {
      const call = JSON.parse(body) as { id: number; method: string }
      const result = call.method === 'eth_chainId' ? '0x7a69' : '0x2a'
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ jsonrpc: '2.0', id: call.id, result }))
    })
  })
  await new Promise<void>((r) => rpc.listen(0, '127.0.0.1', r))
  rpcUrl = `http://127.0.0.1:${(rpc.address() as { port: number }).port}`
  root = toHex(loadModelFile(DEFAULT_MODEL_PATH, { threads: 1 }).modelRoot) as `0x${string}`
})

afterAll(async () => {
  await new Promise((r) => rpc.close(r))
})

const options = (over: Partial<WorkloadOptions> = {}): WorkloadOptions => ({
  leaseId: 1n,
  modelPath: DEFAULT_MODEL_PATH,
  modelRoot: root,
  apiKeyHash: `0x${'11'.repeat(32)}`,
  signingKey: `0x${'22'.repeat(32)}`,
  rpcUrl,
  chainId: 31337,
  verifyingContract: '0x0000000000000000000000000000000000000001',
  cpuMilli: 1000,
  memoryBytes: 2n << 30n,
  ...over,
})

describe('workload', () => {
  it('serves the model on loopback, only to the API key, and stops on request', async () => {
    const w = await startWorkload(options())
    expect(processAlive(w.pid)).toBe(true)
    const models = await fetch(`http://127.0.0.1:${w.port}/v1/models`)
    expect(models.status).toBe(401)
    const exit = await w.stop('lease closed')
    expect(exit.reason).toBe('lease closed')
    expect(processAlive(w.pid)).toBe(false)
  }, 60_000)

  it('a model file that is not the lease model never serves: a clear error, no process left', async () => {
    const wrong = `0x${'ab'.repeat(32)}` as const
    const error = await startWorkload(options({ modelRoot: wrong })).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MarketError)
    expect((error as MarketError).shortMessage).toBe(
      'lease 1: the workload exited before it was ready',
    )
    expect((error as MarketError).details).toMatch(/hashes to 0x[0-9a-f]{64}, not 0xabab/)
  }, 60_000)

  it('above its memory limit the workload is killed, and says why', async () => {
    const w = await startWorkload(options({ memoryBytes: 8n << 20n, watchMs: 50 }))
    const exit = await w.exited
    expect(exit.reason).toMatch(/^memory limit: \d+ bytes resident, 8388608 allowed$/)
    expect(exit.signal).toBe('SIGKILL')
    expect(processAlive(w.pid)).toBe(false)
  }, 60_000)
})
