import { trainedModelBytes } from '../../test/trained-model.ts'
import { type LoadModelOptions, loadModel, type Model } from './model/load.ts'

export { trainedModelBytes }

/** The trained default model (models/verity-tiny.gguf), loaded once per test file and kernel kind. */
const cache = new Map<string, Model>()
export function testModel(options: LoadModelOptions = {}): Model {
  const key = JSON.stringify(options)
  let model = cache.get(key)
  if (!model) {
    model = loadModel(trainedModelBytes(), options)
    cache.set(key, model)
  }
  return model
}
