#!/usr/bin/env node
// An example bid-price script for `scriptPricing` (Akash's shellScript strategy): reads the order
// as JSON on stdin, prints one decimal VTY price per block on stdout, or nothing (no bid).
// Prices per block: 0.000001 VTY per millicpu, 0.0001 VTY per GiB of memory, 0.01 VTY per GPU.
// Tenants listed (comma-separated) in VERITY_DENY_TENANTS get no bid.

const WEI = 10n ** 18n
const GiB = 1024n ** 3n
const perCpuMilli = 10n ** 12n
const perMemoryGiB = 10n ** 14n
const perGpu = 10n ** 16n

let text = ''
for await (const chunk of process.stdin) text += chunk
const order = JSON.parse(text)

const denied = (process.env.VERITY_DENY_TENANTS ?? '').toLowerCase().split(',')
if (denied.includes(process.env.VERITY_TENANT?.toLowerCase())) process.exit(0)

const r = order.resources
const price =
  BigInt(r.cpuMilli) * perCpuMilli +
  (BigInt(r.memoryBytes) * perMemoryGiB + GiB - 1n) / GiB +
  BigInt(r.gpuUnits) * perGpu

const fraction = (price % WEI).toString().padStart(18, '0').replace(/0+$/, '')
process.stdout.write(`${price / WEI}${fraction ? `.${fraction}` : ''}\n`)
