/**
 * The benchmark on a real-sized model file (npm run bench:runtime -- --model <file> | --shape
 * llama-3.2-1b [--type Q8_0] [--threads N] [--kernel auto|wasm] [--prompt N] [--decode N] [--rounds N] [--json]):
 * load time and peak RSS, then prefill and decode tokens/s of Verity (untraced, and with the
 * checkpoint commitment a miner computes while answering) and of llama.cpp (node-llama-cpp, CPU)
 * on the same file and thread count. Verity's rounds run first so that the peak RSS it reports is
 * Verity's alone (llama.cpp maps the same file into this process afterwards).
 */
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { disposeLlama, hasLlamaCpp, llamaCppSpeed } from '../crosscheck/llamacpp.ts'
import { openModelFile, peakRssMiB } from '../src/cli/model-file.ts'
import { createThreadedKernel } from '../src/parallel/kernel.ts'
import { forwardBlock, forwardToken, Sequence } from '../src/runtime/forward.ts'
import type { GgmlTypeName } from '../src/runtime/gguf/types.ts'
import { loadModel, type Model } from '../src/runtime/model/load.ts'
import { Prng } from '../src/runtime/sampler/prng.ts'
import { CheckpointHasher } from '../src/runtime/trace/hasher.ts'
import { NO_LAYER, OpKind } from '../src/runtime/trace/ops.ts'
import { SHAPES, writeShapeModel } from './shape.ts'

type Speed = { prefill: number; decode: number }

function run(model: Model, prompt: number[], decode: number[], traced: boolean): Speed {
  const seq = new Sequence(model, prompt.length + decode.length)
  const hasher = traced ? new CheckpointHasher(model) : undefined
  const sampled = new Int32Array(5)
  const t0 = performance.now()
  for (let i = 0; i < prompt.length; i += seq.maxBlock) {
    const block = prompt.slice(i, i + seq.maxBlock)
    forwardBlock(seq, block, i + block.length === prompt.length, hasher)
  }
  const t1 = performance.now()
  for (const token of decode) {
    sampled[0] = token
    hasher?.record(seq.pos - 1, NO_LAYER, OpKind.SAMPLE, sampled, 0, 5)
    forwardToken(seq, token, true, hasher)
  }
  hasher?.root()
  const t2 = performance.now()
  return { prefill: (prompt.length * 1000) / (t1 - t0), decode: (decode.length * 1000) / (t2 - t1) }
}

const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits

export async function runFileBench(args: string[]): Promise<void> {
  const value = (name: string) => {
    const i = args.indexOf(name)
    return i === -1 ? undefined : args[i + 1]
  }
  const num = (name: string, fallback: number) => Number(value(name) ?? fallback)
  const json = args.includes('--json')
  const threads = num('--threads', availableParallelism())
  const kernelKind = value('--kernel') ?? 'auto'
  if (kernelKind !== 'auto' && kernelKind !== 'wasm')
    throw new Error(`--kernel must be auto or wasm, got ${kernelKind}`)
  const promptLength = num('--prompt', 64)
  const decodeLength = num('--decode', 32)
  const rounds = num('--rounds', 2)
  const withLlama = !args.includes('--no-llama') && hasLlamaCpp()
  const log = (...m: unknown[]) => {
    if (!json) console.log(...m)
  }
  const shapeName = value('--shape')
  let path = value('--model')
  // --write <path>: only write the shape's file there (keep it for later --model runs).
  const writeOnly = value('--write')
  let dir: string | undefined
  let writeSeconds: number | undefined
  if (!path) {
    const shape = SHAPES[shapeName ?? '']
    if (!shape)
      throw new Error(
        `--shape must be one of ${Object.keys(SHAPES).join(', ')}, or pass --model <file>`,
      )
    if (writeOnly) path = writeOnly
    else {
      dir = mkdtempSync(join(tmpdir(), 'verity-shape-'))
      path = join(dir, `${shape.name}.gguf`)
    }
    const type = (value('--type') ?? 'Q8_0') as GgmlTypeName
    const t = performance.now()
    writeShapeModel(path, shape, type)
    writeSeconds = round((performance.now() - t) / 1000, 1)
    log(
      `wrote ${path} (${type}, ${(statSync(path).size / 2 ** 20).toFixed(0)} MiB) in ${writeSeconds} s`,
    )
    if (writeOnly) return
  }
  try {
    const t0 = performance.now()
    const file = openModelFile(path)
    let model: Model
    try {
      model = loadModel(file, {
        sha256: (bytes) => new Uint8Array(createHash('sha256').update(bytes).digest()),
        // The CLI's kernel: native where built (--kernel wasm: WebAssembly), on `threads` threads.
        createKernel: (bytes: number) =>
          createThreadedKernel(bytes, threads, kernelKind === 'wasm' ? { native: false } : {}),
      })
    } finally {
      file.close()
    }
    const loadSeconds = round((performance.now() - t0) / 1000, 1)
    const loadPeakRssMiB = peakRssMiB()
    let int8 = 0
    for (const m of [
      model.embed,
      ...model.layers.flatMap((l) => [l.wq, l.wk, l.wv, l.wo, l.wGate, l.wUp, l.wDown]),
    ])
      int8 += m.rows * m.cols
    if (model.output !== model.embed) int8 += model.output.rows * model.output.cols
    log(
      `loaded ${model.config.name} in ${loadSeconds} s on ${threads} thread(s), peak RSS ${loadPeakRssMiB} MiB`,
    )

    const vocab = Math.min(model.config.vocabSize, 128000)
    const prng = new Prng(7)
    const prompt = Array.from({ length: promptLength }, () => 1 + prng.below(vocab - 1))
    const decode = Array.from({ length: decodeLength }, () => 1 + prng.below(vocab - 1))
    run(model, prompt.slice(0, 16), decode.slice(0, 2), true) // warm-up: V8 tiers up
    const plain: Speed[] = []
    const traced: Speed[] = []
    const llama: Speed[] = []
    const verityRound = (r: number) => {
      plain.push(run(model, prompt, decode, false))
      traced.push(run(model, prompt, decode, true))
      log(`round ${r + 1}: untraced`, plain.at(-1), 'traced', traced.at(-1))
    }
    // Verity's first round runs before llama.cpp maps the file into this process: the peak RSS
    // recorded after it is Verity's own. Then the two take turns, so that load elsewhere on the
    // machine falls on both.
    verityRound(0)
    const peakRss = peakRssMiB()
    for (let r = 0; r < rounds; r++) {
      if (withLlama) {
        const s = await llamaCppSpeed(path, prompt, decode, threads)
        llama.push({ prefill: s.prefillTokensPerSecond, decode: s.decodeTokensPerSecond })
        log(`round ${r + 1}: llama.cpp`, llama.at(-1))
      }
      if (r > 0 || !withLlama) verityRound(r)
    }
    if (withLlama) verityRound(rounds)
    await (model.kernel as { close?: () => Promise<void> }).close?.()
    const best = (runs: Speed[]) => ({
      prefill: Math.max(...runs.map((s) => s.prefill)),
      decode: Math.max(...runs.map((s) => s.decode)),
    })
    const v = best(plain)
    const vt = best(traced)
    const result: Record<string, unknown> = {
      model: model.config.name,
      file: shapeName ? `${shapeName} (written by the bench)` : path,
      fileMiB: round(statSync(path).size / 2 ** 20, 1),
      int8WeightsMiB: round(int8 / 2 ** 20, 1),
      threads,
      kernel: model.kernel.name,
      promptTokens: promptLength,
      decodeTokens: decodeLength,
      rounds,
      loadSeconds,
      ...(writeSeconds !== undefined ? { writeSeconds } : {}),
      loadPeakRssMiB,
      peakRssMiB: peakRss,
      verityPrefill: round(v.prefill, 2),
      verityDecode: round(v.decode, 2),
      verityPrefillWithTrace: round(vt.prefill, 2),
      verityDecodeWithTrace: round(vt.decode, 2),
      llamaCpp: withLlama,
    }
    if (withLlama) {
      const lb = best(llama)
      Object.assign(result, {
        llamaCppPrefill: round(lb.prefill, 2),
        llamaCppDecode: round(lb.decode, 2),
        decodeRatio: round(v.decode / lb.decode),
        prefillRatio: round(v.prefill / lb.prefill),
        decodeRatioWithTrace: round(vt.decode / lb.decode),
        prefillRatioWithTrace: round(vt.prefill / lb.prefill),
      })
      await disposeLlama()
    }
    if (json) console.log(JSON.stringify(result))
    else log(result)
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true })
  }
}
