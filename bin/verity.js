#!/usr/bin/env node
// The `verity` command: runs src/cli/main.ts from an esbuild bundle in dist/, rebuilt when a
// source changed (see build.js for why the CLI does not run through a TypeScript loader).
import { ensureBundle, root } from './build.js'

const bundle = await ensureBundle(`${root}/src/cli/main.ts`, 'cli')
const { main } = await import(bundle)
const code = await main(process.argv.slice(2))
// A command returns once it has cleaned up what it started; timers or idle sockets that
// libraries leave behind must not keep the process alive after that. (stdout and stderr are
// synchronous for files and pipes on Linux, so nothing written is lost.)
process.exit(code)
