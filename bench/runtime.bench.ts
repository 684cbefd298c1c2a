/**
 * npm run bench:runtime [-- --json] [-- --decode N] [-- --prompt N] [-- --rounds N] [-- --no-llama]
 * Builds, with the project's GGUF writer, a model of the TinyStories-15M shape (dim 288, 6 layers,
 * 6 heads, ffn 768, vocab 32000; random weights) as F32 and Q8_0, and measures single-thread
 * prefill and decode tokens/s of Verity (with and without trace commitments) and of llama.cpp
 * (node-llama-cpp, CPU, 1 thread) on each file. Ratios are measured in the same run, each side's
 * best of --rounds interleaved rounds (default 3): Verity / llama.cpp, and Verity traced /
 * untraced (`decodeTraceRatio`, `prefillTraceRatio`). Without node-llama-cpp (or with
 * --no-llama) only Verity runs.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { disposeLlama, hasLlamaCpp, llamaCppSpeed } from '../crosscheck/llamacpp.ts'
import { forwardBlock, forwardToken, Sequence } from '../src/runtime/forward.ts'
import { generate } from '../src/runtime/generate.ts'
import { loadModel, type Model } from '../src/runtime/model/load.ts'
import { buildSyntheticModel } from '../src/runtime/model/synthetic.ts'
import { Prng } from '../src/runtime/sampler/prng.ts'
import { samplingParams } from '../src/runtime/sampler/sample.ts'
import { syntheticLlamaVocab } from '../src/runtime/tokenizer/build-vocab.ts'
import { CheckpointHasher, PositionTraceHasher } from '../src/runtime/trace/hasher.ts'
import { NO_LAYER, OpKind } from '../src/runtime/trace/ops.ts'
import { positionTrace } from '../src/runtime/trace/replay.ts'

const args = process.argv.slice(2)
const json = args.includes('--json')
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(name)
  return i === -1 ? fallback : Number(args[i + 1])
}
const promptLength = flag('--prompt', 64)
const decodeLength = flag('--decode', 128)
const rounds = flag('--rounds', 3)
const withLlama = !args.includes('--no-llama') && hasLlamaCpp()
const log = (...m: unknown[]) => {
  if (!json) console.log(...m)
}

/**
 * One timed run of Verity as `generate` runs a request: the prompt in blocks (prefill), then the
 * tokens one at a time (decode), each with its logits. The sampler is left out (llama.cpp's loop
 * is greedy); a traced run records a sample entry per logits, as a miner's trace has. `trace`:
 * 'checkpoints' is what a miner commits to while answering; 'every-op' hashes every op output of
 * every position (what answering cost when the receipt committed to all of them).
 */
function verityRun(
  model: Model,
  prompt: number[],
  decode: number[],
  trace: 'none' | 'checkpoints' | 'every-op',
) {
  const seq = new Sequence(model, prompt.length + decode.length)
  const hasher =
    trace === 'checkpoints'
      ? new CheckpointHasher(model)
      : trace === 'every-op'
        ? new PositionTraceHasher(model, () => true)
        : undefined
  const sampled = new Int32Array(5)
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  for (let i = 0; i < prompt.length; i += seq.maxBlock) {
    const block = prompt.slice(i, i + seq.maxBlock)
    forwardBlock(seq, block, i + block.length === prompt.length, hasher)
  }
  const t1 = performance.now()
  const c1 = process.cpuUsage()
  for (const token of decode) {
    sampled[0] = token
    hasher?.record(seq.pos - 1, NO_LAYER, OpKind.SAMPLE, sampled, 0, 5)
    forwardToken(seq, token, true, hasher)
  }
  if (hasher instanceof CheckpointHasher) hasher.root()
  else hasher?.leaves(seq.pos - 1)
  const t2 = performance.now()
  const c2 = process.cpuUsage()
  const cpuMs = (a: NodeJS.CpuUsage, b: NodeJS.CpuUsage) =>
    (b.user - a.user + b.system - a.system) / 1000
  return {
    prefill: (prompt.length * 1000) / (t1 - t0),
    decode: (decode.length * 1000) / (t2 - t1),
    // The same per CPU second: on a shared machine, time spent waiting for a core is left out.
    prefillCpu: (prompt.length * 1000) / cpuMs(c0, c1),
    decodeCpu: (decode.length * 1000) / cpuMs(c1, c2),
  }
}

/**
 * Milliseconds to rebuild R_p, as a party does when the game reaches position p: the request
 * re-run (greedy) up to p, then every op output of p hashed; fed the run's own tokens in blocks
 * (`tokens`, how a party that answered or checked the request does it), or generated again.
 */
function positionTraceRun(
  model: Model,
  prompt: number[],
  generated: number,
  pos: number,
  tokens?: number[],
): number {
  const request = {
    promptTokens: prompt,
    maxTokens: generated,
    params: samplingParams({ temperature: 0 }),
    seed: 0,
  }
  const t0 = performance.now()
  positionTrace(model, request, pos, tokens ? { tokens } : {})
  return performance.now() - t0
}

/**
 * sha256 hashes of 64-byte messages per decoded token with a trace mode: the work the
 * commitment adds, independent of the machine's load. Counted through the kernel's batched hash.
 */
function hashesPerToken(
  model: Model,
  prompt: number[],
  decode: number[],
  trace: 'checkpoints' | 'every-op',
): number {
  const kernel = model.kernel
  const original = kernel.sha256Pairs
  let prefillHashes = 0
  let count = 0
  kernel.sha256Pairs = (inPtr, n, outPtr) => {
    count += n
    original.call(kernel, inPtr, n, outPtr)
  }
  try {
    verityRun(model, prompt, [], trace)
    prefillHashes = count
    count = 0
    verityRun(model, prompt, decode, trace)
  } finally {
    kernel.sha256Pairs = original
  }
  return (count - prefillHashes) / decode.length
}

type Speed = { prefill: number; decode: number; prefillCpu?: number; decodeCpu?: number }
const best = (runs: Speed[]): Required<Speed> => ({
  prefill: Math.max(...runs.map((r) => r.prefill)),
  decode: Math.max(...runs.map((r) => r.decode)),
  prefillCpu: Math.max(...runs.map((r) => r.prefillCpu ?? 0)),
  decodeCpu: Math.max(...runs.map((r) => r.decodeCpu ?? 0)),
})

const prng = new Prng(1)
const vocab = syntheticLlamaVocab(32000)
const prompt = [1, ...Array.from({ length: promptLength - 1 }, () => 3 + prng.below(31997))]
const decode = Array.from({ length: decodeLength }, () => 3 + prng.below(31997))
const dir = mkdtempSync(join(tmpdir(), 'verity-bench-'))
const results: Record<string, Record<string, number | string>> = {}
try {
  for (const tensorType of ['F32', 'Q8_0'] as const) {
    const bytes = buildSyntheticModel({
      name: `tinystories-15m-shape-${tensorType}`,
      vocab,
      dim: 288,
      nLayers: 6,
      nHeads: 6,
      nKvHeads: 6,
      ffnDim: 768,
      contextLength: 512,
      seed: 15,
      tensorType,
    })
    const path = join(dir, `${tensorType}.gguf`)
    writeFileSync(path, bytes)
    // The machine is shared: the contenders take turns for `rounds` rounds and each keeps its
    // best, so a burst of load elsewhere does not decide the ratio.
    const model = loadModel(bytes, { kernel: 'auto' })
    // warm-up: V8 tiers up the WebAssembly and JavaScript
    verityRun(model, prompt, decode, 'checkpoints')
    verityRun(model, prompt, decode, 'every-op')
    const runs = {
      llama: [] as Speed[],
      trace: [] as Speed[],
      noTrace: [] as Speed[],
      everyOp: [] as Speed[],
    }
    // R_p of the last position (the whole request re-run) and of the last prompt position.
    const lastPos = prompt.length + decode.length - 1
    const rebuild = {
      last: [] as number[],
      lastRegenerated: [] as number[],
      promptEnd: [] as number[],
    }
    const greedy = generate(model, {
      promptTokens: prompt,
      maxTokens: decode.length + 1,
      params: samplingParams({ temperature: 0 }),
      seed: 0,
    }).tokens
    for (let round = 0; round < rounds; round++) {
      if (withLlama) {
        const l = await llamaCppSpeed(path, prompt, decode)
        runs.llama.push({ prefill: l.prefillTokensPerSecond, decode: l.decodeTokensPerSecond })
      }
      runs.trace.push(verityRun(model, prompt, decode, 'checkpoints'))
      runs.noTrace.push(verityRun(model, prompt, decode, 'none'))
      runs.everyOp.push(verityRun(model, prompt, decode, 'every-op'))
      rebuild.last.push(positionTraceRun(model, prompt, decode.length + 1, lastPos, greedy))
      rebuild.lastRegenerated.push(positionTraceRun(model, prompt, decode.length + 1, lastPos))
      rebuild.promptEnd.push(
        positionTraceRun(model, prompt, decode.length + 1, prompt.length - 1, greedy),
      )
    }
    const hashes = {
      checkpoints: hashesPerToken(model, prompt, decode, 'checkpoints'),
      everyOp: hashesPerToken(model, prompt, decode, 'every-op'),
    }
    const withTrace = best(runs.trace)
    const noTrace = best(runs.noTrace)
    const everyOp = best(runs.everyOp)
    const decodeStepMs = 1000 / noTrace.decode
    const r: Record<string, number | string> = {
      fileMiB: Math.round((bytes.length / 2 ** 20) * 10) / 10,
      kernel: model.kernel.name,
      verityPrefill: round(withTrace.prefill),
      verityDecode: round(withTrace.decode),
      verityPrefillNoTrace: round(noTrace.prefill),
      verityDecodeNoTrace: round(noTrace.decode),
      // What committing costs a miner: traced / untraced, same run, best of the rounds each.
      decodeTraceRatio: round(withTrace.decode / noTrace.decode, 3),
      prefillTraceRatio: round(withTrace.prefill / noTrace.prefill, 3),
      decodeTraceRatioCpu: round(withTrace.decodeCpu / noTrace.decodeCpu, 3),
      prefillTraceRatioCpu: round(withTrace.prefillCpu / noTrace.prefillCpu, 3),
      // Every op of every position hashed (the former commitment), for comparison.
      verityDecodeEveryOp: round(everyOp.decode),
      decodeEveryOpRatio: round(everyOp.decode / noTrace.decode, 3),
      decodeEveryOpRatioCpu: round(everyOp.decodeCpu / noTrace.decodeCpu, 3),
      // sha256 hashes per decoded token: checkpoints, and every op (the former commitment).
      hashesPerTokenCheckpoints: round(hashes.checkpoints),
      hashesPerTokenEveryOp: round(hashes.everyOp),
      // Rebuilding one position's trace R_p on demand, in ms and in untraced decode steps.
      decodeStepMs: round(decodeStepMs, 2),
      positionTraceLastMs: round(Math.min(...rebuild.last)),
      positionTraceLastDecodeSteps: round(Math.min(...rebuild.last) / decodeStepMs),
      positionTraceLastRegeneratedMs: round(Math.min(...rebuild.lastRegenerated)),
      positionTraceLastRegeneratedDecodeSteps: round(
        Math.min(...rebuild.lastRegenerated) / decodeStepMs,
      ),
      positionTracePromptEndMs: round(Math.min(...rebuild.promptEnd)),
      positionTracePromptEndDecodeSteps: round(Math.min(...rebuild.promptEnd) / decodeStepMs),
    }
    if (withLlama) {
      const llama = best(runs.llama)
      Object.assign(r, {
        llamaCppPrefill: round(llama.prefill),
        llamaCppDecode: round(llama.decode),
        prefillRatio: round(noTrace.prefill / llama.prefill, 3),
        decodeRatio: round(noTrace.decode / llama.decode, 3),
        prefillRatioWithTrace: round(withTrace.prefill / llama.prefill, 3),
        decodeRatioWithTrace: round(withTrace.decode / llama.decode, 3),
      })
    }
    results[tensorType] = r
    log(`${tensorType}:`, results[tensorType])
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
  if (withLlama) await disposeLlama()
}
const q8 = results.Q8_0!
const summary = {
  model: 'tinystories-15m-shape',
  promptTokens: promptLength,
  rounds,
  decodeTokens: decodeLength,
  llamaCpp: withLlama,
  // What committing costs: traced / untraced decode and prefill of the same run.
  decodeTraceRatio: q8.decodeTraceRatio,
  prefillTraceRatio: q8.prefillTraceRatio,
  decodeTraceRatioCpu: q8.decodeTraceRatioCpu,
  // Rebuilding R_p of the last position, in untraced decode steps.
  positionTraceLastDecodeSteps: q8.positionTraceLastDecodeSteps,
  // Like for like: inference against inference (llama.cpp commits to nothing).
  decodeRatio: q8.decodeRatio,
  prefillRatio: q8.prefillRatio,
  // What a miner runs: the trace committed as it answers.
  decodeRatioWithTrace: q8.decodeRatioWithTrace,
  prefillRatioWithTrace: q8.prefillRatioWithTrace,
  results,
}
if (json) console.log(JSON.stringify(summary))
else {
  log(
    `\nQ8_0 decodeTraceRatio ${q8.decodeTraceRatio}, prefillTraceRatio ${q8.prefillTraceRatio} (traced / untraced); R_p of the last position rebuilt in ${q8.positionTraceLastMs} ms = ${q8.positionTraceLastDecodeSteps} decode steps`,
  )
  if (withLlama)
    log(
      `Q8_0 decodeRatio ${q8.decodeRatio} (with trace ${q8.decodeRatioWithTrace}), prefillRatio ${q8.prefillRatio} (with trace ${q8.prefillRatioWithTrace})`,
    )
}

function round(x: number, digits = 1) {
  const p = 10 ** digits
  return Math.round(x * p) / p
}
