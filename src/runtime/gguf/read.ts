import { GgufError } from '../../errors/runtime.ts'
import { type ByteSource, toSource } from './source.ts'
import {
  GGML_TYPE_LAYOUT,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_MAX_DIMS,
  type GgmlType,
  type GgufFile,
  type GgufTensorInfo,
  type GgufValue,
  GgufValueType,
  ggmlTypeLabel,
  ggufValueTypeName,
  SUPPORTED_GGML_TYPES,
  SUPPORTED_TYPE_NAMES,
} from './types.ts'

export type ReadGgufOptions = {
  /**
   * Accept tensors of any type whose block layout is known (Q4_K, BF16, …) instead of rejecting
   * the file; decoding still refuses them. For tools that only describe a file.
   */
  anyTensorType?: boolean
}

/** Nested arrays deeper than this are refused, so a corrupt file cannot exhaust the stack. */
const MAX_ARRAY_DEPTH = 8

// Smallest encoding of one item of each value type: lets us refuse a count that cannot fit in
// the rest of the file before allocating or looping over it.
const MIN_VALUE_BYTES: readonly number[] = [1, 1, 2, 2, 4, 4, 4, 1, 8, 12, 8, 8, 8]
const MIN_KV_BYTES = 8 + 4 + 1 // key length, value type, smallest value
const MIN_TENSOR_INFO_BYTES = 8 + 4 + 8 + 4 + 8 // name length, n_dims, one dim, type, offset

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** The header is read in windows that grow until it fits: a file's data is never read here. */
const FIRST_WINDOW = 1 << 20

/** Reads the file's head through a window of its first bytes, grown (doubled) as parsing needs. */
class Cursor {
  pos = 0
  bytes: Uint8Array
  view: DataView
  constructor(readonly source: ByteSource) {
    this.bytes = source.read(0, Math.min(source.size, FIRST_WINDOW)).slice()
    this.view = new DataView(this.bytes.buffer)
  }

  /** Bytes left in the file (not only the window). */
  get remaining(): number {
    return this.source.size - this.pos
  }

  need(n: number, what: string): void {
    if (n > this.source.size - this.pos) {
      throw new GgufError(
        `truncated file: ${what} needs ${n} bytes at offset ${this.pos}, but the file has ${this.remaining} left`,
      )
    }
    if (this.pos + n > this.bytes.length) {
      const size = Math.min(this.source.size, Math.max(2 * this.bytes.length, this.pos + n))
      const grown = new Uint8Array(size)
      grown.set(this.bytes)
      grown.set(this.source.read(this.bytes.length, size - this.bytes.length), this.bytes.length)
      this.bytes = grown
      this.view = new DataView(grown.buffer)
    }
  }

  u8(what: string): number {
    this.need(1, what)
    return this.bytes[this.pos++]!
  }
  u32(what: string): number {
    this.need(4, what)
    const v = this.view.getUint32(this.pos, true)
    this.pos += 4
    return v
  }
  /** A u64 that must be a safe integer (counts, lengths, dims, offsets). */
  u64n(what: string): number {
    this.need(8, what)
    const lo = this.view.getUint32(this.pos, true)
    const hi = this.view.getUint32(this.pos + 4, true)
    if (hi >= 0x200000) {
      throw new GgufError(
        `${what} at offset ${this.pos} is ${this.view.getBigUint64(this.pos, true)}, larger than any file`,
      )
    }
    this.pos += 8
    return hi * 0x100000000 + lo
  }
  string(what: string): string {
    const start = this.pos
    const length = this.u64n(`${what} length`)
    this.need(length, what)
    const s = this.pos
    this.pos += length
    return decodeUtf8(this.bytes, s, length, what, start)
  }
}

function decodeUtf8(
  bytes: Uint8Array,
  start: number,
  length: number,
  what: string,
  at: number,
): string {
  // Short ASCII strings (most vocabulary entries) skip TextDecoder's per-call overhead.
  if (length <= 32) {
    let s = ''
    let i = 0
    for (; i < length; i++) {
      const b = bytes[start + i]!
      if (b >= 0x80) break
      s += String.fromCharCode(b)
    }
    if (i === length) return s
  }
  try {
    return utf8.decode(bytes.subarray(start, start + length))
  } catch {
    throw new GgufError(`${what} at offset ${at} is not valid UTF-8`)
  }
}

function readValue(c: Cursor, type: number, what: string, depth: number): GgufValue {
  // `need` may grow the window: read c.view only after it.
  switch (type) {
    case GgufValueType.UINT8:
      return c.u8(what)
    case GgufValueType.INT8:
      c.need(1, what)
      return c.view.getInt8(c.pos++)
    case GgufValueType.UINT16:
      c.need(2, what)
      c.pos += 2
      return c.view.getUint16(c.pos - 2, true)
    case GgufValueType.INT16:
      c.need(2, what)
      c.pos += 2
      return c.view.getInt16(c.pos - 2, true)
    case GgufValueType.UINT32:
      return c.u32(what)
    case GgufValueType.INT32:
      c.need(4, what)
      c.pos += 4
      return c.view.getInt32(c.pos - 4, true)
    case GgufValueType.FLOAT32:
      c.need(4, what)
      c.pos += 4
      return c.view.getFloat32(c.pos - 4, true)
    case GgufValueType.BOOL: {
      const at = c.pos
      const b = c.u8(what)
      if (b > 1) throw new GgufError(`${what} at offset ${at} is a bool with byte value ${b}`)
      return b === 1
    }
    case GgufValueType.STRING:
      return c.string(what)
    case GgufValueType.ARRAY:
      return readArray(c, what, depth)[0]
    case GgufValueType.UINT64:
      c.need(8, what)
      c.pos += 8
      return c.view.getBigUint64(c.pos - 8, true)
    case GgufValueType.INT64:
      c.need(8, what)
      c.pos += 8
      return c.view.getBigInt64(c.pos - 8, true)
    case GgufValueType.FLOAT64:
      c.need(8, what)
      c.pos += 8
      return c.view.getFloat64(c.pos - 8, true)
    default:
      throw new GgufError(`${what} has unknown value type ${type} at offset ${c.pos - 4}`)
  }
}

function readArray(c: Cursor, what: string, depth: number): [GgufValue[], number] {
  if (depth >= MAX_ARRAY_DEPTH) {
    throw new GgufError(`${what} nests arrays deeper than ${MAX_ARRAY_DEPTH} at offset ${c.pos}`)
  }
  const typeAt = c.pos
  const itemType = c.u32(`${what} array item type`)
  const minBytes = MIN_VALUE_BYTES[itemType]
  if (minBytes === undefined) {
    throw new GgufError(`${what} is an array of unknown value type ${itemType} at offset ${typeAt}`)
  }
  const countAt = c.pos
  const count = c.u64n(`${what} array length`)
  if (count * minBytes > c.remaining) {
    throw new GgufError(
      `${what} array length ${count} at offset ${countAt} cannot fit in the ${c.remaining} bytes left`,
    )
  }
  const out: GgufValue[] = new Array(count)
  for (let i = 0; i < count; i++) out[i] = readValue(c, itemType, what, depth + 1)
  return [out, itemType]
}

/**
 * Parses a GGUF v2/v3 file (little-endian). Validates the whole structure and every tensor's
 * placement; only the head of the file is read (tensor data is read on demand, by rows, when a
 * model loads). Throws `GgufError` for anything malformed or unsupported.
 */
export function readGguf(input: Uint8Array | ByteSource, options: ReadGgufOptions = {}): GgufFile {
  const source = toSource(input)
  const fileSize = source.size
  if (fileSize < 4) throw new GgufError(`truncated file: ${fileSize} bytes, no header`)
  const c = new Cursor(source)

  // --- header
  const magic = c.u32('magic')
  if (magic !== GGUF_MAGIC) {
    const hex = Array.from(c.bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ')
    throw new GgufError(`bad magic at offset 0: ${hex} (expected 47 47 55 46, "GGUF")`)
  }
  const version = c.u32('version')
  if (version === 1) {
    throw new GgufError('GGUF version 1 is not supported (it used 32-bit counts): need 2 or 3')
  }
  if (version !== 2 && version !== 3) {
    // A big-endian file's version reads byte-swapped here.
    const swapped =
      (((version & 0xff) << 24) |
        ((version & 0xff00) << 8) |
        ((version >>> 8) & 0xff00) |
        (version >>> 24)) >>>
      0
    if (version > 0xffff && (swapped === 2 || swapped === 3)) {
      throw new GgufError(`big-endian GGUF files are not supported (version ${swapped})`)
    }
    throw new GgufError(`unsupported GGUF version ${version} at offset 4: need 2 or 3`)
  }
  const tensorCountAt = c.pos
  const tensorCount = c.u64n('tensor count')
  const kvCountAt = c.pos
  const kvCount = c.u64n('metadata count')
  if (kvCount * MIN_KV_BYTES > c.remaining) {
    throw new GgufError(
      `metadata count ${kvCount} at offset ${kvCountAt} cannot fit in the ${c.remaining} bytes left`,
    )
  }

  // --- metadata
  const metadata = new Map<string, GgufValue>()
  const metadataTypes = new Map<string, GgufValueType>()
  const arrayItemTypes = new Map<string, GgufValueType>()
  for (let i = 0; i < kvCount; i++) {
    const keyAt = c.pos
    const key = c.string(`metadata key #${i}`)
    if (metadata.has(key)) throw new GgufError(`duplicate metadata key '${key}' at offset ${keyAt}`)
    const typeAt = c.pos
    const type = c.u32(`type of metadata key '${key}'`)
    if (type > GgufValueType.FLOAT64) {
      throw new GgufError(
        `metadata key '${key}' has unknown value type ${type} at offset ${typeAt}`,
      )
    }
    const what = `metadata key '${key}'`
    if (type === GgufValueType.ARRAY) {
      const [value, itemType] = readArray(c, what, 0)
      metadata.set(key, value)
      arrayItemTypes.set(key, itemType as GgufValueType)
    } else {
      metadata.set(key, readValue(c, type, what, 0))
    }
    metadataTypes.set(key, type as GgufValueType)
  }

  let alignment = GGUF_DEFAULT_ALIGNMENT
  if (metadata.has('general.alignment')) {
    const t = metadataTypes.get('general.alignment')!
    if (t !== GgufValueType.UINT32) {
      throw new GgufError(
        `metadata key 'general.alignment' is ${ggufValueTypeName(t)}, need uint32`,
      )
    }
    alignment = metadata.get('general.alignment') as number
    if (alignment === 0 || (alignment & (alignment - 1)) !== 0) {
      throw new GgufError(`metadata key 'general.alignment' is ${alignment}, not a power of two`)
    }
  }

  // --- tensor infos
  if (tensorCount * MIN_TENSOR_INFO_BYTES > c.remaining) {
    throw new GgufError(
      `tensor count ${tensorCount} at offset ${tensorCountAt} cannot fit in the ${c.remaining} bytes left`,
    )
  }
  const names = new Set<string>()
  const raw: Array<{ name: string; dims: number[]; type: GgmlType; rel: number; at: number }> = []
  for (let i = 0; i < tensorCount; i++) {
    const at = c.pos
    const name = c.string(`tensor #${i} name`)
    if (names.has(name)) throw new GgufError(`duplicate tensor name '${name}' at offset ${at}`)
    names.add(name)
    const nDimsAt = c.pos
    const nDims = c.u32(`tensor '${name}' n_dims`)
    if (nDims < 1 || nDims > GGUF_MAX_DIMS) {
      throw new GgufError(
        `tensor '${name}' has ${nDims} dimensions at offset ${nDimsAt}: need 1..${GGUF_MAX_DIMS}`,
      )
    }
    const dims: number[] = []
    let elements = 1
    for (let d = 0; d < nDims; d++) {
      const dimAt = c.pos
      const dim = c.u64n(`tensor '${name}' dim ${d}`)
      if (dim < 1) throw new GgufError(`tensor '${name}' dim ${d} is 0 at offset ${dimAt}`)
      elements *= dim
      // No ggml type packs more than 8 elements per byte (Q1_0: 7.1), so a larger product is
      // corrupt; the bound also keeps the product an exact integer.
      if (elements > fileSize * 8) {
        throw new GgufError(
          `tensor '${name}' dims [${[...dims, dim].join(', ')}] at offset ${dimAt} have more elements than the file can hold`,
        )
      }
      dims.push(dim)
    }
    const typeAt = c.pos
    const type = c.u32(`tensor '${name}' type`)
    const supported = SUPPORTED_GGML_TYPES.includes(type)
    if (!supported && !(options.anyTensorType && GGML_TYPE_LAYOUT.has(type))) {
      throw new GgufError(
        `tensor '${name}' has type ${ggmlTypeLabel(type)}, supported: ${SUPPORTED_TYPE_NAMES} (type field at offset ${typeAt})`,
      )
    }
    const rel = c.u64n(`tensor '${name}' offset`)
    raw.push({ name, dims, type, rel, at })
  }

  const infoEnd = c.pos
  const dataOffset = Math.ceil(infoEnd / alignment) * alignment
  if (raw.length > 0 && dataOffset > fileSize) {
    throw new GgufError(
      `truncated file: tensor data section starts at offset ${dataOffset}, past the end (${fileSize})`,
    )
  }

  // --- tensor placement
  const tensors: GgufTensorInfo[] = raw.map(({ name, dims, type, rel }) => {
    const [block, blockBytes] = GGML_TYPE_LAYOUT.get(type)!
    const rowLength = dims[0]!
    if (rowLength % block !== 0) {
      throw new GgufError(
        `tensor '${name}' of type ${ggmlTypeLabel(type)} has rows of ${rowLength} elements, not a multiple of the block size ${block}`,
      )
    }
    let rows = 1
    for (let d = 1; d < dims.length; d++) rows *= dims[d]!
    const byteLength = rows * (rowLength / block) * blockBytes
    if (rel % alignment !== 0) {
      throw new GgufError(
        `tensor '${name}' data offset ${rel} is not aligned to ${alignment} bytes`,
      )
    }
    const offset = dataOffset + rel
    if (offset + byteLength > fileSize) {
      throw new GgufError(
        `truncated file: tensor '${name}' data [${offset}, ${offset + byteLength}) extends past the end of the file (${fileSize} bytes)`,
      )
    }
    return { name, dims, type, offset, byteLength }
  })

  const byOffset = tensors.slice().sort((a, b) => a.offset - b.offset)
  for (let i = 1; i < byOffset.length; i++) {
    const prev = byOffset[i - 1]!
    const cur = byOffset[i]!
    if (cur.offset < prev.offset + prev.byteLength) {
      throw new GgufError(
        `tensors '${prev.name}' [${prev.offset}, ${prev.offset + prev.byteLength}) and '${cur.name}' [${cur.offset}, ${cur.offset + cur.byteLength}) overlap`,
      )
    }
  }

  return {
    version,
    alignment,
    metadata,
    metadataTypes,
    arrayItemTypes,
    tensors,
    dataOffset,
    size: fileSize,
    source,
  }
}
