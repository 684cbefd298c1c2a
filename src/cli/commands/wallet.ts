import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { type Address, formatEther, getAddress, type Hex } from 'viem'
import { transferEth } from '../../chain/actions/transferEth.ts'
import { transferToken } from '../../chain/actions/transferToken.ts'
import { ChainError } from '../../errors/chain.ts'
import { UsageError } from '../../errors/cli.ts'
import { WalletError } from '../../errors/node.ts'
import {
  createWallet,
  importKey,
  listWallets,
  readKeyfile,
  readPassphrase,
} from '../../node/wallet.ts'
import { intFlag, parseArgs } from '../args.ts'
import { KEY_FLAGS, loadAccount, openChain, signerFor, vtyBalance } from '../chain-session.ts'
import { CHAIN_FLAGS, CHAIN_FLAGS_HELP } from '../chain-target.ts'
import type { Command } from '../main.ts'
import { amountFlag, parseAddress, stringFlag } from '../values.ts'

const HELP = `usage: verity wallet create --name <wallet> [--hotkey <name>] [--dir <dir>]
                            [--passphrase-file <file>] [--dev --chain-id <id> [--dev-index i]] [--json]
       verity wallet list [--dir <dir>] [--json]
       verity wallet import --name <wallet> [--hotkey <name>] [--private-key-file <file>] [--dir <dir>]
                            [--passphrase-file <file>] [--json]
       verity wallet balance (--key <keyfile> | --address <address>) --rpc <url> --deployment <m> [--json]
       verity wallet transfer --key <keyfile> --to <address> --amount <VTY> [--eth] --rpc <url>
                              --deployment <m> [--passphrase-file <file>] [--json]

Keyfiles live in <dir>/<wallet>/coldkey.json and <dir>/<wallet>/hotkeys/<name>.json (default dir
~/.verity/wallets), the private key encrypted with a passphrase (scrypt + AES-256-GCM). The
passphrase comes from --passphrase-file (first line) or the VERITY_PASSPHRASE environment variable.
--dev writes anvil's well-known keys (coldkey at --dev-index, hotkey at the next index) and is only
accepted with a devnet chain id (31337 or 1337); such keyfiles refuse to load for any other chain.
import: encrypts an existing private key (hex, from the first line of --private-key-file or the
VERITY_PRIVATE_KEY environment variable) as the wallet's coldkey, or as its hotkey --hotkey.
balance: the ETH (for gas) and VTY of a keyfile's account (no passphrase needed) or an --address.
transfer: sends VTY (a decimal amount, like 10 or 0.5), or ETH with --eth, to --to.

${CHAIN_FLAGS_HELP}`

const spec = {
  ...CHAIN_FLAGS,
  ...KEY_FLAGS,
  'private-key-file': { type: 'string' },
  address: { type: 'string' },
  to: { type: 'string' },
  amount: { type: 'string' },
  eth: { type: 'boolean' },
  name: { type: 'string' },
  hotkey: { type: 'string' },
  dir: { type: 'string' },
  dev: { type: 'boolean' },
  'chain-id': { type: 'string' },
  'dev-index': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

export const command: Command = {
  summary: 'create, import and list keyfiles; balances; send VTY or ETH',
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
    if (sub === 'import') return importCommand(flags, dir)
    if (sub === 'balance') return await balance(flags)
    if (sub === 'transfer') return await transfer(flags)
    if (sub !== 'create')
      throw new UsageError(
        `unknown wallet command '${sub ?? ''}' (create, list, import, balance or transfer)`,
      )
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

type Flags = ReturnType<typeof parseArgs>['flags']

function importCommand(flags: Flags, dir: string): number {
  if (typeof flags.name !== 'string') throw new UsageError('--name is required')
  let privateKey: string | undefined
  if (typeof flags['private-key-file'] === 'string') {
    try {
      privateKey = readFileSync(flags['private-key-file'], 'utf8').split(/\r?\n/)[0]
    } catch (error) {
      throw new WalletError(`cannot read the private key file ${flags['private-key-file']}`, {
        cause: error,
      })
    }
  } else privateKey = process.env.VERITY_PRIVATE_KEY
  if (!privateKey)
    throw new UsageError('no private key: pass --private-key-file <file> or set VERITY_PRIVATE_KEY')
  const passphrase = readPassphrase({
    file: typeof flags['passphrase-file'] === 'string' ? flags['passphrase-file'] : undefined,
  })
  const entry = importKey({
    dir,
    wallet: flags.name,
    ...(typeof flags.hotkey === 'string' ? { hotkey: flags.hotkey } : {}),
    privateKey: privateKey as Hex,
    passphrase,
  })
  if (flags.json) console.log(JSON.stringify(entry))
  else console.log(`imported ${entry.role} ${entry.name} ${entry.address} -> ${entry.path}`)
  return 0
}

async function balance(flags: Flags): Promise<number> {
  let address: Address
  if (typeof flags.address === 'string') address = parseAddress(flags.address, '--address')
  else
    address = getAddress(
      readKeyfile(stringFlag(flags, 'key', '--key <keyfile> or --address <address> is required'))
        .address,
    )
  const session = await openChain(flags)
  const [eth, vty] = await Promise.all([
    session.publicClient.getBalance({ address }),
    vtyBalance(session, address),
  ])
  if (flags.json)
    console.log(JSON.stringify({ address, eth: formatEther(eth), vty: formatEther(vty) }))
  else console.log(`${address}: ${formatEther(eth)} ETH, ${formatEther(vty)} VTY`)
  return 0
}

async function transfer(flags: Flags): Promise<number> {
  const to = parseAddress(
    stringFlag(flags, 'to', '--to <address> is required: who receives'),
    '--to',
  )
  const amount = amountFlag(flags, 'amount')
  const session = await openChain(flags)
  const account = loadAccount(flags, session.chainId)
  const unit = flags.eth ? 'ETH' : 'VTY'
  const held = flags.eth
    ? await session.publicClient.getBalance({ address: account.address })
    : await vtyBalance(session, account.address)
  if (held < amount)
    throw new ChainError(
      `insufficient ${unit} balance: ${account.address} holds ${formatEther(held)} ${unit}, the transfer needs ${formatEther(amount)} ${unit}`,
    )
  const wallet = signerFor(session, account)
  const { hash } = flags.eth
    ? await transferEth(wallet, { to, amount })
    : await transferToken(wallet, { token: session.deployment.contracts.token, to, amount })
  if (flags.json) console.log(JSON.stringify({ to, amount: formatEther(amount), unit, tx: hash }))
  else console.log(`sent ${formatEther(amount)} ${unit} to ${to}, tx ${hash}`)
  return 0
}
