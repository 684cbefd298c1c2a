import { BaseError } from '../errors/base.ts'
import { UsageError } from '../errors/cli.ts'
import { explainChainError } from './chain-errors.ts'

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
  classify: async () => (await import('./commands/classify.ts')).command,
  node: async () => (await import('./commands/node.ts')).command,
  devnet: async () => (await import('./commands/devnet.ts')).command,
  gateway: async () => (await import('./commands/gateway.ts')).command,
  dashboard: async () => (await import('./commands/dashboard.ts')).command,
  receipts: async () => (await import('./commands/receipts.ts')).command,
  dispute: async () => (await import('./commands/dispute.ts')).command,
  chain: async () => (await import('./commands/chain.ts')).command,
  stake: async () => (await import('./commands/stake.ts')).command,
  subnet: async () => (await import('./commands/subnet.ts')).command,
  weights: async () => (await import('./commands/weights.ts')).command,
  competition: async () => (await import('./commands/competition.ts')).command,
  market: async () => (await import('./commands/market.ts')).command,
  deploy: async () => (await import('./commands/deploy.ts')).command,
  'lease-serve': async () => (await import('./commands/lease-serve.ts')).command,
}

const HELP = `verity — checkable decentralized AI inference

usage: verity <command> [options]

commands:
  devnet     run a whole local network: chain, miners, validators, gateway, providers (npm start)
  node       run one miner, validator, gateway or provider node
  gateway    a gateway's API keys: create, list, revoke, top up (verity gateway keys)
  dashboard  serve the web dashboard for a chain (metagraph, receipts checked in the browser)
  verify     check a saved answer alone: text, prompt, signer on chain, bit-for-bit re-execution
  classify   classify a digit image with the proven model (--prove: Groth16 proof, verified)
  receipts   hand a saved answer to the validators (verity receipts submit)
  dispute    challenge a saved answer on chain; a dispute's status; list disputes; when honesty
             pays (verity dispute simulate)
  chain      deploy Verity to a chain (verity chain deploy), enact its dispute game, show it
  wallet     create, import and list keyfiles; balances; send VTY or ETH
  stake      stake VTY on a hotkey (own or delegated), unstake, withdraw, list
  subnet     create, list and show subnets; register a hotkey; the metagraph; set-model
  competition  a model competition's winner; --promote makes an inference subnet serve it
  weights    a validator's weights by hand: show, commit, reveal
  deploy     rent compute on the market and serve a model as an API (verity deploy spec.yaml)
  market     the compute market: orders, bids, leases, providers; close, deposit, withdraw
  lease-serve  serve one lease's model (a provider node starts it)
  generate   run the deterministic runtime on a prompt
  model      inspect a GGUF model (verity model info <file>)
  demo       a short generation demo with the default model
  yuma       Yuma Consensus: run a scenario or simulate adversaries

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
export function reportError(thrown: unknown): number {
  const error = explainChainError(thrown)
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
