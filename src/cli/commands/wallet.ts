import { homedir } from 'node:os'
import { join } from 'node:path'
import { UsageError } from '../../errors/cli.ts'
import { createWallet, listWallets, readPassphrase } from '../../node/wallet.ts'
import { intFlag, parseArgs } from '../args.ts'
import type { Command } from '../main.ts'

const HELP = `usage: verity wallet create --name <wallet> [--hotkey <name>] [--dir <dir>]
                            [--passphrase-file <file>] [--dev --chain-id <id> [--dev-index i]] [--json]
       verity wallet list [--dir <dir>] [--json]

Keyfiles live in <dir>/<wallet>/coldkey.json and <dir>/<wallet>/hotkeys/<name>.json (default dir
~/.verity/wallets), the private key encrypted with a passphrase (scrypt + AES-256-GCM). The
passphrase comes from --passphrase-file (first line) or the VERITY_PASSPHRASE environment variable.
--dev writes anvil's well-known keys (coldkey at --dev-index, hotkey at the next index) and is only
accepted with a devnet chain id (31337 or 1337); such keyfiles refuse to load for any other chain.`

const spec = {
  name: { type: 'string' },
  hotkey: { type: 'string' },
  dir: { type: 'string' },
  'passphrase-file': { type: 'string' },
  dev: { type: 'boolean' },
  'chain-id': { type: 'string' },
  'dev-index': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

export const command: Command = {
  summary: 'create and list coldkey/hotkey keyfiles',
  run: async (argv) => {
    const [sub, ...rest] = argv
    const { flags, positionals } = parseArgs(rest, spec)
    if (flags.help || sub === '--help' || sub === '-h') {
      console.log(HELP)
      return 0
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`)
    const dir = typeof flags.dir === 'string' ? flags.dir : join(homedir(), '.verity', 'wallets')
    if (sub === 'list') {
      const entries = listWallets(dir)
      if (flags.json) console.log(JSON.stringify(entries))
      else if (entries.length === 0) console.log(`no wallets in ${dir}`)
      else
        for (const e of entries)
          console.log(`${e.wallet}\t${e.role}\t${e.name}\t${e.address}${e.dev ? '\t(dev)' : ''}`)
      return 0
    }
    if (sub !== 'create')
      throw new UsageError(`unknown wallet command '${sub ?? ''}' (create or list)`)
    if (typeof flags.name !== 'string') throw new UsageError('--name is required')
    if (!flags.dev && (flags['chain-id'] !== undefined || flags['dev-index'] !== undefined))
      throw new UsageError('--chain-id and --dev-index go with --dev')
    let dev: { chainId: number; index: number } | undefined
    if (flags.dev) {
      if (flags['chain-id'] === undefined)
        throw new UsageError('--dev needs --chain-id (a devnet: 31337 or 1337)')
      dev = {
        chainId: intFlag(flags, 'chain-id', 0, 0, Number.MAX_SAFE_INTEGER),
        index: intFlag(flags, 'dev-index', 0, 0, 1000),
      }
    }
    const passphrase = readPassphrase({
      file: typeof flags['passphrase-file'] === 'string' ? flags['passphrase-file'] : undefined,
    })
    const created = createWallet({
      dir,
      wallet: flags.name,
      ...(typeof flags.hotkey === 'string' ? { hotkey: flags.hotkey } : {}),
      passphrase,
      ...(dev ? { dev } : {}),
    })
    if (flags.json) console.log(JSON.stringify(created))
    else if (created.length === 0) console.log(`wallet '${flags.name}' exists; nothing created`)
    else
      for (const e of created) console.log(`created ${e.role} ${e.name} ${e.address} -> ${e.path}`)
    return 0
  },
}
