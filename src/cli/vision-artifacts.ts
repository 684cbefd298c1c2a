import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { VisionModelError } from '../errors/vision.ts'
import { type DigitsModel, parseDigitsModel } from '../vision/model.ts'
import { type DigitsCircuit, loadDigitsCircuit } from '../vision/prover.ts'

const root = join(import.meta.dirname, '../..')
/** The digits model and its circuit as committed (models/digits.json, circuits/build/digits). */
export const DEFAULT_DIGITS_MODEL = join(root, 'models/digits.json')
export const DEFAULT_DIGITS_CIRCUIT = join(root, 'circuits/build/digits')

export function readDigitsModelFile(path = DEFAULT_DIGITS_MODEL): DigitsModel {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new VisionModelError(`cannot read the digits model ${path}`, {
      details: (error as NodeJS.ErrnoException).code ?? String(error),
    })
  }
  try {
    return parseDigitsModel(JSON.parse(text))
  } catch (error) {
    if (error instanceof VisionModelError) throw error
    throw new VisionModelError(`the digits model ${path} is not JSON`)
  }
}

export function readDigitsCircuit(dir = DEFAULT_DIGITS_CIRCUIT): DigitsCircuit {
  return loadDigitsCircuit(dir)
}
