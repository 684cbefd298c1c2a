import type { Command } from '../main.ts'

export const command: Command = {
  summary: 'subnet',
  run: async () => 2,
}
