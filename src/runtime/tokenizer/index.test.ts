import { expect, it } from 'vitest'
import * as tokenizer from './index.ts'

it('exports the public API', () => {
  expect(Object.keys(tokenizer).sort()).toMatchInlineSnapshot(`
    [
      "BYTE_TOKENS",
      "LLAMA_RESERVED",
      "LLAMA_SPECIAL_TOKENS",
      "TokenType",
      "buildLlamaVocab",
      "metadataFromEntries",
      "syntheticLlamaVocab",
      "tokenizerFromGguf",
      "trainSpmBpe",
    ]
  `)
})
