import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { Hex } from 'viem'
import type { Address, InferenceRequest, SignedReceipt } from '../types/inference.ts'
import type { Evidence } from '../verify/evidence.ts'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS receipts (
  request_hash TEXT NOT NULL,
  nonce TEXT NOT NULL,
  caller TEXT NOT NULL,
  request TEXT NOT NULL,
  receipt TEXT NOT NULL,
  tokens TEXT NOT NULL,
  valid_until INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (request_hash, nonce)
);
CREATE INDEX IF NOT EXISTS receipts_valid_until ON receipts (valid_until);
CREATE TABLE IF NOT EXISTS commits (
  hash TEXT PRIMARY KEY,
  netuid INTEGER NOT NULL,
  epoch INTEGER NOT NULL,
  uids TEXT NOT NULL,
  weights TEXT NOT NULL,
  salt TEXT NOT NULL,
  version_key TEXT NOT NULL,
  revealed INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS checks (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  epoch INTEGER NOT NULL,
  uid INTEGER NOT NULL,
  hotkey TEXT NOT NULL,
  kind TEXT NOT NULL,
  outcome TEXT NOT NULL,
  latency_ms REAL,
  at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS checks_epoch ON checks (epoch);
CREATE TABLE IF NOT EXISTS evidence (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  hotkey TEXT NOT NULL,
  uid INTEGER NOT NULL,
  epoch INTEGER NOT NULL,
  evidence TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS evidence_epoch ON evidence (epoch);
`

/** What a miner keeps per answer for the dispute window: everything re-running needs. */
export type StoredReceipt = {
  request: InferenceRequest
  receipt: SignedReceipt
  tokens: number[]
  caller: Address
}

export type StoredCommit = {
  hash: Hex
  netuid: number
  epoch: number
  uids: number[]
  weights: number[]
  salt: Hex
  versionKey: bigint
  revealed: boolean
}

/** `ok`: signature and re-execution held; `mismatch`: wrong output; `unavailable`: no answer. */
export type CheckOutcome = 'ok' | 'mismatch' | 'unavailable'

export type CheckRow = {
  epoch: number
  uid: number
  hotkey: Address
  kind: 'synthetic' | 'gossip'
  outcome: CheckOutcome
  latencyMs: number | null
}

/** A stored evidence record: self-proving (src/verify `Evidence`), filed under the miner's uid. */
export type EvidenceRow = {
  hotkey: Address
  uid: number
  epoch: number
  evidence: Evidence
}

/**
 * A node's persistent state in one SQLite file (`<dataDir>/node.sqlite`, WAL mode): a miner's
 * receipts, a validator's weight commits (with salts, so a restart can still reveal), checks and
 * evidence.
 */
export class NodeStore {
  readonly db: Database.Database

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true })
    this.db = new Database(join(dataDir, 'node.sqlite'))
    this.db.pragma('journal_mode = WAL')
    this.db.pragma('synchronous = NORMAL')
    this.db.exec(SCHEMA)
  }

  close(): void {
    if (this.db.open) this.db.close()
  }

  // --- miner: receipts

  putReceipt(r: StoredReceipt): void {
    this.db
      .prepare(
        'INSERT OR REPLACE INTO receipts (request_hash, nonce, caller, request, receipt, tokens, valid_until, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        r.receipt.requestHash,
        r.receipt.nonce,
        r.caller,
        JSON.stringify(r.request),
        JSON.stringify(r.receipt),
        JSON.stringify(r.tokens),
        r.receipt.validUntilBlock,
        Date.now(),
      )
  }

  getReceipt(requestHash: Hex, nonce: Hex): StoredReceipt | undefined {
    const row = this.db
      .prepare('SELECT * FROM receipts WHERE request_hash = ? AND nonce = ?')
      .get(requestHash, nonce) as Record<string, string> | undefined
    return (
      row && {
        request: JSON.parse(row.request!),
        receipt: JSON.parse(row.receipt!),
        tokens: JSON.parse(row.tokens!),
        caller: row.caller as Address,
      }
    )
  }

  countReceipts(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM receipts').get() as { n: number }).n
  }

  /** Drops receipts whose dispute window ended before `block`. */
  pruneReceipts(block: number): number {
    return this.db.prepare('DELETE FROM receipts WHERE valid_until < ?').run(block).changes
  }

  // --- validator: commits

  putCommit(c: Omit<StoredCommit, 'revealed'>): void {
    this.db
      .prepare(
        'INSERT OR REPLACE INTO commits (hash, netuid, epoch, uids, weights, salt, version_key, revealed, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)',
      )
      .run(
        c.hash,
        c.netuid,
        c.epoch,
        JSON.stringify(c.uids),
        JSON.stringify(c.weights),
        c.salt,
        c.versionKey.toString(),
        Date.now(),
      )
  }

  pendingCommits(netuid: number): StoredCommit[] {
    const rows = this.db
      .prepare('SELECT * FROM commits WHERE netuid = ? AND revealed = 0 ORDER BY epoch')
      .all(netuid) as Record<string, string | number>[]
    return rows.map((r) => ({
      hash: r.hash as Hex,
      netuid: r.netuid as number,
      epoch: r.epoch as number,
      uids: JSON.parse(r.uids as string),
      weights: JSON.parse(r.weights as string),
      salt: r.salt as Hex,
      versionKey: BigInt(r.version_key as string),
      revealed: false,
    }))
  }

  /** Marks a commit revealed (or given up: expired). */
  markRevealed(hash: Hex, state: 1 | 2 = 1): void {
    this.db.prepare('UPDATE commits SET revealed = ? WHERE hash = ?').run(state, hash)
  }

  /** The epoch of the latest commit (or set), -1 when none: a restarted validator skips it. */
  lastCommitEpoch(netuid: number): number {
    const row = this.db
      .prepare('SELECT max(epoch) AS e FROM commits WHERE netuid = ?')
      .get(netuid) as {
      e: number | null
    }
    return row.e ?? -1
  }

  revealedCount(netuid: number): number {
    return (
      this.db
        .prepare('SELECT count(*) AS n FROM commits WHERE netuid = ? AND revealed = 1')
        .get(netuid) as { n: number }
    ).n
  }

  // --- validator: checks and evidence

  putCheck(c: CheckRow): void {
    this.db
      .prepare(
        'INSERT INTO checks (epoch, uid, hotkey, kind, outcome, latency_ms, at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(c.epoch, c.uid, c.hotkey, c.kind, c.outcome, c.latencyMs, Date.now())
  }

  /** Checks since `fromEpoch` (inclusive). */
  checks(fromEpoch = 0): CheckRow[] {
    const rows = this.db
      .prepare('SELECT * FROM checks WHERE epoch >= ? ORDER BY id')
      .all(fromEpoch) as Record<string, string | number | null>[]
    return rows.map((r) => ({
      epoch: r.epoch as number,
      uid: r.uid as number,
      hotkey: r.hotkey as Address,
      kind: r.kind as CheckRow['kind'],
      outcome: r.outcome as CheckOutcome,
      latencyMs: r.latency_ms as number | null,
    }))
  }

  /** Stores verified evidence (src/verify `checkAnswer` or `verifyEvidence` made it). */
  putEvidence(e: { uid: number; epoch: number; evidence: Evidence }): void {
    this.db
      .prepare('INSERT INTO evidence (hotkey, uid, epoch, evidence, at) VALUES (?, ?, ?, ?, ?)')
      .run(
        e.evidence.bundle.receipt.minerHotkey,
        e.uid,
        e.epoch,
        JSON.stringify(e.evidence),
        Date.now(),
      )
  }

  evidence(): EvidenceRow[] {
    const rows = this.db.prepare('SELECT * FROM evidence ORDER BY id').all() as Record<
      string,
      string | number
    >[]
    return rows.map((r) => ({
      hotkey: r.hotkey as Address,
      uid: r.uid as number,
      epoch: r.epoch as number,
      evidence: JSON.parse(r.evidence as string),
    }))
  }

  countEvidence(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM evidence').get() as { n: number }).n
  }

  /**
   * Hotkeys with stored evidence of a wrong answer from epoch `fromEpoch` on: evidence counts
   * against a score for a window of epochs (slashing, not scoring, is what lasts).
   */
  cheaters(fromEpoch = 0): Set<string> {
    const rows = this.db
      .prepare('SELECT DISTINCT hotkey FROM evidence WHERE epoch >= ?')
      .all(fromEpoch) as {
      hotkey: string
    }[]
    return new Set(rows.map((r) => r.hotkey.toLowerCase()))
  }
}
