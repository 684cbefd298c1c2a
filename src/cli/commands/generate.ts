import { UsageError } from '../../errors/cli.ts'
import { generate } from '../../runtime/generate.ts'
import { samplingParams } from '../../runtime/sampler/sample.ts'
import { tokenizerFromGguf } from '../../runtime/tokenizer/index.ts'
import { toHex } from '../../runtime/trace/merkle.ts'
import { intFlag, numberFlag, parseArgs } from '../args.ts'
import type { Command } from '../main.ts'
import { loadModelFile, threadsFlag } from '../model-file.ts'

const HELP = `usage: verity generate --prompt <text> [--model <file.gguf|default>] [--max-tokens N]
       [--temperature T] [--top-p P] [--top-k K] [--seed S] [--kernel auto|wasm|typescript]
       [--threads N] [--json]

Runs the deterministic integer runtime. The same model, prompt, parameters and seed give the same
tokens and traceRoot on every machine, with any number of threads. Defaults: --max-tokens 32,
--temperature 1, --top-p 1, --top-k 0 (off), --seed 0, --threads all cores. --temperature 0 is
greedy. Without --model, the default model is verity-tiny, a 1.33M-parameter demo that writes
King James-style word salad: pass --model <file.gguf> to serve a real model.`

const spec = {
  model: { type: 'string' },
  prompt: { type: 'string', short: 'p' },
  'max-tokens': { type: 'string', short: 'n' },
  temperature: { type: 'string' },
  'top-p': { type: 'string' },
  'top-k': { type: 'string' },
  seed: { type: 'string' },
  kernel: { type: 'string' },
  threads: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

export const command: Command = {
  summary: 'run the deterministic runtime on a prompt',
  run: async (argv) => {
    const { flags, positionals } = parseArgs(argv, spec)
    if (flags.help) {
      console.log(HELP)
      return 0
    }
    if (positionals.length > 0)
      throw new UsageError(
        `unexpected argument '${positionals[0]}' (quote the prompt and pass it with --prompt)`,
      )
    const prompt = flags.prompt
    if (typeof prompt !== 'string') throw new UsageError('--prompt is required')
    const kernel = flags.kernel ?? 'auto'
    if (kernel !== 'auto' && kernel !== 'wasm' && kernel !== 'typescript')
      throw new UsageError(`--kernel must be auto, wasm or typescript, got '${String(kernel)}'`)
    const params = samplingParams({
      temperature: numberFlag(flags, 'temperature', 1, 0, 100),
      topP: numberFlag(flags, 'top-p', 1, 0.001, 1),
      topK: intFlag(flags, 'top-k', 0, 0, 1 << 20),
    })
    const seed = intFlag(flags, 'seed', 0, 0, Number.MAX_SAFE_INTEGER)
    const maxTokens = intFlag(flags, 'max-tokens', 32, 1, 1 << 20)

    const t0 = performance.now()
    const threads = threadsFlag(flags)
    const model = loadModelFile(flags.model as string | undefined, { kernel, threads })
    const tokenizer = tokenizerFromGguf(model.metadata)
    const promptTokens = tokenizer.encode(prompt)
    const t1 = performance.now()
    let firstToken = 0
    const result = generate(
      model,
      {
        promptTokens,
        maxTokens,
        params,
        seed,
        stopTokens: tokenizer.eosId === undefined ? [] : [tokenizer.eosId],
      },
      {
        onToken: () => {
          firstToken ||= performance.now()
        },
      },
    )
    const t2 = performance.now()
    const text = tokenizer.decode(result.tokens)
    const decoded = result.tokens.length - 1
    const timings = {
      loadMs: round(t1 - t0),
      prefillMs: round(firstToken - t1),
      decodeMs: round(t2 - firstToken),
      prefillTokensPerSecond: round((promptTokens.length * 1000) / (firstToken - t1)),
      decodeTokensPerSecond: decoded > 0 ? round((decoded * 1000) / (t2 - firstToken)) : null,
      kernel: model.kernel.name,
      threads: (model.kernel as { threads?: number }).threads ?? 1,
    }
    if (flags.json) {
      console.log(
        JSON.stringify({
          model: { name: model.config.name, modelRoot: toHex(model.modelRoot) },
          promptTokens,
          tokens: result.tokens,
          text,
          finishReason: result.finishReason,
          traceRoot: toHex(result.traceRoot!),
          traceLeaves: result.traceLeafCount,
          timings,
        }),
      )
    } else {
      console.log(text)
      console.error(
        `\n[${model.config.name} ${toHex(model.modelRoot).slice(0, 18)}… | ${promptTokens.length} prompt + ${result.tokens.length} tokens (${result.finishReason}) | traceRoot ${toHex(result.traceRoot!)} | ${timings.decodeTokensPerSecond ?? '-'} tok/s, ${model.kernel.name}]`,
      )
    }
    return 0
  },
}

const round = (x: number) => Math.round(x * 100) / 100
