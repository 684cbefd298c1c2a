import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as snarkjs from 'snarkjs'
import { ProofError } from '../errors/vision.ts'
import { classifyDigits } from './classify.ts'
import type { DigitsModel } from './model.ts'
import { circuitInput } from './public-signals.ts'

/** A built circuit (scripts/build-digits-circuit.ts): witness calculator, proving and verification keys. */
export type DigitsCircuit = {
  name: string
  wasm: string
  zkey: string
  vkey: snarkjs.VerificationKey
}

export type Groth16Proof = snarkjs.Groth16Proof

export type DigitsProof = {
  label: number
  scores: number[]
  proof: Groth16Proof
  publicSignals: string[]
}

export function loadDigitsCircuit(dir: string, name = 'digits'): DigitsCircuit {
  const files = { wasm: join(dir, `${name}.wasm`), zkey: join(dir, `${name}.zkey`) }
  const vkeyFile = join(dir, 'vkey.json')
  for (const f of [files.wasm, files.zkey, vkeyFile])
    if (!existsSync(f))
      throw new ProofError(`circuit artifact missing: ${f}`, {
        details: 'run node bin/run-ts.js scripts/build-digits-circuit.ts',
      })
  return { name, ...files, vkey: JSON.parse(readFileSync(vkeyFile, 'utf8')) }
}

/**
 * Classifies with the integer runtime, then proves that the circuit maps these pixels to these
 * scores and this label. The witness calculator re-checks every equality as it runs, so a
 * runtime/circuit disagreement fails here rather than producing an invalid proof.
 */
export async function proveDigits(
  circuit: DigitsCircuit,
  model: DigitsModel,
  pixels: ArrayLike<number>,
  options: { signal?: AbortSignal } = {},
): Promise<DigitsProof> {
  options.signal?.throwIfAborted()
  const { scores, label } = classifyDigits(model, pixels)
  let result: { proof: Groth16Proof; publicSignals: string[] }
  try {
    result = await snarkjs.groth16.fullProve(
      circuitInput(pixels, scores, label),
      circuit.wasm,
      circuit.zkey,
    )
  } catch (cause) {
    throw new ProofError(`proving ${circuit.name} failed`, { cause })
  }
  options.signal?.throwIfAborted()
  return { label, scores, ...result }
}

export async function verifyDigitsProof(
  vkey: snarkjs.VerificationKey,
  publicSignals: string[],
  proof: Groth16Proof,
): Promise<boolean> {
  const quiet = { info() {}, debug() {}, warn() {}, error() {} }
  try {
    return await snarkjs.groth16.verify(vkey, publicSignals, proof, quiet)
  } catch {
    return false
  }
}

/** verifyProof(uint[2] a, uint[2][2] b, uint[2] c, uint[4] pub) arguments of the exported verifier. */
export function verifierArgs(proof: Groth16Proof, publicSignals: string[]) {
  const n = (s: string | undefined) => BigInt(s as string)
  const b = proof.pi_b as [string[], string[]]
  return [
    [n(proof.pi_a[0]), n(proof.pi_a[1])],
    [
      [n(b[0][1]), n(b[0][0])],
      [n(b[1][1]), n(b[1][0])],
    ],
    [n(proof.pi_c[0]), n(proof.pi_c[1])],
    publicSignals.map((s) => n(s)),
  ] as const
}

/** snarkjs keeps BN254 worker threads alive after proving; a process or test ends them here. */
export async function stopProver(): Promise<void> {
  const g = globalThis as { curve_bn128?: { terminate(): Promise<void> } | undefined }
  await g.curve_bn128?.terminate()
  g.curve_bn128 = undefined
}
