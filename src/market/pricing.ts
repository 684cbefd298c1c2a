import { type ChildProcess, spawn } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { resolve } from 'node:path'
import { type Address, formatUnits, type Hex } from 'viem'
import type { Resources } from '../chain/market.ts'
import { PricingError } from '../errors/market.ts'
import { parseVty } from './units.ts'

/**
 * How a provider prices an order, as Akash's provider does (`--bid-price-strategy`): `scale`
 * (a price per unit of each resource) or `shellScript` (an executable the operator writes).
 * A strategy answers a price per block in wei, or null: do not bid.
 */

export type PricingInput = {
  orderId: bigint
  tenant: Address
  resources: Resources
  /** The order's ceiling: a price above it is no bid (the contract would refuse it). */
  maxPricePerBlock: bigint
  model: { root: Hex; name?: string }
}

/** A price in wei per block, or null and why there is no bid. */
export type Quote = { price: bigint; reason?: undefined } | { price: null; reason: string }

export interface PricingStrategy {
  price(input: PricingInput, signal?: AbortSignal): Promise<bigint | null>
}

/** A strategy that also says why it does not bid (for the provider's log). */
export interface QuotingStrategy extends PricingStrategy {
  quote(input: PricingInput, signal?: AbortSignal): Promise<Quote>
}

/** Wei per block per unit of each resource; `base` is added once per order. */
export type ScalePricingOptions = {
  perCpuMilli: bigint
  perMemoryMiB: bigint
  perStorageMiB: bigint
  perGpu: bigint
  base?: bigint
}

const MiB = 1024n * 1024n
const MAX_OUTPUT = 1024

/**
 * Akash's `scale` strategy, with a GPU term (Akash has none, yet GPUs dominate inference cost).
 * Memory and storage are priced per MiB, rounded up to the next wei.
 */
export function scalePricing(options: ScalePricingOptions): QuotingStrategy {
  const { perCpuMilli, perMemoryMiB, perStorageMiB, perGpu, base = 0n } = options
  for (const [name, value] of Object.entries({ ...options, base }))
    if (typeof value !== 'bigint' || value < 0n)
      throw new PricingError(`scale pricing: ${name} must be a wei amount >= 0`)
  const quote = async (input: PricingInput, signal?: AbortSignal): Promise<Quote> => {
    if (signal?.aborted) return noBid('aborted')
    const r = input.resources
    const bytes = r.memoryBytes * perMemoryMiB + r.storageBytes * perStorageMiB
    const price =
      base + BigInt(r.cpuMilli) * perCpuMilli + BigInt(r.gpuUnits) * perGpu + ceilDiv(bytes, MiB)
    return checked(price, input.maxPricePerBlock)
  }
  return { quote, price: async (input, signal) => (await quote(input, signal)).price }
}

export type ScriptPricingOptions = {
  /** The executable (run directly, no shell); relative paths resolve against the cwd. */
  path: string
  /** Killed (with its process group) after this long: no bid. */
  timeoutMs?: number
  /** At most this many scripts run at once; later orders wait their turn. */
  maxConcurrent?: number
}

/**
 * Akash's `shellScript` strategy: the order as JSON on stdin (bigints as decimal strings), the
 * tenant in VERITY_TENANT, one decimal VTY price per block on stdout. Anything else (empty, 0,
 * negative, not a number, over 1 KiB, a non-zero exit, a timeout) is no bid, with the reason.
 */
export function scriptPricing(options: ScriptPricingOptions): QuotingStrategy {
  const path = resolve(options.path)
  const timeoutMs = options.timeoutMs ?? 10_000
  const maxConcurrent = options.maxConcurrent ?? 2
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1)
    throw new PricingError(`script pricing: timeoutMs must be a whole number of ms > 0`)
  if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1)
    throw new PricingError(`script pricing: maxConcurrent must be a whole number > 0`)
  try {
    accessSync(path, constants.X_OK)
  } catch (error) {
    throw new PricingError(`script pricing: ${path} is not an executable file`, { cause: error })
  }
  const slots = semaphore(maxConcurrent)
  const quote = async (input: PricingInput, signal?: AbortSignal): Promise<Quote> => {
    if (!(await slots.acquire(signal))) return noBid('aborted')
    try {
      const result = await run(path, input, timeoutMs, signal)
      if (result.reason !== undefined) return noBid(result.reason)
      return parsePrice(result.stdout, input.maxPricePerBlock)
    } finally {
      slots.release()
    }
  }
  return { quote, price: async (input, signal) => (await quote(input, signal)).price }
}

/**
 * A `--bid-price` flag such as `cpu=0.000001,memory=0.0000001,storage=0,gpu=0.01` (VTY per block
 * per millicpu, MiB of memory, MiB of storage, GPU; optional `base` per order) as scale options.
 */
export function parsePricingFlags(text: string): ScalePricingOptions {
  const fail = (message: string) =>
    new PricingError(`pricing ${JSON.stringify(text)}: ${message}`, {
      metaMessages: [
        'Expected cpu=<VTY per millicpu>,memory=<VTY per MiB>,storage=<VTY per MiB>,gpu=<VTY per GPU>[,base=<VTY>], each per block',
      ],
    })
  const keys = {
    cpu: 'perCpuMilli',
    memory: 'perMemoryMiB',
    storage: 'perStorageMiB',
    gpu: 'perGpu',
    base: 'base',
  } as const
  const out: ScalePricingOptions = {
    perCpuMilli: 0n,
    perMemoryMiB: 0n,
    perStorageMiB: 0n,
    perGpu: 0n,
  }
  const seen = new Set<string>()
  for (const part of text.split(',')) {
    const [key, value, ...rest] = part.trim().split('=')
    if (!key || value === undefined || rest.length > 0)
      throw fail(`expected key=value, got "${part}"`)
    if (!Object.hasOwn(keys, key))
      throw fail(`unknown key "${key}" (expected cpu, memory, storage, gpu or base)`)
    if (seen.has(key)) throw fail(`${key} given twice`)
    seen.add(key)
    const wei = parseVty(value.trim())
    if (typeof wei === 'string')
      throw fail(`${key}: expected a VTY amount >= 0 like 0.000001, got "${value}" (${wei})`)
    out[keys[key as keyof typeof keys]] = wei
  }
  if (Object.values(out).every((v) => v === 0n)) throw fail('every price is 0: it would never bid')
  return out
}

// ---------------------------------------------------------------- internals

function noBid(reason: string): Quote {
  return { price: null, reason }
}

function checked(price: bigint, max: bigint): Quote {
  if (price <= 0n) return noBid(`price ${formatUnits(price, 18)} VTY: no bid`)
  if (price > max)
    return noBid(
      `price ${formatUnits(price, 18)} VTY is above the order's maximum ${formatUnits(max, 18)} VTY`,
    )
  return { price }
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b
}

/** The script's stdout as a price: one decimal VTY amount, > 0 and within the order's ceiling. */
function parsePrice(stdout: string, max: bigint): Quote {
  const text = stdout.trim()
  if (text === '') return noBid('the script printed nothing')
  const shown = JSON.stringify(text.length > 40 ? `${text.slice(0, 37)}...` : text)
  if (/^-[0-9]+(\.[0-9]+)?$/.test(text)) return noBid(`negative price ${shown}: no bid`)
  const wei = parseVty(text)
  if (typeof wei === 'string') return noBid(`not a decimal VTY price: ${shown} (${wei})`)
  return checked(wei, max)
}

type RunResult = { stdout: string; reason?: undefined } | { stdout?: undefined; reason: string }

/** Runs the script once; resolves after it (and its process group) is gone. */
function run(
  path: string,
  input: PricingInput,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<RunResult> {
  const payload = JSON.stringify({
    orderId: input.orderId.toString(),
    tenant: input.tenant,
    model: input.model,
    resources: {
      cpuMilli: input.resources.cpuMilli,
      memoryBytes: input.resources.memoryBytes.toString(),
      storageBytes: input.resources.storageBytes.toString(),
      gpuUnits: input.resources.gpuUnits,
    },
    price: { denom: 'vty', max: formatUnits(input.maxPricePerBlock, 18) },
  })
  return new Promise((done) => {
    let child: ChildProcess
    try {
      // detached: its own process group, so a timeout kills whatever the script started too
      child = spawn(path, [], {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, VERITY_TENANT: input.tenant },
        detached: true,
        shell: false,
      })
    } catch (error) {
      done({ reason: `could not start the script: ${(error as Error).message}` })
      return
    }
    const stdout: Buffer[] = []
    let stdoutBytes = 0
    let stderr = ''
    let verdict: string | undefined
    let finished = false
    const killGroup = () => {
      if (child.pid === undefined) return
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {
        child.kill('SIGKILL')
      }
    }
    const stop = (reason: string) => {
      verdict ??= reason
      killGroup()
    }
    const finish = (result: RunResult) => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      done(result)
    }
    const timer = setTimeout(() => stop(`timed out after ${timeoutMs} ms`), timeoutMs)
    const onAbort = () => stop('aborted')
    if (signal?.aborted) stop('aborted')
    else signal?.addEventListener('abort', onAbort, { once: true })

    child.stdout!.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length
      if (stdoutBytes > MAX_OUTPUT) stop(`output over ${MAX_OUTPUT} bytes`)
      else stdout.push(chunk)
    })
    child.stderr!.on('data', (chunk: Buffer) => {
      if (stderr.length < 512) stderr += chunk.toString('utf8')
    })
    // a script may exit without reading its input
    child.stdin!.on('error', () => {})
    child.stdin!.end(payload)

    child.on('error', (error: NodeJS.ErrnoException) =>
      finish({ reason: verdict ?? `could not run the script: ${error.code ?? error.message}` }),
    )
    // whatever the script left running in its group goes with it
    child.on('exit', killGroup)
    child.on('close', (code, killedBy) => {
      if (verdict !== undefined) return finish({ reason: verdict })
      if (code !== 0) {
        const why = stderr.trim().split('\n')[0]?.slice(0, 200)
        return finish({
          reason: `the script ${code === null ? `was killed by ${killedBy}` : `exited with code ${code}`}${why ? `: ${why}` : ''}`,
        })
      }
      finish({ stdout: Buffer.concat(stdout).toString('utf8') })
    })
  })
}

/** At most `limit` holders at once; a waiter whose signal aborts leaves the queue. */
function semaphore(limit: number) {
  let active = 0
  const waiting: (() => void)[] = []
  return {
    acquire(signal?: AbortSignal): Promise<boolean> {
      if (signal?.aborted) return Promise.resolve(false)
      if (active < limit) {
        active++
        return Promise.resolve(true)
      }
      return new Promise((granted) => {
        const grant = () => {
          signal?.removeEventListener('abort', onAbort)
          granted(true)
        }
        const onAbort = () => {
          const i = waiting.indexOf(grant)
          if (i >= 0) waiting.splice(i, 1)
          granted(false)
        }
        waiting.push(grant)
        signal?.addEventListener('abort', onAbort, { once: true })
      })
    },
    release() {
      const next = waiting.shift()
      // the slot passes straight to the next waiter
      if (next) next()
      else active--
    },
  }
}
