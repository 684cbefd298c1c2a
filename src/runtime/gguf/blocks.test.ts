import { describe, expect, it } from 'vitest'
import { Prng } from '../sampler/prng.ts'
import { decodeRow, rowBytes } from './dequant.ts'
import { floatToHalf, halfToFloat } from './half.ts'
import { encodeTensorData } from './quantize.ts'
import { readGguf } from './read.ts'
import { tensorToFloat32 } from './tensor.ts'
import { GGML_TYPE_LAYOUT, GgmlType } from './types.ts'
import { writeGguf } from './write.ts'

// Each block type is checked three ways: byte sizes against ggml's block structs, a per-element
// reference decoder written from the struct layouts (element index -> bytes, not the decoder's
// loops), and round trips through the project's encoders. Malformed scales must name the block.

const f32 = Math.fround
const u16 = (b: Uint8Array, at: number) => b[at]! | (b[at + 1]! << 8)
const u32 = (b: Uint8Array, at: number) =>
  (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0
const i8 = (v: number) => (v << 24) >> 24
const h = (b: Uint8Array, at: number) => halfToFloat(u16(b, at))

/** The 6-bit scale (kind 0) or min (kind 1) of sub-block j, from ggml's 12-byte K-quant packing. */
function packed6(s: Uint8Array, j: number, kind: 0 | 1): number {
  // j < 4: low 6 bits of byte j (scales) or j + 4 (mins). j >= 4: a nibble of byte j + 4 (low for
  // scales, high for mins) and the top 2 bits of byte j - 4 (scales) or j (mins) as bits 4..5.
  if (j < 4) return s[j + 4 * kind]! & 63
  const nibble = kind === 0 ? s[j + 4]! & 15 : s[j + 4]! >> 4
  return nibble | ((s[kind === 0 ? j - 4 : j]! >> 6) << 4)
}

/** Element i of one block of `type` at b[0..], as ggml's struct layout defines it. */
function referenceElement(type: number, b: Uint8Array, i: number): number {
  switch (type) {
    case GgmlType.Q4_0: {
      const q = i < 16 ? b[2 + i]! & 15 : b[2 + i - 16]! >> 4
      return (q - 8) * h(b, 0)
    }
    case GgmlType.Q4_1: {
      const q = i < 16 ? b[4 + i]! & 15 : b[4 + i - 16]! >> 4
      return f32(q * h(b, 0) + h(b, 2))
    }
    case GgmlType.Q5_0: {
      const lo = i < 16 ? b[6 + i]! & 15 : b[6 + i - 16]! >> 4
      const hi = (u32(b, 2) >>> i) & 1
      return (lo + 16 * hi - 16) * h(b, 0)
    }
    case GgmlType.Q5_1: {
      const lo = i < 16 ? b[8 + i]! & 15 : b[8 + i - 16]! >> 4
      const hi = (u32(b, 4) >>> i) & 1
      return f32((lo + 16 * hi) * h(b, 0) + h(b, 2))
    }
    case GgmlType.Q8_0:
      return i8(b[2 + i]!) * h(b, 0)
    case GgmlType.Q4_K: {
      const j = i >> 5 // sub-block of 32
      const l = i & 31
      const byte = b[16 + 32 * (j >> 1) + l]!
      const q = j % 2 === 0 ? byte & 15 : byte >> 4
      const s = b.subarray(4, 16)
      return f32(f32(h(b, 0) * packed6(s, j, 0)) * q - f32(h(b, 2) * packed6(s, j, 1)))
    }
    case GgmlType.Q5_K: {
      const j = i >> 5
      const l = i & 31
      const byte = b[48 + 32 * (j >> 1) + l]!
      const lo = j % 2 === 0 ? byte & 15 : byte >> 4
      const hi = (b[16 + l]! >> j) & 1 // bit j of qh[l] is sub-block j's fifth bit
      const s = b.subarray(4, 16)
      return f32(f32(h(b, 0) * packed6(s, j, 0)) * (lo + 16 * hi) - f32(h(b, 2) * packed6(s, j, 1)))
    }
    case GgmlType.Q6_K: {
      const half = i >> 7 // two halves of 128
      const r = i & 127
      const k = r >> 5 // quarter within the half
      const l = r & 31
      const qlByte = b[64 * half + l + 32 * (k & 1)]!
      const lo = k < 2 ? qlByte & 15 : qlByte >> 4
      const hi = (b[128 + 32 * half + l]! >> (2 * k)) & 3
      const scale = i8(b[192 + 8 * half + 2 * k + (l >> 4)]!)
      return f32(f32(h(b, 208) * scale) * (lo + 16 * hi - 32))
    }
    case GgmlType.BF16: {
      const view = new DataView(new ArrayBuffer(4))
      view.setUint32(0, u16(b, 0) << 16)
      return view.getFloat32(0)
    }
    default:
      throw new Error(`no reference for type ${type}`)
  }
}

const BLOCK_TYPES = ['Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q8_0', 'Q4_K', 'Q5_K', 'Q6_K'] as const

/** Random blocks whose scales are finite halves of varied magnitude; quants are any bytes. */
function randomBlocks(type: number, count: number, prng: Prng): Uint8Array {
  const [, size] = GGML_TYPE_LAYOUT.get(type)!
  const out = new Uint8Array(count * size)
  for (let i = 0; i < out.length; i++) out[i] = prng.next() & 0xff
  const scaleAt: Record<number, number[]> = {
    [GgmlType.Q4_0]: [0],
    [GgmlType.Q4_1]: [0, 2],
    [GgmlType.Q5_0]: [0],
    [GgmlType.Q5_1]: [0, 2],
    [GgmlType.Q8_0]: [0],
    [GgmlType.Q4_K]: [0, 2],
    [GgmlType.Q5_K]: [0, 2],
    [GgmlType.Q6_K]: [208],
  }
  for (let b = 0; b < count; b++) {
    for (const at of scaleAt[type]!) {
      const value = (prng.next() / 2 ** 32 - 0.5) * 2 ** ((prng.next() % 24) - 16)
      const bits = floatToHalf(value)
      out[b * size + at] = bits & 0xff
      out[b * size + at + 1] = bits >>> 8
    }
  }
  return out
}

describe('ggml block layouts', () => {
  it('block sizes are those of ggml-common.h', () => {
    expect(rowBytes(GgmlType.Q4_0, 32)).toBe(2 + 16)
    expect(rowBytes(GgmlType.Q4_1, 32)).toBe(2 + 2 + 16)
    expect(rowBytes(GgmlType.Q5_0, 32)).toBe(2 + 4 + 16)
    expect(rowBytes(GgmlType.Q5_1, 32)).toBe(2 + 2 + 4 + 16)
    expect(rowBytes(GgmlType.Q8_0, 32)).toBe(2 + 32)
    expect(rowBytes(GgmlType.Q4_K, 256)).toBe(2 + 2 + 12 + 128)
    expect(rowBytes(GgmlType.Q5_K, 256)).toBe(2 + 2 + 12 + 32 + 128)
    expect(rowBytes(GgmlType.Q6_K, 256)).toBe(128 + 64 + 16 + 2)
    expect(rowBytes(GgmlType.BF16, 7)).toBe(14)
    expect(() => rowBytes(GgmlType.Q4_K, 255)).toThrow('not a multiple of Q4_K (12)')
  })

  for (const name of BLOCK_TYPES) {
    it(`${name}: every element of random blocks matches the struct-layout reference`, () => {
      const type = GgmlType[name]
      const [block, size] = GGML_TYPE_LAYOUT.get(type)!
      const count = 24
      const bytes = randomBlocks(type, count, new Prng(type))
      const got = new Float32Array(count * block)
      decodeRow(type, bytes, 0, count * block, got, 0)
      for (let b = 0; b < count; b++) {
        const one = bytes.subarray(b * size, (b + 1) * size)
        for (let i = 0; i < block; i++) {
          const want = referenceElement(type, one, i)
          if (!Object.is(got[b * block + i], want))
            expect(`${name} block ${b} element ${i}: ${got[b * block + i]}`).toBe(`${want}`)
        }
      }
    })
  }

  it('hand-made blocks decode to hand-computed values', () => {
    const out = new Float32Array(256)
    // Q4_0 with d = 0.5: byte 0x9c holds 12 (element 0) and 9 (element 16).
    const q40 = new Uint8Array(18)
    q40.set([0x00, 0x38]) // 0.5 as a half
    q40[2] = 0x9c
    decodeRow(GgmlType.Q4_0, q40, 0, 32, out, 0)
    expect([out[0], out[16], out[1]]).toEqual([(12 - 8) * 0.5, (9 - 8) * 0.5, -4])
    // Q5_1 with d = 0.25, m = -1: element 17 has nibble 3 and fifth bit set (qh bit 17): 19.
    const q51 = new Uint8Array(24)
    q51.set([0x00, 0x34, 0x00, 0xbc]) // 0.25, -1
    q51[4 + 2] = 0x02 // qh byte 2, bit 1 = bit 17
    q51[8 + 1] = 0x30
    decodeRow(GgmlType.Q5_1, q51, 0, 32, out, 0)
    expect([out[17], out[0]]).toEqual([19 * 0.25 - 1, -1])
    // Q4_K: d = 1, dmin = 0.5; sub-block 5 has scale 33 (nibble 1 of byte 9, top bits 2 of byte
    // 1) and min 7 (high nibble of byte 9). Its element 3 is the high nibble of qs[64 + 3] = 0xa0.
    const q4k = new Uint8Array(144)
    q4k.set([0x00, 0x3c, 0x00, 0x38])
    q4k[4 + 9] = 0x71
    q4k[4 + 1] = 0x80
    q4k[16 + 64 + 3] = 0xa0
    decodeRow(GgmlType.Q4_K, q4k, 0, 256, out, 0)
    expect(out[5 * 32 + 3]).toBe(33 * 10 - 0.5 * 7)
    // Q6_K: d = 2, scale of sub-block 1 (elements 16..31 of the first quarter) = -3; element 20
    // has low bits 5 (ql[20]) and high bits 2 (qh[20] & 3): q = 5 + 32 - 32 = 5.
    const q6k = new Uint8Array(210)
    q6k.set([0x00, 0x40], 208)
    q6k[192 + 1] = 0xfd
    q6k[20] = 0x05
    q6k[128 + 20] = 0x02
    decodeRow(GgmlType.Q6_K, q6k, 0, 256, out, 0)
    expect(out[20]).toBe(2 * -3 * 5)
    expect(out[0]).toBe(-0) // scale 0: 0 * (0 - 32) is a negative zero in C too
  })

  for (const name of [...BLOCK_TYPES, 'F16', 'BF16', 'F32'] as const) {
    it(`${name}: encoder and decoder round-trip within the block's step`, () => {
      const type = GgmlType[name]
      const prng = new Prng(100 + type)
      const rows = 3
      const cols = 512
      const data = new Float32Array(rows * cols)
      for (let i = 0; i < data.length; i++) {
        // Rows of different magnitude, a few outliers, some exact zeros.
        const scale = 2 ** ((i / cols) | 0) * (i % 97 === 0 ? 8 : 1)
        data[i] = i % 31 === 0 ? 0 : (prng.next() / 2 ** 31 - 1) * scale
      }
      const file = readGguf(
        writeGguf({ metadata: [], tensors: [{ name: 'w', dims: [cols, rows], type, data }] }),
      )
      expect(file.tensors[0]!.byteLength).toBe(rows * rowBytes(type, cols))
      const back = tensorToFloat32(file, file.tensors[0]!)
      const [block] = GGML_TYPE_LAYOUT.get(type)!
      const unit = Math.max(block, 32)
      const steps: Record<string, number> = {
        Q4_0: 7,
        Q4_1: 15,
        Q5_0: 15,
        Q5_1: 31,
        Q8_0: 127,
        Q4_K: 15,
        Q5_K: 31,
        Q6_K: 31,
      }
      for (let start = 0; start < data.length; start += unit) {
        let amax = 0
        for (let j = 0; j < unit; j++) amax = Math.max(amax, Math.abs(data[start + j]!))
        // K-quants round their 6-bit scales too: allow two steps of the block's range.
        const tolerance = name in steps ? (2.2 * amax) / steps[name]! : amax * 2 ** -7
        for (let j = 0; j < unit; j++) {
          const err = Math.abs(back[start + j]! - data[start + j]!)
          if (err > tolerance)
            expect(`${name} element ${start + j}: error ${err}`).toBe(`<= ${tolerance}`)
        }
      }
      if (name === 'F32') expect(back).toEqual(data)
    })
  }

  it('BF16 keeps the top 16 bits, rounding to nearest even like ggml', () => {
    const data = Float32Array.of(1, -2.5, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 3.39e38, 3.4e38)
    const out = new Uint8Array(12)
    encodeTensorData(GgmlType.BF16, data, out, 0, 'x')
    const back = new Float32Array(6)
    decodeRow(GgmlType.BF16, out, 0, 6, back, 0)
    // 1 + 2^-8 is a tie between 1 and 1 + 2^-7: even mantissa (1) wins; 1 + 3 * 2^-8 rounds up.
    // 3.4e38 is past the midpoint to 2^128: it rounds to infinity, as in ggml.
    expect(Array.from(back)).toEqual([
      1,
      -2.5,
      1,
      1 + 2 ** -6,
      f32(3.3895313892515355e38),
      Infinity,
    ])
  })

  it('a block with a non-finite scale is a GgufError naming tensor, row and block', () => {
    for (const [name, at] of [
      ['Q4_0', 0],
      ['Q4_1', 2],
      ['Q5_0', 0],
      ['Q5_1', 2],
      ['Q8_0', 0],
      ['Q4_K', 2],
      ['Q5_K', 0],
      ['Q6_K', 208],
    ] as const) {
      const type = GgmlType[name]
      const [block, size] = GGML_TYPE_LAYOUT.get(type)!
      const cols = block * 2
      const data = new Float32Array(cols * 2).fill(0.25)
      const bytes = writeGguf({
        metadata: [],
        tensors: [{ name: 'w', dims: [cols, 2], type, data }],
      })
      const file = readGguf(bytes)
      // Row 1, block 1: an infinite half (0x7c00) in the scale field.
      const p = file.tensors[0]!.offset + 3 * size + at
      bytes[p] = 0x00
      bytes[p + 1] = 0x7c
      expect(() => tensorToFloat32(file, file.tensors[0]!)).toThrow(
        new RegExp(`GGUF: tensor 'w' \\(${name} \\(\\d+\\)\\) row 1: block 1 has a non-finite`),
      )
    }
  })
})
