import { readFileSync, statSync } from 'node:fs'
import { UsageError } from '../../errors/cli.ts'
import { ImageError, ProofError } from '../../errors/vision.ts'
import { classifyDigits } from '../../vision/classify.ts'
import { visionModelId } from '../../vision/model-id.ts'
import { decodePng } from '../../vision/png.ts'
import { toDigitPixels } from '../../vision/preprocess.ts'
import { proveDigits, stopProver, verifyDigitsProof } from '../../vision/prover.ts'
import { parseArgs } from '../args.ts'
import type { Command } from '../main.ts'
import { readDigitsCircuit, readDigitsModelFile } from '../vision-artifacts.ts'

const HELP = `usage: verity classify <image.png> [--prove] [--json] [--invert]
                       [--model <digits.json>] [--circuit <dir>]

Classifies a handwritten digit with the integer digits model: the PNG is decoded to grayscale and
reduced to the model's 8x8 input (dark ink on a light background; a dark-bordered image is taken
as inverted, or pass --invert). Prints the label and the 10 integer scores.
  --prove    also prove with Groth16 that the circuit maps these pixels to these scores and this
             label (circuits/build/digits), verify the proof locally, and print the proof and its
             public signals (what VisionAnswers.submit takes on chain)
  --json     print one JSON object: {label, scores, pixels, modelId, proof?, publicSignals?, verified?}
  --model    the model file (default models/digits.json); --circuit the built circuit's directory
Exit 0 on success; 1 when the image is refused or the proof does not verify.`

const spec = {
  prove: { type: 'boolean' },
  json: { type: 'boolean' },
  invert: { type: 'boolean' },
  model: { type: 'string' },
  circuit: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

/** Larger files are refused before reading them whole (the decoder bounds pixels too). */
const MAX_FILE_BYTES = 16 * 1024 * 1024

export const command: Command = {
  summary: 'classify a digit image with the proven model; --prove proves and verifies it',
  run: async (argv) => {
    const { flags, positionals } = parseArgs(argv, spec)
    if (flags.help) {
      console.log(HELP)
      return 0
    }
    if (positionals.length !== 1) throw new UsageError('give exactly one PNG image')
    const file = positionals[0]!
    let bytes: Buffer
    try {
      const size = statSync(file).size
      if (size > MAX_FILE_BYTES)
        throw new ImageError(`${file} is ${size} bytes; at most ${MAX_FILE_BYTES}`)
      bytes = readFileSync(file)
    } catch (error) {
      if (error instanceof ImageError) throw error
      throw new ImageError(`cannot read ${file}`, {
        details: (error as NodeJS.ErrnoException).code ?? String(error),
      })
    }
    const image = decodePng(bytes)
    const pixels = toDigitPixels(image, flags.invert ? { invert: true } : {})
    const model = readDigitsModelFile(flags.model as string | undefined)
    const { label, scores } = classifyDigits(model, pixels)
    const out: Record<string, unknown> = { label, scores, pixels }
    if (!flags.prove) {
      if (flags.json) console.log(JSON.stringify(out))
      else {
        console.log(`label: ${label}`)
        console.log(`scores: ${scores.join(' ')}`)
      }
      return 0
    }
    const circuit = readDigitsCircuit(flags.circuit as string | undefined)
    try {
      const started = performance.now()
      const proven = await proveDigits(circuit, model, pixels)
      const proveMs = performance.now() - started
      if (proven.label !== label) throw new ProofError('the circuit and the model disagree')
      const verified = await verifyDigitsProof(circuit.vkey, proven.publicSignals, proven.proof)
      const modelId = visionModelId(circuit.vkey)
      Object.assign(out, {
        modelId,
        proof: proven.proof,
        publicSignals: proven.publicSignals,
        verified,
      })
      if (flags.json) console.log(JSON.stringify(out))
      else {
        console.log(`label: ${label}`)
        console.log(`scores: ${scores.join(' ')}`)
        console.log(`model id: ${modelId}`)
        console.log(
          `proof: ${verified ? 'verified locally' : 'DOES NOT VERIFY'} (Groth16, proved in ${Math.round(proveMs)} ms)`,
        )
        console.log(`public signals: ${proven.publicSignals.join(' ')}`)
        console.log(`proof json: ${JSON.stringify(proven.proof)}`)
      }
      if (!verified) console.error('error: the proof does not verify against the circuit key')
      return verified ? 0 : 1
    } finally {
      await stopProver()
    }
  },
}
