import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { MarketError } from '../errors/market.ts'
import type { Address, Hex } from '../types/inference.ts'

/** The `verity` command a provider starts its workloads with. */
export const VERITY_BIN = join(import.meta.dirname, '../../bin/verity.js')

export type WorkloadOptions = {
  leaseId: bigint
  modelPath: string
  modelRoot: Hex
  apiKeyHash: Hex
  /** The provider's key: signs the lease's receipts (handed over in the environment). */
  signingKey: Hex
  rpcUrl: string
  chainId: number
  verifyingContract: Address
  /** The lease's CPU share: the runtime's thread count is ceil(cpuMilli / 1000). */
  cpuMilli: number
  /** The most resident memory the workload may hold; above it the provider kills it. */
  memoryBytes: bigint
  maxTokens?: number
  /** How often the memory limit is checked (default 1000 ms). */
  watchMs?: number
  /** How long the workload may take to load and listen (default 120 s). */
  readyTimeoutMs?: number
  signal?: AbortSignal
}

/** Why a workload ended. */
export type WorkloadExit = { code: number | null; signal: string | null; reason: string }

/** A running workload: one child process serving one lease. */
export type Workload = {
  readonly pid: number
  readonly port: number
  /** Resolves when the process has exited, with why. */
  readonly exited: Promise<WorkloadExit>
  /** SIGTERM, then SIGKILL after `graceMs` (default 5000); resolves once the process is gone. */
  stop(reason: string, graceMs?: number): Promise<WorkloadExit>
}

/** Resident memory of a process in bytes (Linux /proc), or undefined once it is gone. */
export function residentBytes(pid: number): bigint | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)
    return m ? BigInt(m[1]!) * 1024n : 0n
  } catch {
    return undefined
  }
}

/** Whether a process with this pid exists (signal 0 tests without sending). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Starts a lease's workload: `verity lease-serve` as a real child process with the spec's limits
 * (threads from its CPU units, resident memory watched and enforced), its standard input held by
 * this process so that it exits whenever the provider does, however the provider ends.
 *
 * @example
 * const w = await startWorkload({ leaseId, modelPath, modelRoot, apiKeyHash, signingKey, … })
 * await w.stop('lease closed')
 */
export async function startWorkload(options: WorkloadOptions): Promise<Workload> {
  options.signal?.throwIfAborted()
  const threads = Math.max(1, Math.ceil(options.cpuMilli / 1000))
  const args = [
    VERITY_BIN,
    'lease-serve',
    '--model',
    options.modelPath,
    '--model-root',
    options.modelRoot,
    '--api-key-hash',
    options.apiKeyHash,
    '--rpc',
    options.rpcUrl,
    '--chain-id',
    String(options.chainId),
    '--verifying-contract',
    options.verifyingContract,
    '--threads',
    String(threads),
    ...(options.maxTokens === undefined ? [] : ['--max-tokens', String(options.maxTokens)]),
  ]
  const child: ChildProcess = spawn(process.execPath, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, VERITY_LEASE_KEY: options.signingKey },
  })
  const pid = child.pid
  if (pid === undefined)
    throw new MarketError(`lease ${options.leaseId}: the workload did not start`)
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000)
  })
  let why = 'exited'
  const exited = new Promise<WorkloadExit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal, reason: why }))
  })
  const kill = (reason: string) => {
    why = reason
    child.kill('SIGKILL')
  }
  let port: number
  try {
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new MarketError(`lease ${options.leaseId}: the workload was not ready in time`)),
        options.readyTimeoutMs ?? 120_000,
      )
      const onAbort = () => reject(options.signal?.reason)
      options.signal?.addEventListener('abort', onAbort, { once: true })
      const lines = createInterface({ input: child.stdout! })
      lines.on('line', (line) => {
        try {
          const msg = JSON.parse(line) as { ready?: boolean; port?: number }
          if (msg.ready && typeof msg.port === 'number') {
            clearTimeout(timer)
            options.signal?.removeEventListener('abort', onAbort)
            resolve(msg.port)
          }
        } catch {
          // not a status line
        }
      })
      void exited.then(() => {
        clearTimeout(timer)
        const detail = stderr.trim().split('\n').pop() ?? ''
        reject(
          new MarketError(`lease ${options.leaseId}: the workload exited before it was ready`, {
            details: detail,
          }),
        )
      })
    })
  } catch (error) {
    kill('failed to start')
    await exited
    throw error
  }
  // the memory limit the spec asked for, enforced from outside (V8's own heap flags do not
  // cover the runtime's WebAssembly memory and typed arrays)
  const watch = setInterval(() => {
    const rss = residentBytes(pid)
    if (rss !== undefined && rss > options.memoryBytes)
      kill(`memory limit: ${rss} bytes resident, ${options.memoryBytes} allowed`)
  }, options.watchMs ?? 1000)
  void exited.then(() => clearInterval(watch))
  return {
    pid,
    port,
    exited,
    async stop(reason, graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return await exited
      why = reason
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      const result = await exited
      clearTimeout(timer)
      return result
    },
  }
}
