/**
 * The op kinds of the trace, in execution order within a position. A trace entry is identified
 * by (position, layer, kind); ops outside a layer use layer NO_LAYER.
 */
export const OpKind = {
  EMBED: 0,
  ATTN_NORM: 1,
  Q: 2,
  K: 3,
  V: 4,
  Q_ROPE: 5,
  K_ROPE: 6,
  SCORES: 7,
  SOFTMAX: 8,
  ATTN_MIX: 9,
  ATTN_OUT: 10,
  RESID_ATTN: 11,
  FFN_NORM: 12,
  GATE: 13,
  UP: 14,
  SWIGLU: 15,
  DOWN: 16,
  RESID_FFN: 17,
  FINAL_NORM: 18,
  LOGITS: 19,
  SAMPLE: 20,
} as const
export type OpKind = (typeof OpKind)[keyof typeof OpKind]
export const NO_LAYER = 0xffff
/** Ops per layer (ATTN_NORM .. RESID_FFN). */
export const LAYER_OPS = 17

export const OP_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(OpKind).map(([name, id]) => [id, name.toLowerCase()]),
)

/**
 * The 32-byte op id: u32 position, u16 layer, u16 kind, u32 element count (big-endian), then
 * 20 zero bytes. The count fixes the shape of the entry's element tree.
 */
export function opIdBytes(
  pos: number,
  layer: number,
  kind: number,
  length: number,
  out: Uint8Array = new Uint8Array(32),
  off = 0,
): Uint8Array {
  const view = new DataView(out.buffer, out.byteOffset + off, 32)
  view.setUint32(0, pos)
  view.setUint16(4, layer)
  view.setUint16(6, kind)
  view.setUint32(8, length)
  out.fill(0, off + 12, off + 32)
  return out
}

export type OpId = { pos: number; layer: number; kind: number; length: number }

export function parseOpId(bytes: Uint8Array): OpId {
  const view = new DataView(bytes.buffer, bytes.byteOffset, 32)
  return {
    pos: view.getUint32(0),
    layer: view.getUint16(4),
    kind: view.getUint16(6),
    length: view.getUint32(8),
  }
}

/** Receives every op output in execution order; `vec[off .. off+len)` is valid only during the call. */
export interface TraceSink {
  record(pos: number, layer: number, kind: number, vec: Int32Array, off: number, len: number): void
}
