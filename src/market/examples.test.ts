import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { DEFAULT_MODEL_PATH, loadModelFile } from '../cli/model-file.ts'
import { toHex } from '../runtime/trace/merkle.ts'
import { parseDeploymentSpec } from './spec.ts'

it('examples/market/tiny.yaml names the default model: what the devnet tells a newcomer to deploy', () => {
  const path = join(import.meta.dirname, '../../examples/market/tiny.yaml')
  const spec = parseDeploymentSpec(readFileSync(path, 'utf8'), { source: path })
  const root = toHex(loadModelFile(DEFAULT_MODEL_PATH, { threads: 1 }).modelRoot)
  expect(spec.services.chat!.model.root).toBe(root.toLowerCase())
})
