import { mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import Database from 'better-sqlite3'
import { AccountNotFoundError, GatewayError, InvalidRequestError } from '../../errors/gateway.ts'
import { createApiKey } from './keys.ts'

const SCHEMA_VERSION = 1

// balance = credit not yet spent nor held; held = reserved by requests in flight. Both are integer
// micro-units, and the CHECKs make an overdraw impossible even for a buggy caller.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  balance INTEGER NOT NULL CHECK (balance >= 0),
  held INTEGER NOT NULL DEFAULT 0 CHECK (held >= 0),
  rpm INTEGER NOT NULL CHECK (rpm >= 0),
  tpm INTEGER NOT NULL CHECK (tpm >= 0),
  concurrency INTEGER NOT NULL CHECK (concurrency >= 0),
  revoked_at INTEGER,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS holds (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  key_id TEXT NOT NULL REFERENCES api_keys(id),
  amount INTEGER NOT NULL CHECK (amount >= 0),
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS usage (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  key_id TEXT NOT NULL REFERENCES api_keys(id),
  model TEXT NOT NULL,
  prompt_tokens INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  cost INTEGER NOT NULL CHECK (cost >= 0),
  outcome TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS usage_by_key ON usage (key_id, id);
CREATE TABLE IF NOT EXISTS topups (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  key_id TEXT NOT NULL REFERENCES api_keys(id),
  amount INTEGER NOT NULL,
  at INTEGER NOT NULL
);
`

/** Per-key limits; 0 means no limit. */
export type KeyLimits = {
  /** Requests per minute. */
  rpm: number
  /** Tokens (prompt + completion) per minute. */
  tpm: number
  /** Requests in flight at once. */
  concurrency: number
}

export type AccountRecord = {
  /** Public id: the first 16 hex digits of the key's hash (safe to print and log). */
  id: string
  hash: string
  name: string
  /** Micro-units available for new requests. */
  balance: bigint
  /** Micro-units reserved by requests in flight. */
  held: bigint
  limits: KeyLimits
  revoked: boolean
  createdAt: number
}

/** How a request ended: answered, cut short by the client, or failed before any output. */
export type UsageOutcome = 'ok' | 'client_closed' | 'failed'

export type UsageRecord = {
  model: string
  promptTokens: number
  completionTokens: number
  cost: bigint
  outcome: UsageOutcome
  at: number
}

export type UsageSummary = {
  account: AccountRecord
  totals: { requests: number; promptTokens: number; completionTokens: number; cost: bigint }
  recent: UsageRecord[]
}

type KeyRow = {
  id: string
  hash: string
  name: string
  balance: bigint
  held: bigint
  rpm: bigint
  tpm: bigint
  concurrency: bigint
  revoked_at: bigint | null
  created_at: bigint
}

function fromRow(r: KeyRow): AccountRecord {
  return {
    id: r.id,
    hash: r.hash,
    name: r.name,
    balance: r.balance,
    held: r.held,
    limits: { rpm: Number(r.rpm), tpm: Number(r.tpm), concurrency: Number(r.concurrency) },
    revoked: r.revoked_at !== null,
    createdAt: Number(r.created_at),
  }
}

/** Largest balance a key may hold (micro-units, 10^9 units): sums of it stay far inside int64. */
export const MAX_BALANCE = 10n ** 15n

/**
 * The gateway's API keys, prepaid balances and usage, in SQLite (`<data-dir>/gateway.sqlite`).
 * Keys are stored as their sha256; the secret exists only in `create`'s answer. Every balance
 * change is one SQLite transaction, and better-sqlite3 runs it synchronously, so requests racing
 * on one key are serialised: a reservation either fits the balance whole or fails.
 * One gateway process owns a store (its holds are its requests in flight); the CLI may open the
 * same file at the same time to create, revoke or top up keys (WAL, busy timeout).
 */
export class AccountStore {
  private readonly db: Database.Database
  private readonly now: () => number
  private readonly statements = new Map<string, Database.Statement>()

  constructor(path: string, options: { now?: () => number } = {}) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
    this.now = options.now ?? Date.now
    try {
      this.db = new Database(path)
    } catch (error) {
      throw new GatewayError(`cannot open the gateway account store ${path}`, { cause: error })
    }
    this.db.defaultSafeIntegers(true)
    this.db.pragma('journal_mode = WAL')
    this.db.pragma('busy_timeout = 5000')
    this.db.pragma('foreign_keys = ON')
    const version = Number(this.db.pragma('user_version', { simple: true }))
    if (version > SCHEMA_VERSION)
      throw new GatewayError(
        `the account store ${path} has schema version ${version}; this verity knows up to ${SCHEMA_VERSION}`,
      )
    this.db.exec(SCHEMA)
    this.db.pragma(`user_version = ${SCHEMA_VERSION}`)
  }

  /** A statement prepared once per store: every request runs the same few (auth, reserve, settle). */
  private sql(source: string): Database.Statement {
    let statement = this.statements.get(source)
    if (!statement) {
      statement = this.db.prepare(source)
      this.statements.set(source, statement)
    }
    return statement
  }

  /** A new key with `credit` micro-units; returns the secret (shown once) and the record. */
  create(options: { name?: string; credit?: bigint; limits: KeyLimits }): {
    secret: string
    account: AccountRecord
  } {
    const credit = options.credit ?? 0n
    checkAmount(credit, 'credit')
    for (const [k, v] of Object.entries(options.limits))
      if (!Number.isSafeInteger(v) || v < 0)
        throw new InvalidRequestError(`the ${k} limit must be a non-negative integer, got ${v}`)
    const name = options.name ?? ''
    if (name.length > 100 || !/^[\p{L}\p{N}\p{P}\p{S}\p{Zs}]*$/u.test(name))
      throw new InvalidRequestError('a key name is at most 100 printable characters')
    const { secret, hash } = createApiKey()
    const id = hash.slice(2, 18)
    const at = this.now()
    this.db.transaction(() => {
      this.sql(
        'INSERT INTO api_keys (id, hash, name, balance, held, rpm, tpm, concurrency, created_at) VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?)',
      ).run(
        id,
        hash,
        name,
        credit,
        options.limits.rpm,
        options.limits.tpm,
        options.limits.concurrency,
        at,
      )
      if (credit > 0n)
        this.sql('INSERT INTO topups (key_id, amount, at) VALUES (?, ?, ?)').run(id, credit, at)
    })()
    return { secret, account: this.get(id) }
  }

  byHash(hash: string): AccountRecord | undefined {
    const row = this.sql('SELECT * FROM api_keys WHERE hash = ?').get(hash.toLowerCase())
    return row ? fromRow(row as KeyRow) : undefined
  }

  /** The key with this id (or a unique id prefix of at least 6 digits, as `keys list` shows). */
  get(id: string): AccountRecord {
    const wanted = id.trim().toLowerCase()
    if (!/^[0-9a-f]{6,16}$/.test(wanted)) throw new AccountNotFoundError(id)
    const rows = this.sql("SELECT * FROM api_keys WHERE id LIKE ? || '%' LIMIT 2").all(
      wanted,
    ) as KeyRow[]
    if (rows.length !== 1) throw new AccountNotFoundError(id)
    return fromRow(rows[0]!)
  }

  list(): AccountRecord[] {
    return (this.sql('SELECT * FROM api_keys ORDER BY created_at, id').all() as KeyRow[]).map(
      fromRow,
    )
  }

  /** Revokes a key: its next request is refused (requests in flight finish and are charged). */
  revoke(id: string): AccountRecord {
    const key = this.get(id)
    this.sql('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(
      this.now(),
      key.id,
    )
    return this.get(key.id)
  }

  /** Adds `amount` micro-units to a key's balance. */
  topup(id: string, amount: bigint): AccountRecord {
    checkAmount(amount, 'the top-up')
    if (amount === 0n) throw new InvalidRequestError('the top-up must be more than 0')
    const key = this.get(id)
    if (key.revoked) throw new InvalidRequestError(`key ${key.id} is revoked; create a new one`)
    this.db.transaction(() => {
      const r = this.sql(
        'UPDATE api_keys SET balance = balance + ? WHERE id = ? AND balance + held + ? <= ?',
      ).run(amount, key.id, amount, MAX_BALANCE)
      if (r.changes !== 1)
        throw new InvalidRequestError(`the balance would exceed the largest one a key may hold`)
      this.sql('INSERT INTO topups (key_id, amount, at) VALUES (?, ?, ?)').run(
        key.id,
        amount,
        this.now(),
      )
    })()
    return this.get(key.id)
  }

  /**
   * Moves `amount` from the key's balance to a hold, when the balance covers it and the key is
   * not revoked. Returns the hold's id, or undefined when the balance is short.
   */
  reserve(keyId: string, amount: bigint): bigint | undefined {
    if (amount < 0n) throw new InvalidRequestError('a reservation cannot be negative')
    // no balance can cover more (and SQLite integers stop at 2^63)
    if (amount > MAX_BALANCE) return undefined
    return this.db.transaction(() => {
      const r = this.sql(
        'UPDATE api_keys SET balance = balance - ?, held = held + ? WHERE id = ? AND balance >= ? AND revoked_at IS NULL',
      ).run(amount, amount, keyId, amount)
      if (r.changes !== 1) return undefined
      const hold = this.sql('INSERT INTO holds (key_id, amount, created_at) VALUES (?, ?, ?)').run(
        keyId,
        amount,
        this.now(),
      )
      return BigInt(hold.lastInsertRowid)
    })()
  }

  /**
   * Ends a hold: charges `usage.cost` (at most the hold), returns the rest to the balance and
   * records the usage, in one transaction. A hold already settled is left alone (false).
   */
  settle(holdId: bigint, usage: Omit<UsageRecord, 'at'>): boolean {
    return this.db.transaction(() => {
      const hold = this.sql('SELECT key_id, amount FROM holds WHERE id = ?').get(holdId) as
        | { key_id: string; amount: bigint }
        | undefined
      if (!hold) return false
      // biome-ignore lint/complexity/useMathMinMax: bigints (Math.min takes numbers only)
      const cost = usage.cost < hold.amount ? usage.cost : hold.amount
      this.sql('DELETE FROM holds WHERE id = ?').run(holdId)
      this.sql('UPDATE api_keys SET balance = balance + ?, held = held - ? WHERE id = ?').run(
        hold.amount - cost,
        hold.amount,
        hold.key_id,
      )
      this.sql(
        'INSERT INTO usage (key_id, model, prompt_tokens, completion_tokens, cost, outcome, at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ).run(
        hold.key_id,
        usage.model,
        usage.promptTokens,
        usage.completionTokens,
        cost,
        usage.outcome,
        this.now(),
      )
      return true
    })()
  }

  /**
   * Returns every hold to its key's balance: the requests they were for died with a previous
   * gateway process (what they produced is unknown, so it is not charged). The gateway calls this
   * once at start, before it serves; the CLI never does.
   */
  releaseHolds(): number {
    return this.db.transaction(() => {
      const holds = this.sql('SELECT id, key_id, amount FROM holds').all() as {
        id: bigint
        key_id: string
        amount: bigint
      }[]
      for (const h of holds) {
        this.sql('UPDATE api_keys SET balance = balance + ?, held = held - ? WHERE id = ?').run(
          h.amount,
          h.amount,
          h.key_id,
        )
        this.sql('DELETE FROM holds WHERE id = ?').run(h.id)
      }
      return holds.length
    })()
  }

  /** A key's balance, totals and its `recent` latest requests (newest first). */
  usage(id: string, recent = 20): UsageSummary {
    const account = this.get(id)
    const t = this.sql(
      'SELECT COUNT(*) AS n, COALESCE(SUM(prompt_tokens), 0) AS p, COALESCE(SUM(completion_tokens), 0) AS c, COALESCE(SUM(cost), 0) AS cost FROM usage WHERE key_id = ?',
    ).get(account.id) as { n: bigint; p: bigint; c: bigint; cost: bigint }
    const rows = this.sql('SELECT * FROM usage WHERE key_id = ? ORDER BY id DESC LIMIT ?').all(
      account.id,
      Math.max(0, Math.min(recent, 1000)),
    ) as {
      model: string
      prompt_tokens: bigint
      completion_tokens: bigint
      cost: bigint
      outcome: UsageOutcome
      at: bigint
    }[]
    return {
      account,
      totals: {
        requests: Number(t.n),
        promptTokens: Number(t.p),
        completionTokens: Number(t.c),
        cost: t.cost,
      },
      recent: rows.map((r) => ({
        model: r.model,
        promptTokens: Number(r.prompt_tokens),
        completionTokens: Number(r.completion_tokens),
        cost: r.cost,
        outcome: r.outcome,
        at: Number(r.at),
      })),
    }
  }

  /** Total credit ever added to a key (its top-ups, the first one included). */
  credited(id: string): bigint {
    const key = this.get(id)
    const r = this.sql('SELECT COALESCE(SUM(amount), 0) AS s FROM topups WHERE key_id = ?').get(
      key.id,
    ) as { s: bigint }
    return r.s
  }

  close(): void {
    this.db.close()
  }
}

function checkAmount(amount: bigint, what: string): void {
  if (typeof amount !== 'bigint' || amount < 0n || amount > MAX_BALANCE)
    throw new InvalidRequestError(`${what} must be between 0 and ${MAX_BALANCE} micro-units`)
}

/** The account store's file in a gateway node's data dir. */
export function accountStorePath(dataDir: string): string {
  return join(dataDir, 'gateway.sqlite')
}

/** Limits of a key created without any (0 = no limit). */
export const DEFAULT_KEY_LIMITS: KeyLimits = { rpm: 60, tpm: 100_000, concurrency: 4 }
