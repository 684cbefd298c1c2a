/**
 * Every way of corrupting one byte of a proof object: for each byte array (and each element of
 * each int32 vector) reachable from it, a deep copy with one bit flipped. `stride` skips bytes so
 * that large objects stay quick to check; every field is still hit.
 */
export function* bitFlips<T>(value: T, stride = 7, path = ''): Generator<[string, T]> {
  if (value instanceof Uint8Array) {
    for (let i = 0; i < value.length; i += Math.min(stride, Math.max(1, value.length - 1))) {
      const copy = value.slice()
      copy[i]! ^= 1 << (i % 8)
      yield [`${path}[${i}]`, copy as T]
    }
    return
  }
  if (value instanceof Int32Array) {
    const step = Math.max(1, Math.floor(value.length / 8))
    for (let i = 0; i < value.length; i += step) {
      const copy = value.slice()
      copy[i]! ^= 1 << (i % 31)
      yield [`${path}[${i}]`, copy as T]
    }
    return
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      for (const [where, bad] of bitFlips(value[i], stride, `${path}[${i}]`)) {
        const copy = value.slice()
        copy[i] = bad
        yield [where, copy as T]
      }
    }
    return
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      for (const [where, bad] of bitFlips(child, stride, `${path}.${key}`))
        yield [where, { ...value, [key]: bad }]
    }
  }
}
