import { afterAll, describe, expect, it } from 'vitest'
import { disposeLlama } from './llamacpp.ts'
import { CI_SAMPLE, CLEAR_MARGIN, CROSSCHECK_FILES, crosscheckFile } from './models.ts'

afterAll(disposeLlama)

// CI checks a bounded sample (one file per architecture and vocabulary family); the whole list
// runs with `npm run test:crosscheck:full` (VERITY_CROSSCHECK_FULL=1).
const files = process.env.VERITY_CROSSCHECK_FULL
  ? CROSSCHECK_FILES
  : CROSSCHECK_FILES.filter((f) => CI_SAMPLE.includes(f.name))

describe('project-made files of each architecture and tensor type, real vocabularies, vs llama.cpp', () => {
  for (const f of files) {
    it(`${f.name} (${f.arch}, ${f.vocab} vocabulary, ${f.type})`, async () => {
      const report = await crosscheckFile(f)
      console.log(
        `crosscheck ${JSON.stringify({ ...report, tokenDiffs: report.tokenDiffs.length })}`,
      )
      // Identical prompt tokens on the whole mixed corpus.
      expect(report.tokenDiffs).toEqual([])
      expect(report.meanCosine).toBeGreaterThanOrEqual(0.99)
      expect(report.minCosine).toBeGreaterThanOrEqual(0.97)
      // Greedy tokens agree wherever llama.cpp's top-1 is clear (margin >= CLEAR_MARGIN x RMS),
      // and such positions are common enough for that to mean something.
      expect(report.clearPositions).toBeGreaterThanOrEqual(report.positions / 4)
      expect(report.clearTop1).toBe(1)
      expect(CLEAR_MARGIN).toBeGreaterThan(0)
    })
  }
})
