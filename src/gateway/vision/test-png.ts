import { crc32, deflateSync } from 'node:zlib'

/** For tests: PNG writers (8-bit grayscale, filter 0, one IDAT) and digit images to classify. */
function chunk(type: string, body: Uint8Array): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt32BE(body.length, 0)
  head.write(type, 4, 'latin1')
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0)
  return Buffer.concat([head, body, crc])
}

/** A grayscale PNG of `gray` (row-major, width x height bytes); `color` 2 writes RGB from gray. */
export function grayPng(
  width: number,
  height: number,
  gray: Uint8Array,
  options: { rgb?: boolean; level?: number } = {},
): Buffer {
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr[8] = 8
  ihdr[9] = options.rgb ? 2 : 0
  const channels = options.rgb ? 3 : 1
  const raw = Buffer.alloc((width * channels + 1) * height)
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < channels; c++)
        raw[y * (width * channels + 1) + 1 + x * channels + c] = gray[y * width + x] as number
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: options.level ?? 6 })),
    chunk('IEND', new Uint8Array(0)),
  ])
}

/**
 * A digit of the 8x8 data set (intensities 0..16, ink high) drawn dark on white at `scale`
 * pixels per cell: toDigitPixels reduces it back to exactly these pixels.
 */
export function digitPng(pixels: readonly number[], scale = 4): Buffer {
  const side = 8 * scale
  const gray = new Uint8Array(side * side)
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++) {
      const v = pixels[Math.floor(y / scale) * 8 + Math.floor(x / scale)] as number
      gray[y * side + x] = 255 - Math.round((v * 255) / 16)
    }
  return grayPng(side, side, gray)
}

export const dataUrl = (png: Uint8Array) =>
  `data:image/png;base64,${Buffer.from(png).toString('base64')}`
