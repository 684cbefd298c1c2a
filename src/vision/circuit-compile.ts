import { execFileSync } from 'node:child_process'
import { copyFileSync, cpSync, mkdirSync, realpathSync, rmSync } from 'node:fs'
import { basename, join, relative } from 'node:path'

/**
 * The include path for circomlib. circom2 (WASI) cannot follow a symlink out of its working
 * directory (a git worktree's node_modules may be one): then circomlib's circuits are copied
 * into .cache/circom first.
 */
function circomLibraries(root: string): string {
  const lib = realpathSync(join(root, 'node_modules/circomlib'))
  if (!relative(root, lib).startsWith('..')) return 'node_modules'
  cpSync(join(lib, 'circuits'), join(root, '.cache/circom/circomlib/circuits'), { recursive: true })
  return '.cache/circom'
}

/**
 * Compiles circuits/<name>.circom (a file below `root`) with the npm circom2 into `outDir`:
 * <name>.wasm (the witness calculator), <name>.sym and, unless `r1cs` is false, <name>.r1cs.
 * circom2 only sees files below its working directory, so it runs from `root`; `circuits` is on
 * the include path, so a main file elsewhere below `root` finds lib/digits-mlp.circom too.
 */
export function compileDigitsCircuit(
  root: string,
  circuit: string,
  outDir: string,
  options: { r1cs?: boolean } = {},
): void {
  const name = basename(circuit, '.circom')
  mkdirSync(outDir, { recursive: true })
  execFileSync(
    process.execPath,
    [
      join(root, 'node_modules/circom2/cli.js'),
      relative(root, join(root, circuit)),
      ...(options.r1cs === false ? [] : ['--r1cs']),
      '--wasm',
      '--sym',
      '-l',
      circomLibraries(root),
      '-l',
      'circuits',
      '-o',
      relative(root, outDir),
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  )
  copyFileSync(join(outDir, `${name}_js`, `${name}.wasm`), join(outDir, `${name}.wasm`))
  rmSync(join(outDir, `${name}_js`), { recursive: true })
}
