import { defaultModelBytes } from './model/default.ts'
import { type LoadModelOptions, loadModel, type Model } from './model/load.ts'

/** The default model, loaded once per test file and kernel kind. */
const cache = new Map<string, Model>()
export function testModel(options: LoadModelOptions = {}): Model {
  const key = JSON.stringify(options)
  let model = cache.get(key)
  if (!model) {
    model = loadModel(defaultModelBytes(), options)
    cache.set(key, model)
  }
  return model
}
