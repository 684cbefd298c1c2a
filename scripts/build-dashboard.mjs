#!/usr/bin/env node
// Builds the web dashboard (dashboard/, Vite + Preact) into dashboard/dist, which gateways serve
// at /dashboard. Runs at `npm install` (postinstall; about 4 s). Without vite (an install that
// omits devDependencies) it says so and exits 0: the gateway then answers /dashboard with 503.
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
let vite
try {
  vite = await import('vite')
} catch {
  console.warn('build-dashboard: vite is not installed; the dashboard is not built')
  process.exit(0)
}
const started = Date.now()
await vite.build({ configFile: join(root, 'dashboard', 'vite.config.ts') })
console.log(`build-dashboard: dashboard/dist built in ${Date.now() - started} ms`)
