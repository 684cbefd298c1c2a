/**
 * llama.cpp through node-llama-cpp's prebuilt CPU binary: teacher-forced logits and speed, for
 * the runtime's cross-check and benchmark. Lives in its own package (crosscheck/) because
 * node-llama-cpp is about 700 MB; install it with `npm --prefix crosscheck install`.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

/**
 * The few node-llama-cpp calls used here, typed locally so that type-checking the project does
 * not need the optional package installed.
 */
type GenerateNext = { logits?: boolean; token?: boolean; options?: { temperature?: number } }
type EvaluateItem = number | [number, { generateNext: GenerateNext }]
type Sequence = {
  controlledEvaluate(
    items: EvaluateItem[],
  ): Promise<Array<{ next?: { logits?: Map<number, number> } } | undefined>>
  evaluateWithoutGeneratingNewTokens(tokens: readonly number[]): Promise<void>
  evaluate(tokens: number[], options: { temperature: number }): AsyncIterable<number>
}
type Context = { getSequence(): Sequence; dispose(): Promise<void> }
type LlamaModel = {
  createContext(options: {
    contextSize: number
    threads: number
    batchSize: number
  }): Promise<Context>
  dispose(): Promise<void>
}
type Llama = {
  loadModel(options: { modelPath: string; gpuLayers: number }): Promise<LlamaModel>
  dispose(): Promise<void>
}
type Module = {
  getLlama(options: { gpu: false; build: 'never'; logLevel: unknown }): Promise<Llama>
  LlamaLogLevel: { error: unknown }
}

let llamaPromise: Promise<Llama> | undefined

const entryPath = () => join(import.meta.dirname, 'node_modules/node-llama-cpp/dist/index.js')

/** Whether node-llama-cpp is installed (the benchmark runs without it, Verity alone). */
export function hasLlamaCpp(): boolean {
  return existsSync(entryPath())
}

async function llama(): Promise<Llama> {
  let mod: Module
  try {
    // Resolved from this folder's own node_modules, also when this file runs from a bundle.
    mod = (await import(pathToFileURL(entryPath()).href)) as Module
  } catch {
    throw new Error('node-llama-cpp is not installed: run `npm --prefix crosscheck install` first')
  }
  // CPU only, never build from source (no network for a toolchain), quiet.
  llamaPromise ??= mod.getLlama({ gpu: false, build: 'never', logLevel: mod.LlamaLogLevel.error })
  return llamaPromise
}

export async function disposeLlama(): Promise<void> {
  if (llamaPromise) await (await llamaPromise).dispose()
  llamaPromise = undefined
}

async function withModel<T>(path: string, fn: (model: LlamaModel) => Promise<T>): Promise<T> {
  const model = await (await llama()).loadModel({ modelPath: path, gpuLayers: 0 })
  try {
    return await fn(model)
  } finally {
    await model.dispose()
  }
}

/** llama.cpp's logits after each token of `tokens` (teacher forcing), one Float32Array per position. */
export async function llamaCppLogits(
  path: string,
  tokens: readonly number[],
  vocabSize: number,
): Promise<Float32Array[]> {
  return withModel(path, async (model) => {
    const context = await model.createContext({
      contextSize: Math.max(256, tokens.length + 8),
      threads: 1,
      batchSize: 512,
    })
    try {
      const out = await context
        .getSequence()
        .controlledEvaluate(tokens.map((t) => [t, { generateNext: { logits: true } }]))
      return out.map((item, i) => {
        const map = item?.next?.logits
        if (!map) throw new Error(`llama.cpp returned no logits at position ${i}`)
        const logits = new Float32Array(vocabSize)
        for (const [token, value] of map) logits[token] = value
        return logits
      })
    } finally {
      await context.dispose()
    }
  })
}

/**
 * Single-thread speed: the prompt evaluated as one batch (prefill), then `decodeTokens` tokens fed
 * one at a time (decode), as tokens per second.
 */
export async function llamaCppSpeed(
  path: string,
  prompt: readonly number[],
  decodeTokens: readonly number[],
): Promise<{ prefillTokensPerSecond: number; decodeTokensPerSecond: number }> {
  return withModel(path, async (model) => {
    const context = await model.createContext({
      contextSize: prompt.length + decodeTokens.length + 16,
      threads: 1,
      batchSize: 512,
    })
    try {
      const sequence = context.getSequence()
      // Prefill: the prompt as one batch.
      const t0 = performance.now()
      await sequence.evaluateWithoutGeneratingNewTokens(prompt)
      const t1 = performance.now()
      // Decode: llama.cpp's own greedy loop (each sampled token is fed back natively), so the
      // figure is llama.cpp's speed, not the JavaScript bridge's per-call overhead.
      let produced = 0
      for await (const _token of sequence.evaluate(decodeTokens.slice(0, 1), { temperature: 0 })) {
        if (++produced >= decodeTokens.length) break
      }
      const t2 = performance.now()
      return {
        prefillTokensPerSecond: (prompt.length * 1000) / (t1 - t0),
        decodeTokensPerSecond: (decodeTokens.length * 1000) / (t2 - t1),
      }
    } finally {
      await context.dispose()
    }
  })
}
