/**
 * xoshiro128** seeded by splitmix32: 32-bit integer operations only (Math.imul, shifts, xor),
 * identical on every engine. The sampler owns one and records its state in the trace.
 */
export class Prng {
  readonly s = new Uint32Array(4)

  /** Seeds from an integer in [0, 2^53): lo = seed mod 2^32, hi = floor(seed / 2^32). */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0)
      throw new RangeError(`seed must be an integer in [0, 2^53), got ${seed}`)
    const lo = seed >>> 0
    const hi = Math.floor(seed / 0x100000000) >>> 0
    let z = (lo ^ Math.imul(hi, 0x9e3779b9)) >>> 0
    for (let i = 0; i < 4; i++) {
      z = (z + 0x9e3779b9) >>> 0
      let r = z
      r = Math.imul(r ^ (r >>> 16), 0x85ebca6b)
      r = Math.imul(r ^ (r >>> 13), 0xc2b2ae35)
      this.s[i] = (r ^ (r >>> 16)) >>> 0
    }
    if ((this.s[0]! | this.s[1]! | this.s[2]! | this.s[3]!) === 0) this.s[0] = 1
  }

  /** The next uint32. */
  next(): number {
    const s = this.s
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0
    const t = s[1]! << 9
    s[2]! ^= s[0]!
    s[3]! ^= s[1]!
    s[1]! ^= s[2]!
    s[0]! ^= s[3]!
    s[2]! ^= t
    s[3] = rotl(s[3]!, 11)
    return result
  }

  /**
   * A uniform integer in [0, n) for 1 <= n <= 2^53, by rejection over the fewest bits that cover
   * n - 1 (one uint32 for up to 32 bits, two above). n = 1 consumes nothing.
   */
  below(n: number): number {
    if (n <= 1) return 0
    let bits = 0
    for (let m = n - 1; m > 0; m = Math.floor(m / 2)) bits++
    for (;;) {
      let r: number
      if (bits <= 32) r = bits === 32 ? this.next() : this.next() >>> (32 - bits)
      else r = (this.next() >>> (64 - bits)) * 0x100000000 + this.next()
      if (r < n) return r
    }
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0
}
