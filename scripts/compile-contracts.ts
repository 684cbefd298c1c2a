/**
 * Compiles contracts/src/**\/*.sol with solc-js (standard JSON, OpenZeppelin resolved from
 * node_modules) into contracts/out/<Name>.json and generates src/chain/abis.ts (`as const`).
 *
 * Incremental: the artifacts record a hash of every input (sources, compiler version, settings);
 * when it matches, nothing is compiled. `--force` compiles anyway, `--check` only reports whether
 * the artifacts are stale (exit 1) without writing.
 */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const srcDir = join(root, 'contracts', 'src')
export const outDir = join(root, 'contracts', 'out')
export const abisFile = join(root, 'src', 'chain', 'abis.ts')

export const settings = {
  optimizer: { enabled: true, runs: 200 },
  viaIR: true,
  evmVersion: 'cancun',
  outputSelection: {
    '*': { '*': ['abi', 'evm.bytecode.object', 'evm.bytecode.linkReferences'] },
  },
} as const

/**
 * Contracts compiled a second time for run-time gas over code size: the epoch's library, whose
 * per-cell loops run tens of thousands of times a transaction. At 200 runs the optimizer
 * recomputes divisions and spills loop variables to keep the code small.
 */
export const hotSettings = { ...settings, optimizer: { enabled: true, runs: 100_000 } } as const
const HOT_CONTRACTS = new Set([
  'YumaLib',
  'BondsLib',
  'ConsensusLib',
  'OneStepLib',
  'OneStepAttentionLib',
  'OneStepSamplerLib',
])

type Solc = { version(): string; compile(input: string, callbacks?: object): string }

export type Artifact = {
  contractName: string
  sourceName: string
  inputHash: string
  abi: unknown[]
  bytecode: `0x${string}`
  linkReferences: Record<string, Record<string, { start: number; length: number }[]>>
}

function listSources(dir: string): string[] {
  const out: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...listSources(path))
    else if (entry.name.endsWith('.sol')) out.push(path)
  }
  return out.sort()
}

function loadSolc(): Solc {
  return require('solc') as Solc
}

/** Hash of everything the artifacts depend on. */
export function inputHash(): string {
  const hash = createHash('sha256')
  hash.update(loadSolc().version())
  hash.update(JSON.stringify(settings))
  hash.update(JSON.stringify(hotSettings))
  hash.update([...HOT_CONTRACTS].join())
  for (const file of listSources(srcDir)) {
    hash.update(relative(root, file))
    hash.update(readFileSync(file))
  }
  return `0x${hash.digest('hex')}`
}

function findImport(path: string): { contents: string } | { error: string } {
  const candidates = [join(root, 'node_modules', path), join(root, path), join(srcDir, path)]
  for (const candidate of candidates) {
    if (existsSync(candidate)) return { contents: readFileSync(candidate, 'utf8') }
  }
  return { error: `import not found: ${path}` }
}

type SolcContracts = Record<
  string,
  Record<string, { abi: unknown[]; evm: { bytecode: { object: string; linkReferences: object } } }>
>

function compileWith(sources: Record<string, { content: string }>, with_: object): SolcContracts {
  const input = { language: 'Solidity', sources, settings: with_ }
  const output = JSON.parse(loadSolc().compile(JSON.stringify(input), { import: findImport })) as {
    errors?: { severity: string; formattedMessage: string }[]
    contracts: SolcContracts
  }
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error')
  if (errors.length) throw new Error(errors.map((e) => e.formattedMessage).join('\n'))
  return output.contracts
}

/** Compiles every source and returns one artifact per contract defined under contracts/src. */
export function compile(): Artifact[] {
  const sources: Record<string, { content: string }> = {}
  for (const file of listSources(srcDir)) {
    sources[relative(root, file)] = { content: readFileSync(file, 'utf8') }
  }
  const contracts = compileWith(sources, settings)
  const hot = HOT_CONTRACTS.size ? compileWith(sources, hotSettings) : {}
  for (const [sourceName, list] of Object.entries(hot)) {
    for (const [name, c] of Object.entries(list)) {
      if (HOT_CONTRACTS.has(name) && contracts[sourceName]) contracts[sourceName][name] = c
    }
  }
  const hash = inputHash()
  const artifacts: Artifact[] = []
  for (const [sourceName, list] of Object.entries(contracts)) {
    if (!sourceName.startsWith('contracts/src/')) continue
    for (const [contractName, c] of Object.entries(list)) {
      artifacts.push({
        contractName,
        sourceName,
        inputHash: hash,
        abi: c.abi,
        bytecode: `0x${c.evm.bytecode.object}`,
        linkReferences: c.evm.bytecode.linkReferences as Artifact['linkReferences'],
      })
    }
  }
  return artifacts.sort((a, b) => a.contractName.localeCompare(b.contractName))
}

export function readArtifacts(): Artifact[] {
  if (!existsSync(outDir)) return []
  return readdirSync(outDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(outDir, f), 'utf8')) as Artifact)
}

function lowerFirst(name: string): string {
  return name[0]!.toLowerCase() + name.slice(1)
}

/** The text of src/chain/abis.ts for these artifacts (before formatting). */
export function renderAbis(artifacts: Artifact[]): string {
  const lines = [
    '// Generated by scripts/compile-contracts.ts from contracts/out. Do not edit.',
    '',
  ]
  for (const a of artifacts) {
    if (a.abi.length === 0 && a.bytecode === '0x') continue
    const base = lowerFirst(a.contractName)
    lines.push(`export const ${base}Abi = ${JSON.stringify(a.abi)} as const`, '')
    lines.push(`export const ${base}Bytecode = '${a.bytecode}' as const`, '')
    if (Object.keys(a.linkReferences).length) {
      lines.push(
        `export const ${base}LinkReferences = ${JSON.stringify(a.linkReferences)} as const`,
      )
      lines.push('')
    }
  }
  return lines.join('\n')
}

function format(file: string): void {
  execFileSync(join(root, 'node_modules', '.bin', 'biome'), ['format', '--write', file], {
    cwd: root,
    stdio: 'ignore',
  })
}

/** True when the artifacts on disk were built from the current sources. */
export function isFresh(): boolean {
  const artifacts = readArtifacts()
  const hash = inputHash()
  return artifacts.length > 0 && artifacts.every((a) => a.inputHash === hash)
}

export function build(options: { force?: boolean } = {}): { compiled: boolean } {
  if (!options.force && isFresh() && existsSync(abisFile)) return { compiled: false }
  const artifacts = compile()
  rmSync(outDir, { recursive: true, force: true })
  mkdirSync(outDir, { recursive: true })
  for (const a of artifacts) {
    writeFileSync(join(outDir, `${a.contractName}.json`), `${JSON.stringify(a, null, 2)}\n`)
  }
  writeFileSync(abisFile, renderAbis(artifacts))
  format(abisFile)
  return { compiled: true }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2)
  if (args.includes('--check')) {
    const fresh = isFresh()
    console.log(fresh ? 'contracts/out is up to date' : 'contracts/out is stale')
    process.exit(fresh ? 0 : 1)
  }
  const started = Date.now()
  const { compiled } = build({ force: args.includes('--force') })
  console.log(
    compiled
      ? `compiled ${readArtifacts().length} contracts in ${((Date.now() - started) / 1000).toFixed(1)} s`
      : 'contracts/out is up to date',
  )
}
