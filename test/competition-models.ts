import { ggufVariant } from './model-variant.ts'
import { trainedModelBytes } from './trained-model.ts'

/**
 * verity-tiny with deterministic noise added to its output projection: the same shape,
 * tokenizer and architecture, a measurably higher evaluation loss (a "worse" competitor for
 * tests; `seed` gives another file and another loss).
 */
export function noisyTinyBytes(seed = 1, scale = 0.5): Uint8Array {
  return ggufVariant(trainedModelBytes(), {
    tensors: (tensors) =>
      tensors.map((t) => {
        if (t.name !== 'output.weight') return t
        let rms = 0
        for (const v of t.data) rms += v * v
        rms = Math.sqrt(rms / t.data.length)
        // xorshift32: the same noise on every machine
        let x = (0x9e3779b9 ^ seed) >>> 0 || 1
        const data = t.data.map((v) => {
          x ^= x << 13
          x ^= x >>> 17
          x ^= x << 5
          x >>>= 0
          return v + ((x / 0xffffffff) * 2 - 1) * scale * rms
        })
        return { ...t, data }
      }),
  })
}
