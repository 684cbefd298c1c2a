/**
 * Mutation fuzzing of the GGUF reader, shared by the CI test (fixed seed, 10,000 cases) and
 * `scripts/fuzz-gguf.ts` (any count). Not exported from the package: test support only.
 */
import { GgufError } from '../../errors/runtime.ts'
import { readGguf } from './read.ts'
import { tensorRawQ8_0, tensorToFloat32 } from './tensor.ts'
import { GgmlType, GgufValueType } from './types.ts'
import { gguf, writeGguf } from './write.ts'

/** mulberry32: tiny, seeded, and the same on every engine. */
export function makeRng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }
}

function randomFloats(rng: () => number, n: number): Float32Array {
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) out[i] = (rng() / 0x100000000 - 0.5) * 4
  return out
}

/** Several small valid files covering every value type, tensor type and a custom alignment. */
export function fuzzSeedFiles(): Uint8Array[] {
  const rng = makeRng(1)
  const llamaLike = writeGguf({
    metadata: [
      ['general.architecture', gguf.string('llama')],
      ['general.name', gguf.string('fuzz-tiny')],
      ['llama.context_length', gguf.u32(64)],
      ['llama.embedding_length', gguf.u32(32)],
      ['llama.rope.freq_base', gguf.f32(10000)],
      ['tokenizer.ggml.model', gguf.string('llama')],
      ['tokenizer.ggml.tokens', gguf.array('string', ['<unk>', '<s>', '</s>', '▁a', 'é', '日本'])],
      ['tokenizer.ggml.scores', gguf.array('f32', [0, 0, 0, -1.5, -2, -3])],
      ['tokenizer.ggml.token_type', gguf.array('i32', [2, 3, 3, 1, 1, 1])],
    ],
    tensors: [
      {
        name: 'token_embd.weight',
        dims: [32, 6],
        type: GgmlType.Q8_0,
        data: randomFloats(rng, 192),
      },
      { name: 'output_norm.weight', dims: [32], type: GgmlType.F32, data: randomFloats(rng, 32) },
      {
        name: 'blk.0.attn_q.weight',
        dims: [32, 4],
        type: GgmlType.F16,
        data: randomFloats(rng, 128),
      },
    ],
  })
  const allTypes = writeGguf({
    metadata: [
      ['u8', gguf.u8(200)],
      ['i8', gguf.i8(-100)],
      ['u16', gguf.u16(60000)],
      ['i16', gguf.i16(-30000)],
      ['u32', gguf.u32(4000000000)],
      ['i32', gguf.i32(-2000000000)],
      ['f32', gguf.f32(1.5)],
      ['f64', gguf.f64(-2.25)],
      ['u64', gguf.u64(2n ** 63n)],
      ['i64', gguf.i64(-(2n ** 40n))],
      ['bool', gguf.bool(true)],
      ['string', gguf.string('hello ✓')],
      ['empty', gguf.array('u8', [])],
      ['nested', gguf.arrays([gguf.array('u16', [1, 2]), gguf.array('string', ['x'])])],
      ['bools', gguf.array('bool', [true, false])],
      ['u64s', gguf.array('u64', [1n, 2n])],
    ],
    tensors: [{ name: 'w', dims: [32, 2, 1, 1], type: GgmlType.Q8_0, data: randomFloats(rng, 64) }],
    alignment: 64,
  })
  const noTensors = writeGguf({ metadata: [['general.name', gguf.string('empty')]], tensors: [] })
  const manyTensors = writeGguf({
    metadata: [],
    tensors: Array.from({ length: 6 }, (_, i) => ({
      name: `t${i}`,
      dims: [i + 1],
      type: GgmlType.F32,
      data: randomFloats(rng, i + 1),
    })),
    alignment: 8,
  })
  const v2 = llamaLike.slice()
  v2[4] = 2
  return [llamaLike, allTypes, noTensors, manyTensors, v2]
}

/**
 * Offsets of the fields whose corruption is most likely to confuse a parser: every u64 count,
 * length, dim and offset, and every u32 type / n_dims field. Walks a file known to be valid.
 */
export function lengthFieldOffsets(bytes: Uint8Array): { u64: number[]; u32: number[] } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const u64: number[] = [8, 16]
  const u32: number[] = [4]
  let pos = 24
  const len = () => {
    u64.push(pos)
    const n = Number(view.getBigUint64(pos, true))
    pos += 8
    return n
  }
  const sizes: Record<number, number> = {
    0: 1,
    1: 1,
    2: 2,
    3: 2,
    4: 4,
    5: 4,
    6: 4,
    7: 1,
    10: 8,
    11: 8,
    12: 8,
  }
  const skipString = (): void => {
    const n = len()
    pos += n
  }
  const value = (type: number): void => {
    if (type === GgufValueType.STRING) skipString()
    else if (type === GgufValueType.ARRAY) {
      u32.push(pos)
      const item = view.getUint32(pos, true)
      pos += 4
      const n = len()
      for (let i = 0; i < n; i++) value(item)
    } else pos += sizes[type]!
  }
  const tensorCount = Number(view.getBigUint64(8, true))
  const kvCount = Number(view.getBigUint64(16, true))
  for (let i = 0; i < kvCount; i++) {
    skipString()
    u32.push(pos)
    const type = view.getUint32(pos, true)
    pos += 4
    value(type)
  }
  for (let i = 0; i < tensorCount; i++) {
    skipString()
    u32.push(pos)
    const nDims = view.getUint32(pos, true)
    pos += 4
    for (let d = 0; d < nDims; d++) len()
    u32.push(pos)
    pos += 4
    len()
  }
  return { u64, u32 }
}

const INTERESTING_U64 = [
  0n,
  1n,
  2n,
  31n,
  32n,
  33n,
  0x7fn,
  0xffn,
  0x7fffffffn,
  0xffffffffn,
  0x100000000n,
  2n ** 53n - 1n,
  2n ** 53n,
  2n ** 63n - 1n,
  2n ** 63n,
  2n ** 64n - 1n,
]
const INTERESTING_U32 = [0, 1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 30, 100, 0x7fffffff, 0xffffffff]
const INTERESTING_BYTES = [0, 1, 0x7f, 0x80, 0xff]

export const MUTATIONS = [
  'bitflip',
  'byteset',
  'truncate',
  'insert',
  'delete',
  'u64field',
  'u32field',
  'multi',
] as const
export type Mutation = (typeof MUTATIONS)[number]

/** One mutated copy of `file`; `fields` are its length-field offsets. */
export function mutate(
  rng: () => number,
  file: Uint8Array,
  fields: { u64: number[]; u32: number[] },
  kind: Mutation,
): Uint8Array {
  const pick = <T>(xs: readonly T[]): T => xs[rng() % xs.length]!
  const at = () => rng() % file.length
  switch (kind) {
    case 'bitflip': {
      const out = file.slice()
      const i = at()
      out[i]! ^= 1 << (rng() % 8)
      return out
    }
    case 'byteset': {
      const out = file.slice()
      out[at()] = rng() % 2 ? pick(INTERESTING_BYTES) : rng() & 0xff
      return out
    }
    case 'truncate':
      return file.slice(0, at())
    case 'insert': {
      const i = at()
      const n = 1 + (rng() % 16)
      const out = new Uint8Array(file.length + n)
      out.set(file.subarray(0, i))
      for (let j = 0; j < n; j++) out[i + j] = rng() & 0xff
      out.set(file.subarray(i), i + n)
      return out
    }
    case 'delete': {
      const i = at()
      const n = Math.min(1 + (rng() % 16), file.length - i)
      const out = new Uint8Array(file.length - n)
      out.set(file.subarray(0, i))
      out.set(file.subarray(i + n), i)
      return out
    }
    case 'u64field': {
      const out = file.slice()
      const i = pick(fields.u64)
      const view = new DataView(out.buffer)
      const old = view.getBigUint64(i, true)
      const r = rng() % 3
      const v =
        r === 0 ? pick(INTERESTING_U64) : r === 1 ? old + BigInt((rng() % 9) - 4) : BigInt(rng())
      view.setBigUint64(i, BigInt.asUintN(64, v), true)
      return out
    }
    case 'u32field': {
      const out = file.slice()
      const view = new DataView(out.buffer)
      view.setUint32(pick(fields.u32), rng() % 2 ? pick(INTERESTING_U32) : rng(), true)
      return out
    }
    case 'multi': {
      let out = file
      const n = 2 + (rng() % 4)
      for (let j = 0; j < n && out.length > 0; j++) {
        out = mutate(
          rng,
          out,
          { u64: [], u32: [] },
          pick(['bitflip', 'byteset', 'byteset'] as const),
        )
      }
      return out
    }
  }
}

export type FuzzResult = {
  cases: number
  /** Mutants that still parsed (a harmless bit flip in tensor data, say). */
  parsed: number
  /** Mutants rejected with a GgufError. */
  rejected: number
  byMutation: Record<Mutation, { parsed: number; rejected: number }>
}

/** Thrown when a mutant makes the reader fail with something other than GgufError. */
export class FuzzFailure extends Error {
  constructor(
    message: string,
    readonly input: Uint8Array,
    override readonly cause: unknown,
  ) {
    super(message)
  }
}

/** Reads the file the way callers would, including decoding every tensor. */
function exercise(bytes: Uint8Array): void {
  const file = readGguf(bytes)
  for (const t of file.tensors) {
    tensorToFloat32(file, t)
    if (t.type === GgmlType.Q8_0) tensorRawQ8_0(file, t)
  }
}

export function runGgufFuzz(cases: number, seed: number): FuzzResult {
  const rng = makeRng(seed)
  const files = fuzzSeedFiles()
  const fields = files.map(lengthFieldOffsets)
  for (const f of files) exercise(f) // the seeds themselves must be valid
  const byMutation = Object.fromEntries(
    MUTATIONS.map((m) => [m, { parsed: 0, rejected: 0 }]),
  ) as FuzzResult['byMutation']
  let parsed = 0
  let rejected = 0
  for (let c = 0; c < cases; c++) {
    const k = rng() % files.length
    const kind = MUTATIONS[rng() % MUTATIONS.length]!
    const input = mutate(rng, files[k]!, fields[k]!, kind)
    try {
      exercise(input)
      parsed++
      byMutation[kind].parsed++
    } catch (error) {
      if (!(error instanceof GgufError)) {
        throw new FuzzFailure(
          `case ${c} (seed ${seed}, file ${k}, ${kind}): ${String(error)}`,
          input,
          error,
        )
      }
      rejected++
      byMutation[kind].rejected++
    }
  }
  return { cases, parsed, rejected, byMutation }
}
