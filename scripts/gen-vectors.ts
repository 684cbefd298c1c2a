/**
 * Regenerates vectors/runtime.json: (model, prompt tokens, parameters, seed) -> tokens and
 * traceRoot. Run `node bin/run-ts.js scripts/gen-vectors.ts` only when a change to the arithmetic
 * is intended; src/runtime/vectors.test.ts fails on any drift.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runtimeVectors } from '../src/runtime/vectors.ts'

const path = join(import.meta.dirname, '../vectors/runtime.json')
writeFileSync(path, `${JSON.stringify(runtimeVectors(), null, 2)}\n`)
console.log(`wrote ${path}`)
