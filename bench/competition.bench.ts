/**
 * Evaluation time of a model competition (docs/BENCHMARKS.md, "Model competition"): the exact
 * loss (src/competition/evaluate.ts) of the trained default model and of a random model of its
 * shape on the devnet's evaluation set, one thread and the threaded kernel.
 *
 *   node bin/run-ts.js bench/competition.bench.ts [--runs 3] [--shape llama-100m]
 *
 * --shape: instead, a model of that shape (bench/shape.ts; random Q8_0 weights, the real Llama 3
 * vocabulary) on 1 and all threads.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { nativeSha256, openModelFile } from '../src/cli/model-file.ts'
import { devnetCorpus } from '../src/competition/devnet-corpus.ts'
import { DEVNET_EVALUATION_SPEC, evaluateModel } from '../src/competition/evaluate.ts'
import { createThreadedKernel } from '../src/parallel/kernel.ts'
import { loadModel, type Model } from '../src/runtime/model/load.ts'
import { trainedModelBytes } from '../test/trained-model.ts'
import { SHAPES, writeShapeModel } from './shape.ts'

const args = process.argv.slice(2)
const runsAt = args.indexOf('--runs')
const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 3
const corpus = devnetCorpus()
const seed = new Uint8Array(32).fill(7)

async function measure(name: string, model: Model): Promise<void> {
  const times: number[] = []
  let result = evaluateModel(model, corpus, seed, DEVNET_EVALUATION_SPEC)
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now()
    result = evaluateModel(model, corpus, seed, DEVNET_EVALUATION_SPEC)
    times.push(performance.now() - t0)
  }
  times.sort((a, b) => a - b)
  const ms = times[Math.floor(times.length / 2)]!
  console.log(
    JSON.stringify({
      model: name,
      tokens: result.tokens,
      lossQ16: result.lossQ16.toString(),
      natsPerToken: Number(result.lossQ16) / 65536 / result.tokens,
      medianMs: Math.round(ms),
      tokensPerSecond: Math.round((result.tokens / ms) * 1000),
    }),
  )
}

const shapeAt = args.indexOf('--shape')
if (shapeAt >= 0) {
  // A model of a bigger shape (random weights, real vocabulary), written to a temporary file.
  const shape = SHAPES[args[shapeAt + 1] ?? '']
  if (!shape) throw new Error(`--shape must be one of ${Object.keys(SHAPES).join(', ')}`)
  const dir = mkdtempSync(join(tmpdir(), 'verity-competition-shape-'))
  try {
    const path = join(dir, `${shape.name}.gguf`)
    const bytes = writeShapeModel(path, shape, 'Q8_0')
    const threads = availableParallelism()
    for (const n of [1, threads]) {
      const t0 = performance.now()
      const file = openModelFile(path)
      let kernel: { close(): Promise<void> } | undefined
      let model: Model
      try {
        model = loadModel(file, {
          sha256: nativeSha256,
          createKernel: (size) => {
            kernel = createThreadedKernel(size, n)
            return kernel as never
          },
        })
      } finally {
        file.close()
      }
      let params = 0
      for (const m of [
        model.embed,
        ...model.layers.flatMap((l) => [l.wq, l.wk, l.wv, l.wo, l.wGate, l.wUp, l.wDown]),
      ])
        params += m.rows * m.cols
      console.log(
        JSON.stringify({
          shape: shape.name,
          fileMiB: Math.round(bytes / 2 ** 20),
          matrixParams: params,
          loadMs: Math.round(performance.now() - t0),
        }),
      )
      await measure(`${shape.name}, ${n} thread(s)`, model)
      await kernel?.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  process.exit(0)
}

await measure('verity-tiny, 1 thread', loadModel(trainedModelBytes()))
const threads = availableParallelism()
let opened: { close(): Promise<void> } | undefined
await measure(
  `verity-tiny, ${threads} threads`,
  loadModel(trainedModelBytes(), {
    createKernel: (bytes) => {
      const k = createThreadedKernel(bytes, threads)
      opened = k
      return k
    },
  }),
)
await opened?.close()
