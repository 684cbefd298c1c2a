import type { MiddlewareHandler } from 'hono'

/** One answer the gateway served, exactly as its client received it (JSON body or SSE text). */
export type RecentAnswer = {
  /** Order of serving, from 1: the dashboard keys its list on it. */
  seq: number
  /** Milliseconds since the epoch, when the answer ended. */
  at: number
  model: string
  stream: boolean
  response: string
}

/** Largest answer kept (bytes of text): a longer one is served but not kept. */
export const MAX_RECENT_ANSWER_BYTES = 256 * 1024

/**
 * The last `capacity` answers, newest first, for the dashboard's receipts picker: a fixed-size
 * ring, so its memory is bounded by capacity × MAX_RECENT_ANSWER_BYTES whatever the traffic.
 */
export class RecentAnswers {
  private readonly ring: RecentAnswer[] = []
  private seq = 0
  constructor(readonly capacity = 50) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1000)
      throw new RangeError(`capacity must be an integer from 1 to 1000, not ${capacity}`)
  }

  add(answer: Omit<RecentAnswer, 'seq'>): void {
    if (answer.response.length > MAX_RECENT_ANSWER_BYTES) return
    this.ring.push({ ...answer, seq: ++this.seq })
    if (this.ring.length > this.capacity) this.ring.shift()
  }

  /** The newest `limit` answers, newest first. */
  list(limit = this.capacity): RecentAnswer[] {
    // slice(-0) would be the whole ring
    return limit >= 1 ? this.ring.slice(-limit).reverse() : []
  }
}

/**
 * Keeps every successful completion in `recent`: a JSON body as it is, a stream as the text its
 * client read once it ends (a stream that fails or is cut off is not kept). The stream is passed
 * through, not teed, so a client that hangs up still cancels the inference.
 */
export function recordAnswers(recent: RecentAnswers, now: () => number): MiddlewareHandler {
  return async (c, next) => {
    await next()
    const res = c.res
    if (res.status !== 200 || !res.body) return
    const type = res.headers.get('content-type') ?? ''
    if (type.startsWith('application/json')) {
      const response = await res.clone().text()
      recent.add({ at: now(), model: modelOf(response) ?? '', stream: false, response })
      return
    }
    if (!type.startsWith('text/event-stream')) return
    const decoder = new TextDecoder()
    let text = ''
    let over = false
    const copy = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        controller.enqueue(chunk)
        if (over) return
        text += decoder.decode(chunk, { stream: true })
        if (text.length > MAX_RECENT_ANSWER_BYTES) {
          over = true
          text = ''
        }
      },
      flush() {
        text += decoder.decode()
        // only a stream that ended as a good one does: its last event is [DONE], no error before
        if (over || !/data: \[DONE\]\s*$/.test(text) || /^data: \{"error"/m.test(text)) return
        recent.add({ at: now(), model: modelOfStream(text) ?? '', stream: true, response: text })
      },
    })
    c.res = new Response(res.body.pipeThrough(copy), res)
  }
}

function modelOf(json: string): string | undefined {
  try {
    const model = (JSON.parse(json) as { model?: unknown }).model
    return typeof model === 'string' ? model : undefined
  } catch {
    return undefined
  }
}

const modelOfStream = (sse: string) => modelOf(/^data: (\{.*\})$/m.exec(sse)?.[1] ?? '')
