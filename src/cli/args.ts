import { UsageError } from '../errors/cli.ts'

export type FlagSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>

export type ParsedArgs = {
  flags: Record<string, string | boolean | undefined>
  positionals: string[]
}

/**
 * A small strict flag parser: `--name value`, `--name=value`, boolean `--name`; an unknown flag or
 * a missing value is a UsageError that names it.
 */
export function parseArgs(argv: string[], spec: FlagSpec): ParsedArgs {
  const flags: ParsedArgs['flags'] = {}
  const positionals: string[] = []
  const byShort = new Map(
    Object.entries(spec).flatMap(([name, s]) => (s.short ? [[s.short, name] as const] : [])),
  )
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1))
      break
    }
    let name: string | undefined
    let inline: string | undefined
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=')
      name = eq === -1 ? arg.slice(2) : arg.slice(2, eq)
      if (eq !== -1) inline = arg.slice(eq + 1)
    } else if (arg.startsWith('-') && arg.length === 2 && byShort.has(arg[1]!)) {
      name = byShort.get(arg[1]!)
    } else {
      positionals.push(arg)
      continue
    }
    const s = name === undefined ? undefined : spec[name]
    if (!name || !s) throw new UsageError(`unknown option '${arg}'`)
    if (s.type === 'boolean') {
      if (inline !== undefined) throw new UsageError(`option '--${name}' takes no value`)
      flags[name] = true
      continue
    }
    const value = inline ?? argv[++i]
    if (value === undefined) throw new UsageError(`option '--${name}' needs a value`)
    flags[name] = value
  }
  return { flags, positionals }
}

/** Parses an integer flag within [min, max]; the error names the flag and the accepted range. */
export function intFlag(
  flags: ParsedArgs['flags'],
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = flags[name]
  if (raw === undefined) return fallback
  if (typeof raw !== 'string' || !/^-?\d+$/.test(raw.trim()))
    throw new UsageError(`--${name} must be an integer, got '${String(raw)}'`)
  const value = Number(raw)
  if (!Number.isSafeInteger(value) || value < min || value > max)
    throw new UsageError(`--${name} must be between ${min} and ${max}, got ${raw}`)
  return value
}

/** Parses a decimal flag within [min, max]. */
export function numberFlag(
  flags: ParsedArgs['flags'],
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = flags[name]
  if (raw === undefined) return fallback
  const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN
  if (!Number.isFinite(value) || value < min || value > max)
    throw new UsageError(
      `--${name} must be a number between ${min} and ${max}, got '${String(raw)}'`,
    )
  return value
}
