import { BaseError } from '../../errors/base.ts'
import type { Command } from '../main.ts'

export const command: Command = {
  summary: 'demo',
  run: async () => {
    throw new BaseError("'verity demo' is not built yet")
  },
}
