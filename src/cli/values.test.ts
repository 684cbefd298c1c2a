import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseEther } from 'viem'
import { afterAll, describe, expect, it } from 'vitest'
import { DEFAULT_HYPERPARAMS } from '../chain/types.ts'
import { parseWeights } from './commands/weights.ts'
import {
  DEVNET_DEPLOY_PARAMS,
  PRODUCTION_DEPLOY_PARAMS,
  readDeployParams,
} from './deploy-params.ts'
import { readHyperparams } from './hyperparams-file.ts'
import { parseAddress, parseAmount } from './values.ts'

const dir = mkdtempSync(join(tmpdir(), 'verity-values-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const file = (name: string, text: string) => {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

describe('amounts and addresses', () => {
  it('parses decimal VTY with at most 18 decimals', () => {
    expect(parseAmount('10', 'x')).toBe(parseEther('10'))
    expect(parseAmount('0.5', 'x')).toBe(parseEther('0.5'))
    expect(parseAmount('.25', 'x')).toBe(parseEther('0.25'))
    expect(parseAmount('1.000000000000000001', 'x')).toBe(10n ** 18n + 1n)
    expect(() => parseAmount('-1', '--amount')).toThrow(/--amount must not be negative/)
    expect(() => parseAmount('1.0000000000000000001', '--amount')).toThrow(/more than 18 decimals/)
    for (const bad of ['ten', '1e3', '0x10', '', '1.2.3', ' '])
      expect(() => parseAmount(bad, '--amount')).toThrow(/decimal number/)
  })

  it('checksums addresses and names the flag when one is not', () => {
    expect(parseAddress('0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266', '--to')).toBe(
      '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
    )
    expect(() => parseAddress('0x1234', '--to')).toThrow(/--to must be an address/)
  })
})

describe('weights', () => {
  it('scales uid:weight pairs so the largest is 65535', () => {
    expect(parseWeights('0:1,3:2')).toEqual({ uids: [0, 3], values: [32768, 65535] })
    expect(() => parseWeights('0:1,0:2')).toThrow(/names uid 0 twice/)
    expect(() => parseWeights('0:0')).toThrow(/above 0/)
    expect(() => parseWeights('a:1')).toThrow(/uid:weight pairs/)
  })
})

describe('deploy parameters', () => {
  it('reads YAML over the production defaults', () => {
    const p = readDeployParams(
      file('p.yaml', 'genesis: 5000\nprotocol: { minLock: "2.5", keeperBps: 50 }\n'),
    )
    expect(p.genesis).toBe(parseEther('5000'))
    expect(p.protocol).toEqual({
      ...PRODUCTION_DEPLOY_PARAMS.protocol,
      minLock: parseEther('2.5'),
      keeperBps: 50,
    })
    expect(p.dispute).toEqual(PRODUCTION_DEPLOY_PARAMS.dispute)
    expect(readDeployParams(file('empty.yaml', ''))).toEqual(PRODUCTION_DEPLOY_PARAMS)
  })

  it('names the key at fault', () => {
    expect(() => readDeployParams(file('a.yaml', 'guardian: 12'))).toThrow(
      /guardian must be string/,
    )
    expect(() => readDeployParams(file('b.yaml', 'minGovernanceDelay: 0'))).toThrow(
      /minGovernanceDelay must be >= 1/,
    )
    expect(() => readDeployParams(file('c.yaml', 'protocol: { unstakeDelay: 10 }'))).toThrow(
      /protocol.unstakeDelay must be between minUnstakeDelay and 4 × minUnstakeDelay/,
    )
    expect(() => readDeployParams(file('d.yaml', 'dispute: { bond: "0.1" }'))).toThrow(
      /dispute.bond must be between/,
    )
    expect(() => readDeployParams(join(dir, 'absent.yaml'))).toThrow(/cannot read/)
  })

  it('the devnet parameters fit the devnet dispute game', () => {
    const { dispute, minUnstakeDelay } = DEVNET_DEPLOY_PARAMS
    expect(80 * dispute.window + 1 + dispute.maxValidity).toBeLessThanOrEqual(minUnstakeDelay)
  })
})

describe('hyperparameters file', () => {
  it('overrides the defaults, VTY amounts in decimals', () => {
    const h = readHyperparams(file('h.yaml', 'tempo: 10\ncommitReveal: true\nburn: "0.5"\n'))
    expect(h).toEqual({
      ...DEFAULT_HYPERPARAMS,
      tempo: 10,
      commitReveal: true,
      burn: parseEther('0.5'),
    })
    expect(() => readHyperparams(file('i.yaml', 'tempoo: 1'))).toThrow(
      /additional properties 'tempoo'/,
    )
    expect(() => readHyperparams(file('j.yaml', 'tempo: fast'))).toThrow(/tempo must be integer/)
  })
})
