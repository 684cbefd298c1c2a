import { GgufError } from '../../errors/runtime.ts'
import { encodeTensorData } from './quantize.ts'
import {
  GGML_MAX_NAME,
  GGML_TYPE_LAYOUT,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_MAX_DIMS,
  GgufValueType,
  ggmlTypeLabel,
  SUPPORTED_GGML_TYPES,
  SUPPORTED_TYPE_NAMES,
} from './types.ts'

/** JS type of each scalar metadata type the writer accepts. */
export type GgufScalarJs = {
  u8: number
  i8: number
  u16: number
  i16: number
  u32: number
  i32: number
  f32: number
  f64: number
  u64: bigint
  i64: bigint
  bool: boolean
  string: string
}
export type GgufScalarTypeName = keyof GgufScalarJs

export type GgufScalarWriteValue = {
  [K in GgufScalarTypeName]: { type: K; value: GgufScalarJs[K] }
}[GgufScalarTypeName]

export type GgufArrayWriteValue =
  | {
      [K in GgufScalarTypeName]: { type: 'array'; itemType: K; value: readonly GgufScalarJs[K][] }
    }[GgufScalarTypeName]
  | { type: 'array'; itemType: 'array'; value: readonly GgufArrayWriteValue[] }

/** A metadata value with its GGUF type spelled out, since JS numbers do not say u32 or f32. */
export type GgufWriteValue = GgufScalarWriteValue | GgufArrayWriteValue

export type GgufWriteTensor = {
  name: string
  /** ne order: dims[0] is the row length (fastest-varying). */
  dims: number[]
  /** Any supported type; the writer converts `data` to it (encodeTensorData). */
  type: number
  data: Float32Array
}

export type GgufWriteSpec = {
  metadata: Array<[key: string, value: GgufWriteValue]>
  tensors: GgufWriteTensor[]
  /** Power of two; written as `general.alignment` when it is not the default 32. */
  alignment?: number
}

/** Constructors for typed metadata values: `gguf.u32(5)`, `gguf.array('string', names)`. */
export const gguf = {
  u8: (value: number) => ({ type: 'u8', value }) as const,
  i8: (value: number) => ({ type: 'i8', value }) as const,
  u16: (value: number) => ({ type: 'u16', value }) as const,
  i16: (value: number) => ({ type: 'i16', value }) as const,
  u32: (value: number) => ({ type: 'u32', value }) as const,
  i32: (value: number) => ({ type: 'i32', value }) as const,
  f32: (value: number) => ({ type: 'f32', value }) as const,
  f64: (value: number) => ({ type: 'f64', value }) as const,
  u64: (value: bigint) => ({ type: 'u64', value }) as const,
  i64: (value: bigint) => ({ type: 'i64', value }) as const,
  bool: (value: boolean) => ({ type: 'bool', value }) as const,
  string: (value: string) => ({ type: 'string', value }) as const,
  array: <K extends GgufScalarTypeName>(
    itemType: K,
    value: readonly GgufScalarJs[K][],
  ): GgufArrayWriteValue => ({ type: 'array', itemType, value }) as GgufArrayWriteValue,
  /**
   * An array of arrays. The GGUF spec allows it, but llama.cpp's reader refuses such files:
   * keep nested arrays out of any file llama.cpp must load.
   */
  arrays: (value: readonly GgufArrayWriteValue[]): GgufArrayWriteValue => ({
    type: 'array',
    itemType: 'array',
    value,
  }),
}

const TYPE_IDS: Record<GgufScalarTypeName | 'array', number> = {
  u8: GgufValueType.UINT8,
  i8: GgufValueType.INT8,
  u16: GgufValueType.UINT16,
  i16: GgufValueType.INT16,
  u32: GgufValueType.UINT32,
  i32: GgufValueType.INT32,
  f32: GgufValueType.FLOAT32,
  bool: GgufValueType.BOOL,
  string: GgufValueType.STRING,
  array: GgufValueType.ARRAY,
  u64: GgufValueType.UINT64,
  i64: GgufValueType.INT64,
  f64: GgufValueType.FLOAT64,
}

const INT_RANGES: Partial<Record<string, [number, number]>> = {
  u8: [0, 0xff],
  i8: [-0x80, 0x7f],
  u16: [0, 0xffff],
  i16: [-0x8000, 0x7fff],
  u32: [0, 0xffffffff],
  i32: [-0x80000000, 0x7fffffff],
}

const encoder = new TextEncoder()
// With the u flag a well-formed surrogate pair is one code point, so this finds lone halves
// only; TextEncoder would silently turn those into U+FFFD and break the round trip.
const loneSurrogate = /\p{Cs}/u

/** Growable little-endian byte sink for the header, metadata and tensor infos. */
class Sink {
  buf = new Uint8Array(4096)
  view = new DataView(this.buf.buffer)
  pos = 0
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.pos + n) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buf.subarray(0, this.pos))
    this.buf = next
    this.view = new DataView(next.buffer)
  }
  u8(v: number): void {
    this.reserve(1)
    this.buf[this.pos++] = v
  }
  u32(v: number): void {
    this.reserve(4)
    this.view.setUint32(this.pos, v, true)
    this.pos += 4
  }
  u64(v: number | bigint): void {
    this.reserve(8)
    this.view.setBigUint64(this.pos, BigInt(v), true)
    this.pos += 8
  }
  string(s: string, what: string): void {
    if (typeof s !== 'string') throw new GgufError(`${what} is not a string`)
    if (loneSurrogate.test(s)) throw new GgufError(`${what} contains a lone UTF-16 surrogate`)
    const b = encoder.encode(s)
    this.u64(b.length)
    this.reserve(b.length)
    this.buf.set(b, this.pos)
    this.pos += b.length
  }
}

function writeScalar(sink: Sink, type: string, value: unknown, what: string): void {
  const range = INT_RANGES[type]
  if (range) {
    if (
      typeof value !== 'number' ||
      !Number.isInteger(value) ||
      value < range[0] ||
      value > range[1]
    ) {
      throw new GgufError(`${what}: ${String(value)} is not a valid ${type}`)
    }
  }
  const v = sink.view
  switch (type) {
    case 'u8':
    case 'i8':
      sink.u8((value as number) & 0xff)
      return
    case 'u16':
    case 'i16':
      sink.reserve(2)
      v.setUint16(sink.pos, (value as number) & 0xffff, true)
      sink.pos += 2
      return
    case 'u32':
    case 'i32':
      sink.u32((value as number) >>> 0)
      return
    case 'f32':
    case 'f64':
      if (typeof value !== 'number')
        throw new GgufError(`${what}: ${String(value)} is not a number`)
      sink.reserve(8)
      if (type === 'f32') {
        sink.view.setFloat32(sink.pos, value, true)
        sink.pos += 4
      } else {
        sink.view.setFloat64(sink.pos, value, true)
        sink.pos += 8
      }
      return
    case 'u64':
    case 'i64': {
      const min = type === 'u64' ? 0n : -(1n << 63n)
      const max = type === 'u64' ? (1n << 64n) - 1n : (1n << 63n) - 1n
      if (typeof value !== 'bigint' || value < min || value > max) {
        throw new GgufError(`${what}: ${String(value)} is not a valid ${type} (use a bigint)`)
      }
      sink.u64(BigInt.asUintN(64, value))
      return
    }
    case 'bool':
      if (typeof value !== 'boolean') throw new GgufError(`${what}: ${String(value)} is not a bool`)
      sink.u8(value ? 1 : 0)
      return
    case 'string':
      sink.string(value as string, what)
      return
    default:
      throw new GgufError(`${what}: unknown value type '${type}'`)
  }
}

function writeArray(sink: Sink, value: GgufArrayWriteValue, what: string): void {
  const itemType = TYPE_IDS[value.itemType]
  if (itemType === undefined || !Array.isArray(value.value)) {
    throw new GgufError(`${what}: bad array (item type '${String(value.itemType)}')`)
  }
  sink.u32(itemType)
  sink.u64(value.value.length)
  if (value.itemType === 'array') {
    for (const item of value.value as readonly GgufArrayWriteValue[]) {
      if (item?.type !== 'array') throw new GgufError(`${what}: nested item is not an array`)
      writeArray(sink, item, what)
    }
  } else {
    for (const item of value.value) writeScalar(sink, value.itemType, item, what)
  }
}

function writeValue(sink: Sink, value: GgufWriteValue, what: string): void {
  const typeId = TYPE_IDS[value?.type as GgufScalarTypeName]
  if (typeId === undefined)
    throw new GgufError(`${what}: unknown value type '${String(value?.type)}'`)
  sink.u32(typeId)
  if (value.type === 'array') writeArray(sink, value, what)
  else writeScalar(sink, value.type, value.value, what)
}

const pad = (n: number, alignment: number) => Math.ceil(n / alignment) * alignment

/** A tensor's name, shape and type: what the header says of it (its data is written apart). */
export type GgufTensorHeader = Omit<GgufWriteTensor, 'data'>

/** The head of a file (header, metadata, tensor infos, padding) and where each tensor's data goes. */
export type GgufLayout = {
  /** Everything before the data section, padded to the alignment. */
  head: Uint8Array
  alignment: number
  /** Per tensor, in spec order: byte offset from the file's start, and byte length. */
  tensors: { name: string; offset: number; byteLength: number }[]
  /** The file's total length. */
  size: number
}

/**
 * Lays out a GGUF v3 file exactly as llama.cpp's gguf_write: header, metadata, tensor infos, zero
 * padding to the alignment, then each tensor's data padded to the alignment. Writers that stream
 * a large file (the benchmark's) write `head`, then each tensor's encoded rows at its offset.
 */
export function ggufLayout(spec: {
  metadata: GgufWriteSpec['metadata']
  tensors: readonly GgufTensorHeader[]
  alignment?: number
}): GgufLayout {
  const metadata = [...spec.metadata]
  const keys = new Set<string>()
  for (const [key] of metadata) {
    if (keys.has(key)) throw new GgufError(`duplicate metadata key '${key}'`)
    keys.add(key)
  }

  // --- alignment: spec.alignment and general.alignment must agree; llama.cpp reads the key.
  const alignKv = metadata.find(([k]) => k === 'general.alignment')?.[1]
  if (alignKv && alignKv.type !== 'u32') {
    throw new GgufError(`metadata key 'general.alignment' must be u32, got ${alignKv.type}`)
  }
  const alignment =
    spec.alignment ?? (alignKv?.value as number | undefined) ?? GGUF_DEFAULT_ALIGNMENT
  if (
    !Number.isInteger(alignment) ||
    alignment < 1 ||
    alignment > 0x80000000 ||
    (alignment & (alignment - 1)) !== 0
  ) {
    throw new GgufError(`alignment ${alignment} is not a power of two`)
  }
  if (alignKv && alignKv.value !== alignment) {
    throw new GgufError(
      `alignment ${alignment} disagrees with metadata 'general.alignment' = ${alignKv.value}`,
    )
  }
  if (!alignKv && alignment !== GGUF_DEFAULT_ALIGNMENT) {
    metadata.push(['general.alignment', { type: 'u32', value: alignment }])
  }

  // --- tensors: validate and lay out
  const names = new Set<string>()
  const layout = spec.tensors.map((t) => {
    const { name, dims, type } = t
    if (typeof name !== 'string') throw new GgufError('tensor name is not a string')
    if (names.has(name)) throw new GgufError(`duplicate tensor name '${name}'`)
    names.add(name)
    if (encoder.encode(name).length >= GGML_MAX_NAME) {
      throw new GgufError(
        `tensor name '${name}' is ${GGML_MAX_NAME} bytes or longer (llama.cpp limit)`,
      )
    }
    if (!Array.isArray(dims) || dims.length < 1 || dims.length > GGUF_MAX_DIMS) {
      throw new GgufError(`tensor '${name}' needs 1..${GGUF_MAX_DIMS} dims, got ${String(dims)}`)
    }
    let n = 1
    for (const d of dims) {
      if (!Number.isSafeInteger(d) || d < 1) {
        throw new GgufError(`tensor '${name}' has bad dims [${dims.join(', ')}]`)
      }
      n *= d
    }
    if (!SUPPORTED_GGML_TYPES.includes(type)) {
      throw new GgufError(
        `tensor '${name}' has type ${ggmlTypeLabel(type)}, the writer supports: ${SUPPORTED_TYPE_NAMES}`,
      )
    }
    const [block, blockBytes] = GGML_TYPE_LAYOUT.get(type)!
    if (dims[0]! % block !== 0) {
      throw new GgufError(
        `tensor '${name}' is ${ggmlTypeLabel(type)} with rows of ${dims[0]} elements, not a multiple of ${block}`,
      )
    }
    return { name, dims, type, n, byteLength: (n / block) * blockBytes, rel: 0 }
  })
  let dataSize = 0
  for (const t of layout) {
    t.rel = dataSize
    dataSize += pad(t.byteLength, alignment)
  }

  // --- header, metadata, tensor infos
  const sink = new Sink()
  sink.u32(GGUF_MAGIC)
  sink.u32(3)
  sink.u64(layout.length)
  sink.u64(metadata.length)
  for (const [key, value] of metadata) {
    sink.string(key, `metadata key '${key}'`)
    writeValue(sink, value, `metadata key '${key}'`)
  }
  for (const t of layout) {
    sink.string(t.name, `tensor name '${t.name}'`)
    sink.u32(t.dims.length)
    for (const d of t.dims) sink.u64(d)
    sink.u32(t.type)
    sink.u64(t.rel)
  }
  const dataOffset = pad(sink.pos, alignment)
  const head = new Uint8Array(dataOffset)
  head.set(sink.buf.subarray(0, sink.pos))
  return {
    head,
    alignment,
    tensors: layout.map((t) => ({
      name: t.name,
      offset: dataOffset + t.rel,
      byteLength: t.byteLength,
    })),
    size: dataOffset + dataSize,
  }
}

/**
 * Serializes a GGUF v3 file (see ggufLayout) in one allocation. Float data is converted to each
 * tensor's type (encodeTensorData: F16 and BF16 round to nearest even, Q8_0 and Q4_0..Q5_1 as
 * llama.cpp's reference quantizers, K-quants by the project's own fit).
 */
export function writeGguf(spec: GgufWriteSpec): Uint8Array {
  const layout = ggufLayout(spec)
  for (const t of spec.tensors) {
    let n = 1
    for (const d of Array.isArray(t.dims) ? t.dims : []) n *= d
    if (!(t.data instanceof Float32Array) || t.data.length !== n) {
      throw new GgufError(
        `tensor '${t.name}' has ${t.data?.length} values for dims [${String(t.dims)}] (${n} expected)`,
      )
    }
  }
  const out = new Uint8Array(layout.size)
  out.set(layout.head)
  spec.tensors.forEach((t, i) => {
    encodeTensorData(t.type, t.data, out, layout.tensors[i]!.offset, t.name)
  })
  return out
}
