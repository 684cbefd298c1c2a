import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as snarkjs from 'snarkjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { classifyDigits } from './classify.ts'
import { readDigits, splitDigits } from './dataset.ts'
import { type DigitsModel, parseDigitsModel } from './model.ts'
import {
  type DigitsCircuit,
  loadDigitsCircuit,
  proveDigits,
  stopProver,
  verifyDigitsProof,
} from './prover.ts'
import { circuitInput, parsePublicSignals, unpackScores } from './public-signals.ts'
import {
  calculateWitness,
  FIELD_P,
  overwriteWitness,
  readSymbols,
  signedFromField,
} from './witness.ts'

/**
 * The committed circuit (circuits/build/digits, from models/digits.json) against the TypeScript
 * classifier: the same hidden activations, scores and label on every held-out image; real Groth16
 * proofs that verify; proofs whose public inputs were changed, and witnesses forged to claim a
 * wrong label or score, that do not.
 */
const dir = join(import.meta.dirname, '../../circuits/build/digits')
let model: DigitsModel
let circuit: DigitsCircuit
let sym: Map<string, number>
const test = splitDigits(readDigits()).test

beforeAll(() => {
  model = parseDigitsModel(
    JSON.parse(readFileSync(join(import.meta.dirname, '../../models/digits.json'), 'utf8')),
  )
  circuit = loadDigitsCircuit(dir)
  sym = readSymbols(join(dir, 'digits.sym'))
})

afterAll(async () => {
  await stopProver()
})

const wire = (name: string) => {
  const w = sym.get(name)
  if (w === undefined) throw new Error(`no wire for ${name}`)
  return w
}

const inputFor = (pixels: number[]) => {
  const r = classifyDigits(model, pixels)
  return circuitInput(pixels, r.scores, r.label)
}

describe('witness = TypeScript classifier', () => {
  it('agrees on every held-out image: all hidden activations, all 10 scores, the label', async () => {
    expect(test.length).toBe(359)
    const labels = new Set<number>()
    for (const s of test) {
      const r = classifyDigits(model, s.pixels)
      const { values } = await calculateWitness(
        circuit.wasm,
        circuitInput(s.pixels, r.scores, r.label),
      )
      const hidden = r.hidden.map((_, j) => signedFromField(values[wire(`main.h[${j}]`)] as bigint))
      const scores = r.scores.map((_, k) =>
        signedFromField(values[wire(`main.scores[${k}]`)] as bigint),
      )
      expect(hidden).toEqual(r.hidden)
      expect(scores).toEqual(r.scores)
      expect(Number(values[wire('main.label')])).toBe(r.label)
      labels.add(r.label)
    }
    // the split exercises every class, and negative and positive scores
    expect(labels.size).toBe(10)
  })

  it('the witness calculator refuses a wrong label, a wrong score and out-of-range pixels', async () => {
    const pixels = (test[0] as { pixels: number[] }).pixels
    const r = classifyDigits(model, pixels)
    const ok = circuitInput(pixels, r.scores, r.label)
    await expect(calculateWitness(circuit.wasm, ok)).resolves.toBeTruthy()
    const second = r.scores
      .map((s, k) => [s, k] as const)
      .filter(([, k]) => k !== r.label)
      .sort((a, b) => b[0] - a[0])[0]?.[1] as number
    await expect(
      calculateWitness(circuit.wasm, circuitInput(pixels, r.scores, second)),
    ).rejects.toThrow()
    // a claimed label of 10 or more is no class at all
    await expect(calculateWitness(circuit.wasm, { ...ok, label: '10' })).rejects.toThrow()
    for (const k of [0, 9]) {
      const scores = [...r.scores]
      scores[k] = (scores[k] as number) + 1
      await expect(
        calculateWitness(circuit.wasm, circuitInput(pixels, scores, r.label)),
      ).rejects.toThrow()
    }
    // 17 packs into 5 bits but is not a 0..16 intensity
    const bright = [...pixels]
    bright[5] = 17
    const packed = circuitInput(pixels, r.scores, r.label)
    await expect(
      calculateWitness(circuit.wasm, {
        ...packed,
        pixelsPacked: [
          (
            BigInt(packed.pixelsPacked[0] as string) +
            ((17n - BigInt(pixels[5] as number)) << 25n)
          ).toString(),
          packed.pixelsPacked[1],
        ],
        pixels: bright.map(String),
      }),
    ).rejects.toThrow()
  })
})

describe('Groth16', () => {
  it('proves and verifies the first images of the held-out split', async () => {
    for (const s of test.slice(0, 3)) {
      const p = await proveDigits(circuit, model, s.pixels)
      expect(p.label).toBe(classifyDigits(model, s.pixels).label)
      const pub = parsePublicSignals(p.publicSignals)
      expect(pub.label).toBe(p.label)
      expect(unpackScores(pub.scoresPacked)).toEqual(p.scores)
      expect(await verifyDigitsProof(circuit.vkey, p.publicSignals, p.proof)).toBe(true)
    }
  })

  it('a proof does not verify with any public input changed, or with another proof element', async () => {
    const s = test[1] as { pixels: number[] }
    const p = await proveDigits(circuit, model, s.pixels)
    for (let i = 0; i < 4; i++) {
      for (const delta of [1n, FIELD_P - 1n, 1n << 20n]) {
        const changed = [...p.publicSignals]
        changed[i] = ((BigInt(changed[i] as string) + delta) % FIELD_P).toString()
        expect(await verifyDigitsProof(circuit.vkey, changed, p.proof)).toBe(false)
      }
    }
    // another image's (valid) public signals with this proof
    const other = await proveDigits(circuit, model, (test[2] as { pixels: number[] }).pixels)
    expect(await verifyDigitsProof(circuit.vkey, other.publicSignals, p.proof)).toBe(false)
    const swapped = { ...p.proof, pi_a: other.proof.pi_a }
    expect(await verifyDigitsProof(circuit.vkey, p.publicSignals, swapped)).toBe(false)
    // a field element >= p is refused, not reduced
    const big = [...p.publicSignals]
    big[3] = (BigInt(big[3] as string) + FIELD_P).toString()
    expect(await verifyDigitsProof(circuit.vkey, big, p.proof)).toBe(false)
  })

  it('a witness forged to claim the runner-up label breaks the constraints and its proof fails', async () => {
    const pixels = (test[3] as { pixels: number[] }).pixels
    const r = classifyDigits(model, pixels)
    const { file } = await calculateWitness(circuit.wasm, inputFor(pixels))
    expect(await snarkjs.wtns.check(join(dir, 'digits.r1cs'), file)).toBe(true)
    const runnerUp = r.scores
      .map((s, k) => [s, k] as const)
      .filter(([, k]) => k !== r.label)
      .sort((a, b) => b[0] - a[0])[0]?.[1] as number
    // rewrite the label and the one-hot selector consistently: only the range checks can object
    const changes = new Map<number, bigint>([[wire('main.label'), BigInt(runnerUp)]])
    for (let k = 0; k < 10; k++) {
      const on = k === runnerUp
      changes.set(wire(`main.argmax.is[${k}].out`), on ? 1n : 0n)
      changes.set(wire(`main.argmax.picked[${k}]`), on ? BigInt(r.scores[k] as number) : 0n)
      const inv = sym.get(`main.argmax.is[${k}].isz.inv`)
      const diff = BigInt(runnerUp - k)
      if (inv !== undefined)
        changes.set(inv, on ? 0n : modInverse(((-diff % FIELD_P) + FIELD_P) % FIELD_P))
    }
    const forged = overwriteWitness(file, changes)
    const quiet = { info() {}, debug() {}, warn() {}, error() {} }
    expect(await snarkjs.wtns.check(join(dir, 'digits.r1cs'), forged, quiet)).toBe(false)
    const { proof, publicSignals } = await snarkjs.groth16.prove(circuit.zkey, forged)
    expect(publicSignals[3]).toBe(String(runnerUp))
    expect(await verifyDigitsProof(circuit.vkey, publicSignals, proof)).toBe(false)
  })

  it('a witness with a hidden activation off by one (quotient + 1, remainder - 2^e), or a score off by one, fails', async () => {
    const pixels = (test[4] as { pixels: number[] }).pixels
    const { file, values } = await calculateWitness(circuit.wasm, inputFor(pixels))
    const j = classifyDigits(model, pixels).hidden.findIndex((h) => h > 0 && h < 127)
    const q = values[wire(`main.requant[${j}].q`)] as bigint
    const rem = values[wire(`main.requant[${j}].r`)] as bigint
    const forged = overwriteWitness(
      file,
      new Map([
        [wire(`main.requant[${j}].q`), q + 1n],
        [wire(`main.requant[${j}].r`), rem - (1n << BigInt(model.e1))],
      ]),
    )
    const quiet = { info() {}, debug() {}, warn() {}, error() {} }
    expect(await snarkjs.wtns.check(join(dir, 'digits.r1cs'), forged, quiet)).toBe(false)
    // a score one higher, with the packed public signal rewritten to match
    const scoresPacked = values[wire('main.scoresPacked')] as bigint
    const score0 = values[wire('main.scores[0]')] as bigint
    const forgedScore = overwriteWitness(
      file,
      new Map([
        [wire('main.scores[0]'), score0 + 1n],
        [wire('main.scoresPacked'), scoresPacked + 1n],
      ]),
    )
    expect(await snarkjs.wtns.check(join(dir, 'digits.r1cs'), forgedScore, quiet)).toBe(false)
  })
})

function modInverse(a: bigint): bigint {
  // Fermat: a^(p-2) mod p
  let result = 1n
  let base = a % FIELD_P
  let e = FIELD_P - 2n
  while (e > 0n) {
    if (e & 1n) result = (result * base) % FIELD_P
    base = (base * base) % FIELD_P
    e >>= 1n
  }
  return result
}
