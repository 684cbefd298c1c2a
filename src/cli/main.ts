import { BaseError } from '../errors/base.ts'
import { UsageError } from '../errors/cli.ts'

/** A command takes its argv (after the command words) and returns the process exit code. */
export type Command = {
  summary: string
  run: (argv: string[]) => Promise<number>
}

/** Commands are loaded lazily so that `verity --help` stays fast and one layer's deps stay out of another's. */
const commands: Record<string, () => Promise<Command>> = {
  generate: async () => (await import('./commands/generate.ts')).command,
  model: async () => (await import('./commands/model.ts')).command,
  demo: async () => (await import('./commands/demo.ts')).command,
  yuma: async () => (await import('./commands/yuma.ts')).command,
  wallet: async () => (await import('./commands/wallet.ts')).command,
  verify: async () => (await import('./commands/verify.ts')).command,
  node: async () => (await import('./commands/node.ts')).command,
  devnet: async () => (await import('./commands/devnet.ts')).command,
  receipts: async () => (await import('./commands/receipts.ts')).command,
  dispute: async () => (await import('./commands/dispute.ts')).command,
}

const HELP = `verity — checkable decentralized AI inference

usage: verity <command> [options]

commands:
  devnet     run a whole local network: chain, miners, validators, gateway (what npm start runs)
  node       run one miner, validator or gateway node
  verify     check a saved answer alone: text, prompt, signer on chain, bit-for-bit re-execution
  receipts   hand a saved answer to the validators (verity receipts submit)
  dispute    challenge a saved answer on chain; a dispute's status; list disputes
  wallet     create and list hotkey/coldkey files
  generate   run the deterministic runtime on a prompt
  model      inspect a GGUF model (verity model info <file>)
  demo       a short generation demo with the default model
  yuma       Yuma Consensus: run a scenario or simulate adversaries
  dispute    the dispute game's economics: when honesty pays (verity dispute simulate)

Run 'verity <command> --help' for a command's options.`

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(HELP)
    return name ? 0 : 2
  }
  const load = commands[name]
  try {
    if (!load) throw new UsageError(`unknown command '${name}' (run 'verity --help' for the list)`)
    const command = await load()
    return await command.run(rest)
  } catch (error) {
    return reportError(error)
  }
}

/** One clear line for a user: the error's short message and details, never a stack trace. */
export function reportError(error: unknown): number {
  if (error instanceof BaseError) {
    console.error(`error: ${error.shortMessage}`)
    if (error.details) console.error(`  ${error.details}`)
    return error instanceof UsageError ? 2 : 1
  }
  if (process.env.VERITY_DEBUG) console.error(error)
  const message = error instanceof Error ? error.message : String(error)
  console.error(`error: internal: ${message} (set VERITY_DEBUG=1 for the stack)`)
  return 1
}
