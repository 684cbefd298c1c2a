// Model file download over libp2p on loopback (issue 17: "download time per MB"): a ~50 MB file
// of random bytes served by a ModelFileServer and fetched, every 1 MiB chunk verified against its
// file root, by a second peer in the same process (so the one process pays for both ends' noise
// encryption and the hashing). Prints one JSON line: the server's hashing time, then per
// concurrency the download's MB/s and ms/MB (the best of `--runs`), and the process's CPU time
// per MB (user + system, both ends: the figure a loaded machine does not distort).
// Usage: npm run bench:model-download [-- --mb 50] [-- --runs 2]

import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fetchModelFile } from '../src/node/model-files/fetch.ts'
import { serveModelFiles } from '../src/node/model-files/server.ts'
import { createPeer } from '../src/node/peer.ts'

const argv = process.argv.slice(2)
const flag = (name: string, dflt: number) => {
  const i = argv.indexOf(`--${name}`)
  return i === -1 ? dflt : Number(argv[i + 1])
}
const MB = flag('mb', 50)
const RUNS = flag('runs', 2)
const size = MB * 1_000_000

const dir = mkdtempSync(join(tmpdir(), 'verity-download-bench-'))
const path = join(dir, 'model.bin')
const bytes = new Uint8Array(randomBytes(size))
writeFileSync(path, bytes)

const server = await createPeer()
const client = await createPeer()
try {
  let t = performance.now()
  const files = await serveModelFiles(server, [path])
  const hashMs = performance.now() - t
  const served = files.served[0]!
  await client.peerStore.merge(server.peerId, { multiaddrs: server.getMultiaddrs() })
  const commit = { fileHash: served.root, size: BigInt(served.size) }
  const results: Record<string, { mbPerS: number; msPerMB: number; cpuMsPerMB: number }> = {}
  for (const concurrency of [1, 4, 8]) {
    let best = Number.POSITIVE_INFINITY
    let cpu = Number.POSITIVE_INFINITY
    for (let run = 0; run < RUNS; run++) {
      t = performance.now()
      const before = process.cpuUsage()
      const got = await fetchModelFile(client, server.peerId, commit, { concurrency })
      const ms = performance.now() - t
      const used = process.cpuUsage(before)
      cpu = Math.min(cpu, (used.user + used.system) / 1000)
      if (got.length !== size || Buffer.compare(got, bytes) !== 0)
        throw new Error('downloaded bytes differ from the file')
      best = Math.min(best, ms)
    }
    results[`concurrency${concurrency}`] = {
      mbPerS: Math.round((MB / (best / 1000)) * 10) / 10,
      msPerMB: Math.round((best / MB) * 100) / 100,
      cpuMsPerMB: Math.round((cpu / MB) * 100) / 100,
    }
  }
  await files.stop()
  console.log(
    JSON.stringify({
      bench: 'model-download',
      mb: MB,
      chunks: Math.ceil(size / (1 << 20)),
      serverHashMs: Math.round(hashMs),
      ...results,
      node: process.version,
    }),
  )
} finally {
  await client.stop()
  await server.stop()
  rmSync(dir, { recursive: true, force: true })
}
