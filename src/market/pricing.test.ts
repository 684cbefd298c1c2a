import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Address } from 'viem'
import { afterAll, describe, expect, it } from 'vitest'
import { PricingError } from '../errors/market.ts'
import { type PricingInput, parsePricingFlags, scalePricing, scriptPricing } from './pricing.ts'

const dir = mkdtempSync(join(tmpdir(), 'verity-pricing-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const TENANT = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8' as Address
const VTY = 10n ** 18n
const MiB = 1024n * 1024n

const input: PricingInput = {
  orderId: 7n,
  tenant: TENANT,
  resources: { cpuMilli: 2000, gpuUnits: 1, memoryBytes: 512n * MiB, storageBytes: 1024n * MiB },
  maxPricePerBlock: VTY,
  model: { root: `0x${'ab'.repeat(32)}`, name: 'verity-tiny' },
}

let scripts = 0
/** A real executable node script in the temp dir (a #! line, mode 755). */
function script(body: string): string {
  const path = join(dir, `price-${++scripts}`)
  writeFileSync(path, `#!${process.execPath}\n${body}\n`)
  chmodSync(path, 0o755)
  return path
}

/** Whether `pid` runs: a zombie (killed, not yet reaped by whoever adopted it) does not. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  if (!existsSync('/proc/self/stat')) return true
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z'
  } catch {
    return false
  }
}

describe('scalePricing', () => {
  it('prices every resource, memory and storage per MiB rounded up', async () => {
    const scale = scalePricing({
      perCpuMilli: 10n,
      perMemoryMiB: 3n,
      perStorageMiB: 1n,
      perGpu: 1_000_000n,
      base: 5n,
    })
    expect(await scale.price(input)).toBe(5n + 20_000n + 1_536n + 1_024n + 1_000_000n)
    const odd = { ...input.resources, memoryBytes: 1n, storageBytes: 0n, gpuUnits: 0 }
    expect(await scale.price({ ...input, resources: odd })).toBe(5n + 20_000n + 1n)
  })

  it('does not bid at 0 or above the order maximum', async () => {
    const free = scalePricing({ perCpuMilli: 0n, perMemoryMiB: 0n, perStorageMiB: 0n, perGpu: 0n })
    expect(await free.quote(input)).toEqual({ price: null, reason: 'price 0 VTY: no bid' })
    const dear = scalePricing({ perCpuMilli: VTY, perMemoryMiB: 0n, perStorageMiB: 0n, perGpu: 0n })
    expect(await dear.quote(input)).toEqual({
      price: null,
      reason: "price 2000 VTY is above the order's maximum 1 VTY",
    })
    expect(await dear.price(input)).toBeNull()
  })

  it('refuses negative scales', () => {
    expect(() =>
      scalePricing({ perCpuMilli: -1n, perMemoryMiB: 0n, perStorageMiB: 0n, perGpu: 0n }),
    ).toThrow(new PricingError('scale pricing: perCpuMilli must be a wei amount >= 0'))
  })
})

describe('parsePricingFlags', () => {
  it('reads VTY per unit per block as wei', () => {
    expect(parsePricingFlags('cpu=0.000001,memory=0.0000001,storage=0,gpu=0.01')).toEqual({
      perCpuMilli: 10n ** 12n,
      perMemoryMiB: 10n ** 11n,
      perStorageMiB: 0n,
      perGpu: 10n ** 16n,
    })
    expect(parsePricingFlags(' gpu=1 , base=0.5').base).toBe(VTY / 2n)
  })

  it('says clearly what is wrong', () => {
    const flag = (text: string) => {
      try {
        parsePricingFlags(text)
      } catch (error) {
        expect(error).toBeInstanceOf(PricingError)
        return (error as PricingError).shortMessage
      }
      throw new Error('nothing thrown')
    }
    expect(flag('cpu=1,disk=2')).toBe(
      'pricing "cpu=1,disk=2": unknown key "disk" (expected cpu, memory, storage, gpu or base)',
    )
    expect(flag('cpu=-1')).toBe(
      'pricing "cpu=-1": cpu: expected a VTY amount >= 0 like 0.000001, got "-1" (not a decimal amount)',
    )
    expect(flag('cpu=1e-6')).toMatch(/not a decimal amount/)
    expect(flag('cpu=0.0000000000000000001')).toMatch(/more than 18 decimals/)
    expect(flag('cpu=1,cpu=2')).toBe('pricing "cpu=1,cpu=2": cpu given twice')
    expect(flag('cpu')).toBe('pricing "cpu": expected key=value, got "cpu"')
    expect(flag('cpu=0,gpu=0')).toBe('pricing "cpu=0,gpu=0": every price is 0: it would never bid')
    expect(flag('constructor=1')).toMatch(/unknown key "constructor"/)
  })
})

describe('scriptPricing', () => {
  it('passes the order on stdin and the tenant in the environment, and reads the price', async () => {
    const seen = join(dir, 'seen.json')
    const path = script(`
      let input = ''
      process.stdin.on('data', (c) => (input += c))
      process.stdin.on('end', () => {
        require('fs').writeFileSync(${JSON.stringify(seen)}, JSON.stringify({ input: JSON.parse(input), tenant: process.env.VERITY_TENANT }))
        process.stdout.write('0.25\\n')
      })`)
    const pricing = scriptPricing({ path })
    expect(await pricing.quote(input)).toEqual({ price: VTY / 4n })
    expect(JSON.parse(readFileSync(seen, 'utf8'))).toEqual({
      tenant: TENANT,
      input: {
        orderId: '7',
        tenant: TENANT,
        model: { root: `0x${'ab'.repeat(32)}`, name: 'verity-tiny' },
        resources: {
          cpuMilli: 2000,
          memoryBytes: String(512n * MiB),
          storageBytes: String(1024n * MiB),
          gpuUnits: 1,
        },
        price: { denom: 'vty', max: '1' },
      },
    })
  })

  it('runs the example script in examples/market', async () => {
    const path = join(import.meta.dirname, '../../examples/market/price.mjs')
    const pricing = scriptPricing({ path })
    // 2000m × 0.000001 + 0.5 GiB × 0.0001 + 1 GPU × 0.01
    expect(await pricing.quote(input)).toEqual({ price: 12_050_000_000_000_000n })
    process.env.VERITY_DENY_TENANTS = `0x0000000000000000000000000000000000000001,${TENANT}`
    try {
      expect(await pricing.quote(input)).toEqual({
        price: null,
        reason: 'the script printed nothing',
      })
    } finally {
      delete process.env.VERITY_DENY_TENANTS
    }
  })

  it('does not bid on empty, zero, negative, garbage, too long or failing output', async () => {
    const cases: [string, string][] = [
      ['', 'the script printed nothing'],
      ["process.stdout.write('0')", 'price 0 VTY: no bid'],
      ["process.stdout.write('0.000')", 'price 0 VTY: no bid'],
      ["process.stdout.write('-0.5')", 'negative price "-0.5": no bid'],
      ["process.stdout.write('cheap')", 'not a decimal VTY price: "cheap" (not a decimal amount)'],
      [
        "process.stdout.write('1\\n2\\n')",
        'not a decimal VTY price: "1\\n2" (not a decimal amount)',
      ],
      ["process.stdout.write('1e-3')", 'not a decimal VTY price: "1e-3" (not a decimal amount)'],
      [
        "process.stdout.write('0.0000000000000000001')",
        'not a decimal VTY price: "0.0000000000000000001" (more than 18 decimals)',
      ],
      ["process.stdout.write('2')", "price 2 VTY is above the order's maximum 1 VTY"],
      ["process.stdout.write('0.' + '1'.repeat(2000))", 'output over 1024 bytes'],
      [
        "process.stderr.write('no feed\\n'); process.stdout.write('0.5'); process.exit(3)",
        'the script exited with code 3: no feed',
      ],
      ["process.kill(process.pid, 'SIGTERM')", 'the script was killed by SIGTERM'],
    ]
    for (const [body, reason] of cases) {
      const pricing = scriptPricing({ path: script(body) })
      expect(await pricing.quote(input), body).toEqual({ price: null, reason })
      expect(await pricing.price(input)).toBeNull()
    }
  })

  it('kills a script that runs past the timeout', async () => {
    const pidFile = join(dir, 'slow.pid')
    const path = script(
      `require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setTimeout(() => process.stdout.write('1'), 60_000)`,
    )
    const started = Date.now()
    const quote = await scriptPricing({ path, timeoutMs: 1500 }).quote(input)
    expect(quote).toEqual({ price: null, reason: 'timed out after 1500 ms' })
    expect(Date.now() - started).toBeLessThan(10_000)
    const pid = Number(readFileSync(pidFile, 'utf8'))
    expect(pid).toBeGreaterThan(0)
    expect(alive(pid)).toBe(false)
  })

  it('kills what the script started, too', async () => {
    const pidFile = join(dir, 'grandchild.pid')
    const path = script(`
      const { spawn } = require('child_process')
      const c = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'inherit' })
      require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(c.pid))
      setTimeout(() => {}, 60000)`)
    expect(await scriptPricing({ path, timeoutMs: 1500 }).quote(input)).toEqual({
      price: null,
      reason: 'timed out after 1500 ms',
    })
    const pid = Number(readFileSync(pidFile, 'utf8'))
    // the kernel reaps it once init notices; give it a moment
    for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 20))
    expect(alive(pid)).toBe(false)
  })

  it('kills the script on abort, and never starts one for an aborted signal', async () => {
    const pidFile = join(dir, 'abort.pid')
    const path = script(
      `require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setTimeout(() => {}, 60_000)`,
    )
    const pricing = scriptPricing({ path })
    const controller = new AbortController()
    const pending = pricing.quote(input, controller.signal)
    for (let i = 0; i < 250; i++) {
      try {
        if (readFileSync(pidFile, 'utf8')) break
      } catch {}
      await new Promise((r) => setTimeout(r, 20))
    }
    controller.abort()
    expect(await pending).toEqual({ price: null, reason: 'aborted' })
    expect(alive(Number(readFileSync(pidFile, 'utf8')))).toBe(false)
    rmSync(pidFile)
    expect(await pricing.quote(input, AbortSignal.abort())).toEqual({
      price: null,
      reason: 'aborted',
    })
    expect(() => readFileSync(pidFile)).toThrow()
  })

  it('runs at most maxConcurrent scripts at once', async () => {
    const running = join(dir, 'running')
    const log = join(dir, 'concurrency.log')
    mkdirSync(running)
    const path = script(`
      const fs = require('fs'), path = require('path')
      const mine = path.join(${JSON.stringify(running)}, String(process.pid))
      fs.writeFileSync(mine, '')
      // watch how many run alongside this one for a while (a slow start still overlaps)
      let most = 0
      const look = () => (most = Math.max(most, fs.readdirSync(${JSON.stringify(running)}).length))
      const timer = setInterval(look, 10)
      setTimeout(() => {
        clearInterval(timer)
        look()
        fs.rmSync(mine)
        fs.appendFileSync(${JSON.stringify(log)}, most + '\\n')
        process.stdout.write('0.1')
      }, 700)`)
    const pricing = scriptPricing({ path, maxConcurrent: 2 })
    const prices = await Promise.all(Array.from({ length: 6 }, () => pricing.price(input)))
    expect(prices).toEqual(Array(6).fill(VTY / 10n))
    const counts = readFileSync(log, 'utf8').trim().split('\n').map(Number)
    expect(counts).toHaveLength(6)
    expect(Math.max(...counts)).toBe(2)
  })

  it('lets a waiting call leave the queue on abort', async () => {
    const path = script("setTimeout(() => process.stdout.write('0.1'), 500)")
    const pricing = scriptPricing({ path, maxConcurrent: 1 })
    const first = pricing.quote(input)
    const controller = new AbortController()
    const second = pricing.quote(input, controller.signal)
    controller.abort()
    expect(await second).toEqual({ price: null, reason: 'aborted' })
    expect(await first).toEqual({ price: VTY / 10n })
    // the slot was not lost
    expect(await pricing.quote(input)).toEqual({ price: VTY / 10n })
  })

  it('refuses a path that is not executable, and bad options', () => {
    const plain = join(dir, 'not-executable')
    writeFileSync(plain, '0.1')
    expect(() => scriptPricing({ path: plain })).toThrow(
      new PricingError(`script pricing: ${plain} is not an executable file`),
    )
    expect(() => scriptPricing({ path: join(dir, 'missing') })).toThrow(PricingError)
    const path = script("process.stdout.write('1')")
    expect(() => scriptPricing({ path, timeoutMs: 0 })).toThrow(/timeoutMs/)
    expect(() => scriptPricing({ path, maxConcurrent: 0 })).toThrow(/maxConcurrent/)
  })
})
