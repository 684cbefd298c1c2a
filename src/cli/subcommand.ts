import { UsageError } from '../errors/cli.ts'
import { type FlagSpec, type ParsedArgs, parseArgs } from './args.ts'
import type { Command } from './main.ts'

/**
 * Runs the subcommand `sub` of `command` from its table; an unknown one is a UsageError listing
 * them in the table's order ("a, b or c").
 */
export async function runSubcommand(
  command: string,
  sub: string,
  table: Record<string, (flags: ParsedArgs['flags']) => Promise<number>>,
  flags: ParsedArgs['flags'],
): Promise<number> {
  const run = Object.hasOwn(table, sub) ? table[sub] : undefined
  if (run) return await run(flags)
  const names = Object.keys(table)
  const list = `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`
  throw new UsageError(`unknown ${command} command '${sub}' (${list})`)
}

/**
 * A command made of subcommands that take flags only (`verity <name> <sub> [--flags]`): --help or
 * no subcommand prints `help` (exit 0 or 2), an extra positional is a UsageError, and `sub` runs
 * from `table` (runSubcommand).
 */
export function subcommandGroup(group: {
  name: string
  summary: string
  help: string
  spec: FlagSpec
  table: Record<string, (flags: ParsedArgs['flags']) => Promise<number>>
}): Command {
  return {
    summary: group.summary,
    run: async (argv) => {
      const { flags, positionals } = parseArgs(argv, group.spec)
      const [sub, ...extra] = positionals
      if (flags.help || !sub) {
        console.log(group.help)
        return flags.help ? 0 : 2
      }
      if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`)
      return await runSubcommand(group.name, sub, group.table, flags)
    },
  }
}
