import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, describe, expect, it } from 'vitest'
import { samplingParams } from '../runtime/sampler/sample.ts'
import { testModel } from '../runtime/test-model.ts'
import { tokenizerFromGguf } from '../runtime/tokenizer/index.ts'
import { toHex } from '../runtime/trace/merkle.ts'
import type { InferenceRequest } from '../types/inference.ts'
import { executeRequest } from './execute.ts'
import { signReceipt } from './receipt.ts'
import { outputHash, requestHash } from './request.ts'

const run = promisify(execFile)
const cli = join(process.cwd(), 'bin', 'verity.js')
const dir = mkdtempSync(join(tmpdir(), 'verity-verify-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function bundleFile(name: string, mutate: (b: Record<string, unknown>) => void = () => {}) {
  const model = testModel()
  const tokenizer = tokenizerFromGguf(model.metadata)
  const request: InferenceRequest = {
    modelRoot: toHex(model.modelRoot),
    promptTokens: tokenizer.encode('Hello there'),
    maxTokens: 10,
    params: samplingParams({ temperature: 0.7 }),
    seed: 5,
    stopTokens: [],
    stop: [],
  }
  const out = executeRequest(model, tokenizer, request)
  const miner = privateKeyToAccount(`0x${'44'.repeat(32)}`)
  const receipt = await signReceipt(miner, {
    chainId: 31337,
    netuid: 1,
    modelRoot: request.modelRoot,
    requestHash: requestHash(request),
    outputHash: out.outputHash,
    traceRoot: out.traceRoot,
    traceLeaves: out.traceLeaves,
    minerHotkey: miner.address,
    validUntilBlock: 100,
    nonce: `0x${'01'.repeat(32)}`,
  })
  const bundle: Record<string, unknown> = { request, receipt, tokens: out.tokens }
  mutate(bundle)
  const path = join(dir, name)
  writeFileSync(path, JSON.stringify(bundle))
  return { path, receipt, miner }
}

const verify = (args: string[]) =>
  run('node', [cli, 'verify', ...args]).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e) => ({ code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string }),
  )

describe('verity verify', () => {
  it('exit 0 for a good receipt (with --reexecute too), clear errors otherwise', async () => {
    const good = await bundleFile('good.json')
    const ok = await verify([good.path, '--reexecute'])
    expect(ok.stderr).toBe('')
    expect(ok.code).toBe(0)
    expect(ok.stdout).toMatch(/signature ok/)
    expect(ok.stdout).toMatch(/re-execution ok/)

    const badSig = await bundleFile('sig.json', (b) => {
      const r = b.receipt as Record<string, string>
      r.signature = `${r.signature!.slice(0, 10)}${r.signature![10] === 'a' ? 'b' : 'a'}${r.signature!.slice(11)}`
    })
    const a = await verify([badSig.path])
    expect(a.code).toBe(1)
    expect(a.stderr).toMatch(/^error: receipt signature/m)

    const cheat = await bundleFile('cheat.json', (b) => {
      b.tokens = undefined
    })
    // re-sign a made-up output with the same key: the signature holds, re-execution fails
    const { receipt, miner } = cheat
    const forged = await signReceipt(miner, { ...receipt, outputHash: outputHash([1, 2, 3]) })
    const forgedPath = join(dir, 'forged.json')
    const { readFileSync } = await import('node:fs')
    const parsed = JSON.parse(readFileSync(cheat.path, 'utf8'))
    writeFileSync(forgedPath, JSON.stringify({ ...parsed, receipt: forged }))
    expect((await verify([forgedPath])).code).toBe(0)
    const re = await verify([forgedPath, '--reexecute'])
    expect(re.code).toBe(1)
    expect(re.stderr).toMatch(/^error: re-execution mismatch: outputHash/m)

    writeFileSync(join(dir, 'junk.json'), '{nope')
    const junk = await verify([join(dir, 'junk.json')])
    expect(junk.code).toBe(1)
    expect(junk.stderr).toMatch(/^error: cannot read .* as JSON/)
  })
})
