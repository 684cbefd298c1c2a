import { UsageError } from '../errors/cli.ts'
import type { ParsedArgs } from './args.ts'

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
