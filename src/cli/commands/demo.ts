import { generate } from '../../runtime/generate.ts'
import { loadModel } from '../../runtime/model/load.ts'
import { samplingParams } from '../../runtime/sampler/sample.ts'
import { tokenizerFromGguf } from '../../runtime/tokenizer/index.ts'
import { toHex } from '../../runtime/trace/merkle.ts'
import type { Command } from '../main.ts'
import { readModelFile } from '../model-file.ts'

/**
 * What `npm start` runs until the network exists: the default model generates twice with the
 * same seed and once with another, showing that the tokens and traceRoot repeat to the bit.
 */
export const command: Command = {
  summary: 'a short generation demo with the default model',
  run: async () => {
    const model = loadModel(readModelFile('default'))
    const tokenizer = tokenizerFromGguf(model.metadata)
    console.log('Verity — deterministic integer inference')
    console.log(`model ${model.config.name}, modelRoot ${toHex(model.modelRoot)}`)
    console.log('(a 1.3M-parameter model trained on the King James Bible: see docs/MODEL.md)\n')
    const prompt = 'Once upon a time'
    const promptTokens = tokenizer.encode(prompt)
    for (const seed of [42, 42, 7]) {
      const result = generate(model, {
        promptTokens,
        maxTokens: 24,
        params: samplingParams({ temperature: 0.8, topP: 0.95 }),
        seed,
      })
      console.log(
        `seed ${seed}: ${JSON.stringify(tokenizer.decode([...promptTokens, ...result.tokens]))}`,
      )
      console.log(`  tokens    ${result.tokens.join(' ')}`)
      console.log(
        `  traceRoot ${toHex(result.traceRoot!)} (${result.traceLeafCount} checkpoints, one per position)\n`,
      )
    }
    console.log("Try: npx verity generate --prompt 'Hello' --seed 1 --json")
    return 0
  },
}
