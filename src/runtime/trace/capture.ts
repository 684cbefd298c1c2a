import type { TraceSink } from './ops.ts'

export type CapturedEntry = {
  index: number
  pos: number
  layer: number
  kind: number
  vec: Int32Array
}

/**
 * Keeps a copy of trace entries, in execution order: all of them, or only the indices asked for.
 */
export class TraceCapture implements TraceSink {
  readonly entries: CapturedEntry[] = []
  private readonly keep: ((index: number) => boolean) | undefined
  private readonly byKey = new Map<string, CapturedEntry>()
  count = 0

  constructor(keep?: (index: number) => boolean) {
    this.keep = keep
  }

  record(
    pos: number,
    layer: number,
    kind: number,
    vec: Int32Array,
    off: number,
    len: number,
  ): void {
    const index = this.count++
    if (this.keep && !this.keep(index)) return
    const entry = { index, pos, layer, kind, vec: vec.slice(off, off + len) }
    this.entries.push(entry)
    this.byKey.set(`${pos}/${layer}/${kind}`, entry)
  }

  /** The output of op (pos, layer, kind), which must have been kept. */
  get(pos: number, layer: number, kind: number): Int32Array {
    const entry = this.byKey.get(`${pos}/${layer}/${kind}`)
    if (!entry)
      throw new RangeError(`no captured entry for position ${pos}, layer ${layer}, op ${kind}`)
    return entry.vec
  }

  has(pos: number, layer: number, kind: number): boolean {
    return this.byKey.has(`${pos}/${layer}/${kind}`)
  }
}
