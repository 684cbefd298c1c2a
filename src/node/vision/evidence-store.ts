import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import type { Address, Hex } from 'viem'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS vision_evidence (
  nonce TEXT PRIMARY KEY,
  netuid INTEGER NOT NULL,
  epoch INTEGER NOT NULL,
  uid INTEGER NOT NULL,
  miner TEXT NOT NULL,
  reason TEXT NOT NULL,
  answer TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS vision_evidence_miner ON vision_evidence (miner);
`

/** A signed answer its own proof refutes: the whole answer, kept as the miner sent it. */
export type VisionEvidence = {
  nonce: Hex
  netuid: number
  epoch: bigint
  uid: number
  miner: Address
  reason: string
  /** The answer as received (JSON): its receipt signature convicts the miner. */
  answer: unknown
  createdAt: number
}

/**
 * A vision validator's evidence in SQLite (a file, or ':memory:'): every answer whose miner signed
 * a proof that does not verify. Kept so the conviction can be shown later to anyone (the receipt
 * and proof check offline, and the proof fails on chain in VisionAnswers.submit).
 */
export class VisionEvidenceStore {
  private readonly db: Database.Database

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
    this.db = new Database(path)
    this.db.pragma('journal_mode = WAL')
    this.db.exec(SCHEMA)
  }

  /** Records one piece of evidence; false when that nonce's is already kept. */
  add(e: Omit<VisionEvidence, 'createdAt'>): boolean {
    const r = this.db
      .prepare(
        `INSERT OR IGNORE INTO vision_evidence (nonce, netuid, epoch, uid, miner, reason, answer, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        e.nonce.toLowerCase(),
        e.netuid,
        Number(e.epoch),
        e.uid,
        e.miner.toLowerCase(),
        e.reason,
        JSON.stringify(e.answer),
        Date.now(),
      )
    return r.changes === 1
  }

  /** The evidence against `miner` (every miner when omitted), oldest first. */
  list(miner?: Address): VisionEvidence[] {
    const rows = (
      miner === undefined
        ? this.db.prepare('SELECT * FROM vision_evidence ORDER BY created_at, rowid').all()
        : this.db
            .prepare('SELECT * FROM vision_evidence WHERE miner = ? ORDER BY created_at, rowid')
            .all(miner.toLowerCase())
    ) as {
      nonce: string
      netuid: number
      epoch: number
      uid: number
      miner: string
      reason: string
      answer: string
      created_at: number
    }[]
    return rows.map((r) => ({
      nonce: r.nonce as Hex,
      netuid: r.netuid,
      epoch: BigInt(r.epoch),
      uid: r.uid,
      miner: r.miner as Address,
      reason: r.reason,
      answer: JSON.parse(r.answer),
      createdAt: r.created_at,
    }))
  }

  close(): void {
    this.db.close()
  }
}
