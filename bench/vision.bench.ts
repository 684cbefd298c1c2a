/**
 * Groth16 figures of a digits circuit (scripts/build-digits-circuit.ts): witness time, proving
 * time (first proof, then warm), verification time, proof size and the process's peak RSS.
 *
 *   node bin/run-ts.js bench/vision.bench.ts [--dir circuits/build/digits] [--model models/digits.json] [--n 10]
 *
 * The proofs are of the first n held-out images; each is verified with snarkjs.
 */
import { readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { classifyDigits } from '../src/vision/classify.ts'
import { readDigits, splitDigits } from '../src/vision/dataset.ts'
import { paramCount, parseDigitsModel } from '../src/vision/model.ts'
import {
  loadDigitsCircuit,
  proveDigits,
  stopProver,
  verifyDigitsProof,
} from '../src/vision/prover.ts'
import { circuitInput } from '../src/vision/public-signals.ts'
import { calculateWitness } from '../src/vision/witness.ts'

const args = process.argv.slice(2)
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 && args[i + 1] !== undefined ? (args[i + 1] as string) : fallback
}
const dir = flag('dir', 'circuits/build/digits')
const modelFile = flag('model', 'models/digits.json')
const n = Number(flag('n', '10'))
const model = parseDigitsModel(JSON.parse(readFileSync(modelFile, 'utf8')))
const circuit = loadDigitsCircuit(dir, basename(dir))
const build = JSON.parse(readFileSync(join(dir, 'build.json'), 'utf8'))
const images = splitDigits(readDigits()).test.slice(0, n)

const ms = (t0: number) => performance.now() - t0
const witness: number[] = []
for (const s of images) {
  const r = classifyDigits(model, s.pixels)
  const t0 = performance.now()
  await calculateWitness(circuit.wasm, circuitInput(s.pixels, r.scores, r.label))
  witness.push(ms(t0))
}
const prove: number[] = []
const verify: number[] = []
let proofBytes = 0
for (const s of images) {
  const t0 = performance.now()
  const p = await proveDigits(circuit, model, s.pixels)
  prove.push(ms(t0))
  const t1 = performance.now()
  if (!(await verifyDigitsProof(circuit.vkey, p.publicSignals, p.proof)))
    throw new Error('a proof did not verify')
  verify.push(ms(t1))
  proofBytes = JSON.stringify(p.proof).length
}
await stopProver()
const stats = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y)
  return {
    first: Math.round(a[0] as number),
    median: Math.round(s[Math.floor(s.length / 2)] as number),
    min: Math.round(s[0] as number),
    max: Math.round(s[s.length - 1] as number),
  }
}
console.log(
  JSON.stringify({
    circuit: basename(dir),
    params: paramCount(model),
    constraints: build.constraints,
    proofs: n,
    witnessMs: stats(witness),
    proveMs: stats(prove.slice(1)),
    firstProveMs: Math.round(prove[0] as number),
    verifyMs: stats(verify),
    proofJsonBytes: proofBytes,
    proofCalldataBytes: 8 * 32,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  }),
)
