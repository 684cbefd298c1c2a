import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { expect } from 'vitest'

const bin = join(import.meta.dirname, '../bin/verity.js')

/** What a `verity` run left: its exit code and both streams. */
export type VerityRun = { code: number | null; stdout: string; stderr: string }

/**
 * Runs `verity` as a child process, as a user would (async: the test process keeps serving
 * whatever it runs meanwhile). The passphrase variable is '' unless `env` sets it.
 */
export function runVerity(args: string[], env: NodeJS.ProcessEnv = {}): Promise<VerityRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, VERITY_PASSPHRASE: '', ...env },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** A user-facing failure: the exit code, exactly one `error:` line, no stack trace. */
export function expectCleanError(r: VerityRun, code: number, message: RegExp): void {
  expect(r.code, r.stderr).toBe(code)
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('error: '))
  expect(lines, r.stderr).toHaveLength(1)
  expect(lines[0]).toMatch(message)
  expect(r.stderr).not.toMatch(/at .*\.ts:/)
  expect(r.stderr).not.toMatch(/\n\s+at /)
  expect(r.stderr).not.toMatch(/error: internal/)
}
