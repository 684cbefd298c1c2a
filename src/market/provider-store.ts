import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { Resources } from '../chain/market.ts'
import type { Hex } from '../types/inference.ts'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS decisions (
  order_id TEXT PRIMARY KEY,
  decision TEXT NOT NULL,
  reason TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS deployments (
  bid_id TEXT PRIMARY KEY,
  order_id TEXT NOT NULL,
  state TEXT NOT NULL,
  price TEXT NOT NULL,
  resources TEXT NOT NULL,
  model_root TEXT NOT NULL,
  api_key_hash TEXT NOT NULL,
  max_tokens INTEGER,
  pid INTEGER,
  port INTEGER,
  reason TEXT,
  updated_at INTEGER NOT NULL
);
`

/**
 * What a provider is doing with one bid, from bid to teardown: `bid` (open, capacity reserved),
 * `running` (leased, workload up), `stopped` (lease over, workload gone), `lost` (not leased).
 */
export type DeploymentState = 'bid' | 'running' | 'stopped' | 'lost'

export type DeploymentRecord = {
  bidId: bigint
  orderId: bigint
  state: DeploymentState
  pricePerBlock: bigint
  resources: Resources
  modelRoot: Hex
  apiKeyHash: Hex
  maxTokens: number | undefined
  /** The workload's process while running (kept so a restarted provider can find strays). */
  pid: number | undefined
  port: number | undefined
  reason: string | undefined
}

type Row = {
  bid_id: string
  order_id: string
  state: DeploymentState
  price: string
  resources: string
  model_root: string
  api_key_hash: string
  max_tokens: number | null
  pid: number | null
  port: number | null
  reason: string | null
}

function fromRow(r: Row): DeploymentRecord {
  const res = JSON.parse(r.resources) as Record<string, string | number>
  return {
    bidId: BigInt(r.bid_id),
    orderId: BigInt(r.order_id),
    state: r.state,
    pricePerBlock: BigInt(r.price),
    resources: {
      cpuMilli: Number(res.cpuMilli),
      gpuUnits: Number(res.gpuUnits),
      memoryBytes: BigInt(res.memoryBytes!),
      storageBytes: BigInt(res.storageBytes!),
    },
    modelRoot: r.model_root as Hex,
    apiKeyHash: r.api_key_hash as Hex,
    maxTokens: r.max_tokens ?? undefined,
    pid: r.pid ?? undefined,
    port: r.port ?? undefined,
    reason: r.reason ?? undefined,
  }
}

/**
 * A provider's memory in SQLite: the orders it has decided on (bid or why not) and every
 * deployment it bid for, so that a restarted provider knows which workloads it ran, tears down
 * what is no longer paid and restarts what still is.
 */
export class ProviderStore {
  private readonly db: Database.Database

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true })
    this.db = new Database(join(dataDir, 'provider.sqlite'))
    this.db.pragma('journal_mode = WAL')
    this.db.exec(SCHEMA)
  }

  decided(orderId: bigint): { decision: string; reason: string } | undefined {
    return this.db
      .prepare('SELECT decision, reason FROM decisions WHERE order_id = ?')
      .get(orderId.toString()) as { decision: string; reason: string } | undefined
  }

  decide(orderId: bigint, decision: 'bid' | 'skip', reason: string): void {
    this.db
      .prepare(
        'INSERT OR REPLACE INTO decisions (order_id, decision, reason, at) VALUES (?, ?, ?, ?)',
      )
      .run(orderId.toString(), decision, reason, Date.now())
  }

  /** Records a placed bid (its capacity is reserved from now on). */
  addBid(d: Omit<DeploymentRecord, 'state' | 'pid' | 'port' | 'reason'>): void {
    const resources = JSON.stringify({
      cpuMilli: d.resources.cpuMilli,
      gpuUnits: d.resources.gpuUnits,
      memoryBytes: d.resources.memoryBytes.toString(),
      storageBytes: d.resources.storageBytes.toString(),
    })
    this.db
      .prepare(
        `INSERT INTO deployments (bid_id, order_id, state, price, resources, model_root, api_key_hash,
         max_tokens, updated_at) VALUES (?, ?, 'bid', ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        d.bidId.toString(),
        d.orderId.toString(),
        d.pricePerBlock.toString(),
        resources,
        d.modelRoot,
        d.apiKeyHash,
        d.maxTokens ?? null,
        Date.now(),
      )
  }

  update(
    bidId: bigint,
    change: { state: DeploymentState; pid?: number | null; port?: number | null; reason?: string },
  ): void {
    this.db
      .prepare(
        `UPDATE deployments SET state = ?, pid = ?, port = ?, reason = COALESCE(?, reason),
         updated_at = ? WHERE bid_id = ?`,
      )
      .run(
        change.state,
        change.pid ?? null,
        change.port ?? null,
        change.reason ?? null,
        Date.now(),
        bidId.toString(),
      )
  }

  get(bidId: bigint): DeploymentRecord | undefined {
    const row = this.db.prepare('SELECT * FROM deployments WHERE bid_id = ?').get(bidId.toString())
    return row ? fromRow(row as Row) : undefined
  }

  /** Deployments in the given states, oldest bid first. */
  list(...states: DeploymentState[]): DeploymentRecord[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM deployments WHERE state IN (${states.map(() => '?').join(',')})
         ORDER BY CAST(bid_id AS INTEGER)`,
      )
      .all(...states) as Row[]
    return rows.map(fromRow)
  }

  close(): void {
    this.db.close()
  }
}
