import { createHash, randomBytes } from 'node:crypto'

/** The prefix of every API key the gateway issues (so a leaked one is easy to grep for). */
export const KEY_PREFIX = 'vty-'

/** A new API key: the secret (shown once, never stored) and its sha256 (what the store keeps). */
export function createApiKey(): { secret: string; hash: string } {
  const secret = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`
  return { secret, hash: hashApiKey(secret) }
}

/** `0x` + sha256 hex of the key as sent: the same digest `apiKeyHashes` and lease specs use. */
export function hashApiKey(secret: string): string {
  return `0x${createHash('sha256').update(secret).digest('hex')}`
}

/** The bearer token of an Authorization header, or undefined when it has none. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header.trim())
  return m ? m[1] : undefined
}
