import { privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { describeLoadedModel } from '../gateway/model.ts'
import { parseChatRequest } from '../gateway/params.ts'
import { chatRequest } from '../gateway/request.ts'
import { samplingParams } from '../runtime/sampler/sample.ts'
import { testModel } from '../runtime/test-model.ts'
import { toHex } from '../runtime/trace/merkle.ts'
import type { InferenceRequest } from '../types/inference.ts'
import { executeRequest } from '../verify/execute.ts'
import { promptRenderer } from '../verify/prompt/render.ts'
import { judgeCall, subtleFault } from './cheat.ts'
import type { NeuronView } from './subnet-view.ts'
import { ChatWorkload } from './workload.ts'

/**
 * What a selective cheater can tell apart. The old checks (validator hotkey, raw token prompts
 * from a fixed grammar, 4 to 16 tokens, sent at the start of an epoch) were all recognisable;
 * checks drawn from the users' workload and sent through the gateway are not.
 */
const model = testModel()
const renderer = promptRenderer(model.metadata)
const served = describeLoadedModel(model)
const neuron = (stake: bigint): NeuronView => ({
  uid: 1,
  hotkey: privateKeyToAccount(`0x${'12'.repeat(32)}`).address,
  multiaddrs: [],
  validatorPermit: true,
  incentive: 0,
  emission: 0n,
  registrationBlock: 1,
  stake,
})
const gateway = neuron(0n)
const validatorKey = neuron(10n ** 21n)
const epochSeenAt = 1_000_000

function fromWorkload(seed: number, n: number): InferenceRequest[] {
  const w = new ChatWorkload(renderer, model.config.contextLength, seed)
  return Array.from({ length: n }, () =>
    chatRequest(served, parseChatRequest(w.next('tiny') as never), {
      maxTokens: 256,
      chooseSeed: () => 1,
      now: 1_796_000_000_000,
    }),
  )
}

describe('a selective cheater', () => {
  it('recognised every old-style check: the validator hotkey, token prompts, short lengths, epoch timing', () => {
    const old: InferenceRequest = {
      modelRoot: toHex(model.modelRoot),
      promptTokens: renderer.tokenizer.encode('Once upon a time the king walked to the gate.'),
      maxTokens: 9,
      params: samplingParams({ temperature: 0.7 }),
      seed: 3,
      stopTokens: [],
      stop: [],
    }
    const base = { caller: gateway.hotkey, receivedAt: epochSeenAt + 60_000, epochSeenAt }
    expect(judgeCall({ ...base, callerNeuron: validatorKey, request: old }).feature).toBe(
      'caller role',
    )
    expect(judgeCall({ ...base, callerNeuron: undefined, request: old }).feature).toBe(
      'fresh caller key',
    )
    expect(judgeCall({ ...base, callerNeuron: gateway, request: old }).feature).toBe('token prompt')
    const [user] = fromWorkload(1, 1)
    expect(
      judgeCall({ ...base, callerNeuron: gateway, request: { ...user!, maxTokens: 9 } }).feature,
    ).toBe('synthetic length')
    expect(
      judgeCall({
        ...base,
        callerNeuron: gateway,
        request: { ...user!, maxTokens: 40 },
        receivedAt: epochSeenAt + 500,
      }).feature,
    ).toBe('epoch timing')
  })

  it('cannot tell checks drawn from the users workload from users: same features, same rates', () => {
    const judge = (requests: InferenceRequest[]) => {
      const counts = new Map<string, number>()
      requests.forEach((request, i) => {
        // Arrival times spread over the epoch alike for both: checks are a Poisson stream.
        const receivedAt = epochSeenAt + ((i * 7919) % 15_000)
        const { feature } = judgeCall({
          caller: gateway.hotkey,
          callerNeuron: gateway,
          request,
          receivedAt,
          epochSeenAt,
        })
        counts.set(feature, (counts.get(feature) ?? 0) + 1)
      })
      return counts
    }
    const n = 600
    const users = judge(fromWorkload(11, n))
    const checks = judge(fromWorkload(22, n))
    // Features are the same kinds, at rates that differ only by sampling noise.
    expect([...users.keys()].sort()).toEqual([...checks.keys()].sort())
    for (const [feature, count] of users) {
      const p = count / n
      const q = (checks.get(feature) ?? 0) / n
      expect(Math.abs(p - q), feature).toBeLessThan(0.08)
    }
    // And the cheater does cheat on most of both.
    expect((users.get('looks like a user') ?? 0) / n).toBeGreaterThan(0.5)
    expect((checks.get('looks like a user') ?? 0) / n).toBeGreaterThan(0.5)
  })
})

describe('a subtle cheater', () => {
  it('changes one deep value, and the trace it signs differs from an honest run', () => {
    const requests = fromWorkload(33, 20)
    let differ = 0
    for (const request of requests) {
      const fault = subtleFault(model.config, request)
      expect(fault.pos).toBe(request.promptTokens.length - 1)
      expect(fault.layer).toBeLessThan(model.config.nLayers)
      expect(fault).toEqual(subtleFault(model.config, request)) // the same request, the same lie
      const honest = executeRequest(model, renderer.tokenizer, request)
      const lying = executeRequest(model, renderer.tokenizer, request, { fault })
      if (lying.traceRoot !== honest.traceRoot) differ++
    }
    // A value raised by 1.0 can still be rounded away now and then (then nothing was a lie).
    expect(differ).toBeGreaterThanOrEqual(18)
  })
})

describe('the workload', () => {
  it('is chat-templated, multi-turn, varied in length and sampling, and fits the context', () => {
    const w = new ChatWorkload(renderer, model.config.contextLength, 5)
    const bodies = Array.from({ length: 300 }, () => w.next('tiny'))
    const turns = new Set(bodies.map((b) => b.messages.filter((m) => m.role === 'user').length))
    expect(turns.size).toBeGreaterThanOrEqual(3)
    expect(bodies.some((b) => b.messages[0]!.role === 'system')).toBe(true)
    expect(new Set(bodies.map((b) => b.max_tokens)).size).toBeGreaterThan(30)
    expect(new Set(bodies.map((b) => b.temperature)).size).toBeGreaterThan(5)
    expect(bodies.some((b) => b.stop)).toBe(true)
    expect(
      bodies.some((b) => b.seed === undefined) && bodies.some((b) => b.seed !== undefined),
    ).toBe(true)
    for (const b of bodies) {
      const tokens = chatRequest(served, parseChatRequest(b as never), {
        maxTokens: 256,
        chooseSeed: () => 1,
        now: 0,
      })
      expect(tokens.promptTokens.length + tokens.maxTokens).toBeLessThanOrEqual(
        model.config.contextLength,
      )
    }
  })
})
