import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type WitnessCalculator, WitnessCalculatorBuilder } from 'circom_runtime'
import * as snarkjs from 'snarkjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Prng } from '../runtime/sampler/prng.ts'
import { compileDigitsCircuit } from './circuit-compile.ts'
import { classifyDigits } from './classify.ts'
import { type DigitSample, readDigits, splitDigits } from './dataset.ts'
import { type DigitsModel, parseDigitsModel } from './model.ts'
import { visionModelId } from './model-id.ts'
import { loadDigitsCircuit, proveDigits, stopProver, verifyDigitsProof } from './prover.ts'
import { circuitInput, parsePublicSignals, unpackScores } from './public-signals.ts'
import {
  calculateWitness,
  FIELD_P,
  overwriteWitness,
  readSymbols,
  signedFromField,
} from './witness.ts'

/**
 * The two-hidden-layer circuit (circuits/digits-h2.circom, from models/digits-h2.json) against the
 * TypeScript classifier. Its proving key is not committed (tens of MB), so this test compiles the
 * committed circuit (r1cs, wasm, sym; ~1 min here) into .cache and checks witnesses only: the same
 * activations of both hidden layers, the same 10 scores and label. The witness calculator is
 * compiled once (snarkjs's wtns.calculate recompiles the 2 MB wasm on every call, ~2 s here) and
 * then costs ~0.3 s a witness on this shared machine, so CI checks a seeded sample of 40
 * held-out images; VERITY_DIGITS_H2_ALL=1 checks all 359. Proofs of this circuit are measured by
 * bench/vision.bench.ts (docs/BENCHMARKS.md); when the keys were built locally
 * (scripts/build-digits-circuit.ts --model models/digits-h2.json --no-solidity), the last block
 * proves and verifies with them too.
 */
const root = join(import.meta.dirname, '../..')
const dir = join(root, '.cache/zk/digits-h2-test')
const all = splitDigits(readDigits()).test
const SAMPLE = 40
let model: DigitsModel
let sym: Map<string, number>
let calculator: WitnessCalculator
const wasm = join(dir, 'digits-h2.wasm')
const r1cs = join(dir, 'digits-h2.r1cs')
const quiet = { info() {}, debug() {}, warn() {}, error() {} }

/** The held-out images to check: all of them, or a seeded sample that keeps the first image. */
function images(): DigitSample[] {
  if (process.env.VERITY_DIGITS_H2_ALL === '1') return all
  const prng = new Prng(18)
  const picked = new Set<number>([0])
  while (picked.size < SAMPLE) picked.add(prng.below(all.length))
  return [...picked].sort((a, b) => a - b).map((i) => all[i] as DigitSample)
}

beforeAll(async () => {
  model = parseDigitsModel(JSON.parse(readFileSync(join(root, 'models/digits-h2.json'), 'utf8')))
  compileDigitsCircuit(root, 'circuits/digits-h2.circom', dir)
  sym = readSymbols(join(dir, 'digits-h2.sym'))
  calculator = await WitnessCalculatorBuilder(readFileSync(wasm))
}, 600_000)

const wire = (name: string) => {
  const w = sym.get(name)
  if (w === undefined) throw new Error(`no wire for ${name}`)
  return w
}
const read = (values: bigint[], name: string) => signedFromField(values[wire(name)] as bigint)

describe('two-hidden-layer witness = TypeScript classifier', () => {
  it('the compiled circuit has the committed constraint count, within the 2^16 dev ptau', async () => {
    const build = JSON.parse(
      readFileSync(join(root, 'circuits/build/digits-h2/build.json'), 'utf8'),
    )
    const info = await snarkjs.r1cs.info(r1cs, quiet)
    expect(info.nConstraints).toBe(build.constraints)
    expect(info.nConstraints).toBe(50_995)
    expect(info.nConstraints + info.nPubInputs + info.nOutputs).toBeLessThan(2 ** 16)
    const vkey = JSON.parse(readFileSync(join(root, 'circuits/build/digits-h2/vkey.json'), 'utf8'))
    expect(visionModelId(vkey)).toBe(build.modelId)
  })

  it('agrees on the held-out images: both hidden layers, all 10 scores, the label', async () => {
    const checked = images()
    expect(checked.length).toBe(process.env.VERITY_DIGITS_H2_ALL === '1' ? 359 : SAMPLE)
    const labels = new Set<number>()
    let off = 0
    let on = 0
    for (const s of checked) {
      const r = classifyDigits(model, s.pixels)
      const values = await calculator.calculateWitness(
        circuitInput(s.pixels, r.scores, r.label),
        true,
      )
      expect(r.hidden.map((_, j) => read(values, `main.h[${j}]`))).toEqual(r.hidden)
      expect(r.hidden2?.map((_, j) => read(values, `main.h2[${j}]`))).toEqual(r.hidden2)
      expect(r.scores.map((_, k) => read(values, `main.scores[${k}]`))).toEqual(r.scores)
      expect(Number(values[wire('main.label')])).toBe(r.label)
      labels.add(r.label)
      for (const h of r.hidden2 as number[]) h === 0 ? off++ : on++
    }
    // every class is predicted, and both sides of the second layer's ReLU are taken (no held-out
    // image saturates it at 127: the calibration used the training split's largest activation)
    expect(labels.size).toBe(10)
    expect(off).toBeGreaterThan(0)
    expect(on).toBeGreaterThan(0)
  }, 900_000)

  it('the witness calculator refuses a wrong label or a wrong score', async () => {
    const pixels = (all[0] as DigitSample).pixels
    const r = classifyDigits(model, pixels)
    await expect(
      calculateWitness(wasm, circuitInput(pixels, r.scores, r.label)),
    ).resolves.toBeTruthy()
    const runnerUp = r.scores
      .map((s, k) => [s, k] as const)
      .filter(([, k]) => k !== r.label)
      .sort((a, b) => b[0] - a[0])[0]?.[1] as number
    await expect(calculateWitness(wasm, circuitInput(pixels, r.scores, runnerUp))).rejects.toThrow()
    const scores = [...r.scores]
    scores[runnerUp] = (scores[runnerUp] as number) - 1
    await expect(calculateWitness(wasm, circuitInput(pixels, scores, r.label))).rejects.toThrow()
  })

  it('a second-layer activation off by one (quotient + 1, remainder - 2^e) breaks the constraints', async () => {
    const pixels = (all[1] as DigitSample).pixels
    const r = classifyDigits(model, pixels)
    const { file, values } = await calculateWitness(wasm, circuitInput(pixels, r.scores, r.label))
    expect(await snarkjs.wtns.check(r1cs, file, quiet)).toBe(true)
    const j = (r.hidden2 as number[]).findIndex((h) => h > 0 && h < 127)
    expect(j).toBeGreaterThanOrEqual(0)
    const q = values[wire(`main.requant2[${j}].q`)] as bigint
    const rem = values[wire(`main.requant2[${j}].r`)] as bigint
    const e = BigInt((model.layer2 as { e: number }).e)
    const forged = overwriteWitness(
      file,
      new Map([
        [wire(`main.requant2[${j}].q`), q + 1n],
        [wire(`main.requant2[${j}].r`), rem - (1n << e)],
      ]),
    )
    expect(await snarkjs.wtns.check(r1cs, forged, quiet)).toBe(false)
    // a second-layer ReLU that lets a negative accumulator through: flip its sign bit
    const k = (r.hidden2 as number[]).indexOf(0)
    expect(k).toBeGreaterThanOrEqual(0)
    const signBit = wire(`main.relu2[${k}].bits.out[24]`)
    const flipped = overwriteWitness(file, new Map([[signBit, 1n - (values[signBit] as bigint)]]))
    expect(await snarkjs.wtns.check(r1cs, flipped, quiet)).toBe(false)
  })
})

// The variant's 26 MB proving key is not committed: proofs run on request, after
// `node bin/run-ts.js scripts/build-digits-circuit.ts --model models/digits-h2.json --no-solidity`,
// with VERITY_DIGITS_H2_KEYS=1 (then missing keys fail the run, they never skip it).
const built = join(root, 'circuits/build/digits-h2')
if (process.env.VERITY_DIGITS_H2_KEYS === '1')
  describe('Groth16 with the locally built keys', () => {
    beforeAll(() => {
      if (!existsSync(join(built, 'digits-h2.zkey')))
        throw new Error(`${built}/digits-h2.zkey is missing: build the variant's keys first`)
    })
    afterAll(async () => {
      await stopProver()
    })

    it('a proof of a held-out image verifies; with any public input changed it does not', async () => {
      const circuit = loadDigitsCircuit(built, 'digits-h2')
      const s = all[2] as DigitSample
      const p = await proveDigits(circuit, model, s.pixels)
      expect(p.label).toBe(classifyDigits(model, s.pixels).label)
      const pub = parsePublicSignals(p.publicSignals)
      expect(unpackScores(pub.scoresPacked)).toEqual(p.scores)
      expect(await verifyDigitsProof(circuit.vkey, p.publicSignals, p.proof)).toBe(true)
      for (let i = 0; i < 4; i++) {
        const changed = [...p.publicSignals]
        changed[i] = ((BigInt(changed[i] as string) + 1n) % FIELD_P).toString()
        expect(await verifyDigitsProof(circuit.vkey, changed, p.proof)).toBe(false)
      }
      // the one-layer model's key does not accept it: another model is another key
      const one = loadDigitsCircuit(join(root, 'circuits/build/digits'))
      expect(await verifyDigitsProof(one.vkey, p.publicSignals, p.proof)).toBe(false)
    }, 300_000)
  })
