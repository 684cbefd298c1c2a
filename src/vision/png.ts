import { crc32, inflateSync } from 'node:zlib'
import { ImageError } from '../errors/vision.ts'
import type { GrayImage } from './preprocess.ts'

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]
/** Larger images are refused before inflating: a digit needs no more, and it bounds memory. */
export const PNG_MAX_SIDE = 4096
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }

/**
 * Decodes a PNG to 8-bit grayscale (luma 299/587/114 in integers, transparency composited on
 * white). Supports every non-interlaced PNG of bit depth 8 and grayscale or palette images of
 * depth 1, 2, 4; refuses 16-bit and interlaced files, bad CRCs and truncated data by name.
 */
export function decodePng(bytes: Uint8Array): GrayImage {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (buf.length < 8 || SIGNATURE.some((b, i) => buf[i] !== b))
    throw new ImageError('not a PNG file (bad signature)')
  let pos = 8
  let header: { width: number; height: number; depth: number; color: number } | undefined
  let palette: Buffer | undefined
  let transparency: Buffer | undefined
  const idat: Buffer[] = []
  let ended = false
  while (!ended) {
    if (pos + 12 > buf.length) throw new ImageError('PNG truncated (chunk header)')
    const length = buf.readUInt32BE(pos)
    const type = buf.toString('latin1', pos + 4, pos + 8)
    if (length > buf.length - pos - 12) throw new ImageError(`PNG truncated (${type} chunk)`)
    const body = buf.subarray(pos + 8, pos + 8 + length)
    if (crc32(buf.subarray(pos + 4, pos + 8 + length)) !== buf.readUInt32BE(pos + 8 + length))
      throw new ImageError(`PNG ${type} chunk has a bad CRC`)
    pos += 12 + length
    if (type === 'IHDR') {
      if (length !== 13) throw new ImageError('PNG IHDR has the wrong length')
      header = {
        width: body.readUInt32BE(0),
        height: body.readUInt32BE(4),
        depth: body[8] as number,
        color: body[9] as number,
      }
      if (body[12] !== 0) throw new ImageError('interlaced PNGs are not supported')
      if (body[10] !== 0 || body[11] !== 0)
        throw new ImageError('unknown PNG compression or filter')
    } else if (type === 'PLTE') palette = body
    else if (type === 'tRNS') transparency = body
    else if (type === 'IDAT') idat.push(body)
    else if (type === 'IEND') ended = true
  }
  if (!header) throw new ImageError('PNG has no IHDR')
  const { width, height, depth, color } = header
  const channels = CHANNELS[color]
  if (channels === undefined) throw new ImageError(`unknown PNG color type ${color}`)
  const lowDepth = (color === 0 || color === 3) && (depth === 1 || depth === 2 || depth === 4)
  if (depth !== 8 && !lowDepth) throw new ImageError(`PNG bit depth ${depth} is not supported`)
  if (width < 1 || height < 1 || width > PNG_MAX_SIDE || height > PNG_MAX_SIDE)
    throw new ImageError(`PNG is ${width}x${height}; at most ${PNG_MAX_SIDE} on a side`)
  if (color === 3 && !palette) throw new ImageError('palette PNG without PLTE')
  const bitsPerPixel = depth * channels
  const stride = Math.ceil((width * bitsPerPixel) / 8)
  const expected = (stride + 1) * height
  let raw: Buffer
  try {
    raw = inflateSync(Buffer.concat(idat), { maxOutputLength: expected })
  } catch (cause) {
    throw new ImageError('PNG image data is corrupt or larger than its header says', { cause })
  }
  if (raw.length !== expected) throw new ImageError('PNG image data is truncated')
  const rows = unfilter(raw, stride, height, Math.max(1, bitsPerPixel / 8))
  const data = new Uint8Array(width * height)
  const sample = (row: Uint8Array, x: number, c: number): number => {
    if (depth === 8) return row[x * channels + c] as number
    const bit = x * depth
    return ((row[bit >> 3] as number) >> (8 - depth - (bit & 7))) & ((1 << depth) - 1)
  }
  for (let y = 0; y < height; y++) {
    const row = rows[y] as Uint8Array
    for (let x = 0; x < width; x++) {
      let r: number
      let g: number
      let b: number
      let a = 255
      if (color === 3) {
        const i = sample(row, x, 0)
        if (3 * i + 2 >= (palette as Buffer).length)
          throw new ImageError('PNG palette index out of range')
        r = (palette as Buffer)[3 * i] as number
        g = (palette as Buffer)[3 * i + 1] as number
        b = (palette as Buffer)[3 * i + 2] as number
        if (transparency && i < transparency.length) a = transparency[i] as number
      } else if (color === 0 || color === 4) {
        const v = sample(row, x, 0)
        r = g = b = depth === 8 ? v : Math.round((v * 255) / ((1 << depth) - 1))
        if (color === 4) a = sample(row, x, 1)
      } else {
        r = sample(row, x, 0)
        g = sample(row, x, 1)
        b = sample(row, x, 2)
        if (color === 6) a = sample(row, x, 3)
      }
      const luma = Math.floor((r * 299 + g * 587 + b * 114 + 500) / 1000)
      data[y * width + x] = Math.floor((luma * a + 255 * (255 - a) + 127) / 255)
    }
  }
  return { width, height, data }
}

function unfilter(raw: Buffer, stride: number, height: number, bpp: number): Uint8Array[] {
  const rows: Uint8Array[] = []
  let prev = new Uint8Array(stride)
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)] as number
    const line = new Uint8Array(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)))
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? (line[i - bpp] as number) : 0
      const b = prev[i] as number
      const c = i >= bpp ? (prev[i - bpp] as number) : 0
      let add: number
      if (filter === 0) add = 0
      else if (filter === 1) add = a
      else if (filter === 2) add = b
      else if (filter === 3) add = (a + b) >> 1
      else if (filter === 4) {
        const p = a + b - c
        const pa = Math.abs(p - a)
        const pb = Math.abs(p - b)
        const pc = Math.abs(p - c)
        add = pa <= pb && pa <= pc ? a : pb <= pc ? b : c
      } else throw new ImageError(`PNG row ${y} has unknown filter ${filter}`)
      line[i] = ((line[i] as number) + add) & 0xff
    }
    rows.push(line)
    prev = line
  }
  return rows
}
