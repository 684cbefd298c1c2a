#!/usr/bin/env node
// Runs one TypeScript script (benchmarks, generators) with the rest of argv passed through.
import { pathToFileURL } from 'node:url'
import { register } from 'tsx/esm/api'

register()
const [script, ...rest] = process.argv.slice(2)
if (!script) {
  console.error('usage: run-ts <script.ts> [args...]')
  process.exit(2)
}
process.argv = [process.argv[0], script, ...rest]
await import(pathToFileURL(script).href)
