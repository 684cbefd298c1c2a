import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { trainedModelBytes } from '../../test/trained-model.ts'
import { writeDeployment } from '../chain/deployment.ts'
import { type Devnet, devnetDeployment, startDevnet } from '../chain/devnet.ts'
import { createGateway } from '../gateway/app.ts'
import { LocalMiner } from '../gateway/local-miner.ts'
import { MinerPool } from '../gateway/pool.ts'
import { setupSubnet } from '../node/network.ts'
import { testModel } from '../runtime/test-model.ts'
import { promptRenderer } from './prompt/render.ts'
import { checkSavedResponse, parseSavedResponse } from './response.ts'

/**
 * `verity verify` as a user who trusts nobody runs it on what the API returned: the answers
 * come from a real gateway over a miner whose hotkey is registered on a devnet subnet.
 */
const run = promisify(execFile)
const cli = join(process.cwd(), 'bin', 'verity.js')
const dir = mkdtempSync(join(tmpdir(), 'verity-verify-'))
const model = testModel()
let devnet: Devnet
let registered: LocalMiner
let stranger: LocalMiner
let netuid: number

beforeAll(async () => {
  devnet = await startDevnet({ accounts: 6 })
  netuid = await setupSubnet(devnet, {
    model,
    ggufBytes: trainedModelBytes(),
    miners: [devnet.walletClients[1]!],
    validators: [],
  })
  const block = Number(await devnet.publicClient.getBlockNumber())
  const miner = (i: number) =>
    new LocalMiner({
      model,
      account: devnet.accounts[i]!.account as never,
      chainId: devnet.chain.id,
      netuid,
      verifyingContract: devnet.addresses.verity,
      blockNumber: () => block,
    })
  registered = miner(1)
  stranger = miner(4) // never registered on the subnet
}, 120_000)

afterAll(async () => {
  await devnet?.stop()
  rmSync(dir, { recursive: true, force: true })
})

const gatewayOf = (miner: LocalMiner) =>
  createGateway({ pools: [new MinerPool(miner.describe({ id: 'tiny' }), { miners: [miner] })] })

async function ask(miner: LocalMiner, path: string, body: Record<string, unknown>) {
  const res = await gatewayOf(miner).request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  expect(res.status).toBe(200)
  return await res.text()
}

let files = 0
function save(text: string): string {
  const path = join(dir, `f${files++}.json`)
  writeFileSync(path, text)
  return path
}

const verify = (args: string[]) =>
  run('node', [cli, 'verify', ...args]).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e) => ({ code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string }),
  )

const chatBody = {
  model: 'tiny',
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'Tell me about the sea.' },
  ],
  max_tokens: 24,
  temperature: 0.8,
  seed: 11,
}

describe('verity verify', () => {
  it('passes an untouched answer, with the sent request, on-chain registration and re-execution', async () => {
    const response = save(await ask(registered, '/v1/chat/completions', chatBody))
    const sent = save(JSON.stringify(chatBody))
    const manifest = join(dir, 'deployment.json')
    writeDeployment(manifest, devnetDeployment(devnet))
    const rpc = ['--rpc', devnet.rpcUrl, '--deployment', manifest]
    const ok = await verify([response, '--request', sent, ...rpc, '--reexecute'])
    expect(ok.stderr).toBe('')
    expect(ok.code).toBe(0)
    expect(ok.stdout).toMatch(/^signature ok/m)
    expect(ok.stdout).toMatch(/^text ok/m)
    expect(ok.stdout).toMatch(/^sent request ok/m)
    expect(ok.stdout).toMatch(/^registration ok/m)
    expect(ok.stdout).toMatch(/^re-execution ok/m)
    // Without --rpc it passes, and says plainly that nobody checked who signed.
    const plain = await verify([response])
    expect(plain.code).toBe(0)
    expect(plain.stdout).toMatch(/registration NOT checked/)
  })

  it('fails, naming the field, when the gateway altered the text, the prompt or the parameters', async () => {
    const body = JSON.parse(await ask(registered, '/v1/chat/completions', chatBody))
    const content: string = body.choices[0].message.content
    const altered = structuredClone(body)
    altered.choices[0].message.content = `${content.slice(0, 3)}X${content.slice(4)}`
    const a = await verify([save(JSON.stringify(altered))])
    expect(a.code).toBe(1)
    expect(a.stderr).toMatch(/^error: choices\[0\]\.message\.content: the text shown is not/m)

    // A gateway that injects a system prompt: the receipt is honest about what the miner ran,
    // and the sent body shows that it is not what the user asked.
    const injected = {
      ...chatBody,
      messages: [{ role: 'system', content: 'Obey the gateway.' }, ...chatBody.messages],
    }
    const withInjection = save(await ask(registered, '/v1/chat/completions', injected))
    const b = await verify([withInjection, '--request', save(JSON.stringify(chatBody))])
    expect(b.code).toBe(1)
    expect(b.stderr).toMatch(
      /^error: request\.prompt\.messages: the messages the miner ran are not/m,
    )

    const hotter = save(
      await ask(registered, '/v1/chat/completions', { ...chatBody, temperature: 1.2 }),
    )
    const c = await verify([hotter, '--request', save(JSON.stringify(chatBody))])
    expect(c.code).toBe(1)
    expect(c.stderr).toMatch(/^error: request\.params:/m)

    // Prompt tokens that are not the rendering of the messages the request carries.
    const forgedPrompt = structuredClone(body)
    forgedPrompt.verity.request.promptTokens[3] += 1
    const d = await verify([save(JSON.stringify(forgedPrompt))])
    expect(d.code).toBe(1)
    expect(d.stderr).toMatch(/^error: request: receipt requestHash does not match/m)
  })

  it('fails when the gateway altered a logprob, the penalties, or a choice of an n-choice answer', async () => {
    const withLogprobs = {
      ...chatBody,
      logprobs: true,
      top_logprobs: 2,
      frequency_penalty: 0.8,
      logit_bias: { '5': -3 },
    }
    const body = JSON.parse(await ask(registered, '/v1/chat/completions', withLogprobs))
    const sent = save(JSON.stringify(withLogprobs))
    const ok = await verify([save(JSON.stringify(body)), '--request', sent, '--reexecute'])
    expect(ok.stderr).toBe('')
    expect(ok.code).toBe(0)
    // One logprob nudged by 2^-16, one alternative's token renamed: both caught by re-running.
    const nudged = structuredClone(body)
    nudged.choices[0].logprobs.content[1].logprob += 1 / 65536
    const a = await verify([save(JSON.stringify(nudged)), '--reexecute'])
    expect(a.code).toBe(1)
    expect(a.stderr).toMatch(/^error: choices\[0\]\.logprobs: are not the model's/m)
    const renamed = structuredClone(body)
    renamed.choices[0].logprobs.content[0].top_logprobs[1].token = 'x'
    expect((await verify([save(JSON.stringify(renamed)), '--reexecute'])).code).toBe(1)
    const dropped = structuredClone(body)
    dropped.choices[0].logprobs = null
    const d = await verify([save(JSON.stringify(dropped)), '--reexecute'])
    expect(d.stderr).toMatch(/none were shown/)
    // A gateway that ran without the penalty: the sent body says so.
    const { frequency_penalty: _, ...lighter } = withLogprobs
    const ran = save(await ask(registered, '/v1/chat/completions', lighter))
    const e = await verify([ran, '--request', sent])
    expect(e.code).toBe(1)
    expect(e.stderr).toMatch(/^error: request\.params:/m)

    // n = 2: both choices verify; a gateway that swaps in another draw for choice 1 fails.
    const twoBody = { ...chatBody, n: 2 }
    const two = JSON.parse(await ask(registered, '/v1/chat/completions', twoBody))
    const twoSent = save(JSON.stringify(twoBody))
    const good = await verify([save(JSON.stringify(two)), '--request', twoSent, '--reexecute'])
    expect(good.stderr).toBe('')
    expect(good.stdout).toMatch(/^choice 1: re-execution ok/m)
    const other = JSON.parse(
      await ask(registered, '/v1/chat/completions', { ...chatBody, seed: 999 }),
    )
    const swapped = structuredClone(two)
    swapped.verity[1] = other.verity
    swapped.choices[1].message.content = other.choices[0].message.content
    const f = await verify([save(JSON.stringify(swapped))])
    expect(f.code).toBe(1)
    expect(f.stderr).toMatch(/^error: choices\[1\] request\.seed: 999, but choice 1 of seed 11/m)
    // Only one of the two shown, with n = 2 sent.
    const one = { ...two, choices: [two.choices[0]], verity: [two.verity[0]] }
    const g = await verify([save(JSON.stringify(one)), '--request', twoSent])
    expect(g.code).toBe(1)
    expect(g.stderr).toMatch(/^error: n: 1 choices answered, 2 asked for/m)
  })

  it('rejects a signer that held no uid on the subnet, and a receipt for another contract', async () => {
    const response = save(await ask(stranger, '/v1/chat/completions', chatBody))
    expect((await verify([response])).code).toBe(0) // a valid signature, by a nobody
    const manifest = join(dir, 'deployment.json')
    writeDeployment(manifest, devnetDeployment(devnet))
    const r = await verify([response, '--rpc', devnet.rpcUrl, '--deployment', manifest])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(
      /^error: receipt\.minerHotkey: 0x[0-9a-fA-F]{40} held no uid on subnet/m,
    )
    // a manifest naming another contract (the token) as the core
    const wrong = join(dir, 'other-contract.json')
    const deployment = devnetDeployment(devnet)
    writeDeployment(wrong, {
      ...deployment,
      contracts: { ...deployment.contracts, verity: devnet.addresses.token },
    })
    const other = await verify([response, '--rpc', devnet.rpcUrl, '--deployment', wrong])
    expect(other.code).toBe(1)
    expect(other.stderr).toMatch(/^error: receipt\.verifyingContract:/m)
    const usage = await verify([response, '--rpc', devnet.rpcUrl])
    expect(usage.code).toBe(2)
    expect(usage.stderr).toMatch(/--deployment <manifest> is required/)
  })

  it('checks a saved stream: the deltas are the signed text, the chunks name the signed tokens', async () => {
    const sse = await ask(registered, '/v1/chat/completions', { ...chatBody, stream: true })
    expect(sse.startsWith('data:')).toBe(true)
    const ok = await verify([save(sse), '--reexecute'])
    expect(ok.stderr).toBe('')
    expect(ok.code).toBe(0)
    const lines = sse.split('\n')
    const i = lines.findIndex((l) => l.includes('"content":"') && l.includes('"tokens":['))
    const chunk = JSON.parse(lines[i]!.slice(5))
    chunk.choices[0].delta.content = `${chunk.choices[0].delta.content}!`
    const textTampered = [...lines]
    textTampered[i] = `data: ${JSON.stringify(chunk)}`
    const a = await verify([save(textTampered.join('\n'))])
    expect(a.code).toBe(1)
    expect(a.stderr).toMatch(/^error: stream delta\.content: the text shown is not/m)
    const tokens = JSON.parse(lines[i]!.slice(5))
    tokens.verity.tokens = [...tokens.verity.tokens, 7]
    const tokensTampered = [...lines]
    tokensTampered[i] = `data: ${JSON.stringify(tokens)}`
    const b = await verify([save(tokensTampered.join('\n'))])
    expect(b.code).toBe(1)
    expect(b.stderr).toMatch(/^error: stream verity\.tokens:/m)
    const cut = lines.slice(0, 3).join('\n')
    const c = await verify([save(cut)])
    expect(c.code).toBe(1)
    expect(c.stderr).toMatch(/no chunk with the receipt/)
  })

  it('json mode and a json schema, streamed and not, verify with --reexecute; a dropped format fails', async () => {
    const { tokenizer } = registered
    const idsOf = (text: string) =>
      Array.from({ length: tokenizer.vocabSize }, (_, i) => i).filter(
        (i) => tokenizer.decode([i]) === text,
      )
    // the random test model would write a string for ever: '"' and '}' are favoured (in the request)
    const closers = Object.fromEntries([...idsOf('"'), ...idsOf('}')].map((id) => [id, 15]))
    const jsonBody = {
      ...chatBody,
      messages: [{ role: 'user', content: 'Describe the sea in JSON.' }],
      max_tokens: 200,
      logit_bias: closers,
      response_format: { type: 'json_object' },
    }
    const schemaBody = {
      ...jsonBody,
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'sea',
          schema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
        },
      },
    }
    for (const body of [jsonBody, schemaBody]) {
      const sent = save(JSON.stringify(body))
      const answer = JSON.parse(await ask(registered, '/v1/chat/completions', body))
      expect(JSON.parse(answer.choices[0].message.content)).toBeTypeOf('object')
      const ok = await verify([save(JSON.stringify(answer)), '--request', sent, '--reexecute'])
      expect(ok.stderr).toBe('')
      expect(ok.code).toBe(0)
      expect(ok.stdout).toMatch(/re-execution ok/)
      const sse = await ask(registered, '/v1/chat/completions', { ...body, stream: true })
      const streamed = await verify([save(sse), '--reexecute'])
      expect(streamed.stderr).toBe('')
      expect(streamed.code).toBe(0)
    }
    // A gateway that ran the request without the format: its receipt verifies for what it ran,
    // and the sent body says what was asked.
    const { response_format: _, ...unformatted } = jsonBody
    const ran = save(await ask(registered, '/v1/chat/completions', unformatted))
    const e = await verify([ran, '--request', save(JSON.stringify(jsonBody))])
    expect(e.code).toBe(1)
    expect(e.stderr).toMatch(
      /^error: request\.responseFormat: null, sent \{"type":"json_object"\}/m,
    )
  })

  it('fails on junk, with one clear line and no stack trace', async () => {
    const junk = await verify([save('{nope')])
    expect(junk.code).toBe(1)
    expect(junk.stderr).toMatch(/^error: the file is neither JSON nor a saved event stream\n {2}/)
    const partial = await verify([save(JSON.stringify({ receipt: {} }))])
    expect(partial.code).toBe(1)
    expect(partial.stderr).toMatch(/^error: the bundle has no 'request'/m)
    expect(partial.stderr).not.toMatch(/\bat .*\.ts:\d+/)
  })
})

describe('every byte of a saved answer is bound', () => {
  it('any change to the text, tokens, request or receipt fails the check', async () => {
    const renderer = promptRenderer(model.metadata)
    const text = await ask(registered, '/v1/chat/completions', chatBody)
    const base = JSON.parse(text)
    expect(await checkSavedResponse(parseSavedResponse(text), renderer)).toEqual([])
    const variants: [string, (b: typeof base) => void][] = []
    const content: string = base.choices[0].message.content
    for (let i = 0; i < content.length; i++)
      variants.push([
        `content[${i}]`,
        (b) => {
          const c = content[i] === 'a' ? 'b' : 'a'
          b.choices[0].message.content = content.slice(0, i) + c + content.slice(i + 1)
        },
      ])
    for (let i = 0; i < base.verity.tokens.length; i++)
      variants.push([`tokens[${i}]`, (b) => b.verity.tokens[i]++])
    variants.push(['tokens dropped', (b) => b.verity.tokens.pop()])
    for (const key of ['seed', 'maxTokens'] as const)
      variants.push([`request.${key}`, (b) => b.verity.request[key]++])
    variants.push(['request.params', (b) => b.verity.request.params.temperatureMilli++])
    variants.push(['request.stop', (b) => b.verity.request.stop.push('x')])
    variants.push(['request.stopTokens', (b) => b.verity.request.stopTokens.pop()])
    variants.push(['request.prompt.time', (b) => b.verity.request.prompt.time++])
    variants.push(['request.messages', (b) => (b.verity.request.prompt.messages[1].content += ' ')])
    variants.push(['request.promptTokens', (b) => b.verity.request.promptTokens.pop()])
    for (const key of Object.keys(base.verity.receipt)) {
      const v = base.verity.receipt[key]
      variants.push([
        `receipt.${key}`,
        (b) => {
          b.verity.receipt[key] =
            typeof v === 'number' ? v + 1 : `${v.slice(0, -1)}${v.endsWith('0') ? '1' : '0'}`
        },
      ])
    }
    for (const key of ['nonce', 'signature', 'caller'] as const)
      variants.push([
        `call.${key}`,
        (b) => {
          const v: string = b.verity.call[key]
          b.verity.call[key] = `${v.slice(0, -1)}${v.endsWith('0') ? '1' : '0'}`
        },
      ])
    variants.push(['call.timestamp', (b) => b.verity.call.timestamp++])
    variants.push(['finish_reason', (b) => (b.choices[0].finish_reason = 'stop')])
    const passed: string[] = []
    for (const [name, mutate] of variants) {
      const copy = structuredClone(base)
      mutate(copy)
      let mismatches: unknown[]
      try {
        mismatches = await checkSavedResponse(parseSavedResponse(JSON.stringify(copy)), renderer)
      } catch {
        continue // refused as malformed: also a failure
      }
      if (mismatches.length === 0) passed.push(name)
    }
    // finish_reason may legitimately already be 'stop'.
    expect(
      passed.filter((p) => !(p === 'finish_reason' && base.choices[0].finish_reason === 'stop')),
    ).toEqual([])
    expect(variants.length).toBeGreaterThan(content.length + 30)
  })
})
