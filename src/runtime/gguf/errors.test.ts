import { describe, expect, it } from 'vitest'
import { GgufError } from '../../errors/runtime.ts'
import { GgmlType, gguf, readGguf, tensorToFloat32, writeGguf } from './index.ts'

/** Hand-assembles GGUF bytes so each test can break exactly one thing. */
class Bytes {
  private out: number[] = []
  u8(...v: number[]): this {
    this.out.push(...v)
    return this
  }
  u32(v: number): this {
    for (let i = 0; i < 4; i++) this.out.push((v >>> (8 * i)) & 0xff)
    return this
  }
  u64(v: number | bigint): this {
    const b = BigInt(v)
    for (let i = 0n; i < 8n; i++) this.out.push(Number((b >> (8n * i)) & 0xffn))
    return this
  }
  str(s: string | number[]): this {
    const b = typeof s === 'string' ? Array.from(new TextEncoder().encode(s)) : s
    return this.u64(b.length).u8(...b)
  }
  header(tensors: number, kvs: number, version = 3): this {
    return this.u8(0x47, 0x47, 0x55, 0x46).u32(version).u64(tensors).u64(kvs)
  }
  tensor(name: string, dims: number[], type: number, offset: number): this {
    this.str(name).u32(dims.length)
    for (const d of dims) this.u64(d)
    return this.u32(type).u64(offset)
  }
  /** Zero padding up to the next multiple of `alignment`, then `n` data bytes. */
  data(n: number, alignment = 32): this {
    while (this.out.length % alignment) this.out.push(0)
    for (let i = 0; i < n; i++) this.out.push(i & 0xff)
    return this
  }
  get length(): number {
    return this.out.length
  }
  bytes(): Uint8Array {
    return new Uint8Array(this.out)
  }
}

function expectGgufError(bytes: Uint8Array, message: string | RegExp): void {
  let caught: unknown
  try {
    readGguf(bytes)
  } catch (error) {
    caught = error
  }
  expect(caught).toBeInstanceOf(GgufError)
  expect((caught as GgufError).shortMessage).toEqual(
    typeof message === 'string' ? `GGUF: ${message}` : expect.stringMatching(message),
  )
}

const valid = () =>
  writeGguf({
    metadata: [['general.name', gguf.string('x')]],
    tensors: [
      { name: 'w', dims: [32, 2], type: GgmlType.Q8_0, data: new Float32Array(64).fill(1) },
    ],
  })

describe('readGguf rejects', () => {
  it('bad magic', () => {
    expectGgufError(
      new Bytes().u8(0x47, 0x47, 0x4d, 0x4c).u32(3).u64(0).u64(0).bytes(),
      'bad magic at offset 0: 47 47 4d 4c (expected 47 47 55 46, "GGUF")',
    )
  })

  it('unsupported versions', () => {
    expectGgufError(
      new Bytes().header(0, 0, 1).bytes(),
      'GGUF version 1 is not supported (it used 32-bit counts): need 2 or 3',
    )
    expectGgufError(
      new Bytes().header(0, 0, 4).bytes(),
      'unsupported GGUF version 4 at offset 4: need 2 or 3',
    )
    expectGgufError(
      new Bytes().header(0, 0, 0x03000000).bytes(),
      'big-endian GGUF files are not supported (version 3)',
    )
  })

  it('truncation in the header', () => {
    expectGgufError(new Uint8Array(0), 'truncated file: 0 bytes, no header')
    expectGgufError(new Uint8Array([0x47, 0x47, 0x55]), 'truncated file: 3 bytes, no header')
    const full = new Bytes().header(0, 0).bytes()
    expectGgufError(
      full.subarray(0, 6),
      'truncated file: version needs 4 bytes at offset 4, but the file has 2 left',
    )
    expectGgufError(
      full.subarray(0, 20),
      'truncated file: metadata count needs 8 bytes at offset 16, but the file has 4 left',
    )
  })

  it('truncation in the metadata', () => {
    const kv = new Bytes().header(0, 1).str('general.name').u32(8).str('tiny')
    const bytes = kv.bytes()
    expectGgufError(
      bytes.subarray(0, bytes.length - 1),
      "truncated file: metadata key 'general.name' needs 4 bytes at offset 56, but the file has 3 left",
    )
    expectGgufError(
      bytes.subarray(0, 40),
      'truncated file: metadata key #0 needs 12 bytes at offset 32, but the file has 8 left',
    )
    expectGgufError(
      new Bytes().header(0, 1).str('k').u32(4).u8(1, 2).bytes(),
      "truncated file: metadata key 'k' needs 4 bytes at offset 37, but the file has 2 left",
    )
  })

  it('truncation in the tensor infos', () => {
    const name = 'n'.repeat(40)
    const b = new Bytes().header(1, 0).tensor(name, [32], GgmlType.F32, 0).data(128).bytes()
    expectGgufError(
      b.subarray(0, 80),
      `truncated file: tensor '${name}' dim 0 needs 8 bytes at offset 76, but the file has 4 left`,
    )
  })

  it('truncation in the tensor data', () => {
    const bytes = valid()
    expectGgufError(
      bytes.subarray(0, bytes.length - 40),
      /^GGUF: truncated file: tensor 'w' data \[\d+, \d+\) extends past the end of the file \(\d+ bytes\)$/,
    )
    // Cut inside the padding before the data section.
    const b = new Bytes().header(1, 0).tensor('w', [4], GgmlType.F32, 0)
    const n = b.length
    expectGgufError(
      b
        .data(16)
        .bytes()
        .subarray(0, n + 1),
      'truncated file: tensor data section starts at offset 64, past the end (58)',
    )
  })

  it('absurd counts before allocating', () => {
    expectGgufError(
      new Bytes().header(0, 2 ** 40).bytes(),
      'metadata count 1099511627776 at offset 16 cannot fit in the 0 bytes left',
    )
    expectGgufError(
      new Bytes().header(1e12, 0).bytes(),
      'tensor count 1000000000000 at offset 8 cannot fit in the 0 bytes left',
    )
    expectGgufError(
      new Bytes().header(0, 1).str('tokens').u32(9).u32(8).u64(1e9).u64(1).u8(0x61).bytes(),
      "metadata key 'tokens' array length 1000000000 at offset 46 cannot fit in the 9 bytes left",
    )
    expectGgufError(
      new Bytes()
        .header(0, 1)
        .str('k')
        .u32(8)
        .u64(2n ** 64n - 1n)
        .bytes(),
      "metadata key 'k' length at offset 37 is 18446744073709551615, larger than any file",
    )
    expectGgufError(
      new Bytes().header((2n ** 63n) as unknown as number, 0).bytes(),
      'tensor count at offset 8 is 9223372036854775808, larger than any file',
    )
  })

  it('unknown value types', () => {
    expectGgufError(
      new Bytes().header(0, 1).str('k').u32(13).u32(0).bytes(),
      "metadata key 'k' has unknown value type 13 at offset 33",
    )
    expectGgufError(
      new Bytes().header(0, 1).str('k').u32(9).u32(99).u64(0).bytes(),
      "metadata key 'k' is an array of unknown value type 99 at offset 37",
    )
    expectGgufError(
      new Bytes().header(0, 1).str('k').u32(7).u8(2).bytes(),
      "metadata key 'k' at offset 37 is a bool with byte value 2",
    )
  })

  it('invalid UTF-8 and arrays nested too deep', () => {
    expectGgufError(
      new Bytes().header(0, 1).str('k').u32(8).str([0x61, 0xc3, 0x28]).bytes(),
      "metadata key 'k' at offset 37 is not valid UTF-8",
    )
    expectGgufError(
      new Bytes().header(0, 1).str([0xff]).u32(4).u32(1).bytes(),
      'metadata key #0 at offset 24 is not valid UTF-8',
    )
    const deep = new Bytes().header(0, 1).str('k').u32(9)
    for (let i = 0; i < 9; i++) deep.u32(9).u64(1)
    deep.u32(0).u64(0)
    expectGgufError(deep.bytes(), "metadata key 'k' nests arrays deeper than 8 at offset 133")
  })

  it('duplicate keys and tensor names', () => {
    expectGgufError(
      new Bytes().header(0, 2).str('k').u32(4).u32(1).str('k').u32(4).u32(2).bytes(),
      "duplicate metadata key 'k' at offset 41",
    )
    expectGgufError(
      new Bytes()
        .header(2, 0)
        .tensor('w', [8], GgmlType.F32, 0)
        .tensor('w', [8], GgmlType.F32, 32)
        .data(64)
        .bytes(),
      "duplicate tensor name 'w' at offset 57",
    )
  })

  it('bad tensor dims', () => {
    const one = (dims: number[]) =>
      new Bytes().header(1, 0).tensor('w', dims, GgmlType.F32, 0).data(64).bytes()
    expectGgufError(one([]), "tensor 'w' has 0 dimensions at offset 33: need 1..4")
    expectGgufError(one([1, 1, 1, 1, 1]), "tensor 'w' has 5 dimensions at offset 33: need 1..4")
    expectGgufError(one([4, 0]), "tensor 'w' dim 1 is 0 at offset 45")
    expectGgufError(
      one([1000, 1000]),
      "tensor 'w' dims [1000, 1000] at offset 45 have more elements than the file can hold",
    )
  })

  it('bad tensor placement', () => {
    expectGgufError(
      new Bytes().header(1, 0).tensor('w', [4], GgmlType.F32, 4).data(64).bytes(),
      "tensor 'w' data offset 4 is not aligned to 32 bytes",
    )
    expectGgufError(
      new Bytes().header(1, 0).tensor('w', [4], GgmlType.F32, 64).data(64).bytes(),
      "truncated file: tensor 'w' data [128, 144) extends past the end of the file (128 bytes)",
    )
    expectGgufError(
      new Bytes()
        .header(2, 0)
        .tensor('a', [16], GgmlType.F32, 0)
        .tensor('b', [4], GgmlType.F32, 32)
        .data(128)
        .bytes(),
      "tensors 'a' [96, 160) and 'b' [128, 144) overlap",
    )
  })

  it('unsupported tensor types, naming them', () => {
    const q3k = new Bytes()
      .header(1, 0)
      .tensor('blk.0.ffn_up.weight', [256], GgmlType.Q3_K, 0)
      .data(112)
      .bytes()
    const supported = 'F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K'
    expectGgufError(
      q3k,
      `tensor 'blk.0.ffn_up.weight' has type Q3_K (11), supported: ${supported} (type field at offset 63)`,
    )
    expectGgufError(
      new Bytes().header(1, 0).tensor('w', [4], 77, 0).data(64).bytes(),
      `tensor 'w' has type unknown (77), supported: ${supported} (type field at offset 45)`,
    )
    // Tools that only describe files may opt in; decoding still refuses.
    const file = readGguf(q3k, { anyTensorType: true })
    expect(file.tensors[0]!.byteLength).toBe(110)
    expect(() => tensorToFloat32(file, file.tensors[0]!)).toThrow(
      `GGUF: tensor 'blk.0.ffn_up.weight': tensor type Q3_K (11) cannot be decoded (supported: ${supported})`,
    )
  })

  it('Q8_0 rows that are not a multiple of 32', () => {
    expectGgufError(
      new Bytes().header(1, 0).tensor('q', [48, 2], GgmlType.Q8_0, 0).data(256).bytes(),
      "tensor 'q' of type Q8_0 (8) has rows of 48 elements, not a multiple of the block size 32",
    )
  })

  it('a bad general.alignment', () => {
    expectGgufError(
      new Bytes().header(0, 1).str('general.alignment').u32(4).u32(24).bytes(),
      "metadata key 'general.alignment' is 24, not a power of two",
    )
    expectGgufError(
      new Bytes().header(0, 1).str('general.alignment').u32(0).u8(32).bytes(),
      "metadata key 'general.alignment' is uint8, need uint32",
    )
  })
})

describe('writeGguf rejects', () => {
  const w = (spec: Partial<Parameters<typeof writeGguf>[0]>) => () =>
    writeGguf({ metadata: [], tensors: [], ...spec })
  const t = (over: object) => ({
    name: 'w',
    dims: [32],
    type: GgmlType.F32,
    data: new Float32Array(32),
    ...over,
  })

  it('bad metadata', () => {
    expect(
      w({
        metadata: [
          ['k', gguf.u8(1)],
          ['k', gguf.u8(2)],
        ],
      }),
    ).toThrow("duplicate metadata key 'k'")
    expect(w({ metadata: [['k', gguf.u8(256)]] })).toThrow(
      "metadata key 'k': 256 is not a valid u8",
    )
    expect(w({ metadata: [['k', gguf.i32(1.5)]] })).toThrow(
      "metadata key 'k': 1.5 is not a valid i32",
    )
    expect(w({ metadata: [['k', { type: 'u64', value: 5 as unknown as bigint }]] })).toThrow(
      "metadata key 'k': 5 is not a valid u64 (use a bigint)",
    )
    expect(w({ metadata: [['k', gguf.u64(-1n)]] })).toThrow(
      "metadata key 'k': -1 is not a valid u64",
    )
    expect(w({ metadata: [['k', gguf.array('u16', [1, 70000])]] })).toThrow(
      "metadata key 'k': 70000 is not a valid u16",
    )
    expect(w({ metadata: [['k', gguf.string('\ud800')]] })).toThrow(
      "metadata key 'k' contains a lone UTF-16 surrogate",
    )
    expect(w({ metadata: [['k', { type: 'u128', value: 1 } as never]] })).toThrow(
      "metadata key 'k': unknown value type 'u128'",
    )
    expect(w({ metadata: [['general.alignment', gguf.u8(32)]] })).toThrow(
      "metadata key 'general.alignment' must be u32, got u8",
    )
    expect(w({ metadata: [['general.alignment', gguf.u32(64)]], alignment: 32 })).toThrow(
      "alignment 32 disagrees with metadata 'general.alignment' = 64",
    )
    expect(w({ alignment: 48 })).toThrow('alignment 48 is not a power of two')
  })

  it('bad tensors', () => {
    expect(w({ tensors: [t({}), t({})] })).toThrow("duplicate tensor name 'w'")
    expect(w({ tensors: [t({ name: 'x'.repeat(64) })] })).toThrow('64 bytes or longer')
    expect(w({ tensors: [t({ dims: [1, 1, 1, 1, 32] })] })).toThrow("tensor 'w' needs 1..4 dims")
    expect(w({ tensors: [t({ dims: [0] })] })).toThrow("tensor 'w' has bad dims [0]")
    expect(w({ tensors: [t({ dims: [33] })] })).toThrow(
      "tensor 'w' has 32 values for dims [33] (33 expected)",
    )
    expect(w({ tensors: [t({ type: GgmlType.Q4_K })] })).toThrow(
      "tensor 'w' is Q4_K (12) with rows of 32 elements, not a multiple of 256",
    )
    expect(w({ tensors: [t({ type: GgmlType.Q3_K })] })).toThrow(
      "tensor 'w' has type Q3_K (11), the writer supports: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K",
    )
    expect(w({ tensors: [t({ type: GgmlType.Q8_0, dims: [16, 2] })] })).toThrow(
      "tensor 'w' is Q8_0 (8) with rows of 16 elements, not a multiple of 32",
    )
    const nan = new Float32Array(32)
    nan[5] = Number.NaN
    expect(w({ tensors: [t({ type: GgmlType.Q8_0, data: nan })] })).toThrow(
      "tensor 'w' value NaN at index 5 cannot be quantized to Q8_0",
    )
  })

  it('throws GgufError', () => {
    expect(w({ alignment: 3 })).toThrow(GgufError)
  })
})
