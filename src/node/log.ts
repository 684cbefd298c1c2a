import { format, inspect } from 'node:util'
import pino, { type DestinationStream, type Level, type Logger } from 'pino'

/** Levels from most to least verbose; `silent` logs nothing. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]
/** `json`: one pino JSON object a line; `pretty`: `time LEVEL module: message` a line. */
export type LogFormat = 'json' | 'pretty'

export type LogConfig = {
  level: LogLevel
  format: LogFormat
  /** Where lines go (default stderr: stdout belongs to the CLI's own output). */
  destination?: DestinationStream
}

/**
 * The default level: VERITY_LOG_LEVEL when set, else `silent` under vitest (tests stay quiet
 * unless asked) and `info` elsewhere.
 */
export function defaultLogLevel(env: NodeJS.ProcessEnv = process.env): LogLevel {
  const wanted = env.VERITY_LOG_LEVEL
  if (wanted && (LOG_LEVELS as readonly string[]).includes(wanted)) return wanted as LogLevel
  return env.VITEST ? 'silent' : 'info'
}

let root: Logger = createRoot({ level: defaultLogLevel(), format: 'json' })
let generation = 0

/** Replaces the process's root logger; every `log(name)` follows it from its next line on. */
export function configureLogs(config: LogConfig): void {
  root = createRoot(config)
  generation++
}

function createRoot(config: LogConfig): Logger {
  const destination =
    config.destination ??
    (config.format === 'pretty' ? prettyStream(process.stderr) : pino.destination(2))
  const options = { level: config.level, base: null, timestamp: pino.stdTimeFunctions.isoTime }
  if (config.format === 'pretty' && config.destination)
    return pino(options, prettyStream(config.destination))
  return pino(options, destination)
}

/** Writes pino's JSON lines as `HH:MM:SS.mmm LEVEL module: message` (a readable console). */
export function prettyStream(out: { write(line: string): unknown }): DestinationStream {
  const names: Record<number, string> = {
    10: 'TRACE',
    20: 'DEBUG',
    30: 'INFO',
    40: 'WARN',
    50: 'ERROR',
    60: 'FATAL',
  }
  return {
    write(line: string) {
      const { level, time, module, msg, err } = JSON.parse(line) as {
        level: number
        time: string
        module?: string
        msg?: string
        err?: { stack?: string }
      }
      const clock = String(time).slice(11, 23)
      const tail = err?.stack ? `\n${err.stack}` : ''
      out.write(
        `${clock} ${(names[level] ?? level).padEnd(5)} ${module ?? '-'}: ${msg ?? ''}${tail}\n`,
      )
    },
  }
}

/** printf-style: %s %d %i %f %j %o %O as util.format, plus libp2p's %p (peer id) and %e (error). */
function render(fmt: unknown, args: unknown[]): { msg: string; err: Error | undefined } {
  let err: Error | undefined
  if (typeof fmt !== 'string') return { msg: format(fmt, ...args), err }
  let i = 0
  const rewritten = fmt.replace(/%[sdifjoOpe%]/g, (token) => {
    if (token === '%%') return token
    const at = i++
    if (token === '%p') {
      args[at] = String(args[at])
      return '%s'
    }
    // util.format writes a bigint as `1n`; logs say what the chain says: `1`.
    if ((token === '%s' || token === '%d') && typeof args[at] === 'bigint')
      args[at] = String(args[at])
    if (token === '%e') {
      const value = args[at]
      if (value instanceof Error) err ??= value
      args[at] = value instanceof Error ? value.message : inspect(value)
      return '%s'
    }
    return token
  })
  return { msg: format(rewritten, ...args), err }
}

export type ModuleLogger = ((fmt: unknown, ...args: unknown[]) => void) & {
  [L in Exclude<Level, 'fatal'>]: (fmt: unknown, ...args: unknown[]) => void
} & { enabled(level: Exclude<LogLevel, 'silent'>): boolean }

/**
 * A module's logger (`module: <name>` on every line). Called directly it logs at debug (the
 * chatter the old DEBUG=verity:* logger printed); `.info`, `.warn`, `.error`, `.trace` log at
 * theirs. Formatting happens only when the level is on.
 */
export function log(name: string): ModuleLogger {
  let child: Logger | undefined
  let seen = -1
  const current = () => {
    if (seen !== generation || !child) {
      child = root.child({ module: name })
      seen = generation
    }
    return child
  }
  const at =
    (level: Exclude<Level, 'fatal'>) =>
    (fmt: unknown, ...args: unknown[]) => {
      const logger = current()
      if (!logger.isLevelEnabled(level)) return
      const { msg, err } = render(fmt, args)
      if (err) logger[level]({ err }, msg)
      else logger[level](msg)
    }
  return Object.assign(at('debug'), {
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    enabled: (level: Exclude<LogLevel, 'silent'>) => current().isLevelEnabled(level),
  })
}
