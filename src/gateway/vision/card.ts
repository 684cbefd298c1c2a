import type { VisionPool } from './pool.ts'

/** The vision model in /v1/models: its task, input, on-chain model id and miners. */
export function visionCard(pool: VisionPool) {
  return {
    id: pool.name,
    object: 'model',
    created: pool.created,
    owned_by: 'verity',
    verity: {
      task: 'vision',
      modelId: pool.modelId,
      input: 'one PNG image as an image_url content part (data:image/png;base64,...)',
      max_image_bytes: pool.limits.maxImageBytes,
      max_image_pixels: pool.limits.maxImagePixels,
      miners: pool.size,
    },
  }
}
