import { describe, expect, it } from 'vitest'
import { makeRng } from './fuzz.ts'
import { halfToFloat } from './half.ts'
import {
  GgmlType,
  GgufValueType,
  gguf,
  metaArray,
  metaBool,
  metaInteger,
  metaNumber,
  metaNumberArray,
  metaOptionalNumber,
  metaOptionalString,
  metaString,
  metaStringArray,
  readGguf,
  tensorByName,
  tensorRawQ8_0,
  tensorToFloat32,
  writeGguf,
} from './index.ts'

describe('writeGguf -> readGguf', () => {
  it('round-trips every metadata value type exactly', () => {
    const bytes = writeGguf({
      metadata: [
        ['u8', gguf.u8(255)],
        ['i8', gguf.i8(-128)],
        ['u16', gguf.u16(65535)],
        ['i16', gguf.i16(-32768)],
        ['u32', gguf.u32(0xffffffff)],
        ['i32', gguf.i32(-0x80000000)],
        ['f32', gguf.f32(0.1)],
        ['f64', gguf.f64(0.1)],
        ['u64', gguf.u64(2n ** 64n - 1n)],
        ['i64', gguf.i64(-(2n ** 63n))],
        ['true', gguf.bool(true)],
        ['false', gguf.bool(false)],
        ['string', gguf.string('héllo, 世界 🦙')],
        ['empty string', gguf.string('')],
        ['u8s', gguf.array('u8', [0, 1, 255])],
        ['i8s', gguf.array('i8', [-128, 127])],
        ['u16s', gguf.array('u16', [65535])],
        ['i16s', gguf.array('i16', [-1])],
        ['u32s', gguf.array('u32', [1, 2, 3])],
        ['i32s', gguf.array('i32', [-1, 0, 1])],
        ['f32s', gguf.array('f32', [1.5, -0, Infinity])],
        ['f64s', gguf.array('f64', [Math.PI])],
        ['bools', gguf.array('bool', [true, false, true])],
        ['strings', gguf.array('string', ['a', '', '▁the', '<0x0A>'])],
        ['u64s', gguf.array('u64', [0n, 2n ** 53n + 1n])],
        ['i64s', gguf.array('i64', [-5n])],
        ['empty', gguf.array('string', [])],
        ['nested', gguf.arrays([gguf.array('i32', [1, 2]), gguf.arrays([gguf.array('bool', [])])])],
      ],
      tensors: [],
    })
    const file = readGguf(bytes)
    expect(file.version).toBe(3)
    expect(file.alignment).toBe(32)
    expect(file.tensors).toEqual([])
    expect(bytes.length % 32).toBe(0)
    expect(file.dataOffset).toBe(bytes.length)
    const m = file.metadata
    expect([...m.keys()]).toHaveLength(28)
    expect(m.get('u8')).toBe(255)
    expect(m.get('i8')).toBe(-128)
    expect(m.get('u16')).toBe(65535)
    expect(m.get('i16')).toBe(-32768)
    expect(m.get('u32')).toBe(0xffffffff)
    expect(m.get('i32')).toBe(-0x80000000)
    expect(m.get('f32')).toBe(Math.fround(0.1))
    expect(m.get('f64')).toBe(0.1)
    expect(m.get('u64')).toBe(2n ** 64n - 1n)
    expect(m.get('i64')).toBe(-(2n ** 63n))
    expect(m.get('true')).toBe(true)
    expect(m.get('false')).toBe(false)
    expect(m.get('string')).toBe('héllo, 世界 🦙')
    expect(m.get('empty string')).toBe('')
    expect(m.get('u8s')).toEqual([0, 1, 255])
    expect(m.get('i8s')).toEqual([-128, 127])
    expect(m.get('u16s')).toEqual([65535])
    expect(m.get('i16s')).toEqual([-1])
    expect(m.get('u32s')).toEqual([1, 2, 3])
    expect(m.get('i32s')).toEqual([-1, 0, 1])
    expect(m.get('f32s')).toEqual([1.5, -0, Infinity])
    expect(Object.is((m.get('f32s') as number[])[1], -0)).toBe(true)
    expect(m.get('f64s')).toEqual([Math.PI])
    expect(m.get('bools')).toEqual([true, false, true])
    expect(m.get('strings')).toEqual(['a', '', '▁the', '<0x0A>'])
    expect(m.get('u64s')).toEqual([0n, 2n ** 53n + 1n])
    expect(m.get('i64s')).toEqual([-5n])
    expect(m.get('empty')).toEqual([])
    expect(m.get('nested')).toEqual([[1, 2], [[]]])
    expect(file.metadataTypes.get('u8')).toBe(GgufValueType.UINT8)
    expect(file.metadataTypes.get('f64')).toBe(GgufValueType.FLOAT64)
    expect(file.metadataTypes.get('u64')).toBe(GgufValueType.UINT64)
    expect(file.metadataTypes.get('strings')).toBe(GgufValueType.ARRAY)
    expect(file.arrayItemTypes.get('strings')).toBe(GgufValueType.STRING)
    expect(file.arrayItemTypes.get('nested')).toBe(GgufValueType.ARRAY)
    expect(file.arrayItemTypes.get('empty')).toBe(GgufValueType.STRING)
  })

  it('lays the file out byte for byte as GGUF v3', () => {
    const bytes = writeGguf({
      metadata: [['a', gguf.u32(7)]],
      tensors: [{ name: 'w', dims: [2], type: GgmlType.F32, data: new Float32Array([1, -2]) }],
    })
    const header = [
      ...[0x47, 0x47, 0x55, 0x46], // magic
      ...[3, 0, 0, 0], // version
      ...[1, 0, 0, 0, 0, 0, 0, 0], // tensor count
      ...[1, 0, 0, 0, 0, 0, 0, 0], // kv count
      ...[1, 0, 0, 0, 0, 0, 0, 0, 0x61], // key "a"
      ...[4, 0, 0, 0, 7, 0, 0, 0], // uint32 7
      ...[1, 0, 0, 0, 0, 0, 0, 0, 0x77], // name "w"
      ...[1, 0, 0, 0], // n_dims
      ...[2, 0, 0, 0, 0, 0, 0, 0], // ne[0]
      ...[0, 0, 0, 0], // type F32
      ...[0, 0, 0, 0, 0, 0, 0, 0], // offset
    ]
    expect(header.length).toBe(74)
    const expected = new Uint8Array(128)
    expected.set(header)
    expected.set([0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0], 96) // 1.0f, -2.0f at the aligned data section
    expect(bytes).toEqual(expected)
  })

  it('round-trips F32 tensors bit for bit, NaN payloads included', () => {
    const data = new Float32Array([
      0,
      -0,
      1.5,
      -3.25e-40,
      3.4028234663852886e38,
      Infinity,
      -Infinity,
      0,
    ])
    new Uint32Array(data.buffer)[7] = 0x7fc12345
    const bytes = writeGguf({
      metadata: [],
      tensors: [{ name: 'x', dims: [4, 2], type: GgmlType.F32, data }],
    })
    const file = readGguf(bytes)
    const t = tensorByName(file, 'x')
    expect(t).toEqual({ name: 'x', dims: [4, 2], type: GgmlType.F32, offset: 96, byteLength: 32 })
    const got = tensorToFloat32(file, t)
    expect(new Uint32Array(got.buffer)).toEqual(new Uint32Array(data.buffer))
  })

  it('reads F32 data at an unaligned buffer offset', () => {
    const bytes = writeGguf({
      metadata: [],
      tensors: [{ name: 'x', dims: [3], type: GgmlType.F32, data: new Float32Array([1, 2, 3]) }],
    })
    const shifted = new Uint8Array(bytes.length + 1).subarray(1)
    shifted.set(bytes)
    const file = readGguf(shifted)
    expect(tensorToFloat32(file, file.tensors[0]!)).toEqual(new Float32Array([1, 2, 3]))
  })

  it('writes F16 with round-to-nearest-even and reads it back exactly', () => {
    const inputs = [
      0,
      -0,
      1,
      65504,
      65520,
      2 ** -24,
      2 ** -25,
      1.5 * 2 ** -25,
      0.1,
      -Infinity,
      1e-10,
      1 / 3,
    ]
    const halves = [
      0x0000, 0x8000, 0x3c00, 0x7bff, 0x7c00, 0x0001, 0x0000, 0x0001, 0x2e66, 0xfc00, 0x0000,
      0x3555,
    ]
    const bytes = writeGguf({
      metadata: [],
      tensors: [{ name: 'h', dims: [12], type: GgmlType.F16, data: new Float32Array(inputs) }],
    })
    const file = readGguf(bytes)
    const t = file.tensors[0]!
    expect(t.byteLength).toBe(24)
    const stored = Array.from(
      { length: 12 },
      (_, i) => bytes[t.offset + 2 * i]! | (bytes[t.offset + 2 * i + 1]! << 8),
    )
    expect(stored).toEqual(halves)
    const values = [
      0,
      -0,
      1,
      65504,
      Infinity,
      2 ** -24,
      0,
      2 ** -24,
      0.0999755859375,
      -Infinity,
      0,
      0.333251953125,
    ]
    const got = Array.from(tensorToFloat32(file, t))
    expect(got).toEqual(values)
    expect(Object.is(got[1], -0)).toBe(true)
  })

  it('writes Q8_0 like quantize_row_q8_0_ref (hand-computed blocks)', () => {
    // Block 0: amax 127, so d = 1 and q = roundf(x): halves round away from zero.
    const b0 = [127, -63.5, 0.25, 0.5, -0.5, 1.5, 2.5, -2.5, ...Array(24).fill(0)]
    // Block 1: amax 254, so d = 2, id = 0.5.
    const b1 = [254, 3, 5, -1, -254, 1, ...Array(26).fill(0)]
    // Block 2: all zero, so d = 0 and id = 0.
    const b2 = Array(32).fill(0)
    const bytes = writeGguf({
      metadata: [],
      tensors: [
        {
          name: 'q',
          dims: [32, 3],
          type: GgmlType.Q8_0,
          data: new Float32Array([...b0, ...b1, ...b2]),
        },
      ],
    })
    const file = readGguf(bytes)
    const t = file.tensors[0]!
    expect(t.byteLength).toBe(3 * 34)
    const block = (i: number) => bytes.subarray(t.offset + 34 * i, t.offset + 34 * (i + 1))
    expect(Array.from(block(0).subarray(0, 2))).toEqual([0x00, 0x3c]) // f16 1.0
    expect(Array.from(new Int8Array(block(0).slice(2).buffer))).toEqual([
      127,
      -64,
      0,
      1,
      -1,
      2,
      3,
      -3,
      ...Array(24).fill(0),
    ])
    expect(Array.from(block(1).subarray(0, 2))).toEqual([0x00, 0x40]) // f16 2.0
    expect(Array.from(new Int8Array(block(1).slice(2).buffer))).toEqual([
      127,
      2,
      3,
      -1,
      -127,
      1,
      ...Array(26).fill(0),
    ])
    expect(Array.from(block(2))).toEqual(Array(34).fill(0))
    const raw = tensorRawQ8_0(file, t)
    expect(Array.from(raw.scales)).toEqual([1, 2, 0])
    expect(raw.qs.slice(0, 8)).toEqual(new Int8Array([127, -64, 0, 1, -1, 2, 3, -3]))
    const values = tensorToFloat32(file, t)
    expect(Array.from(values.subarray(0, 8))).toEqual([127, -64, 0, 1, -1, 2, 3, -3])
    expect(Array.from(values.subarray(32, 38))).toEqual([254, 4, 6, -2, -254, 2])
  })

  it('Q8_0 dequantization equals the reference formula on random data', () => {
    const rng = makeRng(7)
    const n = 32 * 64
    const data = new Float32Array(n)
    for (let i = 0; i < n; i++) {
      // Blocks with very different magnitudes, including tiny ones whose d is an f16 subnormal.
      const scale = 2 ** ((Math.floor(i / 32) % 40) - 30)
      data[i] = ((rng() / 2 ** 32) * 2 - 1) * scale
    }
    const file = readGguf(
      writeGguf({
        metadata: [],
        tensors: [{ name: 'q', dims: [64, 32], type: GgmlType.Q8_0, data }],
      }),
    )
    const t = file.tensors[0]!
    const got = tensorToFloat32(file, t)
    const raw = tensorRawQ8_0(file, t)
    const bytes = file.source.read(0, file.size)
    for (let b = 0; b < n / 32; b++) {
      // Independent reference: re-quantize the block in plain float code.
      let amax = 0
      for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(data[b * 32 + j]!))
      const d = Math.fround(amax / 127)
      const id = d ? Math.fround(1 / d) : 0
      const dStored = bytes[t.offset + 34 * b]! | (bytes[t.offset + 34 * b + 1]! << 8)
      const dh = halfToFloat(dStored)
      expect(raw.scales[b]).toBe(dh)
      // The stored scale is d rounded to the nearest half.
      expect(Math.abs(dh - d)).toBeLessThanOrEqual(Math.abs(halfToFloat(dStored ^ 1) - d))
      for (let j = 0; j < 32; j++) {
        const x = Math.fround(data[b * 32 + j]! * id)
        // + 0 turns -0 into 0: the C code stores an int8, which has no negative zero.
        const q = Math.sign(x) * Math.floor(Math.abs(x) + 0.5) + 0
        expect(raw.qs[b * 32 + j]).toBe(q)
        expect(got[b * 32 + j]).toBe(Math.fround(dh * q))
      }
    }
  })

  it('honours a custom alignment and writes general.alignment', () => {
    const bytes = writeGguf({
      metadata: [['general.name', gguf.string('a')]],
      tensors: [
        { name: 'a', dims: [3], type: GgmlType.F32, data: new Float32Array([1, 2, 3]) },
        { name: 'b', dims: [32], type: GgmlType.Q8_0, data: new Float32Array(32).fill(1) },
      ],
      alignment: 128,
    })
    const file = readGguf(bytes)
    expect(file.alignment).toBe(128)
    expect(file.metadata.get('general.alignment')).toBe(128)
    expect(file.dataOffset % 128).toBe(0)
    expect(file.tensors.map((t) => t.offset - file.dataOffset)).toEqual([0, 128])
    expect(bytes.length).toBe(file.dataOffset + 256)
  })

  it('accepts GGUF v2', () => {
    const bytes = writeGguf({ metadata: [['k', gguf.string('v')]], tensors: [] })
    bytes[4] = 2
    expect(readGguf(bytes).version).toBe(2)
  })
})

describe('metadata accessors', () => {
  const file = readGguf(
    writeGguf({
      metadata: [
        ['s', gguf.string('llama')],
        ['n', gguf.u32(288)],
        ['f', gguf.f32(1e-5)],
        ['big', gguf.u64(32000n)],
        ['huge', gguf.u64(2n ** 60n)],
        ['b', gguf.bool(true)],
        ['tokens', gguf.array('string', ['a', 'b'])],
        ['scores', gguf.array('f32', [0.5, -1])],
        ['mixed', gguf.arrays([gguf.array('u8', [1])])],
      ],
      tensors: [],
    }),
  )

  it('returns typed values', () => {
    expect(metaString(file, 's')).toBe('llama')
    expect(metaNumber(file, 'n')).toBe(288)
    expect(metaNumber(file, 'f')).toBe(Math.fround(1e-5))
    expect(metaNumber(file, 'big')).toBe(32000)
    expect(metaInteger(file, 'n')).toBe(288)
    expect(metaOptionalNumber(file, 'missing')).toBeUndefined()
    expect(metaOptionalNumber(file, 'n')).toBe(288)
    expect(metaOptionalString(file, 'missing')).toBeUndefined()
    expect(metaBool(file, 'b')).toBe(true)
    expect(metaArray(file, 'tokens')).toEqual(['a', 'b'])
    expect(metaStringArray(file, 'tokens')).toEqual(['a', 'b'])
    expect(metaNumberArray(file, 'scores')).toEqual([0.5, -1])
  })

  it('names the missing or mistyped key', () => {
    expect(() => metaString(file, 'general.architecture')).toThrow(
      "GGUF: metadata key 'general.architecture' is missing",
    )
    expect(() => metaString(file, 'n')).toThrow("metadata key 'n' is uint32, expected a string")
    expect(() => metaNumber(file, 's')).toThrow("metadata key 's' is string, expected a number")
    expect(() => metaNumber(file, 'huge')).toThrow(
      "metadata key 'huge' is uint64, expected a number",
    )
    expect(() => metaInteger(file, 'f')).toThrow(
      "metadata key 'f' is 0.000009999999747378752, expected an integer",
    )
    expect(() => metaOptionalNumber(file, 's')).toThrow(
      "metadata key 's' is string, expected a number",
    )
    expect(() => metaBool(file, 'n')).toThrow("metadata key 'n' is uint32, expected a bool")
    expect(() => metaArray(file, 's')).toThrow("metadata key 's' is string, expected an array")
    expect(() => metaStringArray(file, 'scores')).toThrow(
      "metadata key 'scores' item 0 is not a string",
    )
    expect(() => metaNumberArray(file, 'tokens')).toThrow(
      "metadata key 'tokens' item 0 is not a number",
    )
    expect(() => metaNumberArray(file, 'mixed')).toThrow(
      "metadata key 'mixed' item 0 is not a number",
    )
    expect(() => tensorByName(file, 'output.weight')).toThrow(
      "GGUF: tensor 'output.weight' not found",
    )
  })
})
