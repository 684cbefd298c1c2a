import type { Model } from '../runtime/model/load.ts'
import { promptRenderer } from '../verify/prompt/render.ts'
import { ChatWorkload } from './workload.ts'

export type LoadGenerator = {
  /** Requests answered (200) and failed (anything else, or no answer). */
  readonly stats: { served: number; failed: number }
  stop(): Promise<void>
}

/**
 * Keeps `concurrency` chat requests in flight through a gateway's OpenAI API, each drawn from
 * the same workload as validators' checks (src/node/workload.ts), one after another per worker,
 * until stopped: users, for devnets and load tests.
 */
export function startLoad(options: {
  url: string
  model: Model
  concurrency: number
  seed?: number
  timeoutMs?: number
}): LoadGenerator {
  const workload = new ChatWorkload(
    promptRenderer(options.model.metadata),
    options.model.config.contextLength,
    options.seed ?? Date.now() & 0x7fffffff,
  )
  const stats = { served: 0, failed: 0 }
  const controller = new AbortController()
  const worker = async () => {
    while (!controller.signal.aborted) {
      const body = workload.next(options.model.config.name)
      try {
        const res = await fetch(`${options.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.any([
            controller.signal,
            AbortSignal.timeout(options.timeoutMs ?? 60_000),
          ]),
        })
        await res.arrayBuffer()
        if (res.status === 200) stats.served++
        else {
          stats.failed++
          // A gateway with no miner yet: wait instead of spinning.
          await new Promise((r) => setTimeout(r, 200))
        }
      } catch {
        if (!controller.signal.aborted) stats.failed++
      }
    }
  }
  const workers = Array.from({ length: options.concurrency }, () => worker())
  return {
    stats,
    async stop() {
      controller.abort()
      await Promise.allSettled(workers)
    },
  }
}
