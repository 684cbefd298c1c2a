import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, describe, expect, it } from 'vitest'
import { checkVisionAnswer, type VisionAnswer } from './answer.ts'
import { LocalVisionMiner } from './local-miner.ts'
import { parseDigitsModel } from './model.ts'
import { visionModelId } from './model-id.ts'
import { loadDigitsCircuit, stopProver } from './prover.ts'

const root = join(import.meta.dirname, '../..')
const circuit = loadDigitsCircuit(join(root, 'circuits/build/digits'))
const model = parseDigitsModel(JSON.parse(readFileSync(join(root, 'models/digits.json'), 'utf8')))
const modelId = visionModelId(circuit.vkey)
const account = privateKeyToAccount(`0x${'11'.repeat(32)}`)
const other = privateKeyToAccount(`0x${'22'.repeat(32)}`)
const base = {
  model,
  circuit,
  chainId: 31337,
  netuid: 3,
  verifyingContract: '0x00000000000000000000000000000000000000aa' as const,
  blockNumber: () => 7,
}
const pixels = Array.from({ length: 64 }, (_, i) => ((i * 7) % 17) as number)
const nonce = `0x${'ab'.repeat(32)}` as const
const opts = { vkey: circuit.vkey, modelId, chainId: 31337, netuid: 3, pixels, nonce }

afterAll(stopProver)

describe('vision answers', () => {
  let honest: VisionAnswer
  it("an honest miner's answer verifies, bound to the call", async () => {
    honest = await new LocalVisionMiner({ ...base, account }).classify(pixels, { nonce })
    expect(await checkVisionAnswer(honest, { ...opts, miner: account.address })).toEqual({
      ok: true,
      signer: account.address,
    })
  }, 60_000)

  it('a cheater is refuted by its own signature; tampering by others is not evidence', async () => {
    for (const cheat of ['invalid-proof', 'wrong-label'] as const) {
      const answer = await new LocalVisionMiner({ ...base, account, cheat }).classify(pixels, {
        nonce,
      })
      const verdict = await checkVisionAnswer(answer, opts)
      expect(verdict).toMatchObject({ ok: false, signed: true, signer: account.address })
      expect((verdict as { reason: string }).reason).toMatch(/proof does not verify/)
    }
    const cases: [unknown, RegExp][] = [
      [null, /not an object/],
      [{ ...honest, receipt: undefined }, /no receipt/],
      [{ ...honest, receipt: { ...honest.receipt, signature: undefined } }, /not signed/],
      [{ ...honest, receipt: { ...honest.receipt, label: 11 } }, /label/],
      [
        { ...honest, receipt: { ...honest.receipt, minerHotkey: other.address } },
        /not its minerHotkey/,
      ],
      [{ ...honest, label: (honest.label + 1) % 10 }, /label is not the signed one/],
      [{ ...honest, scores: honest.scores.map((s) => s + 1) }, /scores are not the signed ones/],
      [
        { ...honest, pixels: honest.pixels.map((p) => (p + 1) % 17) },
        /pixels are not the receipt's input/,
      ],
      [
        { ...honest, proof: { ...honest.proof, pi_a: ['3', '4', '1'] } },
        /proof is not the signed one/,
      ],
    ]
    for (const [answer, reason] of cases) {
      const verdict = await checkVisionAnswer(answer, opts)
      expect(verdict.ok).toBe(false)
      expect(verdict).toMatchObject({ signed: false })
      expect((verdict as { reason: string }).reason).toMatch(reason)
    }
    // a genuine answer replayed for another call, subnet, model or input is refused, not evidence
    for (const [o, reason] of [
      [{ nonce: `0x${'cd'.repeat(32)}` }, /nonce/],
      [{ netuid: 4 }, /subnet 3/],
      [{ modelId: `0x${'00'.repeat(32)}` }, /model/],
      [{ pixels: pixels.map((p) => 16 - p) }, /another input/],
      [{ miner: other.address }, /another hotkey/],
    ] as const) {
      const verdict = await checkVisionAnswer(honest, { ...opts, ...o })
      expect(verdict).toMatchObject({ ok: false, signed: false })
      expect((verdict as { reason: string }).reason).toMatch(reason)
    }
    // signals that are not the signed input's, under the miner's signature: evidence
    const swapped = await checkVisionAnswer(
      { ...honest, publicSignals: [...honest.publicSignals].reverse() },
      opts,
    )
    expect(swapped).toMatchObject({ ok: false, signed: true })
  }, 60_000)
})
