import { type Hex, hexToBytes, toHex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  answer,
  type DisputeFixture,
  dispute,
  type GameSetup,
  honestRoot,
  makeRequest,
  startDisputeFixture,
} from '../../../test/dispute-fixture.ts'
import { type VariantSpec, variantModel } from '../../../test/variant-models.ts'
import { openDispute } from '../../chain/actions/openDispute.ts'
import { DisputeReason } from '../../chain/dispute.ts'
import { generate } from '../../runtime/generate.ts'
import { configBytes } from '../../runtime/model/config.ts'
import { samplingParams } from '../../runtime/sampler/sample.ts'
import { OP_NAMES, OpKind, type TraceFault } from '../../runtime/trace/ops.ts'
import { disputeRequest, openParams } from './open.ts'
import { playDispute } from './play.ts'
import { DisputePlayer } from './player.ts'

/**
 * The dispute game on models beyond plain llama (config v2, test/variant-models.ts): qwen2 (q/k/v
 * biases, NEOX rope) and llama with Llama 3.1 rope frequency factors. A miner lying in a biased
 * projection or a rope element loses at the one step (and in a projection played as a sum);
 * an honest miner beats a challenger whose own run is wrong at those elements; malformed v2
 * configs are refused at open with named errors. One devnet per model, games with part sizes
 * 4096 (A) and 16 (B).
 */

const params = samplingParams({ temperature: 0.8, topP: 0.95 })
const prompt = [1, 40, 90, 300, 7, 211, 64]

for (const spec of ['qwen2', 'llama-rope-freqs'] as VariantSpec[]) {
  describe(`the dispute game on ${spec}`, () => {
    let fx: DisputeFixture
    let gameA: GameSetup
    let gameB: GameSetup
    let turn = 0

    beforeAll(async () => {
      fx = await startDisputeFixture({
        model: variantModel(spec),
        partElements: [4096, 16],
        miners: 2,
        challengers: 2,
      })
      ;[gameA, gameB] = fx.games as [GameSetup, GameSetup]
    }, 300_000)

    afterAll(async () => {
      await fx?.stop()
    })

    const parties = () => {
      const i = turn++
      return { miner: fx.miners[i % 2]!, challenger: fx.challengers[i % 2]! }
    }

    /** A fault whose change shows in the trace (checked, so the lie is a lie). */
    function checkedFault(request: ReturnType<typeof makeRequest>, fault: TraceFault): TraceFault {
      const run = disputeRequest(request, Array(request.maxTokens).fill(0))
      const honest = generate(fx.model, run)
      const lie = generate(fx.model, run, { fault })
      expect(toHex(lie.traceRoot!), 'the fault changes the trace').not.toBe(
        toHex(honest.traceRoot!),
      )
      return fault
    }

    // ropeDim 16: in a head, element j's NORM pair is (2i, 2i + 1) with i = j >> 1, its NEOX
    // pair (i, i + 8) with i = j % 8; pair i's factor (llama-rope-freqs) is ROPE_FACTORS[i], so
    // head 1's element 9 (25) is pair 4 (factor 4) or NEOX pair 1, element 11 pair 5 (7.5) or 3.
    const lies: [string, GameSetup['partElements'], TraceFault, number[]][] = [
      [
        'k (biased projection)',
        4096,
        { pos: 5, layer: 0, kind: OpKind.K, element: 3, delta: 9000 },
        [DisputeReason.ONE_STEP],
      ],
      [
        'q_rope',
        4096,
        { pos: 7, layer: 0, kind: OpKind.Q_ROPE, element: 25, delta: 30000 },
        [DisputeReason.ONE_STEP],
      ],
      [
        'k_rope',
        4096,
        { pos: 4, layer: 1, kind: OpKind.K_ROPE, element: 11, delta: 5000 },
        [DisputeReason.ONE_STEP],
      ],
      [
        'k_rope, second head',
        4096,
        { pos: 6, layer: 0, kind: OpKind.K_ROPE, element: 16 + 5, delta: -7000 },
        [DisputeReason.ONE_STEP],
      ],
      [
        'v (projection played as a sum of 16-element parts)',
        16,
        { pos: 3, layer: 0, kind: OpKind.V, element: 9, delta: 40000 },
        [DisputeReason.SUM_STEP, DisputeReason.TIMEOUT],
      ],
    ]
    for (const [name, part, fault, reasons] of lies) {
      it(`a miner lying in ${name} loses`, { timeout: 300_000 }, async () => {
        const setup = part === 16 ? gameB : gameA
        const request = makeRequest(fx.model, prompt, params, 21 + fault.pos, 3)
        checkedFault(request, fault)
        const { miner, challenger } = parties()
        const a = await answer(fx, setup, miner, request, { fault })
        const r = await dispute(fx, setup, { miner, challenger, request, answer: a, fault })
        expect(r.minerLost, OP_NAMES[fault.kind]).toBe(true)
        expect(reasons).toContain(r.reason)
        expect(r.slashed).toBeGreaterThan(0n)
        if (r.reason === DisputeReason.ONE_STEP) expect(r.moves.at(-1)!.kind).toBe('oneStep')
      })
    }

    // The challenger's own run is wrong at a rope or biased element: it bisects down to it, and
    // the one step (or, in game B, the projection's sum and its final check with the bias)
    // upholds the honest miner's value.
    const wrongChallenger: [string, number, TraceFault][] = [
      ['k_rope', 4096, { pos: 5, layer: 1, kind: OpKind.K_ROPE, element: 13, delta: 6000 }],
      ['q_rope', 4096, { pos: 7, layer: 0, kind: OpKind.Q_ROPE, element: 50, delta: 30000 }],
      [
        'v (biased projection)',
        4096,
        { pos: 2, layer: 0, kind: OpKind.V, element: 30, delta: -20000 },
      ],
      [
        'k (a sum of 16-element parts)',
        16,
        { pos: 4, layer: 1, kind: OpKind.K, element: 7, delta: 3000 },
      ],
    ]
    for (const [name, part, fault] of wrongChallenger) {
      it(`an honest miner wins against a challenger whose ${name} is wrong`, {
        timeout: 300_000,
      }, async () => {
        const setup = part === 16 ? gameB : gameA
        const request = makeRequest(fx.model, prompt, params, 50 + fault.pos, 3)
        checkedFault(request, fault)
        const { miner, challenger } = parties()
        const a = await answer(fx, setup, miner, request)
        const run = disputeRequest(request, a.tokens)
        const claimedRoot = toHex(generate(fx.model, run, { fault }).traceRoot!)
        expect(claimedRoot).not.toBe(honestRoot(fx.model, request, a.tokens))
        const open = openParams({
          receipt: a.receipt,
          request,
          tokens: a.tokens,
          model: fx.model,
          claimedRoot,
        })
        const { id } = await openDispute(challenger, { address: setup.game, open })
        const player = (role: 'miner' | 'challenger') =>
          new DisputePlayer({
            model: fx.model,
            request: run,
            role,
            partElements: setup.partElements,
            ...(role === 'challenger' ? { fault } : {}),
          })
        const r = await playDispute({
          client: fx.devnet.publicClient,
          game: setup.game,
          id,
          miner: { wallet: miner, player: player('miner') },
          challenger: { wallet: challenger, player: player('challenger') },
        })
        expect(r.minerLost).toBe(false)
        if (part === 16) expect(r.moves.map((m) => m.kind)).toContain('postSum')
        else {
          expect(r.reason).toBe(DisputeReason.ONE_STEP)
          expect(r.moves.at(-1)!.kind).toBe('oneStep')
        }
      })
    }

    it('malformed v2 configs are refused at open with named errors', {
      timeout: 120_000,
    }, async () => {
      const { config } = fx.model
      const good = configBytes(config)
      expect(new TextDecoder().decode(good.subarray(0, 15))).toBe('verity/model/v2')
      const request = makeRequest(fx.model, prompt, params, 99, 2)
      const { miner, challenger } = parties()
      const a = await answer(fx, gameA, miner, request)
      const base = openParams({
        receipt: a.receipt,
        request,
        tokens: a.tokens,
        model: fx.model,
        claimedRoot: toHex(new Uint8Array(32).fill(7)),
      })
      const n = config.ropeFreqFactors?.length ?? 0
      const half = config.ropeDim / 2
      const setByte = (at: number, value: number) => {
        const b = good.slice()
        b[at] = value
        return b
      }
      const setCount = (count: number) => {
        const b = good.slice()
        new DataView(b.buffer).setUint32(71, count)
        return b
      }
      const withFactors = (count: number, bits: number[]) => {
        const out = new Uint8Array(75 + 4 * count)
        out.set(good.subarray(0, 75))
        const v = new DataView(out.buffer)
        v.setUint32(71, count)
        for (let i = 0; i < count; i++) v.setUint32(75 + 4 * i, bits[i] ?? 0x3f800000)
        return out
      }
      const plainAsV2 = good.slice(0, 75)
      plainAsV2.set([0, 0, 0, 0, 0, 0, 0], 68)
      const v1Tag = good.slice()
      v1Tag.set(new TextEncoder().encode('verity/llama/v1'))
      const cases: [string, Uint8Array, RegExp][] = [
        ['truncated by one byte', good.subarray(0, good.length - 1), /ConfigTruncated/],
        ['truncated in the v2 header', good.subarray(0, 72), /ConfigTruncated/],
        ['n promising more factors than present', setCount(n + 1), /ConfigTruncated/],
        ['unknown architecture', setByte(68, 2), /UnknownArchitecture/],
        ['unknown rope type (1)', setByte(69, 1), /UnknownRopeType/],
        ['unknown rope type (8, YaRN-like)', setByte(69, 8), /UnknownRopeType/],
        ['an attnBias flag of 2', setByte(70, 2), /AttnBiasFlag/],
        ['factors not ropeDim / 2', withFactors(half + 1, []), /RopeFactorCount/],
        ['three factors', withFactors(3, []), /RopeFactorCount/],
        ['a zero factor', withFactors(half, [0x3f800000, 0]), /RopeFactorUnsupported/],
        ['a negative factor', withFactors(half, [0xbf800000]), /RopeFactorUnsupported/],
        ['an infinite factor', withFactors(half, [0x7f800000]), /RopeFactorUnsupported/],
        ['a factor below 2^-96', withFactors(half, [0x0f7fffff]), /RopeFactorUnsupported/],
        ['plain llama written as v2', plainAsV2, /NonCanonicalConfig/],
        ['the v1 tag on v2 bytes', v1Tag, /ConfigBytes/],
      ]
      for (const [name, bytes, error] of cases) {
        await expect(
          openDispute(challenger, {
            address: gameA.game,
            open: { ...base, config: toHex(bytes) as Hex },
          }),
          name,
        ).rejects.toThrow(error)
      }
      // The well-formed bytes open (a wrong claimed root is still a dispute).
      const { id } = await openDispute(challenger, { address: gameA.game, open: base })
      expect(id).toBeGreaterThan(0n)
      expect(hexToBytes(base.config)).toEqual(good)
    })
  })
}
