/**
 * The training corpus of verity-tiny: the King James Bible (1611, public domain) as Debian's
 * bible-kjv-text 4.38 holds it, printed by bible-kjv's `bible` command one verse per line
 * (`bash scripts/install-corpus.sh` installs both). Every 20th verse is held out.
 */
import { execFileSync } from 'node:child_process'

export const KJV_VERSES = 31102
export const HELD_OUT_EVERY = 20

/** The 31,102 verses, in canonical order, without chapter headings or verse numbers. */
export function kjvVerses(): string[] {
  const text = execFileSync('bible', ['-l100000', 'gen1:1-rev22:21'], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  })
  const verses: string[] = []
  for (const line of text.split('\n')) {
    const m = /^ +\d+ (.*\S)\s*$/.exec(line)
    if (m) verses.push(m[1]!)
  }
  if (verses.length !== KJV_VERSES)
    throw new Error(`expected ${KJV_VERSES} verses, got ${verses.length}`)
  return verses
}

/** Verse i is held out when i % every === every - 1; the rest is training text. */
export function splitVerses(verses: readonly string[], every = HELD_OUT_EVERY) {
  const train: string[] = []
  const heldOut: string[] = []
  verses.forEach((v, i) => {
    ;(i % every === every - 1 ? heldOut : train).push(v)
  })
  return { train, heldOut }
}

/**
 * Evaluation windows over held-out verses: BOS, then whole verses in order, cut into windows of
 * `length` tokens (each window starts with BOS and the start of a verse), as the trainer sees them.
 */
export function heldOutWindows(verseIds: readonly number[][], length: number): number[][] {
  const windows: number[][] = []
  let current = [1]
  for (const ids of verseIds) {
    if (current.length + ids.length > length && current.length > 1) {
      windows.push(current)
      current = [1]
    }
    current.push(...ids.slice(0, length - 1))
  }
  if (current.length > 1) windows.push(current)
  return windows
}
