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
/** The kind field of a checkpoint's position tag: no op has it, so no op leaf equals a checkpoint. */
export const CHECKPOINT_KIND = 0x100

/** Every op kind, as a TraceSink `kinds` mask. */
export const ALL_KINDS = (1 << (OpKind.SAMPLE + 1)) - 1

/** A TraceSink `kinds` mask of the kinds given. */
export function kindMask(...kinds: number[]): number {
  let mask = 0
  for (const k of kinds) mask |= 1 << k
  return mask
}

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
  // Byte by byte: the hasher writes one per staged vector, and a DataView per call costs more.
  out[off] = pos >>> 24
  out[off + 1] = pos >>> 16
  out[off + 2] = pos >>> 8
  out[off + 3] = pos
  out[off + 4] = layer >>> 8
  out[off + 5] = layer
  out[off + 6] = kind >>> 8
  out[off + 7] = kind
  out[off + 8] = length >>> 24
  out[off + 9] = length >>> 16
  out[off + 10] = length >>> 8
  out[off + 11] = length
  out.fill(0, off + 12, off + 32)
  return out
}

/**
 * The 32-byte tag of position p's checkpoint: an op id with layer NO_LAYER, kind CHECKPOINT_KIND
 * and, as its element count, the number of boundary leaves (which fixes the boundary tree's shape).
 */
export function positionTag(
  pos: number,
  boundaryLeaves: number,
  out: Uint8Array = new Uint8Array(32),
  off = 0,
): Uint8Array {
  return opIdBytes(pos, NO_LAYER, CHECKPOINT_KIND, boundaryLeaves, out, off)
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

/**
 * Receives op outputs; `vec[off .. off+len)` is valid only during the call. By default every op,
 * in the trace's order (position by position, in execution order within each).
 */
export interface TraceSink {
  /** The op kinds wanted, as a mask (bit k: kind k); every kind when absent. */
  readonly kinds?: number
  /**
   * True when the order does not matter (the sink places each output by its op id): a block's
   * outputs then reach it as they are computed, without being copied to be put in order.
   */
  readonly anyOrder?: boolean
  record(pos: number, layer: number, kind: number, vec: Int32Array, off: number, len: number): void
}

/**
 * A fault to inject (tests, cheater simulations): element `element` of op (pos, layer, kind) is set
 * to `value`, or moved by `delta` (saturated), in place as soon as the op has computed it, so every
 * later op, the trace and the tokens follow from the changed value.
 */
export type TraceFault = {
  pos: number
  layer: number
  kind: number
  element: number
  value?: number
  delta?: number
}
