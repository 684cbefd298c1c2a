#!/usr/bin/env node
// The `verity` command: runs src/cli/main.ts from an esbuild bundle in dist/, rebuilt when a
// source changed (see build.js for why the CLI does not run through a TypeScript loader).
import { ensureBundle, root } from './build.js'

const bundle = await ensureBundle(`${root}/src/cli/main.ts`, 'cli')
const { main } = await import(bundle)
process.exitCode = await main(process.argv.slice(2))
