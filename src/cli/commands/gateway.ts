import { UsageError } from '../../errors/cli.ts'
import { formatAmount, parseAmount } from '../../gateway/accounts/price.ts'
import {
  type AccountRecord,
  AccountStore,
  accountStorePath,
  DEFAULT_KEY_LIMITS,
} from '../../gateway/accounts/store.ts'
import { intFlag, type ParsedArgs, parseArgs } from '../args.ts'
import type { Command } from '../main.ts'
import { runSubcommand } from '../subcommand.ts'
import { printTable } from '../table.ts'

const HELP = `usage: verity gateway keys create [--name <text>] [--credit <amount>] [--rpm N] [--tpm N] [--concurrency N]
       verity gateway keys list
       verity gateway keys revoke <id>
       verity gateway keys topup <id> --credit <amount>
  every one with --data-dir <gateway node's dir> or --db <gateway.sqlite>, and [--json]

API keys of a gateway run with accounts on (verity node --role gateway --auth). A key's secret
(vty-…) is printed once, by create: the gateway keeps only its sha256. Amounts are credit units
with up to 6 decimals (the store counts integer micro-units); requests are charged at the
gateway's --price-prompt / --price-completion per 1M tokens. Limits: --rpm requests per minute
(default ${DEFAULT_KEY_LIMITS.rpm}), --tpm tokens per minute, prompt + max_tokens counted at admission
(default ${DEFAULT_KEY_LIMITS.tpm}), --concurrency requests at once (default ${DEFAULT_KEY_LIMITS.concurrency}); 0 = no limit.
Revoke and topup take effect on the running gateway at once. <id> is the id list shows (or a
unique prefix of it, 6 digits or more).`

const spec = {
  'data-dir': { type: 'string' },
  db: { type: 'string' },
  name: { type: 'string' },
  credit: { type: 'string' },
  rpm: { type: 'string' },
  tpm: { type: 'string' },
  concurrency: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

type Flags = ParsedArgs['flags']

function openStore(flags: Flags): AccountStore {
  const db = flags.db
  const dir = flags['data-dir']
  if (typeof db === 'string' && typeof dir === 'string')
    throw new UsageError('give --db or --data-dir, not both')
  if (typeof db === 'string') return new AccountStore(db)
  if (typeof dir === 'string') return new AccountStore(accountStorePath(dir))
  throw new UsageError("--data-dir <gateway node's dir> or --db <gateway.sqlite> is required")
}

function view(a: AccountRecord) {
  return {
    id: a.id,
    name: a.name,
    balance: a.balance.toString(),
    balanceUnits: formatAmount(a.balance),
    held: a.held.toString(),
    limits: a.limits,
    revoked: a.revoked,
    created: new Date(a.createdAt).toISOString(),
  }
}

function credit(flags: Flags, required: boolean): bigint | undefined {
  const raw = flags.credit
  if (raw === undefined) {
    if (required) throw new UsageError('--credit <amount> is required')
    return undefined
  }
  try {
    return parseAmount(String(raw), '--credit')
  } catch (error) {
    throw new UsageError((error as Error & { shortMessage: string }).shortMessage)
  }
}

function one(args: string[], what: string): string {
  if (args.length !== 1) throw new UsageError(`expected one ${what}, got ${args.length}`)
  return args[0]!
}

async function withStore(flags: Flags, fn: (store: AccountStore) => number): Promise<number> {
  const store = openStore(flags)
  try {
    return fn(store)
  } finally {
    store.close()
  }
}

const keys: Record<string, (flags: Flags, args: string[]) => Promise<number>> = {
  create: (flags, args) => {
    if (args.length > 0) throw new UsageError(`unexpected argument '${args[0]}'`)
    const limits = {
      rpm: intFlag(flags, 'rpm', DEFAULT_KEY_LIMITS.rpm, 0, 1_000_000),
      tpm: intFlag(flags, 'tpm', DEFAULT_KEY_LIMITS.tpm, 0, 1_000_000_000),
      concurrency: intFlag(flags, 'concurrency', DEFAULT_KEY_LIMITS.concurrency, 0, 10_000),
    }
    const amount = credit(flags, false) ?? 0n
    return withStore(flags, (store) => {
      const { secret, account } = store.create({
        ...(typeof flags.name === 'string' ? { name: flags.name } : {}),
        credit: amount,
        limits,
      })
      if (flags.json) console.log(JSON.stringify({ secret, ...view(account) }))
      else {
        console.log(`API key ${account.id} created; its secret, shown this once:\n\n  ${secret}\n`)
        console.log(
          `balance ${formatAmount(account.balance)}; limits ${limits.rpm} requests/min, ${limits.tpm} tokens/min, ${limits.concurrency} at once (0 = none)`,
        )
      }
      return 0
    })
  },
  list: (flags, args) => {
    if (args.length > 0) throw new UsageError(`unexpected argument '${args[0]}'`)
    return withStore(flags, (store) => {
      const all = store.list()
      if (flags.json) console.log(JSON.stringify(all.map(view)))
      else if (all.length === 0) console.log('no API keys (verity gateway keys create makes one)')
      else
        printTable(
          ['id', 'name', 'balance', 'held', 'rpm', 'tpm', 'conc', 'state', 'created'],
          all.map((a) => [
            a.id,
            a.name,
            formatAmount(a.balance),
            formatAmount(a.held),
            String(a.limits.rpm),
            String(a.limits.tpm),
            String(a.limits.concurrency),
            a.revoked ? 'revoked' : 'active',
            new Date(a.createdAt).toISOString().slice(0, 19),
          ]),
        )
      return 0
    })
  },
  revoke: (flags, args) => {
    const id = one(args, 'key id')
    return withStore(flags, (store) => {
      const a = store.revoke(id)
      if (flags.json) console.log(JSON.stringify(view(a)))
      else console.log(`API key ${a.id} revoked: its next request is refused`)
      return 0
    })
  },
  topup: (flags, args) => {
    const id = one(args, 'key id')
    const amount = credit(flags, true)!
    return withStore(flags, (store) => {
      const a = store.topup(id, amount)
      if (flags.json) console.log(JSON.stringify(view(a)))
      else
        console.log(`API key ${a.id}: +${formatAmount(amount)}, balance ${formatAmount(a.balance)}`)
      return 0
    })
  },
}

export const command: Command = {
  summary: 'gateway accounts: API keys, credit and limits (verity gateway keys …)',
  run: async (argv) => {
    const { flags, positionals } = parseArgs(argv, spec)
    const [group, sub, ...rest] = positionals
    if (flags.help || !group) {
      console.log(HELP)
      return flags.help ? 0 : 2
    }
    if (group !== 'keys') throw new UsageError(`unknown gateway command '${group}' (keys)`)
    if (!sub) throw new UsageError('verity gateway keys: create, list, revoke or topup')
    const table = Object.fromEntries(
      Object.entries(keys).map(([name, run]) => [name, (f: Flags) => run(f, rest)]),
    )
    return await runSubcommand('gateway keys', sub, table, flags)
  },
}
