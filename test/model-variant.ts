import { readGguf } from '../src/runtime/gguf/read.ts'
import { tensorToFloat32 } from '../src/runtime/gguf/tensor.ts'
import { type GgufWriteValue, writeGguf } from '../src/runtime/gguf/write.ts'

export type MetadataEntries = Array<[string, GgufWriteValue]>
export type TensorEntries = Array<{
  name: string
  dims: number[]
  type: number
  data: Float32Array
}>

/**
 * A GGUF file rewritten with a change to its metadata or tensors (tests: a model with another
 * chat template, a corrupt token, a missing tensor).
 */
export function ggufVariant(
  bytes: Uint8Array,
  change: {
    metadata?: (entries: MetadataEntries) => MetadataEntries
    tensors?: (tensors: TensorEntries) => TensorEntries
  },
): Uint8Array {
  const file = readGguf(bytes)
  const typeName: Record<number, string> = { 4: 'u32', 5: 'i32', 6: 'f32', 7: 'bool', 8: 'string' }
  let metadata = [...file.metadata].map(([key, value]): [string, GgufWriteValue] => {
    const type = file.metadataTypes.get(key)!
    if (type === 9) {
      const item = typeName[file.arrayItemTypes.get(key)!]!
      return [key, { type: 'array', itemType: item, value } as GgufWriteValue]
    }
    return [key, { type: typeName[type], value } as GgufWriteValue]
  })
  let tensors = file.tensors.map((t) => ({
    name: t.name,
    dims: t.dims,
    type: t.type,
    data: tensorToFloat32(file, t),
  }))
  if (change.metadata) metadata = change.metadata(metadata)
  if (change.tensors) tensors = change.tensors(tensors)
  return writeGguf({ metadata, tensors })
}

/** The same file with `tokenizer.chat_template` set to `template`. */
export function withChatTemplate(bytes: Uint8Array, template: string): Uint8Array {
  return ggufVariant(bytes, {
    metadata: (m) => [
      ...m.filter(([k]) => k !== 'tokenizer.chat_template'),
      ['tokenizer.chat_template', { type: 'string', value: template }],
    ],
  })
}

/**
 * The default model with a real chat template and a 4096-token context (tool prompts are long;
 * the tiny model's own context is 512).
 */
export function withToolTemplate(bytes: Uint8Array, template: string): Uint8Array {
  return ggufVariant(withChatTemplate(bytes, template), {
    metadata: (entries) =>
      entries.map(([k, v]) =>
        k.endsWith('.context_length') ? [k, { type: 'u32', value: 4096 }] : [k, v],
      ),
  })
}
