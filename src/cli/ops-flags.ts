import { UsageError } from '../errors/cli.ts'
import { configureLogs, defaultLogLevel, LOG_LEVELS, type LogLevel } from '../node/log.ts'
import { intFlag, type ParsedArgs } from './args.ts'

/** The operations flags every long-running command takes (logs, metrics and health). */
export const OPS_FLAGS = {
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
  'metrics-port': { type: 'string' },
  'metrics-host': { type: 'string' },
  'keep-epochs': { type: 'string' },
} as const

export const OPS_HELP = `Operations:
  --log-level trace|debug|info|warn|error|silent   (default: VERITY_LOG_LEVEL, else info)
  --log-format json|pretty   logs go to stderr: one JSON object a line (default), or readable lines
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

/** Checks the ops flags, configures the process's logs from them, and returns the rest. */
export function applyOpsFlags(flags: ParsedArgs['flags']): OpsOptions {
  const level = (flags['log-level'] as string | undefined) ?? defaultLogLevel()
  if (!(LOG_LEVELS as readonly string[]).includes(level))
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`)
  const format = (flags['log-format'] as string | undefined) ?? 'json'
  if (format !== 'json' && format !== 'pretty')
    throw new UsageError('--log-format must be json or pretty')
  const host = (flags['metrics-host'] as string | undefined) ?? '127.0.0.1'
  // An address or a host name, never a URL or anything with a path.
  if (!/^[A-Za-z0-9.:-]{1,253}$/.test(host))
    throw new UsageError('--metrics-host must be an address like 127.0.0.1 or ::1')
  const port =
    flags['metrics-port'] === undefined ? undefined : intFlag(flags, 'metrics-port', 0, 0, 65535)
  const keepEpochs =
    flags['keep-epochs'] === undefined ? undefined : intFlag(flags, 'keep-epochs', 32, 1, 1_000_000)
  configureLogs({ level: level as LogLevel, format })
  return { metrics: port === undefined ? undefined : { host, port }, keepEpochs }
}
