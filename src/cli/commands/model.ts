import { BaseError } from '../../errors/base.ts'
import type { Command } from '../main.ts'

export const command: Command = {
  summary: 'model',
  run: async () => {
    throw new BaseError("'verity model' is not built yet")
  },
}
