import { isIP } from 'node:net'
import type { MiddlewareHandler } from 'hono'
import { HostNotAllowedError } from '../../../errors/gateway.ts'

/** Names a gateway always answers to: loopback. */
export const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '::1']

/** The host name of a Host header, without port and brackets, lower-case; undefined if malformed. */
export function hostName(header: string): string | undefined {
  const h = header.trim().toLowerCase()
  const m = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/.exec(h) ?? /^([a-z0-9.-]+)(?::\d{1,5})?$/.exec(h)
  if (!m) return undefined
  return m[1]!.replace(/\.$/, '')
}

/**
 * Answers only requests whose Host header names this gateway: `allowed` names (lower-case, no
 * port), loopback, and any IP literal. A DNS-rebinding page reaches a loopback or LAN gateway
 * under the attacker's own domain name, so its Host is that name and it gets a 421; an IP literal
 * is never a rebinding (the page's origin would be that IP), so addresses pass.
 */
export function hostCheck(allowed: readonly string[]): MiddlewareHandler {
  const names = new Set([...LOOPBACK_HOSTS, ...allowed.map((a) => a.trim().toLowerCase())])
  return async (c, next) => {
    const header = c.req.header('host')
    const name = header === undefined ? undefined : hostName(header)
    if (name === undefined || !(names.has(name) || isIP(name) !== 0))
      throw new HostNotAllowedError(header)
    await next()
  }
}
