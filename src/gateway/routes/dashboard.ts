import { readdirSync, readFileSync, statSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import { type Context, Hono } from 'hono'
import { type Deployment, formatDeployment } from '../../chain/deployment-manifest.ts'
import { notFound } from '../errors.ts'
import type { GatewayState } from '../state.ts'

/** What a gateway needs to serve the dashboard: the chain it reads and the models' files. */
export type DashboardOptions = {
  /** The JSON-RPC URL the browser reads the chain from (it must reach it itself). */
  rpcUrl: string
  deployment: Deployment
  /** GGUF files by modelRoot (0x + 64 lowercase hex): the browser loads them to verify answers. */
  modelFiles?: ReadonlyMap<string, string>
  /**
   * Answers kept for the receipts page's picker at GET /v1/verity/recent (default 50; 0: none).
   * Never kept when the gateway has API keys or accounts: answers carry their users' prompts.
   */
  recentAnswers?: number
  /** The built app (default: dashboard/dist of this checkout, from `npm run build:dashboard`). */
  distDir?: string
}

export const DEFAULT_DIST_DIR = join(import.meta.dirname, '..', '..', '..', 'dashboard', 'dist')

const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  json: 'application/json',
  svg: 'image/svg+xml',
  png: 'image/png',
  ico: 'image/x-icon',
  wasm: 'application/wasm',
  woff2: 'font/woff2',
  txt: 'text/plain; charset=utf-8',
}

/** The content type of a file name, by its extension. */
export function contentTypeOf(name: string): string {
  const dot = name.lastIndexOf('.')
  return (
    (dot >= 0 && CONTENT_TYPES[name.slice(dot + 1).toLowerCase()]) || 'application/octet-stream'
  )
}

type StaticFile = { bytes: Uint8Array; type: string }

/**
 * Every file under `dir`, keyed by its '/'-separated relative path. Requests are looked up in
 * this table, never joined onto the directory, so no spelling of `..` can leave it.
 */
function listFiles(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>()
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (entry.isFile())
        files.set(relative(dir, path).split(sep).join('/'), {
          bytes: readFileSync(path),
          type: contentTypeOf(entry.name),
        })
    }
  }
  walk(dir)
  return files
}

const MODEL_FILE = /^(0x[0-9a-f]{64})\.gguf$/

/**
 * GET /dashboard/…: the built app (static files from a table of the build's files, correct
 * content types, `nosniff`), `config.json` (RPC URL, deployment manifest, served models) and
 * `models/<modelRoot>.gguf`. Mounted by createGateway under its Host and CORS checks.
 */
export function dashboardRoutes(state: GatewayState, options: DashboardOptions): Hono {
  const distDir = options.distDir ?? DEFAULT_DIST_DIR
  let files: Map<string, StaticFile> | undefined
  // Read once the build exists: a gateway started before `npm run build:dashboard` picks it up.
  const built = () => {
    if (!files) {
      try {
        if (statSync(join(distDir, 'index.html')).isFile()) files = listFiles(distDir)
      } catch {
        files = undefined
      }
    }
    return files
  }
  const deployment: unknown = JSON.parse(formatDeployment(options.deployment))
  const serve = (c: Context, name: string) => {
    const table = built()
    if (!table)
      return c.text('The dashboard is not built: run `npm run build:dashboard`.', 503, {
        'cache-control': 'no-store',
      })
    const file = table.get(name)
    if (!file) return notFound(c)
    return c.body(file.bytes as Uint8Array<ArrayBuffer>, 200, {
      'content-type': file.type,
      'x-content-type-options': 'nosniff',
      // Vite names assets by content hash; the page itself must be fetched fresh.
      'cache-control': name.startsWith('assets/')
        ? 'public, max-age=31536000, immutable'
        : 'no-cache',
    })
  }

  const app = new Hono()
  app.get('/', (c) => c.redirect('/dashboard/', 301))
  app.get('/config.json', (c) => {
    const models = [...state.pools.values()].map((p) => ({
      id: p.model.id,
      modelRoot: p.model.modelRoot.toLowerCase(),
    }))
    return c.json({ rpcUrl: options.rpcUrl, deployment, models }, 200, {
      'cache-control': 'no-store',
    })
  })
  app.get('/models/:file', async (c) => {
    const root = MODEL_FILE.exec(c.req.param('file'))?.[1]
    const path = root === undefined ? undefined : options.modelFiles?.get(root)
    if (path === undefined) return notFound(c)
    return c.body(await readFile(path), 200, {
      'content-type': 'application/octet-stream',
      'x-content-type-options': 'nosniff',
      'cache-control': 'public, max-age=3600',
    })
  })
  app.get('/*', (c) => {
    // The raw path, each segment decoded once; a segment that decodes to a separator or a dot
    // name is refused outright (the table lookup would miss it anyway).
    const raw = new URL(c.req.url).pathname.slice('/dashboard/'.length)
    let segments: string[]
    try {
      segments = raw.split('/').map((s) => decodeURIComponent(s))
    } catch {
      return notFound(c)
    }
    if (segments.some((s) => /[/\\\0]/.test(s) || s === '.' || s === '..')) return notFound(c)
    const name = segments.join('/')
    return serve(c, name === '' ? 'index.html' : name)
  })
  return app
}
