import { afterAll, describe, expect, it } from 'vitest'
import { defaultModelBytes } from '../src/runtime/model/default.ts'
import { loadModel } from '../src/runtime/model/load.ts'
import { buildSyntheticModel } from '../src/runtime/model/synthetic.ts'
import { tokenizerFromGguf } from '../src/runtime/tokenizer/tokenizer.ts'
import { trainedModelBytes } from '../test/trained-model.ts'
import { compareWithLlamaCpp, crosscheckModelSpec, crosscheckTokens } from './compare.ts'
import { disposeLlama } from './llamacpp.ts'

afterAll(disposeLlama)

// Random weights give near-flat logits whose top two often differ by less than int8 rounding, so
// top-1 is only a loose guard on them; the logit cosine is the accuracy check. The trained default
// model has peaked logits, and there top-1 must agree too.
describe('runtime vs llama.cpp, teacher-forced over 256 positions', () => {
  for (const type of ['F32', 'Q8_0'] as const) {
    it(`${type}: logit cosine >= 0.99`, async () => {
      const spec = crosscheckModelSpec(type)
      const result = await compareWithLlamaCpp(
        buildSyntheticModel(spec),
        crosscheckTokens(256, 2048),
      )
      console.log(`crosscheck ${type}: ${JSON.stringify(result)}`)
      expect(result.positions).toBe(256)
      expect(result.meanCosine).toBeGreaterThanOrEqual(0.99)
      expect(result.minCosine).toBeGreaterThanOrEqual(0.98)
      expect(result.top1).toBeGreaterThanOrEqual(0.85)
    })
  }

  it('the synthetic model of defaultModelBytes() agrees too', async () => {
    const result = await compareWithLlamaCpp(defaultModelBytes(), crosscheckTokens(200, 512, 3))
    console.log(`crosscheck synthetic default: ${JSON.stringify(result)}`)
    expect(result.meanCosine).toBeGreaterThanOrEqual(0.99)
  })

  it('the trained default model (verity-tiny) agrees on held-out text: top-1 >= 0.95', async () => {
    const bytes = trainedModelBytes()
    const tokens = tokenizerFromGguf(loadModel(bytes).metadata).encode(HELD_OUT_TEXT).slice(0, 256)
    expect(tokens.length).toBeGreaterThanOrEqual(200)
    const result = await compareWithLlamaCpp(bytes, tokens)
    console.log(`crosscheck verity-tiny: ${JSON.stringify(result)}`)
    expect(result.meanCosine).toBeGreaterThanOrEqual(0.99)
    expect(result.top1).toBeGreaterThanOrEqual(0.95)
  })
})

// The first ten verses held out of verity-tiny's training text (every 20th verse of the KJV).
const HELD_OUT_TEXT = [
  'And God said, Let the waters bring forth abundantly the moving creature that hath life, and fowl that may fly above the earth in the open firmament of heaven.',
  'And out of the ground made the LORD God to grow every tree that is pleasant to the sight, and good for food; the tree of life also in the midst of the garden, and the tree of knowledge of good and evil.',
  'And the serpent said unto the woman, Ye shall not surely die:',
  'So he drove out the man; and he placed at the east of the garden of Eden Cherubims, and a flaming sword which turned every way, to keep the way of the tree of life.',
  'And Adah bare Jabal: he was the father of such as dwell in tents, and of such as have cattle.',
  'And all the days of Cainan were nine hundred and ten years: and he died.',
  'That the sons of God saw the daughters of men that they were fair; and they took them wives of all which they chose.',
  'Thus did Noah; according to all that God commanded him, so did he.',
  'Fifteen cubits upward did the waters prevail; and the mountains were covered.',
  "Go forth of the ark, thou, and thy wife, and thy sons, and thy sons' wives with thee.",
].join(' ')
