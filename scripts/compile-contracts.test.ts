import { describe, expect, it } from 'vitest'
import * as abis from '../src/chain/abis.ts'
import { inputHash, readArtifacts } from './compile-contracts.ts'

describe('contract artifacts', () => {
  const artifacts = readArtifacts()

  it('were built from the current sources (run `npm run build:contracts`)', () => {
    expect(artifacts.length).toBeGreaterThan(0)
    const hash = inputHash()
    for (const a of artifacts) expect(a.inputHash, a.contractName).toBe(hash)
  })

  it('match src/chain/abis.ts', () => {
    const exported = abis as Record<string, unknown>
    for (const a of artifacts) {
      const base = a.contractName[0]!.toLowerCase() + a.contractName.slice(1)
      expect(exported[`${base}Abi`], a.contractName).toEqual(a.abi)
      expect(exported[`${base}Bytecode`], a.contractName).toBe(a.bytecode)
    }
  })
})
