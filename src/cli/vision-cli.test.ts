import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { Address } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeDeployment } from '../chain/deployment.ts'
import { type Devnet, devnetDeployment, startDevnet } from '../chain/devnet.ts'
import { deployVisionSubnets } from '../chain/vision-subnets.ts'
import { type GatewayServer, startGatewayServer } from '../gateway/server.ts'
import { VisionPool } from '../gateway/vision/pool.ts'
import { dataUrl, digitPng, grayPng } from '../gateway/vision/test-png.ts'
import { setupVisionSubnet } from '../node/vision/subnet.ts'
import { deployVisionAnswers } from '../vision/chain/deployVisionAnswers.ts'
import { classifyDigits } from '../vision/classify.ts'
import { readDigits, splitDigits } from '../vision/dataset.ts'
import { LocalVisionMiner } from '../vision/local-miner.ts'
import { parseDigitsModel } from '../vision/model.ts'
import { visionModelId } from '../vision/model-id.ts'
import { loadDigitsCircuit, stopProver, verifyDigitsProof } from '../vision/prover.ts'

/**
 * `verity classify` on PNGs the test writes, and `verity verify` on a vision answer a real
 * gateway returned: off chain, and --onchain against VisionAnswers on an anvil devnet (the
 * contract says yes for the genuine answer, no for a changed public input, and an answer for
 * another model id is refused).
 */
const run = promisify(execFile)
const cli = join(process.cwd(), 'bin', 'verity.js')
const root = join(import.meta.dirname, '../..')
const dir = mkdtempSync(join(tmpdir(), 'verity-vision-cli-'))
const circuit = loadDigitsCircuit(join(root, 'circuits/build/digits'))
const model = parseDigitsModel(JSON.parse(readFileSync(join(root, 'models/digits.json'), 'utf8')))
const modelId = visionModelId(circuit.vkey)
const samples = splitDigits(readDigits()).test.slice(0, 3)
// biome-ignore lint/suspicious/noExplicitAny: a saved response body, changed field by field
type Body = any

async function verity(args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args], { timeout: 120_000 })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

const write = (name: string, data: string | Uint8Array) => {
  const path = join(dir, name)
  writeFileSync(path, data)
  return path
}

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true })
  await stopProver()
})

describe('verity classify', () => {
  it('prints the label and scores; --json one object; --prove proves and verifies', async () => {
    for (const s of samples) {
      const file = write(`digit-${s.index}.png`, digitPng(s.pixels))
      const expected = classifyDigits(model, s.pixels)
      const text = await verity(['classify', file])
      expect(text.code).toBe(0)
      expect(text.stdout).toBe(`label: ${expected.label}\nscores: ${expected.scores.join(' ')}\n`)
      const json = await verity(['classify', file, '--json'])
      expect(JSON.parse(json.stdout)).toEqual({
        label: expected.label,
        scores: expected.scores,
        pixels: s.pixels,
      })
    }
    const s = samples[0]!
    const file = join(dir, `digit-${s.index}.png`)
    const proved = await verity(['classify', file, '--prove', '--json'])
    expect(proved.code).toBe(0)
    const out = JSON.parse(proved.stdout)
    expect(out.verified).toBe(true)
    expect(out.modelId).toBe(modelId)
    expect(out.label).toBe(classifyDigits(model, s.pixels).label)
    expect(await verifyDigitsProof(circuit.vkey, out.publicSignals, out.proof)).toBe(true)
    // the proof is for this label: another label's signals do not verify
    const other = [...out.publicSignals]
    other[3] = String((Number(other[3]) + 1) % 10)
    expect(await verifyDigitsProof(circuit.vkey, other, out.proof)).toBe(false)
    const human = await verity(['classify', file, '--prove'])
    expect(human.stdout).toMatch(/proof: verified locally \(Groth16, proved in \d+ ms\)/)
    expect(human.stdout).toMatch(/public signals: \d+ \d+ \d+ \d+/)
  }, 180_000)

  it('refuses bad images in one line, never a stack trace', async () => {
    const cases: [string, string[], number, RegExp][] = [
      ['not a PNG', [write('notpng.png', 'GIF89a hello')], 1, /not a PNG file/],
      [
        'too small',
        [write('tiny.png', grayPng(4, 4, new Uint8Array(16).fill(255)))],
        1,
        /smaller than 8x8/,
      ],
      [
        'truncated',
        [write('cut.png', digitPng(samples[0]!.pixels).subarray(0, 60))],
        1,
        /truncated|corrupt|CRC/,
      ],
      ['missing', [join(dir, 'nope.png')], 1, /cannot read .*nope\.png/],
      [
        'too large a file',
        [write('huge.png', Buffer.alloc(16 * 1024 * 1024 + 1))],
        1,
        /huge\.png is 16777217 bytes; at most 16777216/,
      ],
      ['no file', [], 2, /give exactly one PNG image/],
      ['unknown flag', [join(dir, 'tiny.png'), '--frob'], 2, /unknown option '--frob'/],
    ]
    for (const [name, args, code, message] of cases) {
      const r = await verity(['classify', ...args])
      expect(r.code, name).toBe(code)
      expect(r.stderr, name).toMatch(message)
      expect(r.stderr, name).not.toMatch(/\n\s+at /)
      expect(r.stdout, name).toBe('')
    }
  }, 120_000)
})

describe('verity verify on a vision answer', () => {
  let devnet: Devnet
  let server: GatewayServer
  let manifest: string
  let subnets: Address
  let netuid: number
  let response: string
  let body: Record<string, unknown>

  beforeAll(async () => {
    devnet = await startDevnet({ accounts: 4 })
    const owner = devnet.walletClients[0]!
    const { answers } = await deployVisionAnswers(devnet.publicClient, owner as never, { modelId })
    subnets = await deployVisionSubnets(devnet.publicClient, owner as never, {
      core: devnet.addresses.verity,
    })
    netuid = await setupVisionSubnet(devnet, {
      vision: subnets,
      answers,
      modelId,
      vkeyJson: JSON.stringify(circuit.vkey),
      miners: [devnet.walletClients[1]! as never],
      validators: [],
    })
    manifest = join(dir, 'deployment.json')
    const deployment = devnetDeployment(devnet)
    writeDeployment(manifest, {
      ...deployment,
      contracts: { ...deployment.contracts, vision: subnets },
    })
    const vision = new VisionPool({
      name: 'verity-digits',
      modelId,
      vkey: circuit.vkey,
      miners: [
        new LocalVisionMiner({
          model,
          circuit,
          account: devnet.accounts[1]!.account as never,
          chainId: devnet.chain.id,
          netuid,
          verifyingContract: devnet.addresses.verity,
          blockNumber: () => 1,
        }),
      ],
    })
    server = startGatewayServer({ port: 0, pools: [], vision })
    await server.start()
    const res = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'verity-digits',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image_url', image_url: { url: dataUrl(digitPng(samples[1]!.pixels)) } },
            ],
          },
        ],
      }),
    })
    expect(res.status).toBe(200)
    const text = await res.text()
    response = write('response.json', text)
    body = JSON.parse(text)
  }, 180_000)

  afterAll(async () => {
    await server?.stop()
    await devnet?.stop()
  })

  const chain = () => ['--rpc', devnet.rpcUrl, '--deployment', manifest]
  const tampered = (name: string, change: (b: Body) => void) => {
    const copy = structuredClone(body)
    change(copy)
    return write(name, JSON.stringify(copy))
  }

  it('a genuine answer passes off chain, and --onchain the contract says yes', async () => {
    const off = await verity(['verify', response])
    expect(off.code).toBe(0)
    expect(off.stdout).toMatch(/signature ok: signed by miner/)
    expect(off.stdout).toMatch(/proof ok: the Groth16 proof verifies off chain/)
    expect(off.stdout).toMatch(/on chain NOT checked/)
    const on = await verity(['verify', response, '--onchain', ...chain(), '--json'])
    expect(on.code).toBe(0)
    const out = JSON.parse(on.stdout)
    expect(out).toMatchObject({ ok: true, task: 'vision', offchain: true, onchain: true })
    expect(out.contract.modelId).toBe(modelId)
    const human = await verity(['verify', response, '--onchain', ...chain()])
    expect(human.stdout).toMatch(/on chain ok: the verifier 0x[0-9a-fA-F]{40} of VisionAnswers/)
  }, 120_000)

  it('a changed public input: off chain refuted, and the contract says no', async () => {
    const file = tampered('signal.json', (b) => {
      b.verity.publicSignals[2] = (BigInt(b.verity.publicSignals[2]) + 1n).toString()
    })
    const r = await verity(['verify', file, '--onchain', ...chain(), '--json'])
    expect(r.code).toBe(1)
    const out = JSON.parse(r.stdout)
    expect(out).toMatchObject({ ok: false, offchain: false, onchain: false })
    expect(out.mismatches.map((m: { field: string }) => m.field)).toEqual([
      'verity',
      'verity.proof',
    ])
    const human = await verity(['verify', file, '--onchain', ...chain()])
    expect(human.stdout).toMatch(/says NOT valid/)
    expect(human.stderr).toMatch(/public signals are not those of the signed input/)
  }, 120_000)

  it('tampered answers fail: label, message shown, proof, signature', async () => {
    const cases: [string, (b: Body) => void, RegExp][] = [
      [
        'label',
        (b) => {
          b.verity.label = (b.verity.label + 1) % 10
          b.choices[0].message.content = String(b.verity.label)
        },
        /label is not the signed one/,
      ],
      [
        'message',
        (b) => {
          b.choices[0].message.content = String((b.verity.label + 1) % 10)
        },
        /choices\[0\]\.message\.content: the message shown .* is not the label/,
      ],
      [
        'scores',
        (b) => {
          b.verity.scores[0] += 1
        },
        /scores are not the signed ones/,
      ],
      [
        'proof',
        (b) => {
          b.verity.proof.pi_a[0] = '1'
        },
        /proof is not the signed one/,
      ],
      [
        'signature',
        (b) => {
          b.verity.receipt.signature = `0x${'11'.repeat(65)}`
        },
        /receipt/,
      ],
    ]
    for (const [name, change, message] of cases) {
      const r = await verity(['verify', tampered(`${name}.json`, change)])
      expect(r.code, name).toBe(1)
      expect(r.stderr, name).toMatch(message)
    }
  }, 120_000)

  it("refuses an answer whose subnet the manifest's VisionSubnets does not bind, and a manifest without vision", async () => {
    const owner = devnet.walletClients[0]!
    const { answers } = await deployVisionAnswers(devnet.publicClient, owner as never, {
      modelId: `0x${'ab'.repeat(32)}`,
    })
    // the same subnet number bound, on another VisionSubnets, to another model's contract
    const otherSubnets = await deployVisionSubnets(devnet.publicClient, owner as never, {
      core: devnet.addresses.verity,
    })
    const otherNetuid = await setupVisionSubnet(devnet, {
      vision: otherSubnets,
      answers,
      modelId: `0x${'ab'.repeat(32)}`,
      vkeyJson: '{}',
      miners: [devnet.walletClients[2]! as never],
      validators: [],
    })
    expect(otherNetuid).not.toBe(netuid)
    const deployment = devnetDeployment(devnet)
    const other = join(dir, 'other.json')
    writeDeployment(other, {
      ...deployment,
      contracts: { ...deployment.contracts, vision: otherSubnets },
    })
    const r = await verity([
      'verify',
      response,
      '--onchain',
      '--rpc',
      devnet.rpcUrl,
      '--deployment',
      other,
    ])
    expect(r.code).toBe(1)
    // the receipt's subnet is not bound on that VisionSubnets: the caller cannot pick the contract
    expect(r.stderr).toMatch(
      new RegExp(`verity\\.receipt\\.netuid: subnet ${netuid} is not a vision subnet`),
    )
    const bare = join(dir, 'bare.json')
    writeDeployment(bare, deployment)
    const u = await verity([
      'verify',
      response,
      '--onchain',
      '--rpc',
      devnet.rpcUrl,
      '--deployment',
      bare,
    ])
    expect(u.code).toBe(2)
    expect(u.stderr).toMatch(/names no vision contract/)
  }, 120_000)
})
