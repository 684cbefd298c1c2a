import { dataUrl, digitPng } from '../gateway/vision/test-png.ts'
import { classifyDigits } from '../vision/classify.ts'
import type { DigitsModel } from '../vision/model.ts'

/** What the devnet's vision user saw: answers served, failed, and served with a wrong label. */
export type VisionUserStats = { served: number; failed: number; wrongLabel: number }

/**
 * A user of `verity devnet --vision`: sends held-out digits, drawn as PNGs, through the gateway's
 * chat API and counts what comes back. The gateway checks every proof before it answers, so a
 * cheating miner's answer must never arrive: `wrongLabel` stays 0 and a cheater costs only a
 * failover.
 */
export async function askVision(
  url: string,
  options: { model: DigitsModel; images: number[][]; name: string; signal?: AbortSignal },
  stats: VisionUserStats,
): Promise<void> {
  for (const pixels of options.images) {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: options.name,
        messages: [
          {
            role: 'user',
            content: [{ type: 'image_url', image_url: { url: dataUrl(digitPng(pixels)) } }],
          },
        ],
      }),
      ...(options.signal ? { signal: options.signal } : {}),
    }).catch(() => undefined)
    const body = (await res?.json().catch(() => undefined)) as
      | { choices?: { message?: { content?: string } }[] }
      | undefined
    const label = body?.choices?.[0]?.message?.content
    if (res?.status !== 200 || label === undefined) {
      stats.failed++
      continue
    }
    stats.served++
    // the PNG is reduced back to these very pixels, so the label is the integer classifier's
    if (label !== String(classifyDigits(options.model, pixels).label)) stats.wrongLabel++
  }
}
