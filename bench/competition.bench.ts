/**
 * Evaluation time of a model competition (docs/BENCHMARKS.md, "Model competition"): the exact
 * loss (src/competition/evaluate.ts) of the trained default model and of a random model of its
 * shape on the devnet's evaluation set, one thread and the threaded kernel.
 *
 *   node bin/run-ts.js bench/competition.bench.ts [--runs 3]
 */
import { availableParallelism } from 'node:os'
import { devnetCorpus } from '../src/competition/devnet-corpus.ts'
import { DEVNET_EVALUATION_SPEC, evaluateModel } from '../src/competition/evaluate.ts'
import { createThreadedKernel } from '../src/parallel/kernel.ts'
import { loadModel, type Model } from '../src/runtime/model/load.ts'
import { trainedModelBytes } from '../test/trained-model.ts'

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
