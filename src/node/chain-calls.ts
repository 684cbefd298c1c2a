import type { EIP1193RequestFn, Transport } from 'viem'

/**
 * JSON-RPC requests a node's clients sent, by method, and how many failed (a transport error or
 * an error response, reverts included). Counted at the transport, so every read, write and log
 * query of every action is seen, whichever code path made it.
 */
export class ChainCalls {
  readonly calls = new Map<string, number>()
  readonly failures = new Map<string, number>()
  /** Date.now() of the last answered request (0: none yet). */
  lastOkAt = 0

  record(method: string, ok: boolean): void {
    this.calls.set(method, (this.calls.get(method) ?? 0) + 1)
    if (ok) this.lastOkAt = Date.now()
    else this.failures.set(method, (this.failures.get(method) ?? 0) + 1)
  }
}

/** `transport`, with every request counted in `calls`. */
export function countedTransport(transport: Transport, calls: ChainCalls): Transport {
  return ((options: Parameters<Transport>[0]) => {
    const inner = transport(options)
    const request = (async (args, requestOptions) => {
      try {
        const result = await inner.request(args, requestOptions)
        calls.record(args.method, true)
        return result
      } catch (error) {
        calls.record(args.method, false)
        throw error
      }
    }) as EIP1193RequestFn
    return { ...inner, request }
  }) as Transport
}
