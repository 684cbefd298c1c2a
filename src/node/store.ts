import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { Hex } from 'viem'
import type { Address, InferenceRequest, SignedReceipt } from '../types/inference.ts'
import type { NonceBook } from '../verify/call.ts'
import type { Evidence } from '../verify/evidence.ts'
import { receiptDigest } from '../verify/receipt.ts'

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
CREATE TABLE IF NOT EXISTS receipt_digests (
  digest TEXT PRIMARY KEY,
  request_hash TEXT NOT NULL,
  nonce TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS disputes (
  game TEXT NOT NULL,
  id TEXT NOT NULL,
  role TEXT NOT NULL,
  digest TEXT NOT NULL,
  request TEXT,
  tokens TEXT,
  status TEXT NOT NULL,
  opened_block INTEGER NOT NULL,
  last_seen_block INTEGER NOT NULL,
  miner_lost INTEGER,
  reason INTEGER,
  slashed TEXT,
  PRIMARY KEY (game, id, role)
);
CREATE INDEX IF NOT EXISTS disputes_digest ON disputes (game, digest, role);
CREATE TABLE IF NOT EXISTS dispute_cursor (
  game TEXT PRIMARY KEY,
  block INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS nonces (
  key TEXT PRIMARY KEY,
  timestamp INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS nonces_timestamp ON nonces (timestamp);
CREATE INDEX IF NOT EXISTS receipt_digests_receipt ON receipt_digests (request_hash, nonce);
CREATE INDEX IF NOT EXISTS commits_epoch ON commits (epoch);
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

/**
 * A dispute this node plays, as it keeps it to resume after a restart: the chain holds the game's
 * state; the node keeps what re-running needs (request and tokens) and where it stands.
 * `active`: under way; `done`: decided (miner_lost, reason, slashed); `unplayable`: the miner
 * does not hold the receipt, so it cannot answer (it loses by timeout).
 */
export type DisputeRow = {
  game: Address
  id: bigint
  role: 'miner' | 'challenger'
  digest: Hex
  request: InferenceRequest | undefined
  tokens: number[] | undefined
  status: 'active' | 'done' | 'unplayable'
  openedBlock: bigint
  lastSeenBlock: bigint
  minerLost: boolean | undefined
  reason: number | undefined
  slashed: bigint | undefined
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
    // The dispute game names a receipt by its EIP-712 digest.
    this.db
      .prepare(
        'INSERT OR REPLACE INTO receipt_digests (digest, request_hash, nonce) VALUES (?, ?, ?)',
      )
      .run(receiptDigest(r.receipt).toLowerCase(), r.receipt.requestHash, r.receipt.nonce)
  }

  /** The receipt with this EIP-712 digest, if this miner holds it. */
  receiptByDigest(digest: Hex): StoredReceipt | undefined {
    const row = this.db
      .prepare('SELECT request_hash, nonce FROM receipt_digests WHERE digest = ?')
      .get(digest.toLowerCase()) as { request_hash: Hex; nonce: Hex } | undefined
    return row && this.getReceipt(row.request_hash, row.nonce)
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

  /**
   * Drops the receipts no dispute can need any more: a dispute over one opens by its
   * validUntilBlock and lasts at most `longestGameBlocks`, so a receipt goes once `block` is past
   * both; never while a dispute over it is active here, nor before this node has read the
   * game's DisputeOpened events past its validUntilBlock (`seenBefore`: the miner's watch cursor;
   * a lagging watch must not lose a receipt a dispute it has not filed yet names). One
   * transaction: a receipt and its digest go together.
   */
  pruneReceipts(
    block: number,
    longestGameBlocks = 0,
    seenBefore = Number.MAX_SAFE_INTEGER,
  ): number {
    return this.db.transaction(() => {
      const pruned = this.db
        .prepare(
          `DELETE FROM receipts WHERE valid_until + ? < ? AND valid_until < ? AND NOT EXISTS (
             SELECT 1 FROM receipt_digests d JOIN disputes g ON g.digest = d.digest AND g.status = 'active'
             WHERE d.request_hash = receipts.request_hash AND d.nonce = receipts.nonce)`,
        )
        .run(longestGameBlocks, block, seenBefore).changes
      this.db.exec(
        'DELETE FROM receipt_digests WHERE NOT EXISTS (SELECT 1 FROM receipts r WHERE r.request_hash = receipt_digests.request_hash AND r.nonce = receipt_digests.nonce)',
      )
      return pruned
    })()
  }

  // --- miner: the replay guard's nonces

  /** The replay guard's (caller, nonce) pairs in this store: they outlive a restart. */
  nonceBook(): NonceBook {
    const claim = this.db.prepare('INSERT OR IGNORE INTO nonces (key, timestamp) VALUES (?, ?)')
    const forget = this.db.prepare('DELETE FROM nonces WHERE timestamp < ?')
    return {
      claim: (key, timestamp) => claim.run(key, timestamp).changes === 1,
      forgetBefore: (timestamp) => void forget.run(timestamp),
    }
  }

  countNonces(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM nonces').get() as { n: number }).n
  }

  /** The oldest issuedBlock among the receipts held (where a miner's watch for disputes starts). */
  oldestReceiptBlock(): number | undefined {
    const rows = this.db.prepare('SELECT receipt FROM receipts').all() as { receipt: string }[]
    let oldest: number | undefined
    for (const r of rows) {
      const issued = (JSON.parse(r.receipt) as SignedReceipt).issuedBlock
      if (oldest === undefined || issued < oldest) oldest = issued
    }
    return oldest
  }

  // --- disputes (miner and challenger)

  /** Records a dispute (once: a second insert of the same game, id and role is ignored). */
  putDispute(
    d: Pick<DisputeRow, 'game' | 'id' | 'role' | 'digest' | 'request' | 'tokens' | 'status'> & {
      openedBlock: bigint
    },
  ): boolean {
    return (
      this.db
        .prepare(
          'INSERT OR IGNORE INTO disputes (game, id, role, digest, request, tokens, status, opened_block, last_seen_block) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(
          d.game.toLowerCase(),
          d.id.toString(),
          d.role,
          d.digest.toLowerCase(),
          d.request === undefined ? null : JSON.stringify(d.request),
          d.tokens === undefined ? null : JSON.stringify(d.tokens),
          d.status,
          Number(d.openedBlock),
          Number(d.openedBlock),
        ).changes === 1
    )
  }

  /** Where a dispute stands: the last block seen, and its decision once there is one. */
  updateDispute(
    game: Address,
    id: bigint,
    role: DisputeRow['role'],
    update: {
      lastSeenBlock: bigint
      decided?: { minerLost: boolean; reason: number; slashed: bigint }
    },
  ): void {
    const d = update.decided
    this.db
      .prepare(
        'UPDATE disputes SET last_seen_block = ?, status = CASE WHEN ? THEN ? ELSE status END, miner_lost = coalesce(?, miner_lost), reason = coalesce(?, reason), slashed = coalesce(?, slashed) WHERE game = ? AND id = ? AND role = ?',
      )
      .run(
        Number(update.lastSeenBlock),
        d ? 1 : 0,
        'done',
        d ? (d.minerLost ? 1 : 0) : null,
        d ? d.reason : null,
        d ? d.slashed.toString() : null,
        game.toLowerCase(),
        id.toString(),
        role,
      )
  }

  /** Disputes of one role in a game: all, or only those with `status`. */
  disputes(game: Address, role: DisputeRow['role'], status?: DisputeRow['status']): DisputeRow[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM disputes WHERE game = ? AND role = ?${status ? ' AND status = ?' : ''} ORDER BY CAST(id AS INTEGER)`,
      )
      .all(game.toLowerCase(), role, ...(status ? [status] : [])) as Record<
      string,
      string | number | null
    >[]
    return rows.map((r) => ({
      game: r.game as Address,
      id: BigInt(r.id as string),
      role: r.role as DisputeRow['role'],
      digest: r.digest as Hex,
      request: r.request === null ? undefined : JSON.parse(r.request as string),
      tokens: r.tokens === null ? undefined : JSON.parse(r.tokens as string),
      status: r.status as DisputeRow['status'],
      openedBlock: BigInt(r.opened_block as number),
      lastSeenBlock: BigInt(r.last_seen_block as number),
      minerLost: r.miner_lost === null ? undefined : r.miner_lost === 1,
      reason: r.reason === null ? undefined : (r.reason as number),
      slashed: r.slashed === null ? undefined : BigInt(r.slashed as string),
    }))
  }

  /** Whether this node already disputes (or disputed) the receipt with `digest` as `role`. */
  hasDispute(game: Address, digest: Hex, role: DisputeRow['role']): boolean {
    return (
      this.db
        .prepare('SELECT 1 FROM disputes WHERE game = ? AND digest = ? AND role = ?')
        .get(game.toLowerCase(), digest.toLowerCase(), role) !== undefined
    )
  }

  /** The next block a miner's watch for DisputeOpened events reads from. */
  disputeCursor(game: Address): bigint | undefined {
    const row = this.db
      .prepare('SELECT block FROM dispute_cursor WHERE game = ?')
      .get(game.toLowerCase()) as { block: number } | undefined
    return row === undefined ? undefined : BigInt(row.block)
  }

  setDisputeCursor(game: Address, block: bigint): void {
    this.db
      .prepare('INSERT OR REPLACE INTO dispute_cursor (game, block) VALUES (?, ?)')
      .run(game.toLowerCase(), Number(block))
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
   * Drops a validator's checks and evidence of epochs before `epoch`, and its revealed (or given
   * up) weight commits of those epochs; pending commits stay, a restart may still reveal them.
   * One transaction. Returns the rows deleted per table.
   */
  pruneEpochsBefore(epoch: number): { checks: number; evidence: number; commits: number } {
    return this.db.transaction(() => ({
      checks: this.db.prepare('DELETE FROM checks WHERE epoch < ?').run(epoch).changes,
      evidence: this.db.prepare('DELETE FROM evidence WHERE epoch < ?').run(epoch).changes,
      commits: this.db.prepare('DELETE FROM commits WHERE epoch < ? AND revealed != 0').run(epoch)
        .changes,
    }))()
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
