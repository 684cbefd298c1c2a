import { spawn } from 'node:child_process'
import { join } from 'node:path'

const bin = join(import.meta.dirname, '..', 'bin/verity.js')

/**
 * Runs `verity devnet <args>` (with `--epochs E --json` among them) as its own process and parses
 * the one JSON line it prints last; rejects with its output when it fails or prints anything else.
 */
export function runDevnetJson<Report>(args: string[]): Promise<Report> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'devnet', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout!.on('data', (d: Buffer) => {
      out += d
    })
    child.stderr!.on('data', (d: Buffer) => {
      err += d
    })
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`devnet exited ${code}:\n${err}\n${out}`))
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!) as Report)
      } catch (error) {
        reject(new Error(`not one JSON line: ${out}\n${err}`, { cause: error }))
      }
    })
  })
}
