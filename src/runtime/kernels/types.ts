/**
 * The runtime's hot loops behind one interface: int8 matrix-vector products with exact int32
 * accumulation, and sha256 over 64-byte messages (Merkle internal nodes). Every implementation
 * must give the same bits; `kernel.case.ts` is the conformance suite they all pass.
 */
export interface Kernel {
  readonly name: 'wasm-simd' | 'typescript' | 'native'
  /** The arena: weights and scratch live here; byte offsets below index into it. Never grows after creation. */
  readonly buffer: ArrayBuffer
  readonly i8: Int8Array
  readonly u8: Uint8Array
  readonly i32: Int32Array
  /** Bump allocator over the arena; returns a byte offset aligned to `align` (default 16). Throws a clear error when full. */
  alloc(bytes: number, align?: number): number
  /** acc[r] = Σ_{j<cols} w[wPtr + r*cols + j] * x[xPtr + j] for r < rows, as exact int32 written at accPtr (byte offset, 4-aligned). w and x are int8. Requires cols <= 65536. */
  matvecI8(wPtr: number, rows: number, cols: number, xPtr: number, accPtr: number): void
  /** The same for n input vectors stored consecutively at xPtr (n*cols int8); acc is n×rows int32, row-major by vector. Reuses each weight row across the n vectors (prefill). */
  matmulI8(wPtr: number, rows: number, cols: number, xPtr: number, n: number, accPtr: number): void
  /** For i < count: out[i] (32 bytes at outPtr + 32*i) = sha256(in[64 bytes at inPtr + 64*i]). One Merkle level: in = children pairs. */
  sha256Pairs(inPtr: number, count: number, outPtr: number): void
  /** Faster versions of the forward pass's element-wise ops, where the kernel has them. */
  readonly ops?: KernelOps
}

/**
 * The forward pass's element-wise ops, bit-identical to the TypeScript reference (src/runtime/ops:
 * swiglu; attention's reduce16 + headScores, softmax, mixValues over every head of a position;
 * rmsnorm; a projection's quantizeActivation and requantize).
 * The native kernel provides them; src/parallel/ops.test.ts compares both element for element.
 */
export interface KernelOps {
  /** out[off + j] = swigluElement(gate[off + j], up[off + j]) for j < n. */
  swiglu(gate: Int32Array, up: Int32Array, out: Int32Array, off: number, n: number): void
  /**
   * Scores of every head's query (q at qOff, heads of headDim) against keys 0..t of its KV head:
   * scores[h * (t + 1) + s], keys reduced to 16 bits in k16 (stride nKvHeads * headDim) with
   * their shifts in kShift (stride nKvHeads), c = invSqrtQ16(headDim).
   */
  attentionScores(
    q: Int32Array,
    qOff: number,
    k16: Int32Array,
    kShift: Int32Array,
    t: number,
    nHeads: number,
    nKvHeads: number,
    headDim: number,
    c: number,
    scores: Int32Array,
  ): void
  /** softmax of each of `rows` rows of n Q16 scores into probs (same layout). */
  softmaxRows(scores: Int32Array, rows: number, n: number, probs: Int32Array): void
  /** mixValues of every head: mix[mixOff + h * headDim + j] from probs (rows of t + 1) and vCache. */
  attentionMix(
    probs: Int32Array,
    vCache: Int32Array,
    t: number,
    nHeads: number,
    nKvHeads: number,
    headDim: number,
    mix: Int32Array,
    mixOff: number,
  ): void
  /** quantizeActivation of x[off..off+n) into out at outOff; scale[0], scale[1] = m, e. */
  quantizeActivation(
    x: Int32Array,
    off: number,
    n: number,
    out: Int8Array,
    outOff: number,
    scale: Int32Array,
  ): void
  /** requantize of `rows` sums at acc[accOff..] with the rows' scales and bias (or null). */
  requantize(
    acc: Int32Array,
    accOff: number,
    rows: number,
    scaleM: Int32Array,
    scaleE: Int32Array,
    bias: Int32Array | null,
    mx: number,
    ex: number,
    out: Int32Array,
    outOff: number,
  ): void
  /** rmsnorm of x[off..off+n) with gains g into out at outOff. */
  rmsnorm(
    x: Int32Array,
    off: number,
    n: number,
    g: Int32Array,
    epsQ: number,
    out: Int32Array,
    outOff: number,
  ): void
}

export type KernelKind = 'auto' | 'wasm' | 'typescript'

/** Largest `cols` a matvec accepts: keeps every int32 sum exact (|Σ| <= 65536 * 128 * 128 = 2^30). */
export const MAX_COLS = 65536
