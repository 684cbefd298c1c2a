import { blake2b } from '@noble/hashes/blake2.js'

/**
 * CR-v2 commit hash: BlakeTwo256 (blake2b, 32-byte digest) over the SCALE encoding of
 * (hotkey: AccountId32, netuid: u16, uids: Vec<u16>, values: Vec<u16>, salt: Vec<u16>,
 * version_key: u64), as subtensor's `get_commit_hash`. A hotkey is 32 bytes: a 0x-prefixed
 * 64-digit hex string is used as is; any other name is hashed to 32 bytes first (our simulator
 * names hotkeys by strings).
 */
export function commitHash(
  hotkey: string,
  netuid: number,
  uids: readonly number[],
  values: readonly number[],
  salt: readonly number[],
  versionKey: bigint,
): string {
  const bytes: number[] = [...hotkeyBytes(hotkey)]
  u16(bytes, netuid)
  vecU16(bytes, uids)
  vecU16(bytes, values)
  vecU16(bytes, salt)
  for (let k = 0n; k < 8n; k++) bytes.push(Number((versionKey >> (8n * k)) & 0xffn))
  return toHex(blake2b(Uint8Array.from(bytes), { dkLen: 32 }))
}

function hotkeyBytes(hotkey: string): Uint8Array {
  if (/^0x[0-9a-fA-F]{64}$/.test(hotkey)) {
    const out = new Uint8Array(32)
    for (let i = 0; i < 32; i++) out[i] = Number.parseInt(hotkey.slice(2 + 2 * i, 4 + 2 * i), 16)
    return out
  }
  return blake2b(new TextEncoder().encode(hotkey), { dkLen: 32 })
}

function u16(out: number[], v: number): void {
  out.push(v & 0xff, (v >> 8) & 0xff)
}

/** SCALE compact length prefix (single-, two- and four-byte modes) then the u16 items. */
function vecU16(out: number[], items: readonly number[]): void {
  const n = items.length
  if (n < 1 << 6) out.push(n << 2)
  else if (n < 1 << 14) out.push(((n << 2) | 1) & 0xff, (n >> 6) & 0xff)
  else {
    const v = (n << 2) | 2
    out.push(v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff)
  }
  for (const x of items) u16(out, x)
}

function toHex(b: Uint8Array): string {
  return `0x${Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')}`
}
