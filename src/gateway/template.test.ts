import { privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { withChatTemplate } from '../../test/model-variant.ts'
import { defaultModelBytes } from '../runtime/model/default.ts'
import { loadModel } from '../runtime/model/load.ts'
import { createGateway } from './app.ts'
import { DEV_KEYS, testMiner } from './fixtures.ts'
import { LocalMiner } from './local-miner.ts'
import { MinerPool } from './pool.ts'

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
const json = (res: Response): Promise<any> => res.json()

/** A gateway over a miner whose model file carries `template`: modelRoot names the template. */
function gatewayWith(template: string) {
  const miner = new LocalMiner({
    model: loadModel(withChatTemplate(defaultModelBytes(), template)),
    account: privateKeyToAccount(DEV_KEYS[0]!),
  })
  const model = miner.describe({ id: 'templated' })
  return createGateway({ pools: [new MinerPool(model, { miners: [miner] })] })
}

const post = (app: ReturnType<typeof gatewayWith>, path: string, body: unknown) =>
  app.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })

describe('chat templates in the gateway', () => {
  it('renders messages with the model template and does not double the BOS token', async () => {
    const app = gatewayWith(
      "{{ bos_token }}{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}assistant:",
    )
    const res = await post(app, '/v1/chat/completions', {
      model: 'templated',
      messages: [{ role: 'user', content: 'hello' }],
      max_tokens: 2,
      seed: 1,
    })
    expect(res.status).toBe(200)
    const { verity } = await json(res)
    const tok = testMiner(0).tokenizer
    const prompt: number[] = verity.request.promptTokens
    expect(prompt[0]).toBe(tok.bosId)
    expect(prompt[1]).not.toBe(tok.bosId)
    expect(tok.decode(prompt)).toBe('user: hello\nassistant:')
  })

  it('a template that rejects the messages is a 400; one it cannot compile is a clear 500 for chat only', async () => {
    const rejecting = gatewayWith("{{ raise_exception('no system messages') }}")
    const r = await post(rejecting, '/v1/chat/completions', {
      model: 'templated',
      messages: [{ role: 'user', content: 'x' }],
    })
    expect(r.status).toBe(400)
    expect((await json(r)).error).toMatchObject({ code: 'invalid_messages', param: 'messages' })

    const broken = gatewayWith('{% macro x() %}{% endmacro %}')
    const b = await post(broken, '/v1/chat/completions', {
      model: 'templated',
      messages: [{ role: 'user', content: 'x' }],
    })
    expect(b.status).toBe(500)
    const error = (await json(b)).error
    expect(error).toMatchObject({ type: 'server_error', code: 'chat_template_error' })
    expect(error.message).toMatch(/macro/)
    const c = await post(broken, '/v1/completions', {
      model: 'templated',
      prompt: 'x',
      max_tokens: 2,
    })
    expect(c.status).toBe(200)
  })
})
