import { ImageError } from '../errors/vision.ts'
import { IMAGE_SIDE, PIXEL_MAX, PIXELS } from './model.ts'

/** An 8-bit grayscale image, row-major; 0 is black. */
export type GrayImage = { width: number; height: number; data: Uint8Array }

/**
 * Reduces a grayscale image to the classifier's 8x8 input with 0..16 intensities, in integers:
 * source pixel (x, y) belongs to cell (floor(8x / width), floor(8y / height)); a cell's value is
 * round-half-up(16 * (ink sum) / (255 * count)), ink = 255 - gray (the data set counts dark ink
 * on a light background as high values). `invert: true` is for light digits on dark; by default
 * an image whose border is darker than its middle on average is taken as inverted.
 */
export function toDigitPixels(image: GrayImage, options: { invert?: boolean } = {}): number[] {
  const { width, height, data } = image
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
    throw new ImageError(`bad image size ${width}x${height}`)
  if (width < IMAGE_SIDE || height < IMAGE_SIDE)
    throw new ImageError(`image ${width}x${height} is smaller than ${IMAGE_SIDE}x${IMAGE_SIDE}`)
  if (data.length !== width * height)
    throw new ImageError(`expected ${width * height} gray values, got ${data.length}`)
  const invert = options.invert ?? borderIsDark(image)
  const sum = new Array<number>(PIXELS).fill(0)
  const count = new Array<number>(PIXELS).fill(0)
  for (let y = 0; y < height; y++) {
    const cy = Math.floor((y * IMAGE_SIDE) / height)
    for (let x = 0; x < width; x++) {
      const c = cy * IMAGE_SIDE + Math.floor((x * IMAGE_SIDE) / width)
      const g = data[y * width + x] as number
      sum[c] = (sum[c] as number) + (invert ? g : 255 - g)
      count[c] = (count[c] as number) + 1
    }
  }
  // floor((2 * 16 * sum + 255 * count) / (2 * 255 * count)); sums < 255 * 2^26 stay exact
  return sum.map((s, c) => {
    const n = count[c] as number
    return Math.floor((2 * PIXEL_MAX * s + 255 * n) / (2 * 255 * n))
  })
}

function borderIsDark({ width, height, data }: GrayImage): boolean {
  let border = 0
  let nb = 0
  let inner = 0
  let ni = 0
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const g = data[y * width + x] as number
      if (x === 0 || y === 0 || x === width - 1 || y === height - 1) {
        border += g
        nb++
      } else {
        inner += g
        ni++
      }
    }
  return ni > 0 && border * ni < inner * nb
}
