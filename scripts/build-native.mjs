#!/usr/bin/env node
// Builds the native int8 kernel (native/kernels.cc, and the element-wise ops in native/ops.cc) into native/build/verity-kernels.node with
// the machine's C++ compiler and the Node-API headers from npm (no download). Runs at
// `npm install` (postinstall). Without a compiler the runtime uses its WebAssembly kernel, which
// gives the same bits more slowly: this script then says so and exits 0, unless
// VERITY_REQUIRE_NATIVE=1 (CI), where a missing kernel is an error.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const sources = ['kernels.cc', 'ops.cc'].map((f) => join(root, 'native', f))
const outDir = join(root, 'native', 'build')
const out = join(outDir, 'verity-kernels.node')
const required = process.env.VERITY_REQUIRE_NATIVE === '1'

function headers() {
  try {
    return createRequire(import.meta.url)('node-api-headers').include_dir
  } catch {
    const bundled = join(dirname(process.execPath), '..', 'include', 'node')
    return existsSync(join(bundled, 'node_api.h')) ? bundled : undefined
  }
}

function compilers() {
  return [process.env.CXX, 'g++', 'c++', 'clang++'].filter(Boolean)
}

function give_up(reason) {
  const message = `verity: native kernel not built (${reason}); the WebAssembly kernel will be used (same results, about 2x slower decode)`
  if (required) {
    console.error(`${message}\nVERITY_REQUIRE_NATIVE=1: failing`)
    process.exit(1)
  }
  console.warn(message)
  process.exit(0)
}

if (process.env.VERITY_NATIVE === '0') give_up('VERITY_NATIVE=0')
const include = headers()
if (!include) give_up('no Node-API headers: node-api-headers is not installed')
mkdirSync(outDir, { recursive: true })
const partial = `${out}.${process.pid}.tmp`
let lastError = 'no C++ compiler found (tried $CXX, g++, c++, clang++)'
for (const cxx of compilers()) {
  try {
    execFileSync(
      cxx,
      [
        '-O3',
        '-std=c++17',
        '-shared',
        '-fPIC',
        '-fvisibility=hidden',
        `-I${include}`,
        ...sources,
        '-o',
        partial,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    )
    renameSync(partial, out)
    console.log(`verity: native kernel built with ${cxx}: ${out}`)
    process.exit(0)
  } catch (error) {
    rmSync(partial, { force: true })
    if (error.code !== 'ENOENT')
      lastError = `${cxx} failed: ${String(error.stderr ?? error.message)
        .trim()
        .split('\n')
        .slice(0, 5)
        .join(' | ')}`
  }
}
give_up(lastError)
