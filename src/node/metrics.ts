import { Counter, Gauge, Registry } from 'prom-client'
import { exposition } from '../gateway/metrics.ts'
import type { ChainCalls } from './chain-calls.ts'

/** Why a miner served a call or not: served, abandoned, or an error frame's code. */
export type MinerOutcome =
  | 'served'
  | 'abandoned'
  | 'busy'
  | 'replay'
  | 'stale'
  | 'unauthorized'
  | 'bad_request'
  | 'bad_frame'
  | 'wrong_model'
  | 'price'
  | 'unpaid'

/**
 * A node's Prometheus metrics, in a registry of its own (several nodes in one process, as in
 * tests and devnets, keep apart). Roles fill what is theirs; chain calls and peers are read from
 * their sources at scrape time.
 */
export class NodeMetrics {
  readonly registry = new Registry()
  readonly minerRequests = this.counter(
    'verity_miner_requests_total',
    'Inference calls by outcome: served, abandoned (the caller went away) or the refusal code.',
    ['outcome'],
  )
  readonly minerTokens = this.counter('verity_miner_tokens_total', 'Tokens served in answers.')
  readonly receiptsStored = this.counter(
    'verity_miner_receipts_stored_total',
    'Receipts stored for the dispute window.',
  )
  readonly checks = this.counter(
    'verity_validator_checks_total',
    'Checks by kind (synthetic, gossip) and outcome (ok, mismatch, unavailable).',
    ['kind', 'outcome'],
  )
  readonly mismatches = this.counter(
    'verity_validator_mismatches_total',
    'Re-executions that disagreed with a signed receipt (evidence stored).',
  )
  readonly weightCommits = this.counter(
    'verity_validator_weight_commits_total',
    'Weights sent: committed (commit-reveal) or set (plain).',
    ['mode'],
  )
  readonly weightReveals = this.counter(
    'verity_validator_weight_reveals_total',
    'Weight commits revealed on chain.',
  )
  readonly disputes = this.counter(
    'verity_disputes_total',
    'Disputes this node plays, by role (miner, challenger) and event (opened, won, lost).',
    ['role', 'event'],
  )
  readonly pruned = this.counter(
    'verity_store_pruned_rows_total',
    'Rows the retention policy deleted, by table.',
    ['table'],
  )

  private counter(name: string, help: string, labelNames: string[] = []): Counter<string> {
    return new Counter({ name, help, labelNames, registers: [this.registry] })
  }

  /** Exports the chain's request counts (ChainCalls) as counters. */
  watchChain(calls: ChainCalls | undefined): void {
    if (calls) registerChainCalls(this.registry, calls)
  }

  /** A gauge read at scrape time (connected peers, head block). */
  gauge(name: string, help: string, read: () => number): void {
    registerGauge(this.registry, name, help, read)
  }

  /** A counter's total now over the series that carry `labels` (tests, devnet reports). */
  async value(counter: Counter<string>, labels: Record<string, string> = {}): Promise<number> {
    const { values } = await counter.get()
    return values
      .filter((v) => Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l))
      .reduce((sum, v) => sum + v.value, 0)
  }

  async render(): Promise<string> {
    return await exposition(this.registry)
  }

  get contentType(): string {
    return this.registry.contentType
  }
}

/**
 * `verity_chain_calls_total{method}` and `verity_chain_call_failures_total{method}` in `registry`,
 * read from `calls` at scrape time (any role's registry: the gateway's too).
 */
export function registerChainCalls(registry: Registry, calls: ChainCalls): void {
  const mirror = (name: string, help: string, source: Map<string, number>) =>
    new Counter({
      name,
      help,
      labelNames: ['method'],
      registers: [registry],
      collect() {
        this.reset()
        for (const [method, n] of source) this.inc({ method }, n)
      },
    })
  mirror('verity_chain_calls_total', 'JSON-RPC requests to the chain, by method.', calls.calls)
  mirror(
    'verity_chain_call_failures_total',
    'JSON-RPC requests that failed (transport error or error response, reverts included).',
    calls.failures,
  )
}

/** A gauge in `registry` whose value is read at scrape time. */
export function registerGauge(
  registry: Registry,
  name: string,
  help: string,
  read: () => number,
): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read())
    },
  })
}
