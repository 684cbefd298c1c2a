import { startGatewayServer } from '../../gateway/server.ts'
import { loadModel } from '../../runtime/model/load.ts'
import { toHex } from '../../runtime/trace/merkle.ts'
import { intFlag, parseArgs } from '../args.ts'
import { CHAIN_FLAGS, CHAIN_FLAGS_HELP, resolveChainTarget } from '../chain-target.ts'
import type { Command } from '../main.ts'
import { openModelFile } from '../model-file.ts'

const HELP = `usage: verity dashboard --rpc <url> --deployment <manifest> [--port P] [--host A] [--model <file.gguf|default>]

Serves the web dashboard alone (no gateway API: the playground has no model) at
http://<host>:<port>/dashboard/ until Ctrl-C: the metagraph read from the chain by the browser,
and receipts checked in the browser against --model (served to it by its modelRoot; default: the
project's default model). Binds 127.0.0.1:8090 by default; the browser must reach --rpc itself.

${CHAIN_FLAGS_HELP}`

const spec = {
  ...CHAIN_FLAGS,
  port: { type: 'string' },
  host: { type: 'string' },
  model: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

export const command: Command = {
  summary: 'serve the web dashboard for a chain: metagraph and in-browser receipt checks',
  run: async (argv) => {
    const { flags } = parseArgs(argv, spec)
    if (flags.help) {
      console.log(HELP)
      return 0
    }
    const target = await resolveChainTarget(flags)
    const file = openModelFile(flags.model as string | undefined)
    let modelRoot: string
    try {
      modelRoot = toHex(loadModel(file).modelRoot)
    } finally {
      file.close()
    }
    const server = startGatewayServer({
      pools: [],
      port: intFlag(flags, 'port', 8090, 0, 65535),
      ...(typeof flags.host === 'string' ? { host: flags.host } : {}),
      allowedHosts: [],
      dashboard: {
        rpcUrl: target.rpcUrl,
        deployment: target.deployment,
        modelFiles: new Map([[modelRoot, file.path]]),
      },
    })
    await server.start()
    console.log(`dashboard: ${server.url}/dashboard/ (chain ${target.chainId}, Ctrl-C stops it)`)
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve())
      process.once('SIGTERM', () => resolve())
    })
    await server.stop()
    return 0
  },
}
