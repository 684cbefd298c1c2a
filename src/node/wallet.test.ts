import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { WalletError } from '../errors/node.ts'
import {
  createWallet,
  decryptKey,
  devPrivateKey,
  importKey,
  listWallets,
  loadKey,
  readKeyfile,
  readPassphrase,
} from './wallet.ts'

const run = promisify(execFile)
const dir = mkdtempSync(join(tmpdir(), 'verity-wallet-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('keyfiles', () => {
  it('encrypts at rest and decrypts only with the passphrase', () => {
    const [cold, hot] = createWallet({
      dir,
      wallet: 'alice',
      hotkey: 'miner1',
      passphrase: 'correct horse',
    })
    expect(cold!.role).toBe('coldkey')
    expect(readFileSync(hot!.path, 'utf8')).toContain('ciphertext')
    const account = loadKey(hot!.path, 'correct horse')
    expect(account.address).toBe(hot!.address)
    expect(() => loadKey(hot!.path, 'wrong')).toThrow(/wrong passphrase/)
    const k = readKeyfile(hot!.path)
    const flipped = {
      ...k,
      crypto: {
        ...k.crypto,
        ciphertext:
          `0x${k.crypto.ciphertext.slice(2, -2)}${k.crypto.ciphertext.endsWith('00') ? 'ff' : '00'}` as const,
      },
    }
    expect(() => decryptKey(flipped, 'correct horse')).toThrow(WalletError)
    expect(() => createWallet({ dir, wallet: 'alice', hotkey: 'miner1', passphrase: 'x' })).toThrow(
      /exists/,
    )
  })

  it('dev keys only with a devnet chain id, and refuse to load elsewhere', () => {
    expect(() =>
      createWallet({ dir, wallet: 'dev', passphrase: 'p', dev: { chainId: 1, index: 0 } }),
    ).toThrow(/devnet/)
    const [cold] = createWallet({
      dir,
      wallet: 'dev',
      hotkey: 'h',
      passphrase: 'p',
      dev: { chainId: 31337, index: 0 },
    })
    expect(loadKey(cold!.path, 'p', { chainId: 31337 }).address).toBe(cold!.address)
    expect(() => loadKey(cold!.path, 'p', { chainId: 1 })).toThrow(/dev key/)
    expect(() => loadKey(cold!.path, 'p')).toThrow(/dev key/)
    expect(devPrivateKey(0)).toBe(
      '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
    )
  })

  it('imports an existing key as a coldkey or a hotkey, never over a keyfile', () => {
    const key = devPrivateKey(4)
    const at = join(dir, 'imports') // apart from the wallets the list test counts
    const cold = importKey({ dir: at, wallet: 'imported', privateKey: key, passphrase: 'p' })
    expect(cold.role).toBe('coldkey')
    expect(loadKey(cold.path, 'p').address).toBe(cold.address)
    const hot = importKey({
      dir: at,
      wallet: 'imported',
      hotkey: 'h',
      privateKey: key.slice(2) as `0x${string}`,
      passphrase: 'p',
    })
    expect(hot.path).toBe(join(at, 'imported', 'hotkeys', 'h.json'))
    expect(hot.address).toBe(cold.address)
    expect(() =>
      importKey({ dir: at, wallet: 'imported', privateKey: key, passphrase: 'p' }),
    ).toThrow(/already exists/)
    expect(() =>
      importKey({ dir: at, wallet: 'bad', privateKey: '0x1234', passphrase: 'p' }),
    ).toThrow(/64 hex digits/)
    expect(() => loadKey(cold.path, 'wrong')).toThrow(/wrong passphrase/)
  })

  it('passphrase from a file or the environment, never a prompt', () => {
    const f = join(dir, 'pass.txt')
    writeFileSync(f, 'from-file\n')
    expect(readPassphrase({ file: f })).toBe('from-file')
    expect(readPassphrase({ env: { VERITY_PASSPHRASE: 'from-env' } })).toBe('from-env')
    expect(() => readPassphrase({ env: {} })).toThrow(/no passphrase/)
    expect(listWallets(dir).map((e) => `${e.wallet}/${e.role}/${e.dev}`)).toEqual([
      'alice/coldkey/false',
      'alice/hotkey/false',
      'dev/coldkey/true',
      'dev/hotkey/true',
    ])
  })

  it('verity wallet create|list from the CLI', async () => {
    const cli = join(process.cwd(), 'bin', 'verity.js')
    const d = join(dir, 'cli')
    const env = { ...process.env, VERITY_PASSPHRASE: 'pw' }
    const created = await run(
      'node',
      [cli, 'wallet', 'create', '--name', 'w', '--hotkey', 'h', '--dir', d, '--json'],
      { env },
    )
    const entries = JSON.parse(created.stdout)
    expect(entries).toHaveLength(2)
    const listed = await run('node', [cli, 'wallet', 'list', '--dir', d, '--json'])
    expect(JSON.parse(listed.stdout).map((e: { address: string }) => e.address)).toEqual(
      entries.map((e: { address: string }) => e.address),
    )
    const refused = await run(
      'node',
      [cli, 'wallet', 'create', '--name', 'x', '--dir', d, '--dev', '--chain-id', '1'],
      {
        env,
      },
    ).catch((e) => e)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/error: dev keys are only allowed on a devnet/)
  })
})
