import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeDeployment } from '../../chain/deployment.ts'
import { type Devnet, devnetDeployment, startDevnet } from '../../chain/devnet.ts'
import { testModel } from '../../runtime/test-model.ts'
import { toHex } from '../../runtime/trace/merkle.ts'

/** `verity dashboard` as a process: serves the app, the chain's config and the default model. */
const bin = join(import.meta.dirname, '..', '..', '..', 'bin', 'verity.js')
const dir = mkdtempSync(join(tmpdir(), 'verity-dashboard-cli-'))
let devnet: Devnet
let child: ChildProcess | undefined

beforeAll(async () => {
  devnet = await startDevnet({ accounts: 2 })
}, 120_000)

afterAll(async () => {
  child?.kill('SIGKILL')
  await devnet?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('verity dashboard', () => {
  it('serves the dashboard for --rpc/--deployment until SIGINT', async () => {
    const manifest = join(dir, 'deployment.json')
    writeDeployment(manifest, devnetDeployment(devnet))
    const proc = spawn(
      process.execPath,
      [bin, 'dashboard', '--rpc', devnet.rpcUrl, '--deployment', manifest, '--port', '0'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    child = proc
    let output = ''
    proc.stdout!.on('data', (d: Buffer) => {
      output += d.toString()
    })
    proc.stderr!.on('data', (d: Buffer) => {
      output += d.toString()
    })
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL printed:\n${output}`)), 60_000)
      const check = setInterval(() => {
        const m = /dashboard: (http:\/\/127\.0\.0\.1:\d+\/dashboard\/)/.exec(output)
        if (m) {
          clearInterval(check)
          clearTimeout(timer)
          resolve(m[1]!)
        }
      }, 50)
      proc.once('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)))
    })
    const page = await fetch(url)
    // 200 once built (npm install builds it: the bundled CLI finds dashboard/dist), else a 503
    // naming the build command
    const built = existsSync(join(import.meta.dirname, '../../../dashboard/dist/index.html'))
    expect(page.status).toBe(built ? 200 : 503)
    if (built) expect(page.headers.get('content-type')).toMatch(/^text\/html/)
    else expect(await page.text()).toMatch(/build:dashboard/)
    const config = (await (await fetch(`${url}config.json`)).json()) as {
      rpcUrl: string
      deployment: { chainId: number; contracts: { verity: string } }
      models: unknown[]
    }
    expect(config.rpcUrl).toBe(devnet.rpcUrl)
    expect(config.deployment.chainId).toBe(devnet.chain.id)
    expect(config.deployment.contracts.verity.toLowerCase()).toBe(
      devnet.addresses.verity.toLowerCase(),
    )
    expect(config.models).toEqual([])
    const root = toHex(testModel().modelRoot)
    const model = await fetch(`${url}models/${root}.gguf`)
    expect(model.status).toBe(200)
    expect(new Uint8Array(await model.arrayBuffer()).slice(0, 4)).toEqual(
      new TextEncoder().encode('GGUF'),
    )
    expect((await fetch(`${url}models/0x${'00'.repeat(32)}.gguf`)).status).toBe(404)
    // the dashboard alone: the API serves no model
    const models = (await (await fetch(new URL('/v1/models', url))).json()) as { data: unknown[] }
    expect(models.data).toEqual([])
    const code = await new Promise<number | null>((resolve) => {
      proc.once('exit', resolve)
      proc.kill('SIGINT')
    })
    expect(code).toBe(0)
    child = undefined
  })
})
