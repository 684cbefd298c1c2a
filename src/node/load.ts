import type { Model } from '../runtime/model/load.ts'
import { promptRenderer } from '../verify/prompt/render.ts'
import { ChatWorkload } from './workload.ts'

export type LoadGenerator = {
  /** Requests answered (200) and failed (anything else, or no answer), failures by cause. */
  readonly stats: { served: number; failed: number; causes: Record<string, number> }
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
  const stats = { served: 0, failed: 0, causes: {} as Record<string, number> }
  const fail = (cause: string) => {
    stats.failed++
    stats.causes[cause] = (stats.causes[cause] ?? 0) + 1
  }
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
        const text = await res.text()
        if (res.status === 200) stats.served++
        else {
          let code = String(res.status)
          try {
            code += ` ${(JSON.parse(text) as { error: { code?: string; type?: string } }).error.code ?? ''}`
          } catch {}
          fail(code.trim())
          // A gateway with no miner yet: wait instead of spinning.
          await new Promise((r) => setTimeout(r, 200))
        }
      } catch (error) {
        if (!controller.signal.aborted) fail((error as Error).name)
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
