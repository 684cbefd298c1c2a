import { afterEach, describe, expect, it } from 'vitest'
import { applyLogFlags, applyOpsFlags } from '../cli/ops-flags.ts'
import { configureLogs, defaultLogLevel, log } from './log.ts'

function capture() {
  const lines: string[] = []
  return { lines, destination: { write: (line: string) => void lines.push(line) } }
}

afterEach(() => configureLogs({ level: 'silent', format: 'json' }))

describe('log', () => {
  it('writes JSON lines with level, module and a printf-formatted message', () => {
    const { lines, destination } = capture()
    configureLogs({ level: 'debug', format: 'json', destination })
    const logger = log('node:test')
    logger('request %s from %s: %d tokens %o', '0xabc', 'peer', 7, { a: 1 })
    logger.info('peer %p dispute %s', { toString: () => '12D3KooW' }, 7n)
    logger.trace('not shown at debug')
    expect(lines).toHaveLength(2)
    const first = JSON.parse(lines[0]!)
    expect(first).toMatchObject({
      level: 20,
      module: 'node:test',
      msg: 'request 0xabc from peer: 7 tokens { a: 1 }',
    })
    expect(typeof first.time).toBe('string')
    expect(JSON.parse(lines[1]!)).toMatchObject({ level: 30, msg: 'peer 12D3KooW dispute 7' })
  })

  it('logs %e as the message and the error (with its stack) as err', () => {
    const { lines, destination } = capture()
    configureLogs({ level: 'info', format: 'json', destination })
    log('node:test').error('tick failed: %e', new Error('boom'))
    const line = JSON.parse(lines[0]!)
    expect(line).toMatchObject({ level: 50, msg: 'tick failed: boom' })
    expect(line.err.message).toBe('boom')
    expect(line.err.stack).toMatch(/log\.test\.ts/)
  })

  it('follows reconfiguration: a logger made before picks up the new level and format', () => {
    const logger = log('node:early')
    const { lines, destination } = capture()
    configureLogs({ level: 'warn', format: 'pretty', destination })
    logger.info('quiet')
    logger.warn('loud %d', 3)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN {2}node:early: loud 3\n$/)
    expect(logger.enabled('info')).toBe(false)
    expect(logger.enabled('error')).toBe(true)
  })

  it('is silent under vitest unless VERITY_LOG_LEVEL says otherwise', () => {
    expect(defaultLogLevel({ VITEST: 'true' })).toBe('silent')
    expect(defaultLogLevel({})).toBe('info')
    expect(defaultLogLevel({ VITEST: 'true', VERITY_LOG_LEVEL: 'debug' })).toBe('debug')
    expect(defaultLogLevel({ VERITY_LOG_LEVEL: 'loud' })).toBe('info')
  })

  it("a command's default level (the devnet's warn) yields to the flag and to tests' silence", () => {
    const probe = log('node:probe')
    applyLogFlags({}, { level: 'warn' })
    expect(probe.enabled('error')).toBe(false) // under vitest: silent
    applyLogFlags({ 'log-level': 'debug' }, { level: 'warn' })
    expect(probe.enabled('debug')).toBe(true)
    expect(probe.enabled('trace')).toBe(false)
  })

  it('takes --log-level, --log-format and the metrics address from flags, and refuses bad ones', () => {
    expect(applyOpsFlags({ 'log-level': 'silent', 'metrics-port': '9464' })).toEqual({
      metrics: { host: '127.0.0.1', port: 9464 },
      keepEpochs: undefined,
    })
    expect(applyOpsFlags({ 'log-level': 'silent', 'keep-epochs': '8' })).toEqual({
      metrics: undefined,
      keepEpochs: 8,
    })
    expect(() => applyOpsFlags({ 'keep-epochs': '0' })).toThrow(/--keep-epochs/)
    expect(() => applyOpsFlags({ 'log-level': 'loud' })).toThrow(/--log-level must be one of/)
    expect(() => applyOpsFlags({ 'log-format': 'xml' })).toThrow(/--log-format/)
    expect(() => applyOpsFlags({ 'metrics-port': '70000' })).toThrow(/--metrics-port/)
    expect(() => applyOpsFlags({ 'metrics-host': 'http://x/y' })).toThrow(/--metrics-host/)
  })
})
