import { logger } from '@libp2p/logger'

/** A namespaced debug logger (`verity:<name>`), enabled with DEBUG=verity:*. */
export function log(name: string) {
  return logger(`verity:${name}`)
}
