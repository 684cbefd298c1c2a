/**
 * Builds the Groth16 circuit of a digits model: circom source with the weights as constants,
 * compilation with the npm circom2 (r1cs, wasm witness calculator, symbols), a phase-2 key from a
 * powers-of-tau file, one deterministic contribution (a beacon with a fixed hash, so a dev build is
 * reproducible and the verification key, the model's on-chain identity, does not change between
 * builds), the verification key and the snarkjs Solidity verifier.
 *
 *   node bin/run-ts.js scripts/build-digits-circuit.ts [--model models/digits.json] [--ptau FILE] [--out DIR] [--no-solidity]
 *
 * --ptau (or VERITY_PTAU) defaults to ../shared/zk/pot16_dev.ptau: a single-party development file.
 * Production must use a public ceremony's file and its own phase-2 contributions.
 * Writes circuits/<name>.circom, DIR/<name>/{<name>.r1cs,<name>.sym,<name>.wasm,<name>.zkey,vkey.json,build.json}
 * (DIR defaults to circuits/build) and, unless --no-solidity (benchmark variants: every model's
 * verifier costs the same gas, 4 public inputs), contracts/src/vision/<Name>Verifier.sol.
 */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { basename, dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as snarkjs from 'snarkjs'
import { digitsCircuitSource } from '../src/vision/circuit-source.ts'
import { parseDigitsModel } from '../src/vision/model.ts'
import { visionModelId } from '../src/vision/model-id.ts'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const flag = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? args[i + 1] : undefined
}

/** The dev ptau next to the checkout (../shared), or two levels up for a git worktree. */
function defaultPtau(): string {
  const candidates = ['../shared/zk/pot16_dev.ptau', '../../shared/zk/pot16_dev.ptau'].map((p) =>
    resolve(root, p),
  )
  return candidates.find((p) => existsSync(p)) ?? (candidates[0] as string)
}

/** Fixed beacon of the dev phase-2 contribution: reproducible, hence NOT secret. */
export const DEV_BEACON = createHash('sha256').update('verity digits dev phase 2').digest('hex')

const modelFile = flag('model') ?? 'models/digits.json'
const ptau = resolve(flag('ptau') ?? process.env.VERITY_PTAU ?? defaultPtau())
const outRoot = resolve(root, flag('out') ?? 'circuits/build')
if (!existsSync(ptau))
  throw new Error(`powers of tau not found: ${ptau} (use --ptau or VERITY_PTAU)`)

const model = parseDigitsModel(JSON.parse(readFileSync(resolve(root, modelFile), 'utf8')))
const name = basename(modelFile, '.json')
const contractName = `${name
  .split(/[-_]/)
  .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
  .join('')}Verifier`
const out = join(outRoot, name)
rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })
const times: Record<string, number> = {}
const timed = async <T>(label: string, f: () => Promise<T> | T): Promise<T> => {
  const t0 = performance.now()
  const r = await f()
  times[label] = Math.round(performance.now() - t0)
  console.log(`${label}: ${(times[label] / 1000).toFixed(1)} s`)
  return r
}

/**
 * The include path for circomlib. circom2 (WASI) cannot follow a symlink out of its working
 * directory (a git worktree's node_modules may be one): then circomlib's circuits are copied
 * into .cache/circom first.
 */
function circomLibraries(): string {
  const lib = realpathSync(join(root, 'node_modules/circomlib'))
  if (!relative(root, lib).startsWith('..')) return 'node_modules'
  cpSync(join(lib, 'circuits'), join(root, '.cache/circom/circomlib/circuits'), { recursive: true })
  return '.cache/circom'
}

const circuit = `circuits/${name}.circom`
writeFileSync(join(root, circuit), digitsCircuitSource(model, modelFile))
// circom2 only sees files below its working directory: run from the root, libraries from node_modules
await timed('compile', () =>
  execFileSync(
    process.execPath,
    [
      join(root, 'node_modules/circom2/cli.js'),
      circuit,
      '--r1cs',
      '--wasm',
      '--sym',
      '-l',
      circomLibraries(),
      '-o',
      relative(root, out),
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  ),
)
copyFileSync(join(out, `${name}_js`, `${name}.wasm`), join(out, `${name}.wasm`))
rmSync(join(out, `${name}_js`), { recursive: true })
const info = await snarkjs.r1cs.info(join(out, `${name}.r1cs`))
const zkey0 = join(out, `${name}_0000.zkey`)
const zkey = join(out, `${name}.zkey`)
await timed('setup', () => snarkjs.zKey.newZKey(join(out, `${name}.r1cs`), ptau, zkey0))
await timed('contribute', () =>
  snarkjs.zKey.beacon(zkey0, zkey, 'verity dev phase 2 (fixed beacon)', DEV_BEACON, 10),
)
rmSync(zkey0)
const vkey = await snarkjs.zKey.exportVerificationKey(zkey)
writeFileSync(join(out, 'vkey.json'), `${JSON.stringify(vkey, null, 1)}\n`)
if (!args.includes('--no-solidity')) {
  const template = readFileSync(
    join(root, 'node_modules/snarkjs/templates/verifier_groth16.sol.ejs'),
    'utf8',
  )
  const solidity = (await snarkjs.zKey.exportSolidityVerifier(zkey, { groth16: template })).replace(
    'contract Groth16Verifier',
    `/// Groth16 verifier of ${model.name} (${modelFile}); generated by snarkjs via\n/// scripts/build-digits-circuit.ts, do not edit.\ncontract ${contractName}`,
  )
  mkdirSync(join(root, 'contracts/src/vision'), { recursive: true })
  writeFileSync(join(root, `contracts/src/vision/${contractName}.sol`), solidity)
}
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex')
const build = {
  model: modelFile,
  modelSha256: sha(resolve(root, modelFile)),
  modelId: visionModelId(vkey),
  ptau: basename(ptau),
  ptauSha256: sha(ptau),
  constraints: info.nConstraints,
  wires: info.nVars,
  publicInputs: info.nPubInputs + info.nOutputs,
  privateInputs: info.nPrvInputs,
  contract: contractName,
  times,
}
writeFileSync(join(out, 'build.json'), `${JSON.stringify(build, null, 1)}\n`)
console.log(JSON.stringify(build))
// snarkjs keeps the curve's worker threads alive
await (globalThis as { curve_bn128?: { terminate(): Promise<void> } }).curve_bn128?.terminate()
