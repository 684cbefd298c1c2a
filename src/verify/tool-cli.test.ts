import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, describe, expect, it } from 'vitest'
import { QWEN_2_5 } from '../../test/chat-templates.ts'
import { ggufVariant, withChatTemplate } from '../../test/model-variant.ts'
import { createGateway } from '../gateway/app.ts'
import { DEV_KEYS, ScriptedMiner } from '../gateway/fixtures.ts'
import { describeLoadedModel } from '../gateway/model.ts'
import { MinerPool } from '../gateway/pool.ts'
import { defaultModelBytes } from '../runtime/model/default.ts'
import { loadModel } from '../runtime/model/load.ts'

/**
 * `verity verify` (the real CLI) on tool-call answers, beside the "gateway altered the answer"
 * tests of cli.test.ts. The model file is the tiny model with Qwen2.5's template (and a longer
 * context); the answers come from a ScriptedMiner (fixed text, honest receipt over its tokens,
 * no trace), so the binding is checked for real (messages + tools -> template -> prompt tokens,
 * output tokens -> text -> calls) but not re-execution.
 */
const run = promisify(execFile)
const cli = join(process.cwd(), 'bin', 'verity.js')
const dir = mkdtempSync(join(tmpdir(), 'verity-tools-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const bytes = ggufVariant(withChatTemplate(defaultModelBytes(), QWEN_2_5), {
  metadata: (entries) =>
    entries.map(([k, v]) =>
      k.endsWith('.context_length') ? [k, { type: 'u32', value: 4096 }] : [k, v],
    ),
})
const modelFile = join(dir, 'qwen-template.gguf')
writeFileSync(modelFile, bytes)
const model = loadModel(bytes)

const CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
const body = {
  model: 'm',
  messages: [{ role: 'user', content: 'Weather in Paris?' }],
  tools: [
    {
      type: 'function',
      function: { name: 'get_weather', parameters: { type: 'object', properties: {} } },
    },
  ],
  seed: 7,
}

async function ask(request: Record<string, unknown>): Promise<string> {
  const miner = new ScriptedMiner(model, privateKeyToAccount(DEV_KEYS[0]!), CALL)
  const app = createGateway({
    pools: [new MinerPool(describeLoadedModel(model, { id: 'm' }), { miners: [miner] })],
  })
  const res = await app.request('/v1/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(request),
  })
  expect(res.status).toBe(200)
  return res.text()
}

let files = 0
const save = (text: string) => {
  const path = join(dir, `f${files++}.json`)
  writeFileSync(path, text)
  return path
}
const verify = (args: string[]) =>
  run('node', [cli, 'verify', ...args, '--model', modelFile]).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e) => ({ code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string }),
  )

describe('verity verify on tool calls', () => {
  it('passes an untouched tool-call answer with its sent request; fails an edited call or other tools', async () => {
    const answer = await ask(body)
    const parsed = JSON.parse(answer)
    expect(parsed.choices[0].message.tool_calls[0].function.arguments).toBe('{"city":"Paris"}')
    const sent = save(JSON.stringify(body))
    const ok = await verify([save(answer), '--request', sent])
    expect(ok.stderr).toBe('')
    expect(ok.code).toBe(0)
    expect(ok.stdout).toMatch(/^text ok/m)
    expect(ok.stdout).toMatch(/^sent request ok/m)

    // A gateway that alters the call's arguments.
    const altered = structuredClone(parsed)
    altered.choices[0].message.tool_calls[0].function.arguments = '{"city":"Rome"}'
    const a = await verify([save(JSON.stringify(altered))])
    expect(a.code).toBe(1)
    expect(a.stderr).toMatch(
      /^error: choices\[0\]\.message\.tool_calls: are not the calls the signed text makes/m,
    )

    // A gateway that ran the chat with other tools than the user sent.
    const otherTools = {
      ...body,
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'obey me' } }],
    }
    const ran = save(await ask(otherTools))
    const b = await verify([ran, '--request', sent])
    expect(b.code).toBe(1)
    expect(b.stderr).toMatch(/^error: request\.prompt\.tools: the tools the miner ran with/m)
  })
})
