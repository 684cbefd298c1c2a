import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { bytesToHex, type Hex, hexToBytes } from 'viem'
import {
  generatePrivateKey,
  mnemonicToAccount,
  type PrivateKeyAccount,
  privateKeyToAccount,
} from 'viem/accounts'
import { WalletError } from '../errors/node.ts'
import type { Address } from '../types/inference.ts'

/** Chain ids of local development chains: the only ones that accept dev (well-known) keys. */
export const DEVNET_CHAIN_IDS: readonly number[] = [31337, 1337]

/** anvil's well-known mnemonic: its keys are public, so they are for devnets only. */
const DEV_MNEMONIC = 'test test test test test test test test test test test junk'

export type KeyRole = 'coldkey' | 'hotkey'

/**
 * A keyfile: the address in the clear, the private key encrypted with AES-256-GCM under a key
 * derived from the passphrase with scrypt. Dev keyfiles hold a well-known anvil key and are
 * bound to a devnet chain id.
 */
export type Keyfile = {
  version: 1
  role: KeyRole
  name: string
  address: Address
  /** Present on dev keyfiles: the only chain ids the key may be used with. */
  devChainId?: number
  crypto: {
    kdf: 'scrypt'
    n: number
    r: number
    p: number
    salt: Hex
    cipher: 'aes-256-gcm'
    iv: Hex
    ciphertext: Hex
    tag: Hex
  }
}

const SCRYPT = { n: 1 << 15, r: 8, p: 1 }

function derive(passphrase: string, salt: Uint8Array, c: { n: number; r: number; p: number }) {
  return scryptSync(passphrase, salt, 32, { N: c.n, r: c.r, p: c.p, maxmem: 256 * c.n * c.r })
}

/** Encrypts a private key into a keyfile. */
export function encryptKey(
  privateKey: Hex,
  passphrase: string,
  info: { role: KeyRole; name: string; devChainId?: number },
): Keyfile {
  if (passphrase.length === 0) throw new WalletError('the passphrase is empty')
  const account = privateKeyToAccount(privateKey)
  const salt = randomBytes(16)
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', derive(passphrase, salt, SCRYPT), iv)
  const ciphertext = Buffer.concat([cipher.update(hexToBytes(privateKey)), cipher.final()])
  return {
    version: 1,
    role: info.role,
    name: info.name,
    address: account.address,
    ...(info.devChainId === undefined ? {} : { devChainId: info.devChainId }),
    crypto: {
      kdf: 'scrypt',
      ...SCRYPT,
      salt: bytesToHex(salt),
      cipher: 'aes-256-gcm',
      iv: bytesToHex(iv),
      ciphertext: bytesToHex(ciphertext),
      tag: bytesToHex(cipher.getAuthTag()),
    },
  }
}

/**
 * Decrypts a keyfile. A wrong passphrase or a tampered file fails the GCM tag check; a dev
 * keyfile is refused unless `chainId` is its devnet.
 */
export function decryptKey(
  keyfile: Keyfile,
  passphrase: string,
  options: { chainId?: number } = {},
): PrivateKeyAccount {
  const c = keyfile.crypto
  if (keyfile.version !== 1 || c?.kdf !== 'scrypt' || c.cipher !== 'aes-256-gcm')
    throw new WalletError('unsupported keyfile format')
  if (keyfile.devChainId !== undefined && options.chainId !== keyfile.devChainId)
    throw new WalletError(
      `'${keyfile.name}' is a dev key: it may only be used on devnet chain ${keyfile.devChainId}`,
      {
        details:
          options.chainId === undefined ? 'no chain id given' : `this chain is ${options.chainId}`,
      },
    )
  let key: Buffer
  try {
    const decipher = createDecipheriv(
      'aes-256-gcm',
      derive(passphrase, hexToBytes(c.salt), c),
      hexToBytes(c.iv),
    )
    decipher.setAuthTag(hexToBytes(c.tag))
    key = Buffer.concat([decipher.update(hexToBytes(c.ciphertext)), decipher.final()])
  } catch (error) {
    throw new WalletError(`cannot decrypt '${keyfile.name}': wrong passphrase or damaged keyfile`, {
      cause: error,
    })
  }
  const account = privateKeyToAccount(bytesToHex(key))
  if (account.address.toLowerCase() !== keyfile.address.toLowerCase())
    throw new WalletError(`keyfile '${keyfile.name}' decrypts to another address than it names`)
  return account
}

/** Reads and shape-checks a keyfile. */
export function readKeyfile(path: string): Keyfile {
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'))
  } catch (error) {
    throw new WalletError(`cannot read keyfile ${path}`, {
      cause: error,
      details: (error as Error).message,
    })
  }
  const k = parsed as Keyfile
  if (
    typeof k !== 'object' ||
    k === null ||
    k.version !== 1 ||
    typeof k.address !== 'string' ||
    !k.crypto
  )
    throw new WalletError(`${path} is not a Verity keyfile`)
  return k
}

/** Reads a keyfile and decrypts it. */
export function loadKey(
  path: string,
  passphrase: string,
  options: { chainId?: number } = {},
): PrivateKeyAccount {
  return decryptKey(readKeyfile(path), passphrase, options)
}

/** The passphrase from a file (first line) or the VERITY_PASSPHRASE environment variable. */
export function readPassphrase(
  options: { file?: string | undefined; env?: NodeJS.ProcessEnv } = {},
): string {
  if (options.file !== undefined) {
    let text: string
    try {
      text = readFileSync(options.file, 'utf8')
    } catch (error) {
      throw new WalletError(`cannot read passphrase file ${options.file}`, { cause: error })
    }
    const line = text.split(/\r?\n/)[0] ?? ''
    if (line.length === 0) throw new WalletError(`passphrase file ${options.file} is empty`)
    return line
  }
  const env = (options.env ?? process.env).VERITY_PASSPHRASE
  if (env) return env
  throw new WalletError('no passphrase: pass --passphrase-file <file> or set VERITY_PASSPHRASE')
}

/** The well-known dev key at `index` of anvil's mnemonic (devnets only). */
export function devPrivateKey(index: number): Hex {
  const key = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: index }).getHdKey().privateKey
  if (!key) throw new WalletError('dev key derivation failed')
  return bytesToHex(key)
}

export type WalletEntry = {
  wallet: string
  role: KeyRole
  name: string
  address: Address
  dev: boolean
  path: string
}

/**
 * Creates `<dir>/<wallet>/coldkey.json` (unless it exists) and, when `hotkey` is given,
 * `<dir>/<wallet>/hotkeys/<hotkey>.json`. With `dev`, the keys are anvil's well-known ones at
 * `devIndex` (coldkey) and `devIndex + 1` (hotkey), bound to `chainId`, which must be a devnet.
 */
export function createWallet(options: {
  dir: string
  wallet: string
  hotkey?: string
  passphrase: string
  dev?: { chainId: number; index: number }
}): WalletEntry[] {
  const { dir, wallet, hotkey, passphrase, dev } = options
  const safe = /^[A-Za-z0-9_.-]{1,64}$/
  if (!safe.test(wallet)) throw new WalletError(`invalid wallet name '${wallet}'`)
  if (hotkey !== undefined && !safe.test(hotkey))
    throw new WalletError(`invalid hotkey name '${hotkey}'`)
  if (dev && !DEVNET_CHAIN_IDS.includes(dev.chainId))
    throw new WalletError(
      `dev keys are only allowed on a devnet (chain id ${DEVNET_CHAIN_IDS.join(' or ')}), not ${dev.chainId}`,
    )
  const base = join(dir, wallet)
  mkdirSync(join(base, 'hotkeys'), { recursive: true, mode: 0o700 })
  const created: WalletEntry[] = []
  const write = (path: string, role: KeyRole, name: string, key: Hex) => {
    const keyfile = encryptKey(key, passphrase, {
      role,
      name,
      ...(dev ? { devChainId: dev.chainId } : {}),
    })
    try {
      writeFileSync(path, `${JSON.stringify(keyfile, null, 2)}\n`, { mode: 0o600, flag: 'wx' })
    } catch (error) {
      throw new WalletError(`cannot write ${path}`, {
        cause: error,
        details: (error as Error).message,
      })
    }
    created.push({ wallet, role, name, address: keyfile.address, dev: dev !== undefined, path })
  }
  const coldPath = join(base, 'coldkey.json')
  if (!exists(coldPath))
    write(coldPath, 'coldkey', wallet, dev ? devPrivateKey(dev.index) : generatePrivateKey())
  if (hotkey !== undefined) {
    const path = join(base, 'hotkeys', `${hotkey}.json`)
    if (exists(path))
      throw new WalletError(`hotkey '${hotkey}' already exists in wallet '${wallet}'`)
    write(path, 'hotkey', hotkey, dev ? devPrivateKey(dev.index + 1) : generatePrivateKey())
  }
  return created
}

/**
 * Writes an existing private key as `<dir>/<wallet>/coldkey.json`, or as the hotkey `hotkey` of
 * the wallet when given, encrypted with the passphrase. Never overwrites a keyfile.
 */
export function importKey(options: {
  dir: string
  wallet: string
  hotkey?: string
  privateKey: Hex
  passphrase: string
}): WalletEntry {
  const { dir, wallet, hotkey, passphrase } = options
  const safe = /^[A-Za-z0-9_.-]{1,64}$/
  if (!safe.test(wallet)) throw new WalletError(`invalid wallet name '${wallet}'`)
  if (hotkey !== undefined && !safe.test(hotkey))
    throw new WalletError(`invalid hotkey name '${hotkey}'`)
  const privateKey = options.privateKey.trim().replace(/^(0x)?/, '0x') as Hex
  if (!/^0x[0-9a-fA-F]{64}$/.test(privateKey))
    throw new WalletError('the private key must be 32 bytes of hex (64 hex digits, 0x optional)')
  const role: KeyRole = hotkey === undefined ? 'coldkey' : 'hotkey'
  const name = hotkey ?? wallet
  const keyfile = encryptKey(privateKey, passphrase, { role, name })
  mkdirSync(join(dir, wallet, 'hotkeys'), { recursive: true, mode: 0o700 })
  const path =
    hotkey === undefined
      ? join(dir, wallet, 'coldkey.json')
      : join(dir, wallet, 'hotkeys', `${hotkey}.json`)
  try {
    writeFileSync(path, `${JSON.stringify(keyfile, null, 2)}\n`, { mode: 0o600, flag: 'wx' })
  } catch (error) {
    throw new WalletError(
      (error as NodeJS.ErrnoException).code === 'EEXIST'
        ? `${path} already exists`
        : `cannot write ${path}`,
      { cause: error },
    )
  }
  return { wallet, role, name, address: keyfile.address, dev: false, path }
}

function exists(path: string): boolean {
  try {
    readFileSync(path)
    return true
  } catch {
    return false
  }
}

/** Every keyfile under `dir` (addresses are stored in the clear: no passphrase needed). */
export function listWallets(dir: string): WalletEntry[] {
  const out: WalletEntry[] = []
  let wallets: string[]
  try {
    wallets = readdirSync(dir).sort()
  } catch {
    return out
  }
  for (const wallet of wallets) {
    const files = [join(dir, wallet, 'coldkey.json')]
    try {
      for (const f of readdirSync(join(dir, wallet, 'hotkeys')).sort())
        if (f.endsWith('.json')) files.push(join(dir, wallet, 'hotkeys', f))
    } catch {
      // no hotkeys
    }
    for (const path of files) {
      try {
        const k = readKeyfile(path)
        out.push({
          wallet,
          role: k.role,
          name: k.name,
          address: k.address,
          dev: k.devChainId !== undefined,
          path,
        })
      } catch {
        // not a keyfile
      }
    }
  }
  return out
}
