import type { Command } from '../main.ts'

export const command: Command = {
  summary: 'weights',
  run: async () => 2,
}
