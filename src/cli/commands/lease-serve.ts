import { createPublicClient, getAddress, http, isAddress } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { UsageError } from '../../errors/cli.ts'
import { startLeaseServer } from '../../market/lease-server.ts'
import { toHex } from '../../runtime/trace/merkle.ts'
import type { Hex } from '../../types/inference.ts'
import { intFlag, parseArgs } from '../args.ts'
import type { Command } from '../main.ts'
import { loadModelFile, threadsFlag } from '../model-file.ts'

const HELP = `usage: verity lease-serve --model <file.gguf> --model-root <0x…> --api-key-hash <0x…>
                         --rpc <url> --chain-id <id> --verifying-contract <address>
                         [--port P] [--host <address>] [--threads N] [--max-tokens N]

One leased deployment's OpenAI-compatible endpoint. A provider node starts it as a child process
for each lease it wins (you do not run it by hand): the model must hash to --model-root, receipts
are signed with the key in VERITY_LEASE_KEY, only the API key whose sha256 is --api-key-hash is
served. It prints one JSON line {"ready":true,"port":P} once listening, and exits when its
standard input closes (the provider is gone), on SIGTERM, or on SIGINT.`

const spec = {
  model: { type: 'string' },
  'model-root': { type: 'string' },
  'api-key-hash': { type: 'string' },
  rpc: { type: 'string' },
  'chain-id': { type: 'string' },
  'verifying-contract': { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  threads: { type: 'string' },
  'max-tokens': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

const HEX32 = /^0x[0-9a-fA-F]{64}$/

export const command: Command = {
  summary: "serve one lease's model (started by a provider node)",
  run: async (argv) => {
    const { flags, positionals } = parseArgs(argv, spec)
    if (flags.help) {
      console.log(HELP)
      return 0
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`)
    for (const f of [
      'model',
      'model-root',
      'api-key-hash',
      'rpc',
      'chain-id',
      'verifying-contract',
    ])
      if (typeof flags[f] !== 'string') throw new UsageError(`--${f} is required`)
    const root = String(flags['model-root'])
    const keyHash = String(flags['api-key-hash'])
    if (!HEX32.test(root)) throw new UsageError('--model-root must be 0x and 64 hex digits')
    if (!HEX32.test(keyHash)) throw new UsageError('--api-key-hash must be 0x and 64 hex digits')
    const contract = String(flags['verifying-contract'])
    if (!isAddress(contract)) throw new UsageError('--verifying-contract must be an address')
    const key = process.env.VERITY_LEASE_KEY
    if (!key || !HEX32.test(key)) throw new UsageError('VERITY_LEASE_KEY must hold the signing key')
    const chainId = intFlag(flags, 'chain-id', 0, 1, 2 ** 53 - 1)
    const port = intFlag(flags, 'port', 0, 0, 65535)
    const maxTokens =
      flags['max-tokens'] === undefined ? undefined : intFlag(flags, 'max-tokens', 256, 1, 4096)
    const model = loadModelFile(String(flags.model), { threads: threadsFlag(flags) })
    if (toHex(model.modelRoot).toLowerCase() !== root.toLowerCase())
      throw new UsageError(`the model file hashes to ${toHex(model.modelRoot)}, not ${root}`)

    const publicClient = createPublicClient({
      transport: http(String(flags.rpc), { retryCount: 1 }),
    })
    let head = Number(await publicClient.getBlockNumber())
    const poll = setInterval(() => {
      publicClient.getBlockNumber().then(
        (b) => {
          head = Number(b)
        },
        () => {}, // keep the last block known; receipts stay valid from it
      )
    }, 2000)
    const server = startLeaseServer({
      model,
      account: privateKeyToAccount(key as Hex),
      apiKeyHash: keyHash as Hex,
      chainId,
      verifyingContract: getAddress(contract),
      blockNumber: () => head,
      ...(maxTokens === undefined ? {} : { maxTokens }),
      host: typeof flags.host === 'string' ? flags.host : '127.0.0.1',
      port,
    })
    await server.start()
    process.stdout.write(`${JSON.stringify({ ready: true, port: server.port })}\n`)
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve)
      process.once('SIGTERM', resolve)
      // the provider holds our stdin: when it exits, however it exits, the pipe closes
      process.stdin.once('end', resolve)
      process.stdin.once('close', resolve)
      process.stdin.resume()
    })
    clearInterval(poll)
    await server.stop()
    return 0
  },
}
