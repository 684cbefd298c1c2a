import type { Command } from '../main.ts'

export const command: Command = {
  summary: 'stake',
  run: async () => 2,
}
