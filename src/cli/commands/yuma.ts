import { BaseError } from '../../errors/base.ts'
import type { Command } from '../main.ts'

export const command: Command = {
  summary: 'yuma',
  run: async () => {
    throw new BaseError("'verity yuma' is not built yet")
  },
}
