import { readFile } from 'node:fs/promises'
import type { Address } from 'viem'
import { NodeError } from '../errors/node.ts'
import type { ModelSource } from './competition-validator.ts'

/**
 * A ModelSource reading each hotkey's file from a local path (the devnet, tests): the miners'
 * files are on this machine. A hotkey with no path is a miner that serves nothing.
 */
export function localFileSource(
  paths: ReadonlyMap<Address, string> | Record<string, string>,
): ModelSource {
  const byHotkey = new Map<string, string>(
    [...(paths instanceof Map ? paths.entries() : Object.entries(paths))].map(([k, v]) => [
      k.toLowerCase(),
      v,
    ]),
  )
  return async (_commit, hotkey, signal) => {
    const path = byHotkey.get(hotkey.toLowerCase())
    if (path === undefined) throw new NodeError(`${hotkey} serves no model file`)
    return new Uint8Array(await readFile(path, { signal }))
  }
}
