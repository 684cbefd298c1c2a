import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runEpoch } from '../../chain/actions/runEpoch.ts'
import { startDevnet } from '../../chain/devnet.ts'
import { UsageError } from '../../errors/cli.ts'
import { connectChain, readNeurons } from '../../node/chain.ts'
import { startGatewayNode } from '../../node/gateway.ts'
import {
  type RunningNode,
  setupSubnet,
  startMinerNode,
  startValidatorNode,
} from '../../node/network.ts'
import type { ValidatorService } from '../../node/validator.ts'
import { loadModel } from '../../runtime/model/load.ts'
import { tokenizerFromGguf } from '../../runtime/tokenizer/index.ts'
import { intFlag, parseArgs } from '../args.ts'
import type { Command } from '../main.ts'
import { readModelFile } from '../model-file.ts'

const HELP = `usage: verity devnet [--miners N] [--validators M] [--cheaters K] [--port P] [--model F]
                    [--epochs E --json] [--epoch-seconds S]

Starts a whole local network: anvil with the contracts, subnet 1 with the default model (or
--model <file.gguf>), N miners
(default 3; the last K are cheaters that serve made-up output with signed receipts), M validators
(default 2, staked) and a gateway on 127.0.0.1:P (default 8080). An epoch runs every S seconds
(default 15). Ctrl-C stops everything. With --epochs E: runs E epochs as fast as possible, prints
one JSON line with every miner's and validator's emission, and exits.`

const spec = {
  miners: { type: 'string' },
  validators: { type: 'string' },
  cheaters: { type: 'string' },
  epochs: { type: 'string' },
  json: { type: 'boolean' },
  port: { type: 'string' },
  'epoch-seconds': { type: 'string' },
  model: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

export const command: Command = {
  summary: 'run a local network: anvil, miners, validators and a gateway',
  run: async (argv) => {
    const { flags, positionals } = parseArgs(argv, spec)
    if (flags.help) {
      console.log(HELP)
      return 0
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`)
    const nMiners = intFlag(flags, 'miners', 3, 1, 32)
    const nValidators = intFlag(flags, 'validators', 2, 1, 8)
    const nCheaters = intFlag(flags, 'cheaters', 0, 0, nMiners)
    const epochs = flags.epochs === undefined ? undefined : intFlag(flags, 'epochs', 1, 1, 1000)
    if (flags.json && epochs === undefined) throw new UsageError('--json goes with --epochs')
    const port = intFlag(flags, 'port', 8080, 0, 65535)
    const epochMs = intFlag(flags, 'epoch-seconds', 15, 1, 3600) * 1000
    const say = (line: string) => {
      if (!flags.json) console.log(line)
    }

    const dir = mkdtempSync(join(tmpdir(), 'verity-devnet-'))
    const devnet = await startDevnet({ accounts: nMiners + nValidators + 3 })
    const nodes: { stop(): Promise<void> }[] = []
    let timer: ReturnType<typeof setInterval> | undefined
    const shutdown = async () => {
      clearInterval(timer)
      for (const n of nodes.reverse()) {
        // Bounded: a node that does not stop within 5 s is left to process exit.
        await Promise.race([
          n.stop().catch(() => {}),
          new Promise((r) => setTimeout(r, 5000).unref()),
        ])
      }
      await devnet.stop()
      rmSync(dir, { recursive: true, force: true })
    }
    try {
      const bytes = readModelFile(flags.model as string | undefined)
      const model = loadModel(bytes)
      const tokenizer = tokenizerFromGguf(model.metadata)
      const minerIdx = Array.from({ length: nMiners }, (_, i) => 1 + i)
      const validatorIdx = Array.from({ length: nValidators }, (_, i) => 1 + nMiners + i)
      const gatewayIdx = 1 + nMiners + nValidators
      const address = devnet.addresses.verity
      const netuid = await setupSubnet(devnet, {
        model,
        ggufBytes: bytes,
        miners: minerIdx.map((i) => devnet.walletClients[i]!),
        validators: validatorIdx.map((i) => devnet.walletClients[i]!),
      })
      const ctx = (i: number) =>
        connectChain({
          rpcUrl: devnet.rpcUrl,
          account: devnet.accounts[i]!.account as never,
          netuid,
          address,
        })
      const cheaters = new Set(
        minerIdx.slice(nMiners - nCheaters).map((i) => devnet.accounts[i]!.address.toLowerCase()),
      )
      for (const i of minerIdx) {
        const node: RunningNode = await startMinerNode({
          hotkey: devnet.accounts[i]!.account as never,
          chain: await ctx(i),
          model,
          tokenizer,
          dataDir: join(dir, `miner-${i}`),
          cheat: cheaters.has(devnet.accounts[i]!.address.toLowerCase()),
        })
        nodes.push(node)
      }
      const validators: ValidatorService[] = []
      for (const i of validatorIdx) {
        const node = await startValidatorNode({
          hotkey: devnet.accounts[i]!.account as never,
          chain: await ctx(i),
          model,
          tokenizer,
          dataDir: join(dir, `validator-${i}`),
          loop: epochs === undefined,
        })
        nodes.push(node)
        validators.push(node.service)
      }
      const owner = devnet.walletClients[0]!
      if (epochs !== undefined) {
        for (let e = 0; e < epochs; e++) {
          for (const v of validators) await v.tick()
          await runEpoch(owner, { address, netuid })
        }
        const neurons = await readNeurons({ publicClient: devnet.publicClient, address, netuid })
        const row = (n: (typeof neurons)[number]) => ({
          uid: n.uid,
          hotkey: n.hotkey,
          emission: n.emission.toString(),
        })
        const validatorSet = new Set(
          validatorIdx.map((i) => devnet.accounts[i]!.address.toLowerCase()),
        )
        const out = {
          miners: neurons
            .filter((n) => !validatorSet.has(n.hotkey.toLowerCase()))
            .map((n) => ({ ...row(n), cheater: cheaters.has(n.hotkey.toLowerCase()) })),
          validators: neurons.filter((n) => validatorSet.has(n.hotkey.toLowerCase())).map(row),
        }
        if (flags.json) console.log(JSON.stringify(out))
        else console.log(JSON.stringify(out, null, 2))
        return 0
      }
      const gateway = await startGatewayNode({
        hotkey: devnet.accounts[gatewayIdx]!.account as never,
        chain: await ctx(gatewayIdx),
        model,
        dataDir: join(dir, 'gateway'),
        port,
      })
      nodes.push(gateway)
      timer = setInterval(() => {
        void runEpoch(owner, { address, netuid }).catch(() => {})
      }, epochMs)
      const url = gateway.server.url
      say(
        `Verity devnet: chain ${devnet.rpcUrl}, ${nMiners} miners (${nCheaters} cheating), ${nValidators} validators`,
      )
      say(`OpenAI-compatible API: ${url}/v1   (model ${model.config.name})\n`)
      say(`curl ${url}/v1/chat/completions -H 'content-type: application/json' \\`)
      say(
        `  -d '{"model":"${model.config.name}","messages":[{"role":"user","content":"Hello"}],"seed":1}'\n`,
      )
      say(`node -e "const OpenAI=require('openai');new OpenAI({baseURL:'${url}/v1',apiKey:'none'})`)
      say(
        `  .chat.completions.create({model:'${model.config.name}',messages:[{role:'user',content:'Hello'}]})`,
      )
      say(`  .then(r=>console.log(r.choices[0].message.content))"\n`)
      say('Ctrl-C stops everything.')
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve())
        process.once('SIGTERM', () => resolve())
      })
      say('stopping…')
      setTimeout(() => process.exit(0), 20_000).unref()
      return 0
    } finally {
      await shutdown()
    }
  },
}
