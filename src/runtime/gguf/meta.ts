import { GgufError } from '../../errors/runtime.ts'
import { type GgufFile, type GgufValue, ggufValueTypeName } from './types.ts'

// Accessors for the model loader and tokenizer: each names the key it could not satisfy.

function typeOf(file: GgufFile, key: string): string {
  return ggufValueTypeName(file.metadataTypes.get(key) ?? -1)
}

function required(file: GgufFile, key: string): GgufValue {
  const value = file.metadata.get(key)
  if (value === undefined) throw new GgufError(`metadata key '${key}' is missing`)
  return value
}

function asNumber(file: GgufFile, key: string, value: GgufValue): number {
  if (typeof value === 'number') return value
  // 64-bit integers are fine when they are exact as numbers (e.g. a count written as u64).
  if (typeof value === 'bigint' && value >= -(2n ** 53n) + 1n && value <= 2n ** 53n - 1n) {
    return Number(value)
  }
  throw new GgufError(`metadata key '${key}' is ${typeOf(file, key)}, expected a number`)
}

/** A string value; throws when missing or not a string. */
export function metaString(file: GgufFile, key: string): string {
  const value = required(file, key)
  if (typeof value !== 'string') {
    throw new GgufError(`metadata key '${key}' is ${typeOf(file, key)}, expected a string`)
  }
  return value
}

export function metaOptionalString(file: GgufFile, key: string): string | undefined {
  return file.metadata.has(key) ? metaString(file, key) : undefined
}

/** Any numeric value (integer or float types, and 64-bit integers that fit in 2^53). */
export function metaNumber(file: GgufFile, key: string): number {
  return asNumber(file, key, required(file, key))
}

export function metaOptionalNumber(file: GgufFile, key: string): number | undefined {
  return file.metadata.has(key) ? metaNumber(file, key) : undefined
}

/** A numeric value that must be an integer (any integer type, or a float holding one). */
export function metaInteger(file: GgufFile, key: string): number {
  const value = metaNumber(file, key)
  if (!Number.isInteger(value)) {
    throw new GgufError(`metadata key '${key}' is ${value}, expected an integer`)
  }
  return value
}

export function metaOptionalInteger(file: GgufFile, key: string): number | undefined {
  return file.metadata.has(key) ? metaInteger(file, key) : undefined
}

export function metaBool(file: GgufFile, key: string): boolean {
  const value = required(file, key)
  if (typeof value !== 'boolean') {
    throw new GgufError(`metadata key '${key}' is ${typeOf(file, key)}, expected a bool`)
  }
  return value
}

export function metaOptionalBool(file: GgufFile, key: string): boolean | undefined {
  return file.metadata.has(key) ? metaBool(file, key) : undefined
}

/** An array value of any item type. */
export function metaArray(file: GgufFile, key: string): GgufValue[] {
  const value = required(file, key)
  if (!Array.isArray(value)) {
    throw new GgufError(`metadata key '${key}' is ${typeOf(file, key)}, expected an array`)
  }
  return value
}

export function metaOptionalArray(file: GgufFile, key: string): GgufValue[] | undefined {
  return file.metadata.has(key) ? metaArray(file, key) : undefined
}

/** An array whose items are all strings (token lists, merges). */
export function metaStringArray(file: GgufFile, key: string): string[] {
  const value = metaArray(file, key)
  for (let i = 0; i < value.length; i++) {
    if (typeof value[i] !== 'string') {
      throw new GgufError(`metadata key '${key}' item ${i} is not a string`)
    }
  }
  return value as string[]
}

export function metaOptionalStringArray(file: GgufFile, key: string): string[] | undefined {
  return file.metadata.has(key) ? metaStringArray(file, key) : undefined
}

/** An array whose items are all numbers (token scores, token types). */
export function metaNumberArray(file: GgufFile, key: string): number[] {
  const value = metaArray(file, key)
  const out = new Array<number>(value.length)
  for (let i = 0; i < value.length; i++) {
    const item = value[i]!
    if (typeof item === 'number') out[i] = item
    else if (typeof item === 'bigint') out[i] = asNumber(file, `${key}[${i}]`, item)
    else throw new GgufError(`metadata key '${key}' item ${i} is not a number`)
  }
  return out
}

export function metaOptionalNumberArray(file: GgufFile, key: string): number[] | undefined {
  return file.metadata.has(key) ? metaNumberArray(file, key) : undefined
}
