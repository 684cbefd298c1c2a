import { existsSync, readFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { ImageError } from '../errors/vision.ts'
import { CLASSES, PIXEL_MAX, PIXELS } from './model.ts'

/** Where Debian's python3-sklearn puts the UCI 8x8 digits (1,797 images, 0..16 intensities). */
export const DEBIAN_DIGITS_CSV =
  '/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz'

/** Every HELD_OUT_EVERY-th image (index % 5 === 4) is the held-out test split; the rest train. */
export const HELD_OUT_EVERY = 5

export type DigitSample = { index: number; pixels: number[]; label: number }

export function digitsCsvPath(): string {
  return process.env.VERITY_DIGITS_CSV ?? DEBIAN_DIGITS_CSV
}

/** Reads the gzipped csv: 64 pixel columns then the label, one image a line. */
export function readDigits(path = digitsCsvPath()): DigitSample[] {
  if (!existsSync(path))
    throw new ImageError(`digits data set not found at ${path}`, {
      details: 'install Debian python3-sklearn (scripts/ci-deps.sh) or set VERITY_DIGITS_CSV',
    })
  const text = gunzipSync(readFileSync(path)).toString('utf8')
  const samples: DigitSample[] = []
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    const cells = line.split(',').map(Number)
    const label = cells[PIXELS]
    const pixels = cells.slice(0, PIXELS)
    if (
      cells.length !== PIXELS + 1 ||
      !Number.isInteger(label) ||
      (label as number) < 0 ||
      (label as number) >= CLASSES ||
      pixels.some((v) => !Number.isInteger(v) || v < 0 || v > PIXEL_MAX)
    )
      throw new ImageError(`digits csv line ${samples.length + 1} is malformed`)
    samples.push({ index: samples.length, pixels, label: label as number })
  }
  return samples
}

export function splitDigits(samples: DigitSample[]): { train: DigitSample[]; test: DigitSample[] } {
  return {
    train: samples.filter((s) => s.index % HELD_OUT_EVERY !== HELD_OUT_EVERY - 1),
    test: samples.filter((s) => s.index % HELD_OUT_EVERY === HELD_OUT_EVERY - 1),
  }
}
