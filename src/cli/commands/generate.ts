import { BaseError } from '../../errors/base.ts'
import type { Command } from '../main.ts'

export const command: Command = {
  summary: 'generate',
  run: async () => {
    throw new BaseError("'verity generate' is not built yet")
  },
}
