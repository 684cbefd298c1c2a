import { UsageError } from '../errors/cli.ts'
import {
  configureLogs,
  defaultLogLevel,
  LOG_LEVELS,
  type LogFormat,
  type LogLevel,
} from '../node/log.ts'
import { intFlag, type ParsedArgs } from './args.ts'

/** The log flags of every command that runs nodes. */
export const LOG_FLAGS = {
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
} as const

/** The operations flags of a long-running node: logs, metrics and health, retention. */
export const OPS_FLAGS = {
  ...LOG_FLAGS,
  'metrics-port': { type: 'string' },
  'metrics-host': { type: 'string' },
  'keep-epochs': { type: 'string' },
} as const

export const LOG_HELP = `Logs (stderr):
  --log-level trace|debug|info|warn|error|silent   (default: VERITY_LOG_LEVEL, else info)
  --log-format json|pretty   one JSON object a line (default), or readable lines`

export const OPS_HELP = `${LOG_HELP}
Operations:
  --metrics-port P           serve GET /metrics (Prometheus) and GET /health on P (miners and
                             validators; the gateway serves both on its API port)
  --metrics-host H           address the metrics port listens on (default 127.0.0.1)
  --keep-epochs N            epochs of checks and evidence a validator keeps (default 32); a
                             miner keeps each receipt while a dispute over it is possible`

export type OpsOptions = {
  /** Where a miner or validator serves /metrics and /health; absent: not served. */
  metrics: { host: string; port: number } | undefined
  /** Validators: epochs of checks and evidence kept in SQLite. */
  keepEpochs: number | undefined
}

/**
 * Configures the process's logs from --log-level and --log-format. `defaults` is a command's own
 * (the devnet prints a report, so its nodes log warnings only); VERITY_LOG_LEVEL and tests'
 * silence still come first.
 */
export function applyLogFlags(
  flags: ParsedArgs['flags'],
  defaults: { level?: LogLevel; format?: LogFormat } = {},
): void {
  const env = process.env
  const fallback =
    env.VERITY_LOG_LEVEL || env.VITEST ? defaultLogLevel() : (defaults.level ?? defaultLogLevel())
  const level = (flags['log-level'] as string | undefined) ?? fallback
  if (!(LOG_LEVELS as readonly string[]).includes(level))
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`)
  const format = (flags['log-format'] as string | undefined) ?? defaults.format ?? 'json'
  if (format !== 'json' && format !== 'pretty')
    throw new UsageError('--log-format must be json or pretty')
  configureLogs({ level: level as LogLevel, format })
}

/** Checks the ops flags, configures the process's logs from them, and returns the rest. */
export function applyOpsFlags(flags: ParsedArgs['flags']): OpsOptions {
  const host = (flags['metrics-host'] as string | undefined) ?? '127.0.0.1'
  // An address or a host name, never a URL or anything with a path.
  if (!/^[A-Za-z0-9.:-]{1,253}$/.test(host))
    throw new UsageError('--metrics-host must be an address like 127.0.0.1 or ::1')
  const port =
    flags['metrics-port'] === undefined ? undefined : intFlag(flags, 'metrics-port', 0, 0, 65535)
  const keepEpochs =
    flags['keep-epochs'] === undefined ? undefined : intFlag(flags, 'keep-epochs', 32, 1, 1_000_000)
  applyLogFlags(flags)
  return { metrics: port === undefined ? undefined : { host, port }, keepEpochs }
}
