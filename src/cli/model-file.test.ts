import { spawnSync } from 'node:child_process'
import {
  closeSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { metadataMap, REAL_VOCABS } from '../../test/hf-vocab.ts'
import { readGguf } from '../runtime/gguf/read.ts'
import { ggufLayout } from '../runtime/gguf/write.ts'
import { loadModel } from '../runtime/model/load.ts'
import { buildSyntheticModel } from '../runtime/model/synthetic.ts'
import { toHex } from '../runtime/trace/merkle.ts'
import { loadModelFile, openModelFile } from './model-file.ts'

const dir = mkdtempSync(join(tmpdir(), 'verity-model-file-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** A model with Llama 3's vocabulary of 128,256 tokens, Q4_K weights, written to the temp dir. */
function writeModel(name: string): { path: string; bytes: Uint8Array } {
  const bytes = buildSyntheticModel({
    name,
    vocab: REAL_VOCABS['llama-bpe'](),
    dim: 256,
    nLayers: 2,
    nHeads: 8,
    nKvHeads: 2,
    ffnDim: 512,
    contextLength: 1024,
    seed: 9,
    tensorType: 'Q4_K',
    tiedOutput: true,
  })
  const path = join(dir, `${name}.gguf`)
  writeFileSync(path, bytes)
  return { path, bytes }
}

describe('model files', () => {
  it('a file read in chunks loads to the same modelRoot as its bytes', () => {
    const { path, bytes } = writeModel('chunks')
    const file = openModelFile(path)
    const root = toHex(loadModel(bytes).modelRoot)
    try {
      expect(file.size).toBe(bytes.length)
      expect(toHex(loadModel(file).modelRoot)).toBe(root)
    } finally {
      file.close()
    }
    // The CLI's loader: chunked reads, OpenSSL's sha256 for the row leaves, 2 threads.
    expect(toHex(loadModelFile(path, { threads: 2 }).modelRoot)).toBe(root)
  })

  it('loads a file whose tensor data lies beyond 4 GiB (sparse: no 2 GiB limit, no whole-file buffer)', () => {
    const { bytes } = writeModel('compact')
    const gguf = readGguf(bytes)
    // The same tensors, each placed 4 GiB further into the data section (a hole before them).
    const shift = 4 * 2 ** 30
    const metadata = [...gguf.metadata.keys()].map((key) => {
      const value = gguf.metadata.get(key)
      const type = gguf.metadataTypes.get(key)!
      const item = gguf.arrayItemTypes.get(key)
      const names: Record<number, string> = { 4: 'u32', 5: 'i32', 6: 'f32', 7: 'bool', 8: 'string' }
      return [
        key,
        type === 9
          ? { type: 'array', itemType: names[item!], value }
          : { type: names[type], value },
      ] as never
    })
    const layout = ggufLayout({
      metadata,
      tensors: gguf.tensors.map((t) => ({ name: t.name, dims: t.dims, type: t.type })),
    })
    // Rewrite each tensor's relative offset (a u64 after its name, dims and type) with the shift.
    const head = layout.head.slice()
    const view = new DataView(head.buffer)
    const bigPath = join(dir, 'beyond-4gib.gguf')
    const fd = openSync(bigPath, 'w')
    try {
      let at = head.length
      for (const t of [...gguf.tensors].reverse()) {
        // Find this tensor's info by its name bytes in the head, from the end.
        const name = new TextEncoder().encode(t.name)
        for (at = at - 1; at >= 0; at--) {
          if (
            name.every((b, i) => head[at + i] === b) &&
            view.getBigUint64(at - 8, true) === BigInt(name.length)
          )
            break
        }
        const relAt = at + name.length + 4 + 8 * t.dims.length + 4
        const rel = Number(view.getBigUint64(relAt, true))
        view.setBigUint64(relAt, BigInt(rel + shift), true)
        writeSync(fd, bytes, t.offset, t.byteLength, head.length + rel + shift)
      }
      writeSync(fd, head, 0, head.length, 0)
      ftruncateSync(fd, head.length + shift + (layout.size - layout.head.length))
    } finally {
      closeSync(fd)
    }
    const file = openModelFile(bigPath)
    try {
      expect(file.size).toBeGreaterThan(shift)
      expect(toHex(loadModel(file).modelRoot)).toBe(toHex(loadModel(bytes).modelRoot))
    } finally {
      file.close()
    }
  })

  it('verity model info reports the int8 weights and a peak RSS within 1.25 x int8 + 200 MiB', () => {
    const { path } = writeModel('info')
    const r = spawnSync(
      process.execPath,
      [join(import.meta.dirname, '../../bin/verity.js'), 'model', 'info', path, '--json'],
      {
        encoding: 'utf8',
      },
    )
    expect(r.stderr).toBe('')
    const info = JSON.parse(r.stdout)
    // 128,256 x 256 embedding rows + 2 layers x (256 x 256 x 2 + 64 x 256 x 2 + 3 x 512 x 256).
    const int8 = 128256 * 256 + 2 * (2 * 256 * 256 + 2 * 64 * 256 + 3 * 512 * 256)
    expect(info.int8WeightsMiB).toBeCloseTo(int8 / 2 ** 20, 1)
    expect(info.peakRssMiB).toBeGreaterThan(0)
    expect(info.peakRssMiB).toBeLessThanOrEqual(info.peakRssBoundMiB)
    expect(info.peakRssBoundMiB).toBe(Math.round(1.25 * info.int8WeightsMiB + 200))
    expect(info.tensorTypes).toEqual({ 'Q4_K (12)': 15, 'F32 (0)': 5 })
    expect(metadataMap(REAL_VOCABS['llama-bpe']()).get('tokenizer.ggml.pre')).toBe('llama-bpe')
  })
})
