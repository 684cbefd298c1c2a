import type { ByteSource } from './source.ts'

/**
 * GGUF and ggml constants and the shapes the reader returns.
 * Ids follow llama.cpp's `ggml.h` / gguf-py `constants.py`; they are part of the file format.
 */

/** Tensor element types (`enum ggml_type`). Gaps are ids that ggml removed. */
export const GgmlType = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q5_0: 6,
  Q5_1: 7,
  Q8_0: 8,
  Q8_1: 9,
  Q2_K: 10,
  Q3_K: 11,
  Q4_K: 12,
  Q5_K: 13,
  Q6_K: 14,
  Q8_K: 15,
  IQ2_XXS: 16,
  IQ2_XS: 17,
  IQ3_XXS: 18,
  IQ1_S: 19,
  IQ4_NL: 20,
  IQ3_S: 21,
  IQ2_S: 22,
  IQ4_XS: 23,
  I8: 24,
  I16: 25,
  I32: 26,
  I64: 27,
  F64: 28,
  IQ1_M: 29,
  BF16: 30,
  TQ1_0: 34,
  TQ2_0: 35,
  MXFP4: 39,
  NVFP4: 40,
  Q1_0: 41,
  Q2_0: 42,
} as const
export type GgmlTypeName = keyof typeof GgmlType
/** A ggml type id. Files may carry ids we do not know, so this stays a plain number. */
export type GgmlType = number

/** The types this runtime can decode (dequant.ts); everything else is named in an error. */
export const SUPPORTED_GGML_TYPES: readonly GgmlType[] = [
  GgmlType.F32,
  GgmlType.F16,
  GgmlType.BF16,
  GgmlType.Q4_0,
  GgmlType.Q4_1,
  GgmlType.Q5_0,
  GgmlType.Q5_1,
  GgmlType.Q8_0,
  GgmlType.Q4_K,
  GgmlType.Q5_K,
  GgmlType.Q6_K,
]

/** `F32, F16, …`: the supported types, for error messages. */
export const SUPPORTED_TYPE_NAMES = 'F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K'

const typeNames = new Map<number, string>(Object.entries(GgmlType).map(([name, id]) => [id, name]))

/** `Q4_K (12)` for known ids, `unknown (77)` otherwise: error messages use it. */
export function ggmlTypeLabel(type: number): string {
  return `${typeNames.get(type) ?? 'unknown'} (${type})`
}

/** The name of a known id (`Q8_0`), or undefined. */
export function ggmlTypeName(type: number): string | undefined {
  return typeNames.get(type)
}

/**
 * [elements per block, bytes per block] per type, from gguf-py's GGML_QUANT_SIZES. Knowing the
 * layout of types we cannot decode still lets the reader bound-check files that use them.
 */
export const GGML_TYPE_LAYOUT: ReadonlyMap<number, readonly [block: number, bytes: number]> =
  new Map<number, readonly [number, number]>([
    [GgmlType.F32, [1, 4]],
    [GgmlType.F16, [1, 2]],
    [GgmlType.Q4_0, [32, 18]],
    [GgmlType.Q4_1, [32, 20]],
    [GgmlType.Q5_0, [32, 22]],
    [GgmlType.Q5_1, [32, 24]],
    [GgmlType.Q8_0, [32, 34]],
    [GgmlType.Q8_1, [32, 36]],
    [GgmlType.Q2_K, [256, 84]],
    [GgmlType.Q3_K, [256, 110]],
    [GgmlType.Q4_K, [256, 144]],
    [GgmlType.Q5_K, [256, 176]],
    [GgmlType.Q6_K, [256, 210]],
    [GgmlType.Q8_K, [256, 292]],
    [GgmlType.IQ2_XXS, [256, 66]],
    [GgmlType.IQ2_XS, [256, 74]],
    [GgmlType.IQ3_XXS, [256, 98]],
    [GgmlType.IQ1_S, [256, 50]],
    [GgmlType.IQ4_NL, [32, 18]],
    [GgmlType.IQ3_S, [256, 110]],
    [GgmlType.IQ2_S, [256, 82]],
    [GgmlType.IQ4_XS, [256, 136]],
    [GgmlType.I8, [1, 1]],
    [GgmlType.I16, [1, 2]],
    [GgmlType.I32, [1, 4]],
    [GgmlType.I64, [1, 8]],
    [GgmlType.F64, [1, 8]],
    [GgmlType.IQ1_M, [256, 56]],
    [GgmlType.BF16, [1, 2]],
    [GgmlType.TQ1_0, [256, 54]],
    [GgmlType.TQ2_0, [256, 66]],
    [GgmlType.MXFP4, [32, 17]],
    [GgmlType.NVFP4, [64, 36]],
    [GgmlType.Q1_0, [128, 18]],
    [GgmlType.Q2_0, [64, 18]],
  ])

/** Metadata value types (`enum gguf_type`). */
export const GgufValueType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const
export type GgufValueType = (typeof GgufValueType)[keyof typeof GgufValueType]

const valueTypeNames = new Map<number, string>(
  Object.entries(GgufValueType).map(([name, id]) => [id, name.toLowerCase()]),
)

/** `uint32`, `string`, `array`, …: error messages use it. */
export function ggufValueTypeName(type: number): string {
  return valueTypeNames.get(type) ?? `unknown (${type})`
}

/**
 * A decoded metadata value: integers up to 32 bits and floats as number, 64-bit integers as
 * bigint (they may exceed 2^53), arrays as JS arrays (possibly nested).
 */
export type GgufValue = number | bigint | boolean | string | GgufValue[]

export type GgufTensorInfo = {
  name: string
  /** ne order as stored: dims[0] is the fastest-varying (row length). */
  dims: number[]
  type: GgmlType
  /** Absolute byte offset of the data in the file. */
  offset: number
  byteLength: number
}

export type GgufFile = {
  version: number
  alignment: number
  metadata: Map<string, GgufValue>
  metadataTypes: Map<string, GgufValueType>
  /** The element type of each array-valued key (the outer array's, for nested arrays). */
  arrayItemTypes: Map<string, GgufValueType>
  tensors: GgufTensorInfo[]
  /** Absolute offset of the (aligned) tensor data section. */
  dataOffset: number
  /** The file's length in bytes. */
  size: number
  /** The file itself; tensor data is read from here on demand, never while parsing. */
  source: ByteSource
}

export const GGUF_MAGIC = 0x46554747 // "GGUF" read as a little-endian u32
export const GGUF_DEFAULT_ALIGNMENT = 32
/** llama.cpp's GGML_MAX_DIMS. */
export const GGUF_MAX_DIMS = 4
/** llama.cpp's GGML_MAX_NAME: names must be shorter than this (in bytes, with the NUL). */
export const GGML_MAX_NAME = 64
/** Q8_0 block: one f16 scale then 32 int8 quants. */
export const QK8_0 = 32
