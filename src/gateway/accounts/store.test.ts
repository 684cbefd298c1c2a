import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { hashApiKey } from './keys.ts'
import { AccountStore } from './store.ts'

const LIMITS = { rpm: 60, tpm: 0, concurrency: 0 }
let dir: string
let stores: AccountStore[]

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'verity-accounts-'))
  stores = []
})
afterEach(() => {
  for (const s of stores) s.close()
  rmSync(dir, { recursive: true, force: true })
})

function open(): AccountStore {
  const s = new AccountStore(join(dir, 'gateway.sqlite'))
  stores.push(s)
  return s
}

describe('AccountStore', () => {
  it('keeps only the hash of a key; the secret is shown once and finds the account', () => {
    const store = open()
    const { secret, account } = store.create({ name: 'alice', credit: 5_000_000n, limits: LIMITS })
    expect(secret).toMatch(/^vty-[A-Za-z0-9_-]{43}$/)
    expect(account.hash).toBe(hashApiKey(secret))
    expect(account.id).toBe(account.hash.slice(2, 18))
    expect(store.byHash(hashApiKey(secret))?.name).toBe('alice')
    expect(store.byHash(hashApiKey(`${secret}x`))).toBeUndefined()
    store.close()
    stores = []
    for (const f of ['gateway.sqlite', 'gateway.sqlite-wal']) {
      let bytes = ''
      try {
        bytes = readFileSync(join(dir, f), 'latin1')
      } catch {}
      expect(bytes.includes(secret.slice(4))).toBe(false)
    }
    expect(open().get(account.id).balance).toBe(5_000_000n)
  })

  it('reserve fits the balance whole or fails; settle charges at most the hold and records usage', () => {
    const store = open()
    const { account } = store.create({ credit: 100n, limits: LIMITS })
    const h1 = store.reserve(account.id, 60n)!
    expect(h1).toBeDefined()
    expect(store.reserve(account.id, 41n)).toBeUndefined()
    expect(store.get(account.id)).toMatchObject({ balance: 40n, held: 60n })
    const h2 = store.reserve(account.id, 40n)!
    expect(store.get(account.id)).toMatchObject({ balance: 0n, held: 100n })
    expect(
      store.settle(h1, {
        model: 'm',
        promptTokens: 3,
        completionTokens: 4,
        cost: 25n,
        outcome: 'ok',
      }),
    ).toBe(true)
    // settling twice does nothing
    expect(
      store.settle(h1, {
        model: 'm',
        promptTokens: 3,
        completionTokens: 4,
        cost: 25n,
        outcome: 'ok',
      }),
    ).toBe(false)
    // a cost above the hold is capped at the hold: never an overdraw
    store.settle(h2, {
      model: 'm',
      promptTokens: 1,
      completionTokens: 1,
      cost: 1000n,
      outcome: 'ok',
    })
    const u = store.usage(account.id)
    expect(u.account).toMatchObject({ balance: 35n, held: 0n })
    expect(u.totals).toEqual({ requests: 2, promptTokens: 4, completionTokens: 5, cost: 65n })
    expect(u.recent.map((r) => r.cost)).toEqual([40n, 25n])
    expect(store.credited(account.id) - u.totals.cost).toBe(u.account.balance)
  })

  it('refuses negative, oversized and zero amounts with a clear error and no change', () => {
    const store = open()
    const { account } = store.create({ credit: 10n, limits: LIMITS })
    expect(() => store.reserve(account.id, -1n)).toThrow(/cannot be negative/)
    expect(store.reserve(account.id, 10n ** 40n)).toBeUndefined()
    expect(() => store.topup(account.id, -5n)).toThrow(/between 0 and/)
    expect(() => store.topup(account.id, 0n)).toThrow(/more than 0/)
    expect(() => store.topup(account.id, 10n ** 30n)).toThrow(/between 0 and/)
    expect(() => store.create({ credit: -1n, limits: LIMITS })).toThrow(/credit must be/)
    expect(() => store.create({ limits: { ...LIMITS, rpm: -1 } })).toThrow(/rpm limit/)
    expect(() => store.create({ name: 'a\u0000b', limits: LIMITS })).toThrow(/printable/)
    expect(store.get(account.id).balance).toBe(10n)
    expect(store.list()).toHaveLength(1)
  })

  it('finds keys by id or unique prefix only; revoke and topup name unknown ids', () => {
    const store = open()
    const a = store.create({ limits: LIMITS }).account
    expect(store.get(a.id.slice(0, 8)).id).toBe(a.id)
    for (const bad of ['', 'zzzzzz', '12345', "' OR 1=1 --", '%', a.hash])
      expect(() => store.get(bad), bad).toThrow(/no API key with id/)
    expect(() => store.revoke('deadbeefdeadbeef')).toThrow(/no API key/)
    expect(() => store.topup('deadbeefdeadbeef', 1n)).toThrow(/no API key/)
    expect(store.revoke(a.id).revoked).toBe(true)
    expect(store.reserve(a.id, 0n)).toBeUndefined()
    expect(() => store.topup(a.id, 1n)).toThrow(/revoked/)
  })

  it('a CLI opening the same file sees and changes what the gateway sees at once', () => {
    const gateway = open()
    const cli = open()
    const { account } = cli.create({ credit: 10n, limits: LIMITS })
    expect(gateway.byHash(account.hash)?.balance).toBe(10n)
    const hold = gateway.reserve(account.id, 10n)!
    cli.topup(account.id, 5n)
    expect(gateway.get(account.id)).toMatchObject({ balance: 5n, held: 10n })
    cli.revoke(account.id)
    expect(gateway.byHash(account.hash)?.revoked).toBe(true)
    gateway.settle(hold, {
      model: 'm',
      promptTokens: 1,
      completionTokens: 0,
      cost: 3n,
      outcome: 'ok',
    })
    expect(cli.get(account.id)).toMatchObject({ balance: 12n, held: 0n })
  })

  it('releaseHolds returns the holds of a previous process to their keys', () => {
    const first = open()
    const { account } = first.create({ credit: 100n, limits: LIMITS })
    first.reserve(account.id, 30n)
    first.reserve(account.id, 20n)
    const restarted = open()
    expect(restarted.releaseHolds()).toBe(2)
    expect(restarted.get(account.id)).toMatchObject({ balance: 100n, held: 0n })
    expect(restarted.releaseHolds()).toBe(0)
  })
})
