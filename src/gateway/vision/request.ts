import { InvalidRequestError } from '../../errors/gateway.ts'
import { ImageError } from '../../errors/vision.ts'
import { decodePng } from '../../vision/png.ts'
import { toDigitPixels } from '../../vision/preprocess.ts'

/** Bounds on an image a client sends: the encoded bytes, and the pixels it says it holds. */
export type VisionImageLimits = { maxImageBytes: number; maxImagePixels: number }

/**
 * A digit needs a few hundred pixels; these bounds keep decoding cheap (a 1-megapixel grayscale
 * image inflates to 1 MB) and sit under the gateway's default 1 MiB body.
 */
export const DEFAULT_IMAGE_LIMITS: VisionImageLimits = {
  maxImageBytes: 512 * 1024,
  maxImagePixels: 1024 * 1024,
}

/** What a vision request asks: the 8x8 input and whether to answer as an event stream. */
export type VisionInput = { pixels: number[]; stream: boolean; includeUsage: boolean }

/**
 * Fields a vision request may carry. Sampling parameters mean nothing to a classifier and are
 * refused rather than dropped, like unknown fields on the text models.
 */
const FIELDS = new Set([
  'model',
  'messages',
  'stream',
  'stream_options',
  'n',
  'user',
  'metadata',
  'store',
])
const PART_TYPES = new Set(['text', 'image_url'])
const DATA_URL = /^data:([^;,]*)((?:;[^;,]*)*),/i
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

const bad = (param: string, message: string, code = 'invalid_image'): never => {
  throw new InvalidRequestError(message, { param, code })
}

/**
 * Reads a chat request for a vision model: the last user message must carry exactly one
 * `image_url` part holding a `data:image/png;base64,` URL (text parts are ignored; the gateway
 * fetches nothing). The PNG is bounded, decoded and reduced to the classifier's 8x8 input; every
 * refusal is a 400 naming the field at fault.
 */
export function parseVisionRequest(
  body: Record<string, unknown>,
  limits: VisionImageLimits = DEFAULT_IMAGE_LIMITS,
): VisionInput {
  for (const key of Object.keys(body))
    if (!FIELDS.has(key))
      bad(
        key,
        `'${key.slice(0, 64)}' is not supported for a vision model (it classifies an image; there is nothing to sample)`,
        'unsupported_parameter',
      )
  const { stream, stream_options: so, n } = body
  if (stream !== undefined && stream !== null && typeof stream !== 'boolean')
    bad('stream', "'stream' must be a boolean", 'invalid_value')
  let includeUsage = false
  if (so !== undefined && so !== null) {
    if (stream !== true)
      bad('stream_options', "'stream_options' is only allowed with stream: true", 'invalid_value')
    if (!isObject(so)) bad('stream_options', "'stream_options' must be an object", 'invalid_value')
    includeUsage = (so as Record<string, unknown>).include_usage === true
  }
  if (n !== undefined && n !== null && n !== 1)
    bad('n', "a vision model answers one choice: 'n' must be 1", 'invalid_value')
  const messages = body.messages
  if (!Array.isArray(messages) || messages.length === 0)
    bad('messages', "'messages' must be a non-empty array", 'invalid_value')
  const list = messages as unknown[]
  let last = -1
  for (let i = list.length - 1; i >= 0; i--)
    if (isObject(list[i]) && (list[i] as Record<string, unknown>).role === 'user') {
      last = i
      break
    }
  if (last < 0)
    bad('messages', 'a vision request needs a user message carrying the image', 'no_image')
  const param = `messages[${last}].content`
  const content = (list[last] as Record<string, unknown>).content
  if (!Array.isArray(content))
    bad(
      param,
      `no image: '${param}' must be an array of content parts with one {"type":"image_url"} part`,
      'no_image',
    )
  const images: number[] = []
  for (const [j, part] of (content as unknown[]).entries()) {
    if (!isObject(part) || typeof part.type !== 'string' || !PART_TYPES.has(part.type))
      bad(
        `${param}[${j}]`,
        'a content part must be {"type":"text"} or {"type":"image_url"}',
        'invalid_value',
      )
    if ((part as Record<string, unknown>).type === 'image_url') images.push(j)
  }
  if (images.length === 0)
    bad(param, `no image: the last user message (${param}) has no image_url part`, 'no_image')
  if (images.length > 1)
    bad(
      param,
      `${images.length} images in ${param}: a vision request classifies exactly one`,
      'too_many_images',
    )
  const at = `${param}[${images[0]}].image_url`
  const image = (content as Record<string, unknown>[])[images[0] as number]?.image_url
  if (!isObject(image) || typeof image.url !== 'string')
    bad(at, `'${at}' must be an object with a string 'url'`, 'invalid_value')
  const png = pngOfUrl((image as { url: string }).url, `${at}.url`, limits)
  return { pixels: pixelsOfPng(png, `${at}.url`, limits), stream: stream === true, includeUsage }
}

/** The PNG bytes of a `data:image/png;base64,...` URL, within the byte bound. */
function pngOfUrl(url: string, param: string, limits: VisionImageLimits): Uint8Array {
  if (/^https?:/i.test(url))
    bad(
      param,
      'remote image URLs are refused (the gateway fetches nothing): send the image inline as data:image/png;base64,...',
      'remote_image_refused',
    )
  const head = DATA_URL.exec(url.slice(0, 256))
  if (!head) bad(param, 'the image URL must be a data URL: data:image/png;base64,...')
  const [prefix, type, params] = head as RegExpExecArray
  if ((type as string).toLowerCase() !== 'image/png')
    bad(
      param,
      `the image is ${type || 'untyped'}: only image/png is accepted`,
      'unsupported_image_format',
    )
  if (!(params as string).toLowerCase().split(';').includes('base64'))
    bad(param, 'the image data URL must be base64 (data:image/png;base64,...)')
  const data = url.slice(prefix.length)
  // the bound first, on the encoded length: an oversized image is refused before it is decoded
  const decodedLength = Math.floor((data.length * 3) / 4)
  if (decodedLength > limits.maxImageBytes + 2)
    bad(
      param,
      `the image is about ${decodedLength} bytes; at most ${limits.maxImageBytes} are accepted`,
      'image_too_large',
    )
  if (data.length === 0 || data.length % 4 !== 0 || !BASE64.test(data))
    bad(param, 'the image data is not valid base64')
  const bytes = Buffer.from(data, 'base64')
  if (bytes.length > limits.maxImageBytes)
    bad(
      param,
      `the image is ${bytes.length} bytes; at most ${limits.maxImageBytes} are accepted`,
      'image_too_large',
    )
  return bytes
}

/** Decodes the PNG (its pixel count checked from the header before inflating) to 8x8 pixels. */
function pixelsOfPng(bytes: Uint8Array, param: string, limits: VisionImageLimits): number[] {
  // IHDR is the first chunk: width and height at bytes 16 and 20 of any PNG
  if (bytes.length >= 24 && bytes[12] === 0x49 && bytes[13] === 0x48) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const width = view.getUint32(16)
    const height = view.getUint32(20)
    if (width * height > limits.maxImagePixels)
      bad(
        param,
        `the image is ${width}x${height} (${width * height} pixels); at most ${limits.maxImagePixels} pixels are accepted`,
        'image_too_large',
      )
  }
  try {
    return toDigitPixels(decodePng(bytes))
  } catch (error) {
    if (error instanceof ImageError)
      return bad(param, `the image cannot be used: ${error.shortMessage}`)
    throw error
  }
}

/** An image sent to another model than the vision one: a 400 naming `model`, not the content part. */
export function refuseImagesForTextModel(body: Record<string, unknown>, visionName: string): void {
  const messages = Array.isArray(body.messages) ? (body.messages as unknown[]) : []
  const image = messages.some(
    (m) =>
      isObject(m) &&
      Array.isArray(m.content) &&
      (m.content as unknown[]).some((p) => isObject(p) && p.type === 'image_url'),
  )
  if (image)
    bad(
      'model',
      `model '${String(body.model).slice(0, 64)}' does not take images: send them to the vision model '${visionName}'`,
      'model_not_vision',
    )
}
