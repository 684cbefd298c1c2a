// Runs the GGUF reader mutation fuzz for a chosen number of cases (CI runs 10,000 in the tests).
// usage: node bin/run-ts.js scripts/fuzz-gguf.ts [cases=200000] [seed=1]
import { FuzzFailure, runGgufFuzz } from '../src/runtime/gguf/fuzz.ts'

const cases = Number(process.argv[2] ?? 200_000)
const seed = Number(process.argv[3] ?? 1)
if (!Number.isSafeInteger(cases) || cases < 1 || !Number.isSafeInteger(seed)) {
  console.error('usage: fuzz-gguf.ts [cases] [seed]')
  process.exit(2)
}

const start = performance.now()
try {
  const result = runGgufFuzz(cases, seed)
  const seconds = (performance.now() - start) / 1000
  console.log(
    `${result.cases} cases in ${seconds.toFixed(2)} s (${Math.round(result.cases / seconds)}/s), seed ${seed}: ` +
      `${result.rejected} rejected with GgufError, ${result.parsed} still valid, 0 other errors`,
  )
  for (const [kind, r] of Object.entries(result.byMutation)) {
    console.log(`  ${kind.padEnd(9)} rejected ${r.rejected}, parsed ${r.parsed}`)
  }
} catch (error) {
  if (!(error instanceof FuzzFailure)) throw error
  console.error(`FAIL ${error.message}`)
  console.error(error.cause)
  console.error(
    `input (${error.input.length} bytes, hex): ${Buffer.from(error.input).toString('hex')}`,
  )
  process.exit(1)
}
