import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Accounts } from '../gateway/accounts/meter.ts'
import { FREE, fixedPriceBook } from '../gateway/accounts/price.ts'
import { AccountStore, accountStorePath } from '../gateway/accounts/store.ts'

const root = join(import.meta.dirname, '../..')
const dir = mkdtempSync(join(tmpdir(), 'verity-gateway-keys-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function verity(...args: string[]) {
  const r = spawnSync(process.execPath, [join(root, 'bin/verity.js'), 'gateway', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

function expectCleanError(r: ReturnType<typeof verity>, code: number, message: RegExp) {
  expect(r.code).toBe(code)
  expect(r.stderr.split('\n')[0]).toMatch(/^error: /)
  expect(r.stderr).toMatch(message)
  expect(r.stderr).not.toMatch(/\n\s+at /)
}

describe('verity gateway keys', () => {
  it('create, list, topup and revoke a key; the gateway authenticates it by its secret', () => {
    const d = ['--data-dir', dir]
    const created = verity(
      'keys',
      'create',
      ...d,
      '--name',
      'alice',
      '--credit',
      '2.5',
      '--rpm',
      '10',
      '--tpm',
      '0',
      '--concurrency',
      '2',
      '--json',
    )
    expect(created.stderr).toBe('')
    const key = JSON.parse(created.stdout)
    expect(key).toMatchObject({
      name: 'alice',
      balance: '2500000',
      balanceUnits: '2.500000',
      limits: { rpm: 10, tpm: 0, concurrency: 2 },
      revoked: false,
    })
    expect(key.secret).toMatch(/^vty-[\w-]{43}$/)

    // the gateway (another handle on the file) knows the key by its secret
    const store = new AccountStore(accountStorePath(dir))
    const accounts = new Accounts({ store, prices: fixedPriceBook(FREE) })
    expect(accounts.authenticate(`Bearer ${key.secret}`).id).toBe(key.id)

    const text = verity('keys', 'create', '--db', accountStorePath(dir))
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(/shown this once:\n\n {2}vty-/)
    expect(text.stdout).toMatch(/60 requests\/min, 100000 tokens\/min, 4 at once/)

    const listed = JSON.parse(verity('keys', 'list', ...d, '--json').stdout)
    expect(listed.map((k: { name: string }) => k.name)).toEqual(['alice', ''])
    expect(JSON.stringify(listed)).not.toContain(key.secret)
    const table = verity('keys', 'list', ...d)
    expect(table.stdout.split('\n')[0]).toMatch(/^id\s+name\s+balance/)
    expect(table.stdout).not.toContain(key.secret.slice(4))

    const topped = JSON.parse(
      verity('keys', 'topup', key.id.slice(0, 8), '--credit', '0.000001', ...d, '--json').stdout,
    )
    expect(topped.balance).toBe('2500001')
    expect(store.get(key.id).balance).toBe(2_500_001n)

    expect(verity('keys', 'revoke', key.id, ...d).stdout).toMatch(/revoked/)
    expect(() => accounts.authenticate(`Bearer ${key.secret}`)).toThrow(/revoked/)
    store.close()
  })

  it('refuses bad input with one clear line', () => {
    const d = ['--data-dir', dir]
    expectCleanError(verity('keys', 'create'), 2, /--data-dir .* or --db .* is required/)
    expectCleanError(
      verity('keys', 'create', ...d, '--credit', '-1'),
      2,
      /--credit must be a non-negative amount/,
    )
    expectCleanError(verity('keys', 'create', ...d, '--credit', '1e9'), 2, /--credit must be/)
    expectCleanError(verity('keys', 'create', ...d, '--rpm', 'lots'), 2, /--rpm must be an integer/)
    expectCleanError(
      verity('keys', 'topup', 'abcdef12', ...d, '--credit', '1'),
      1,
      /no API key with id 'abcdef12'/,
    )
    expectCleanError(verity('keys', 'topup', 'abcdef12', ...d), 2, /--credit <amount> is required/)
    expectCleanError(verity('keys', 'revoke', ...d), 2, /expected one key id/)
    expectCleanError(verity('keys', 'rotate', ...d), 2, /unknown gateway keys command 'rotate'/)
    expectCleanError(verity('accounts', ...d), 2, /unknown gateway command 'accounts'/)
    expect(verity('--help').stdout).toMatch(/verity gateway keys create/)
  })
})
