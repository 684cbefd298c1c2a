/**
 * The figures of docs/MODEL.md for a trained model: held-out perplexity as the integer runtime
 * computes it, greedy samples, the cross-check against llama.cpp on held-out text, and the loss
 * curve as an SVG drawn from the training log.
 *
 *   node bin/run-ts.js scripts/model-card.ts [model.gguf] [--windows 4]
 *
 * Writes docs/model-loss.svg and prints the figures as JSON.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { compareWithLlamaCpp, runtimeLogits } from '../crosscheck/compare.ts'
import { disposeLlama } from '../crosscheck/llamacpp.ts'
import { generate } from '../src/runtime/generate.ts'
import { loadModel } from '../src/runtime/model/load.ts'
import { samplingParams } from '../src/runtime/sampler/sample.ts'
import { tokenizerFromGguf } from '../src/runtime/tokenizer/tokenizer.ts'
import { heldOutWindows, kjvVerses, splitVerses } from './kjv-corpus.ts'

const root = join(import.meta.dirname, '..')
const args = process.argv.slice(2)
const modelPath = args.find((a) => a.endsWith('.gguf')) ?? join(root, 'models/verity-tiny.gguf')
const logPath = join(root, 'models/verity-tiny.train.jsonl')
const svgPath = join(root, 'docs/model-loss.svg')
const windowsArg = args.indexOf('--windows')
const nWindows = windowsArg >= 0 ? Number(args[windowsArg + 1]) : 4

export const PROMPTS = [
  'In the beginning',
  'And the LORD said unto Moses,',
  'Once upon a time',
  'The king of Israel',
  'Blessed are the',
  'I will',
]

function logSoftmaxAt(logits: Float32Array, target: number): number {
  let max = -Infinity
  for (const v of logits) max = Math.max(max, v)
  let sum = 0
  for (const v of logits) sum += Math.exp(v - max)
  return logits[target]! - max - Math.log(sum)
}

/** A line chart of the training loss (mean of each 20 steps) and the held-out loss. */
export function lossSvg(entries: Array<{ step: number; loss: number; heldOut?: number }>): string {
  const W = 720
  const H = 400
  const pad = { l: 56, r: 16, t: 28, b: 44 }
  const maxStep = entries.at(-1)?.step ?? 1
  const bucket = 20
  const train: Array<[number, number]> = []
  for (let i = 0; i < entries.length; i += bucket) {
    const chunk = entries.slice(i, i + bucket)
    train.push([chunk.at(-1)!.step, chunk.reduce((s, e) => s + e.loss, 0) / chunk.length])
  }
  const held = entries.filter((e) => e.heldOut !== undefined).map((e) => [e.step, e.heldOut!])
  const ys = [...train.map((p) => p[1]), ...held.map((p) => p[1]!)]
  const yMin = Math.floor(Math.min(...ys) * 2) / 2
  const yMax = Math.ceil(Math.max(...ys) * 2) / 2
  const x = (s: number) => pad.l + ((W - pad.l - pad.r) * s) / maxStep
  const y = (v: number) => pad.t + ((H - pad.t - pad.b) * (yMax - v)) / (yMax - yMin)
  const path = (pts: number[][]) =>
    pts.map((p, i) => `${i ? 'L' : 'M'}${x(p[0]!).toFixed(1)},${y(p[1]!).toFixed(1)}`).join(' ')
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="14">verity-tiny: cross-entropy loss (nats per token)</text>`,
  ]
  for (let v = yMin; v <= yMax + 1e-9; v += 0.5) {
    out.push(
      `<line x1="${pad.l}" x2="${W - pad.r}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e5e5e5"/>`,
      `<text x="${pad.l - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${v.toFixed(1)}</text>`,
    )
  }
  const tick = maxStep > 1000 ? 500 : 100
  for (let s = 0; s <= maxStep; s += tick)
    out.push(`<text x="${x(s).toFixed(1)}" y="${H - pad.b + 16}" text-anchor="middle">${s}</text>`)
  out.push(
    `<text x="${(pad.l + W - pad.r) / 2}" y="${H - 8}" text-anchor="middle">step (${entries.length} steps)</text>`,
    `<line x1="${pad.l}" x2="${pad.l}" y1="${pad.t}" y2="${H - pad.b}" stroke="black"/>`,
    `<line x1="${pad.l}" x2="${W - pad.r}" y1="${H - pad.b}" y2="${H - pad.b}" stroke="black"/>`,
    `<path d="${path(train)}" fill="none" stroke="#1f77b4" stroke-width="2"/>`,
    `<path d="${path(held)}" fill="none" stroke="#d62728" stroke-width="2" stroke-dasharray="5,3"/>`,
    `<line x1="${W - 200}" x2="${W - 176}" y1="${pad.t + 16}" y2="${pad.t + 16}" stroke="#1f77b4" stroke-width="2"/>`,
    `<text x="${W - 170}" y="${pad.t + 20}">train (mean of ${bucket} steps)</text>`,
    `<line x1="${W - 200}" x2="${W - 176}" y1="${pad.t + 34}" y2="${pad.t + 34}" stroke="#d62728" stroke-width="2" stroke-dasharray="5,3"/>`,
    `<text x="${W - 170}" y="${pad.t + 38}">held out (8 windows)</text>`,
    '</svg>',
  )
  return `${out.join('\n')}\n`
}

async function main(): Promise<void> {
  const bytes = new Uint8Array(readFileSync(modelPath))
  const model = loadModel(bytes)
  const tok = tokenizerFromGguf(model.metadata)
  const { heldOut } = splitVerses(kjvVerses())
  const heldIds = heldOut.map((v) => tok.encode(v, { addBos: false, addEos: false }))
  const windows = heldOutWindows(heldIds, model.config.contextLength + 1)
  const report: Record<string, unknown> = { model: modelPath, bytes: bytes.length }

  // --- held-out perplexity with the integer runtime, on the first windows
  let nll = 0
  let count = 0
  for (const w of windows.slice(0, nWindows)) {
    const logits = runtimeLogits(bytes, w.slice(0, -1))
    for (let t = 0; t + 1 < w.length; t++) nll -= logSoftmaxAt(logits[t]!, w[t + 1]!)
    count += w.length - 1
  }
  report.runtimeHeldOut = {
    windows: nWindows,
    tokens: count,
    loss: nll / count,
    perplexity: Math.exp(nll / count),
  }

  // --- cross-check with llama.cpp on the first held-out window
  const first = windows[0]!.slice(0, model.config.contextLength)
  report.crosscheck = await compareWithLlamaCpp(bytes, first)
  await disposeLlama()

  // --- greedy samples
  const samples: Record<string, string> = {}
  for (const prompt of PROMPTS) {
    const promptTokens = tok.encode(prompt)
    const result = generate(
      model,
      { promptTokens, maxTokens: 40, params: samplingParams({ temperature: 0 }), seed: 0 },
      { trace: false },
    )
    samples[prompt] = tok.decode(result.tokens)
  }
  report.samples = samples

  // --- loss curve
  const lines = readFileSync(logPath, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
  const entries = lines.filter((e) => typeof e.step === 'number')
  writeFileSync(svgPath, lossSvg(entries))
  report.lastSteps = entries.slice(-1)
  console.log(JSON.stringify(report, null, 2))
}

await main()
