import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import * as runtime from './index.ts'

describe('src/runtime entry', () => {
  it('exports exactly this API (a change shows up in review)', () => {
    expect(Object.keys(runtime).sort()).toMatchInlineSnapshot(`
      [
        "ALL_KINDS",
        "CHECKPOINT_KIND",
        "CheckpointHasher",
        "DEFAULT_MODEL_NAME",
        "LAYER_OPS",
        "LIMITS",
        "LeafStager",
        "MerkleTree",
        "NO_LAYER",
        "OP_NAMES",
        "OpKind",
        "PositionTraceHasher",
        "Prng",
        "Sequence",
        "TraceCapture",
        "TraceReplay",
        "argmax",
        "bisect",
        "boundaryCount",
        "boundaryIndexOf",
        "boundaryOpAt",
        "boundaryToPositionIndex",
        "buildSyntheticModel",
        "bytesEqual",
        "bytesSource",
        "checkpointHash",
        "configBytes",
        "configConstants",
        "createKernel",
        "defaultModelBytes",
        "defaultModelSpec",
        "elementInputs",
        "forwardToken",
        "fromHex",
        "generate",
        "generateSteps",
        "kindMask",
        "loadModel",
        "merkleProof",
        "merkleRoot",
        "mixPartialSums",
        "mixSumLeaf",
        "mixSumsTree",
        "oneStep",
        "oneStepVectors",
        "oneStepWeights",
        "opIdBytes",
        "opLength",
        "openElement",
        "openNormChunk",
        "openWeight",
        "openWeightLeaf",
        "parseOpId",
        "positionCount",
        "positionOpAt",
        "positionOpCount",
        "positionOpIndex",
        "positionTag",
        "positionTrace",
        "proofLength",
        "readConfig",
        "readGguf",
        "recomputeElement",
        "replayTrace",
        "rootFromProof",
        "sample",
        "samplesAt",
        "samplingParams",
        "shapeOf",
        "toHex",
        "tokenizerFromGguf",
        "traceLeaf",
        "validateRequest",
        "vecChunks",
        "vecRoot",
        "verifyBinding",
        "verifyBoundaryOpening",
        "verifyBoundaryVector",
        "verifyCheckpointOpening",
        "verifyElementOpening",
        "verifyMixFinal",
        "verifyMixStep",
        "verifyMixSumOpening",
        "verifyPositionLeafOpening",
        "verifyPositionVector",
        "verifyScheduledOpId",
        "verifyWeightOpening",
        "weightLeafCount",
        "weightLeafIndex",
        "weightOpeningLeaf",
        "weightRow",
        "weightRowBytes",
        "writeGguf",
      ]
    `)
  })
})

/** Every non-test source file of the runtime. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name)
    if (e.isDirectory()) return sources(path)
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.case.ts')
      ? [path]
      : []
  })
}

const isComment = (line: string) => /^\s*(\*|\/\*|\/\/)/.test(line)

describe('the runtime is pure', () => {
  const files = sources(import.meta.dirname)
  const rules: [RegExp, string][] = [
    [
      /Math\.(random|exp|expm1|log|log2|log10|log1p|pow|sin|cos|tan|atan|atan2|sinh|cosh|tanh|cbrt|hypot)\(/,
      'a float function whose result engines may round differently',
    ],
    [/\bDate\b|performance\.now|process\.hrtime/, 'a clock'],
    [/from ['"]node:/, 'a node: import (I/O belongs to the CLI and node layers)'],
    [/\b(fetch|setTimeout|setInterval|queueMicrotask)\(/, 'I/O or timers'],
    // `**` is implementation-approximated in ECMAScript unless both operands are constants.
    [/\*\*\s*-?\s*[a-zA-Z_(]/, 'a ** with a variable exponent'],
  ]

  it('has the files this test scans', () => {
    expect(files.length).toBeGreaterThan(40)
  })

  for (const [pattern, what] of rules) {
    it(`uses no ${what}`, () => {
      const offenders = files.flatMap((f) =>
        readFileSync(f, 'utf8')
          .split('\n')
          .map((line, i) => [line, i] as const)
          .filter(([line]) => !isComment(line) && pattern.test(line))
          .map(([line, i]) => `${relative(import.meta.dirname, f)}:${i + 1}: ${line.trim()}`),
      )
      expect(offenders).toEqual([])
    })
  }
})
