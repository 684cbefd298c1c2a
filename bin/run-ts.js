#!/usr/bin/env node
// Runs one TypeScript script (benchmarks, generators) from an esbuild bundle, with the rest of
// argv passed through. Benchmarks thus measure the code as the CLI runs it.
import { basename } from 'node:path'
import { ensureBundle } from './build.js'

const [script, ...rest] = process.argv.slice(2)
if (!script) {
  console.error('usage: run-ts <script.ts> [args...]')
  process.exit(2)
}
const bundle = await ensureBundle(script, `scripts/${basename(script, '.ts')}`)
process.argv = [process.argv[0], script, ...rest]
await import(bundle)
