import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { crc32, deflateSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { ImageError } from '../errors/vision.ts'
import { classifyDigits } from './classify.ts'
import { readDigits, splitDigits } from './dataset.ts'
import { parseDigitsModel } from './model.ts'
import { decodePng } from './png.ts'
import { toDigitPixels } from './preprocess.ts'

/** A minimal PNG writer for the tests: one IDAT, the given filter on every row. */
function chunk(type: string, body: Uint8Array): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt32BE(body.length, 0)
  head.write(type, 4, 'latin1')
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0)
  return Buffer.concat([head, body, crc])
}
function png(
  width: number,
  height: number,
  color: number,
  rows: number[][],
  options: { depth?: number; filter?: number; extra?: Buffer[]; interlace?: number } = {},
): Buffer {
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr[8] = options.depth ?? 8
  ihdr[9] = color
  ihdr[12] = options.interlace ?? 0
  const filter = options.filter ?? 0
  const raw: number[] = []
  let prev: number[] = new Array((rows[0] as number[]).length).fill(0)
  const bpp = color === 6 ? 4 : color === 2 ? 3 : color === 4 ? 2 : 1
  for (const row of rows) {
    raw.push(filter)
    row.forEach((v, i) => {
      const a = i >= bpp ? (row[i - bpp] as number) : 0
      const b = prev[i] as number
      const c = i >= bpp ? (prev[i - bpp] as number) : 0
      const p = a + b - c
      const paeth =
        Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c)
          ? a
          : Math.abs(p - b) <= Math.abs(p - c)
            ? b
            : c
      const pred = [0, a, b, (a + b) >> 1, paeth][filter] as number
      raw.push((v - pred) & 0xff)
    })
    prev = row
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    ...(options.extra ?? []),
    chunk('IDAT', deflateSync(Buffer.from(raw))),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

const model = parseDigitsModel(
  JSON.parse(readFileSync(join(import.meta.dirname, '../../models/digits.json'), 'utf8')),
)
const test = splitDigits(readDigits()).test

/** A held-out digit drawn 4x larger as dark ink on white, the way a user's image looks. */
const drawn = (pixels: number[], scale = 4) => {
  const side = 8 * scale
  return Array.from({ length: side }, (_, y) =>
    Array.from({ length: side }, (_, x) => {
      const v = pixels[Math.floor(y / scale) * 8 + Math.floor(x / scale)] as number
      return 255 - Math.round((v * 255) / 16)
    }),
  )
}

describe('decodePng + toDigitPixels', () => {
  it('a 32x32 grayscale PNG of a held-out digit reduces to its exact 8x8 pixels, for every filter', () => {
    for (const [n, s] of test.slice(0, 20).entries()) {
      const bytes = png(32, 32, 0, drawn(s.pixels), { filter: n % 5 })
      const pixels = toDigitPixels(decodePng(bytes))
      expect(pixels).toEqual(s.pixels)
      expect(classifyDigits(model, pixels).label).toBe(classifyDigits(model, s.pixels).label)
    }
  })

  it('RGB, RGBA, gray+alpha, palette and 1-bit images decode to the same grays', () => {
    const g = drawn((test[0] as { pixels: number[] }).pixels, 2)
    const want = decodePng(png(16, 16, 0, g)).data
    expect(
      decodePng(
        png(
          16,
          16,
          2,
          g.map((r) => r.flatMap((v) => [v, v, v])),
        ),
      ).data,
    ).toEqual(want)
    expect(
      decodePng(
        png(
          16,
          16,
          6,
          g.map((r) => r.flatMap((v) => [v, v, v, 255])),
        ),
      ).data,
    ).toEqual(want)
    expect(
      decodePng(
        png(
          16,
          16,
          4,
          g.map((r) => r.flatMap((v) => [v, 255])),
        ),
      ).data,
    ).toEqual(want)
    // fully transparent pixels composite to white
    expect(
      decodePng(
        png(
          8,
          8,
          4,
          Array.from({ length: 8 }, () => new Array(16).fill(0)),
        ),
      ).data,
    ).toEqual(new Uint8Array(64).fill(255))
    const levels = [...new Set(g.flat())]
    const plte = Buffer.from(levels.flatMap((v) => [v, v, v]))
    const indexed = g.map((r) => r.map((v) => levels.indexOf(v)))
    expect(decodePng(png(16, 16, 3, indexed, { extra: [chunk('PLTE', plte)] })).data).toEqual(want)
    // 1 bit: a black left half, white right half, 8 pixels a byte
    const bits = decodePng(
      png(
        16,
        8,
        0,
        Array.from({ length: 8 }, () => [0x00, 0xff]),
        { depth: 1 },
      ),
    )
    expect(Array.from(bits.data.subarray(0, 16))).toEqual([
      ...new Array(8).fill(0),
      ...new Array(8).fill(255),
    ])
  })

  it('light-on-dark images are inverted automatically, or on request', () => {
    const s = test[5] as { pixels: number[] }
    const dark = drawn(s.pixels).map((r) => r.map((v) => 255 - v))
    expect(toDigitPixels(decodePng(png(32, 32, 0, dark)))).toEqual(s.pixels)
    expect(toDigitPixels(decodePng(png(32, 32, 0, drawn(s.pixels))), { invert: false })).toEqual(
      s.pixels,
    )
  })

  it('refuses wrong formats, corrupt and truncated files, and wrong sizes by name', () => {
    const good = png(16, 16, 0, drawn((test[0] as { pixels: number[] }).pixels, 2))
    expect(() => decodePng(Buffer.from('GIF89a........'))).toThrow(/not a PNG/)
    const flipped = Buffer.from(good)
    flipped[40] = (flipped[40] as number) ^ 1
    expect(() => decodePng(flipped)).toThrow(/CRC/)
    expect(() => decodePng(good.subarray(0, good.length - 20))).toThrow(ImageError)
    expect(() => decodePng(good.subarray(0, 20))).toThrow(/truncated/)
    expect(() =>
      decodePng(png(16, 16, 0, drawn([...new Array(64).fill(0)], 2), { interlace: 1 })),
    ).toThrow(/interlaced/)
    expect(() =>
      decodePng(
        png(
          8,
          8,
          0,
          Array.from({ length: 8 }, () => new Array(16).fill(0)),
          { depth: 16 },
        ),
      ),
    ).toThrow(/bit depth 16/)
    expect(() => decodePng(png(5000, 1, 0, [new Array(5000).fill(0)]))).toThrow(/at most 4096/)
    // a header claiming more rows than the data holds
    const short = png(16, 16, 0, drawn(new Array(64).fill(0), 2).slice(0, 8))
    expect(() => decodePng(short)).toThrow(/truncated/)
    expect(() =>
      toDigitPixels(
        decodePng(
          png(
            4,
            4,
            0,
            Array.from({ length: 4 }, () => [0, 0, 0, 0]),
          ),
        ),
      ),
    ).toThrow(/smaller than 8x8/)
    expect(() => toDigitPixels({ width: 8, height: 8, data: new Uint8Array(63) })).toThrow(
      ImageError,
    )
  })
})
