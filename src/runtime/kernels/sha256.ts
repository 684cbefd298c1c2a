/**
 * sha256 of one 64-byte message (a Merkle internal node: left32 ‖ right32), self-contained and
 * allocation-free. The message fills the first block exactly, so the second block is the fixed
 * padding (0x80, zeros, bit length 512) whose message schedule is precomputed once.
 */

// biome-ignore format: a table
const K = Int32Array.of(
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
)

// biome-ignore format: a table
const IV = Int32Array.of(
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
)

/** Message schedule scratch (reused: hot paths do not allocate). */
const W = new Int32Array(64)

function expand(w: Int32Array): void {
  for (let i = 16; i < 64; i++) {
    const a = w[i - 15] as number
    const b = w[i - 2] as number
    const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3)
    const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10)
    w[i] = ((w[i - 16] as number) + s0 + (w[i - 7] as number) + s1) | 0
  }
}

/** K[i] + W[i] of the padding block of a 64-byte message (the same for every such message). */
const KW_PAD = (() => {
  const w = new Int32Array(64)
  w[0] = 0x80000000 | 0
  w[15] = 512
  expand(w)
  for (let i = 0; i < 64; i++) w[i] = ((K[i] as number) + (w[i] as number)) | 0
  return w
})()

/** Exported for the WebAssembly kernel's data segment: K then KW_PAD, 512 bytes little-endian. */
export const SHA256_TABLES = { K, KW_PAD, IV }

/** out[outPtr .. +32) = sha256(u8[inPtr .. +64)). */
export function sha256Of64(u8: Uint8Array, inPtr: number, outPtr: number): void {
  const w = W
  for (let i = 0, p = inPtr; i < 16; i++, p += 4)
    w[i] =
      ((u8[p] as number) << 24) |
      ((u8[p + 1] as number) << 16) |
      ((u8[p + 2] as number) << 8) |
      (u8[p + 3] as number)
  expand(w)
  const h0 = IV[0] as number
  const h1 = IV[1] as number
  const h2 = IV[2] as number
  const h3 = IV[3] as number
  const h4 = IV[4] as number
  const h5 = IV[5] as number
  const h6 = IV[6] as number
  const h7 = IV[7] as number
  let a = h0
  let b = h1
  let c = h2
  let d = h3
  let e = h4
  let f = h5
  let g = h6
  let h = h7
  for (let i = 0; i < 64; i++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))
    const t1 = (h + s1 + ((e & f) ^ (~e & g)) + (K[i] as number) + (w[i] as number)) | 0
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))
    const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0
    h = g
    g = f
    f = e
    e = (d + t1) | 0
    d = c
    c = b
    b = a
    a = (t1 + t2) | 0
  }
  const m0 = (a + h0) | 0
  const m1 = (b + h1) | 0
  const m2 = (c + h2) | 0
  const m3 = (d + h3) | 0
  const m4 = (e + h4) | 0
  const m5 = (f + h5) | 0
  const m6 = (g + h6) | 0
  const m7 = (h + h7) | 0
  a = m0
  b = m1
  c = m2
  d = m3
  e = m4
  f = m5
  g = m6
  h = m7
  for (let i = 0; i < 64; i++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))
    const t1 = (h + s1 + ((e & f) ^ (~e & g)) + (KW_PAD[i] as number)) | 0
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))
    const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0
    h = g
    g = f
    f = e
    e = (d + t1) | 0
    d = c
    c = b
    b = a
    a = (t1 + t2) | 0
  }
  put32(u8, outPtr, a + m0)
  put32(u8, outPtr + 4, b + m1)
  put32(u8, outPtr + 8, c + m2)
  put32(u8, outPtr + 12, d + m3)
  put32(u8, outPtr + 16, e + m4)
  put32(u8, outPtr + 20, f + m5)
  put32(u8, outPtr + 24, g + m6)
  put32(u8, outPtr + 28, h + m7)
}

/** Big-endian store of the low 32 bits of `v`. */
function put32(u8: Uint8Array, p: number, v: number): void {
  u8[p] = v >>> 24
  u8[p + 1] = v >>> 16
  u8[p + 2] = v >>> 8
  u8[p + 3] = v
}
