import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { expectCleanError as expectError, runVerity } from '../../test/verity-cli.ts'
import { parseAttributes } from './commands/node-provider.ts'

const root = join(import.meta.dirname, '../..')
const dir = mkdtempSync(join(tmpdir(), 'verity-market-flags-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** verity with no chain configured in the environment */
const verity = (...args: string[]) =>
  runVerity(args, { VERITY_PASSPHRASE: 'x', VERITY_RPC: '', VERITY_DEPLOYMENT: '' })

describe('verity node --role provider: bad flags fail before anything starts', () => {
  const base = [
    'node',
    '--role',
    'provider',
    '--key',
    'k.json',
    '--data-dir',
    dir,
    '--model',
    'default',
  ]
  it.each([
    [[], /--capacity is required for a provider/],
    [
      ['--capacity', 'cpu=1000m,memory=1Gi,storage=1Gi,gpu=0'],
      /exactly one of --pricing and --pricing-script/,
    ],
    [
      [
        '--capacity',
        'cpu=1000m,memory=1Gi,storage=1Gi,gpu=0',
        '--pricing',
        'cpu=1',
        '--pricing-script',
        'p',
      ],
      /exactly one of/,
    ],
    [['--capacity', 'lots', '--pricing', 'base=0.001'], /capacity/],
    [
      ['--capacity', 'cpu=1000m,memory=1Gi,storage=1Gi,gpu=0', '--pricing', 'fast=1'],
      /unknown key "fast"/,
    ],
    [
      [
        '--capacity',
        'cpu=1000m,memory=1Gi,storage=1Gi,gpu=0',
        '--pricing',
        'base=0.001',
        '--attributes',
        'region',
      ],
      /'region' is not key=value/,
    ],
    [
      [
        '--capacity',
        'cpu=1000m,memory=1Gi,storage=1Gi,gpu=0',
        '--pricing',
        'base=0.001',
        '--attributes',
        `k=${'v'.repeat(33)}`,
      ],
      /longer than 32 bytes/,
    ],
    [
      [
        '--capacity',
        'cpu=1000m,memory=1Gi,storage=1Gi,gpu=0',
        '--pricing',
        'base=0.001',
        '--host-uri',
        'ftp://x',
      ],
      /--host-uri must be an http\(s\) URL/,
    ],
    [
      [
        '--capacity',
        'cpu=1000m,memory=1Gi,storage=1Gi,gpu=0',
        '--pricing',
        'base=0.001',
        '--host',
        '0.0.0.0',
      ],
      /--host binds every interface: name the URL .* with --host-uri/,
    ],
  ])('%j', async (extra, message) => {
    expectError(await verity(...base, ...(extra as string[])), 2, message as RegExp)
  })

  it('a miner refuses the provider-only flags', async () => {
    expectError(
      await verity(
        'node',
        '--role',
        'miner',
        '--key',
        'k',
        '--data-dir',
        dir,
        '--capacity',
        'cpu=1',
      ),
      2,
      /--capacity goes with --role provider/,
    )
  })
})

describe('verity deploy: a bad spec or flag is one clear line', () => {
  it('names a missing file, an invalid spec field, a bad deposit or provider', async () => {
    expectError(
      await verity('deploy', join(dir, 'nope.yaml')),
      2,
      /cannot read the spec .*nope\.yaml \(ENOENT\)/,
    )
    const bad = join(dir, 'bad.yaml')
    writeFileSync(bad, 'version: "1.0"\nservices: {}\n')
    expectError(await verity('deploy', bad), 1, /bad\.yaml: /)
    expectError(await verity('deploy'), 2, /takes one spec file/)
    const good = join(root, 'examples/market/tiny.yaml')
    expectError(
      await verity('deploy', good, '--deposit', '-1'),
      2,
      /--deposit must not be negative/,
    )
    expectError(await verity('deploy', good, '--deposit', '0'), 2, /--deposit must be more than 0/)
    expectError(
      await verity('deploy', good, '--provider', 'someone'),
      2,
      /--provider must be an address/,
    )
    expectError(await verity('deploy', good, '--bid-window', '0'), 2, /--bid-window/)
  })
})

it('parseAttributes: key=value pairs, each once', () => {
  expect(parseAttributes('region=eu-west, tier=community')).toEqual({
    region: 'eu-west',
    tier: 'community',
  })
  expect(parseAttributes('')).toEqual({})
  expect(() => parseAttributes('a=1,a=2')).toThrow(/'a' is given twice/)
  expect(() => parseAttributes('=x')).toThrow(/not key=value/)
})
