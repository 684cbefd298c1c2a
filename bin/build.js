// Bundles TypeScript entry points into dist/ with esbuild, only when a source is newer than the
// last build. The CLI and the benchmarks run the bundle: code loaded through tsx's loader hooks
// ran about 40% slower in the runtime's hot loops than the same code bundled.
import { createHash } from 'node:crypto'
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')

/** Newest modification time among the files that can change a bundle. */
function sourcesMtime() {
  let newest = statSync(join(root, 'package.json')).mtimeMs
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules') walk(path)
      } else if (entry.name.endsWith('.ts')) {
        newest = Math.max(newest, statSync(path).mtimeMs)
      }
    }
  }
  for (const dir of ['src', 'bench', 'scripts', 'crosscheck']) {
    try {
      walk(join(root, dir))
    } catch {}
  }
  return newest
}

/**
 * A bundle lives in dist/<name>/, so import.meta.dirname and import.meta.url would point there;
 * this replaces them, in our own sources, with the source file's own location.
 */
const sourceLocationPlugin = {
  name: 'source-location',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      if (args.path.includes('node_modules')) return undefined
      const source = readFileSync(args.path, 'utf8')
      if (!source.includes('import.meta.')) return { contents: source, loader: 'ts' }
      const contents = source
        .replaceAll('import.meta.dirname', JSON.stringify(dirname(args.path)))
        .replaceAll('import.meta.filename', JSON.stringify(args.path))
        .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href))
      return { contents, loader: 'ts' }
    })
  },
}

/**
 * Returns the path of the bundle for `entry` (a .ts file), building it when missing or stale.
 * Lazily imported modules become chunks beside it.
 */
export async function ensureBundle(entry, name) {
  const absEntry = resolve(entry)
  const key = createHash('sha256')
    // The entry's own time too: a script outside the scanned folders changes on its own.
    .update(`${sourcesMtime()} ${statSync(absEntry).mtimeMs} ${absEntry}`)
    .digest('hex')
    .slice(0, 16)
  const base = join(root, 'dist', name)
  const outdir = join(base, key)
  const main = join(outdir, 'main.js')
  if (existsSync(main)) return main
  // Build into a private folder, then rename it into place: processes starting at the same
  // time never see a half-written bundle.
  const esbuild = await import('esbuild')
  const tmp = join(base, `.tmp-${process.pid}-${Date.now()}`)
  mkdirSync(tmp, { recursive: true })
  await esbuild.build({
    entryPoints: [{ in: absEntry, out: 'main' }],
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    outdir: tmp,
    sourcemap: 'linked',
    logLevel: 'error',
    absWorkingDir: root,
    plugins: [sourceLocationPlugin],
  })
  try {
    renameSync(tmp, outdir)
  } catch {
    rmSync(tmp, { recursive: true, force: true }) // another process won the race
  }
  // Older builds of this entry are no longer needed.
  for (const old of readdirSync(base)) {
    if (old !== key && !old.startsWith('.tmp-'))
      rmSync(join(base, old), { recursive: true, force: true })
  }
  return main
}

export function relativeToRoot(path) {
  return relative(root, path)
}
