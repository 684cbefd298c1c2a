import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseEther } from 'viem'
import { listDisputes } from '../../chain/actions/listDisputes.ts'
import { runEpoch } from '../../chain/actions/runEpoch.ts'
import { transferToken } from '../../chain/actions/transferToken.ts'
import { deployModelCompetition } from '../../chain/competition.ts'
import { writeDeployment } from '../../chain/deployment.ts'
import { devnetDeployment, startDevnet } from '../../chain/devnet.ts'
import { DEVNET_DISPUTE_UNSTAKE_DELAY, installDisputeGame } from '../../chain/devnet-dispute.ts'
import { DisputeReason } from '../../chain/dispute.ts'
import { deployMarket } from '../../chain/market.ts'
import { DEVNET_CHANNEL_WINDOWS, deployPaymentChannels } from '../../chain/payments.ts'
import { deployVisionSubnets } from '../../chain/vision-subnets.ts'
import { EpochError } from '../../errors/chain.ts'
import { UsageError } from '../../errors/cli.ts'
import { VisionPool } from '../../gateway/vision/pool.ts'
import { connectChain, readNeurons } from '../../node/chain.ts'
import { CHEAT_MODES, type CheatMode } from '../../node/cheat.ts'
import type { DisputeService } from '../../node/disputes.ts'
import { startGatewayNode } from '../../node/gateway.ts'
import { startLoad } from '../../node/load.ts'
import { setupSubnet, startMinerNode, startValidatorNode } from '../../node/network.ts'
import type { ValidatorService } from '../../node/validator.ts'
import { tokenizerFromGguf } from '../../runtime/tokenizer/index.ts'
import { toHex } from '../../runtime/trace/merkle.ts'
import { readDigits, splitDigits } from '../../vision/dataset.ts'
import { parseDigitsModel } from '../../vision/model.ts'
import { visionModelId } from '../../vision/model-id.ts'
import { loadDigitsCircuit } from '../../vision/prover.ts'
import { intFlag, parseArgs } from '../args.ts'
import {
  COMPETITION_ACCOUNTS,
  competitionModelPaths,
  DevnetCompetition,
} from '../devnet-competition.ts'
import { startDevnetProviders } from '../devnet-providers.ts'
import {
  DevnetVision,
  DIGITS_CIRCUIT_DIR,
  DIGITS_MODEL_PATH,
  VISION_ACCOUNTS,
} from '../devnet-vision.ts'
import { askVision } from '../devnet-vision-user.ts'

const VISION_MODEL_NAME = 'verity-digits'

import type { Command } from '../main.ts'
import { DEFAULT_MODEL_PATH, loadModelFile, openModelFile, threadsFlag } from '../model-file.ts'
import { applyLogFlags, LOG_FLAGS, LOG_HELP } from '../ops-flags.ts'

const HELP = `usage: verity devnet [--miners N] [--validators M] [--cheaters K] [--providers P]
                    [--cheat-mode always|selective|subtle]
                    [--load C] [--sample-rate R] [--port P] [--model F] [--threads N]
                    [--epochs E --json] [--epoch-seconds S] [--deployment-out <file>]
                    [--competition [--base-model F] [--better-model F]] [--vision]

Starts a whole local network: anvil with the contracts, subnet 1 with the default model (or
--model <file.gguf>), N miners (default 3; the last K are cheaters: 'always' makes up every
answer, 'selective' only those it judges not to come from a validator, using every feature a
miner can see: caller key and role, prompt shape, lengths, timing; 'subtle' computes honestly
but for one value deep in the forward pass; see src/node/cheat.ts),
M validators (default 2, staked; they re-execute a secret share R of all answers, default 0.25,
and send their own checks through the gateway), and a gateway on 127.0.0.1:P (default 8080).
The dispute game is deployed and named by governance; every node gets its address. Miners are
staked (100 VTY each) and sign receipts disputable for the game's maxValidity (200 blocks);
validators (funded with 1,000 VTY for bonds) dispute on chain every wrong trace or output they
re-execute, and both sides play each game to the end.
--load C keeps C concurrent chat requests, drawn like users' traffic, flowing through the
gateway. An epoch runs every S seconds (default 15). --threads N: the model's products run on N
threads (default all cores; the same bits for every N). Ctrl-C stops everything.
With --epochs E: runs E epochs of S seconds, prints one JSON line and exits: per miner uid,
hotkey, cheater, cheatMode, emission (of the last epoch, and emissionByEpoch) and flags (evidence
records against it at all validators); overall checkedAnswers (answers the validators
re-executed), userRequests (served, failed), and per validator its gossip and check counters
(checkMs: time spent re-executing); per miner slashed (wei, decimal, like emission: what disputes
it lost took from its stake) and overall disputes {opened, minerLost, challengerLost, timedOut},
read from the game's events once the games under way have ended (at most 90 s after the last
epoch). The nodes log warnings and errors only unless --log-level says otherwise.
The compute market is deployed too (bid deposit 5 VTY, escrow at least 1 VTY), and the payment
channels (challenge period and settle grace 100 blocks; contracts.payments), and the model
competition contract (contracts.competition; no subnet declares one yet). --providers P
starts P providers (default 0) that rent out this machine with the devnet's model, each with its
own price and attributes (provider i: region eu-west, us-east, ap-south in turn; price 0.001 x
(i + 1) VTY per block), and funds a tenant account with 1,000 VTY whose dev keyfile the devnet
prints how to make: then 'verity deploy <spec.yaml>' rents one (examples/market/tiny.yaml).
The devnet writes its deployment manifest (chain id and contract addresses: what every other
command takes with --deployment) to --deployment-out <file>, or to a file in its temporary
directory, and prints where; it describes this devnet only while it runs.
--competition adds a model competition subnet (the next netuid; the two subnets share the block
emission half and half) declared with the devnet's evaluation (held-out KJV, 8 passages of 4
verses), epsilon 0.5%, up to 10M parameters: three model miners commit the default model
(--base-model), the default model fine-tuned further (models/verity-tiny-ft.gguf, or
--better-model) and, once the first epoch's seed is known, a byte-identical copy of the better one;
two competition validators score every committed file each epoch and set weights. With --epochs
the JSON line gets a 'competition' object: netuid, seedBlock, validatorsAgree and per miner uid,
hotkey, modelRoot, score (the exact loss, nats Q16, decimal; null when unscored, with a reason)
and emission.
--vision adds a proven-classification subnet (the next netuid; it takes half of subnet 1's
emission share) bound on chain (contracts.vision, VisionSubnets) to the digits classifier's
VisionAnswers: two vision miners serve /verity/classify/1 from libp2p nodes published on chain,
one honest, one sending made-up proofs; two vision validators send each miner held-out digits
every epoch, check every Groth16 proof and set weights (an invalid proof: weight 0, kept as
evidence). With --epochs the JSON line gets a 'vision' object: netuid, modelId and per miner uid,
hotkey, task 'vision', cheater, emission, emissionByEpoch, validProofs, invalidProofs, evidence,
and gatewayAnswers: two held-out digits a user sends each epoch as PNG images through the
gateway's chat API (model verity-digits), served, failed and served with a wrong label.
${LOG_HELP}`

const spec = {
  miners: { type: 'string' },
  validators: { type: 'string' },
  providers: { type: 'string' },
  cheaters: { type: 'string' },
  'cheat-mode': { type: 'string' },
  load: { type: 'string' },
  'sample-rate': { type: 'string' },
  epochs: { type: 'string' },
  json: { type: 'boolean' },
  port: { type: 'string' },
  'epoch-seconds': { type: 'string' },
  model: { type: 'string' },
  threads: { type: 'string' },
  'deployment-out': { type: 'string' },
  competition: { type: 'boolean' },
  vision: { type: 'boolean' },
  'base-model': { type: 'string' },
  'better-model': { type: 'string' },
  ...LOG_FLAGS,
  help: { type: 'boolean', short: 'h' },
} as const

/** Each devnet miner's stake: what its lost disputes slash (small next to the validators'). */
const MINER_STAKE = parseEther('100')
/** Each devnet validator's VTY for dispute bonds (10 VTY each). */
const VALIDATOR_FUNDS = parseEther('1000')

function modelPath(arg: string | undefined): string {
  return arg === undefined || arg === 'default' ? DEFAULT_MODEL_PATH : arg
}

export const command: Command = {
  summary: 'run a local network: anvil, miners, validators and a gateway',
  run: async (argv) => {
    const { flags, positionals } = parseArgs(argv, spec)
    if (flags.help) {
      console.log(HELP)
      return 0
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`)
    applyLogFlags(flags, { level: 'warn' })
    const nMiners = intFlag(flags, 'miners', 3, 1, 32)
    const nValidators = intFlag(flags, 'validators', 2, 1, 8)
    const nCheaters = intFlag(flags, 'cheaters', 0, 0, nMiners)
    const nProviders = intFlag(flags, 'providers', 0, 0, 8)
    const cheatMode = (flags['cheat-mode'] ?? 'always') as string
    if (!(CHEAT_MODES as readonly string[]).includes(cheatMode))
      throw new UsageError(`--cheat-mode must be one of ${CHEAT_MODES.join(', ')}`)
    if (flags['cheat-mode'] !== undefined && nCheaters === 0)
      throw new UsageError('--cheat-mode goes with --cheaters K')
    const load = intFlag(flags, 'load', 0, 0, 256)
    const sampleRate = flags['sample-rate'] === undefined ? 0.25 : Number(flags['sample-rate'])
    if (!(sampleRate > 0 && sampleRate <= 1))
      throw new UsageError('--sample-rate must be a number in (0, 1]')
    const epochs = flags.epochs === undefined ? undefined : intFlag(flags, 'epochs', 1, 1, 1000)
    if (flags.json && epochs === undefined) throw new UsageError('--json goes with --epochs')
    const port = intFlag(flags, 'port', epochs === undefined ? 8080 : 0, 0, 65535)
    const epochMs = intFlag(flags, 'epoch-seconds', 15, 1, 3600) * 1000
    const withCompetition = flags.competition === true
    const withVision = flags.vision === true
    if (
      !withCompetition &&
      (flags['base-model'] !== undefined || flags['better-model'] !== undefined)
    )
      throw new UsageError('--base-model and --better-model go with --competition')
    const competitionFiles = withCompetition
      ? competitionModelPaths({
          baseModel: flags['base-model'] as string | undefined,
          betterModel: flags['better-model'] as string | undefined,
        })
      : undefined
    const say = (line: string) => {
      if (!flags.json) console.log(line)
    }

    const dir = mkdtempSync(join(tmpdir(), 'verity-devnet-'))
    const devnet = await startDevnet({
      accounts:
        nMiners +
        nValidators +
        3 +
        nProviders +
        1 +
        (withCompetition ? COMPETITION_ACCOUNTS : 0) +
        (withVision ? VISION_ACCOUNTS : 0),
      unstakeDelay: DEVNET_DISPUTE_UNSTAKE_DELAY,
    })
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
      const file = openModelFile(flags.model as string | undefined)
      const ggufSha256 = file.sha256()
      file.close()
      const model = loadModelFile(flags.model as string | undefined, {
        threads: threadsFlag(flags),
      })
      const tokenizer = tokenizerFromGguf(model.metadata)
      const minerIdx = Array.from({ length: nMiners }, (_, i) => 1 + i)
      const validatorIdx = Array.from({ length: nValidators }, (_, i) => 1 + nMiners + i)
      const gatewayIdx = 1 + nMiners + nValidators
      const address = devnet.addresses.verity
      const { game } = await installDisputeGame(devnet)
      const market = await deployMarket(devnet.publicClient, devnet.walletClients[0]!, {
        token: devnet.addresses.token,
        bidDeposit: parseEther('5'),
        minEscrow: parseEther('1'),
      })
      const payments = await deployPaymentChannels(devnet.publicClient, devnet.walletClients[0]!, {
        token: devnet.addresses.token,
        disputeGame: game,
        ...DEVNET_CHANNEL_WINDOWS,
      })
      const manifest =
        (flags['deployment-out'] as string | undefined) ?? join(dir, 'deployment.json')
      const competition = await deployModelCompetition(
        devnet.publicClient,
        devnet.walletClients[0]!,
        { core: address },
      )
      const visionSubnets = await deployVisionSubnets(
        devnet.publicClient,
        devnet.walletClients[0]!,
        { core: address },
      )
      const deployment = devnetDeployment(
        devnet,
        game,
        market,
        payments,
        competition,
        visionSubnets,
      )
      writeDeployment(manifest, deployment)
      const netuid = await setupSubnet(devnet, {
        model,
        ggufBytes: { sha256: ggufSha256 },
        miners: minerIdx.map((i) => devnet.walletClients[i]!),
        validators: validatorIdx.map((i) => devnet.walletClients[i]!),
        gateways: [devnet.walletClients[gatewayIdx]!],
        minerStake: MINER_STAKE,
      })
      // Validators pay dispute bonds from their hotkey's wallet.
      for (const i of validatorIdx)
        await transferToken(devnet.walletClients[0]!, {
          token: devnet.addresses.token,
          to: devnet.accounts[i]!.address,
          amount: VALIDATOR_FUNDS,
        })
      const ctx = (i: number) =>
        connectChain({
          rpcUrl: devnet.rpcUrl,
          account: devnet.accounts[i]!.account as never,
          netuid,
          address,
          disputeGame: game,
        })
      const disputeServices: DisputeService[] = []
      const cheaters = new Set(
        minerIdx.slice(nMiners - nCheaters).map((i) => devnet.accounts[i]!.address.toLowerCase()),
      )
      const miners = []
      for (const i of minerIdx) {
        const cheater = cheaters.has(devnet.accounts[i]!.address.toLowerCase())
        const node = await startMinerNode({
          hotkey: devnet.accounts[i]!.account as never,
          chain: await ctx(i),
          model,
          tokenizer,
          dataDir: join(dir, `miner-${i}`),
          ...(cheater ? { cheat: cheatMode as CheatMode } : {}),
        })
        nodes.push(node)
        miners.push(node)
        if (node.disputes) disputeServices.push(node.disputes)
      }
      // The gateway serves the vision subnet's miners through the chat API once they are up; it
      // checks every proof before it answers, so the cheating one is never served.
      const visionCircuit = withVision ? loadDigitsCircuit(DIGITS_CIRCUIT_DIR) : undefined
      const visionPool = visionCircuit
        ? new VisionPool({
            name: VISION_MODEL_NAME,
            modelId: visionModelId(visionCircuit.vkey),
            vkey: visionCircuit.vkey,
            chainId: devnet.chain.id,
            verifyingContract: address,
          })
        : undefined
      const gateway = await startGatewayNode({
        ...(visionPool ? { vision: visionPool } : {}),
        hotkey: devnet.accounts[gatewayIdx]!.account as never,
        chain: await ctx(gatewayIdx),
        model,
        dataDir: join(dir, 'gateway'),
        port,
        // The web dashboard reads this chain, and the model file to verify answers in the browser.
        dashboard: {
          rpcUrl: devnet.rpcUrl,
          deployment,
          modelFiles: new Map([
            [toHex(model.modelRoot), modelPath(flags.model as string | undefined)],
          ]),
        },
      })
      nodes.push(gateway)
      const validators: ValidatorService[] = []
      for (const i of validatorIdx) {
        const node = await startValidatorNode({
          hotkey: devnet.accounts[i]!.account as never,
          chain: await ctx(i),
          model,
          tokenizer,
          dataDir: join(dir, `validator-${i}`),
          gatewayUrl: gateway.server.url,
          sampleRate,
          // With --epochs the epoch driver below ticks them; the probes still run on their own.
          loop: epochs === undefined,
        })
        if (epochs !== undefined) await node.service.startProbes()
        nodes.push(node)
        validators.push(node.service)
        if (node.disputes) disputeServices.push(node.disputes)
      }
      // The gateway finds the validators' nodes once they are published, and users arrive once
      // it knows every miner.
      await gateway.view.refresh({ metagraph: true })
      const ready = Date.now() + 60_000
      while (gateway.pool.size < nMiners && Date.now() < ready)
        await new Promise((r) => setTimeout(r, 100))
      const providerIdx = Array.from({ length: nProviders }, (_, i) => gatewayIdx + 1 + i)
      const tenantIdx = gatewayIdx + 1 + nProviders
      const providers = await startDevnetProviders(devnet, {
        indexes: providerIdx,
        market,
        dataDir: dir,
        modelPath: modelPath(flags.model as string | undefined),
        modelRoot: toHex(model.modelRoot),
      })
      nodes.push(...providers)
      if (nProviders > 0)
        await transferToken(devnet.walletClients[0]!, {
          token: devnet.addresses.token,
          to: devnet.accounts[tenantIdx]!.address,
          amount: parseEther('1000'),
        })
      const competitionIdx = Array.from(
        { length: COMPETITION_ACCOUNTS },
        (_, i) => tenantIdx + 1 + i,
      )
      const contest = competitionFiles
        ? await DevnetCompetition.start(devnet, {
            competition,
            inferenceNetuid: netuid,
            model,
            ggufSha256,
            accounts: competitionIdx,
            files: competitionFiles,
          })
        : undefined
      if (contest) nodes.push(contest)
      const visionIdx = Array.from(
        { length: VISION_ACCOUNTS },
        (_, i) => tenantIdx + 1 + (withCompetition ? COMPETITION_ACCOUNTS : 0) + i,
      )
      const visionNet = withVision
        ? await DevnetVision.start(devnet, {
            vision: visionSubnets,
            inferenceNetuid: netuid,
            accounts: visionIdx,
          })
        : undefined
      if (visionNet) nodes.push(visionNet)
      for (const m of visionNet?.visionMiners() ?? []) visionPool?.add(m)
      const visionUser = { served: 0, failed: 0, wrongLabel: 0 }
      const visionModel = withVision
        ? parseDigitsModel(JSON.parse(readFileSync(DIGITS_MODEL_PATH, 'utf8')))
        : undefined
      const visionImages = withVision ? splitDigits(readDigits()).test : []
      const users =
        load > 0 ? startLoad({ url: gateway.server.url, model, concurrency: load }) : undefined
      if (users) nodes.push(users)
      const owner = devnet.walletClients[0]!
      // Nodes send transactions (weights, dispute moves and slashes) while an epoch runs: a stage
      // estimated before another transaction changed the state it reads can revert; runEpoch
      // picks the epoch up where it stands, so it is tried again.
      const epoch = async () => {
        for (let attempt = 1; ; attempt++) {
          try {
            return await runEpoch(owner, { address, netuid })
          } catch (error) {
            if (attempt >= 3 || !(error instanceof EpochError)) throw error
          }
        }
      }
      if (epochs !== undefined) {
        const perEpoch = new Map<string, string[]>()
        for (let e = 0; e < epochs; e++) {
          await new Promise((r) => setTimeout(r, epochMs))
          for (const v of validators) await v.tick()
          await epoch()
          for (const n of await readNeurons({ publicClient: devnet.publicClient, address, netuid }))
            perEpoch.set(n.hotkey.toLowerCase(), [
              ...(perEpoch.get(n.hotkey.toLowerCase()) ?? []),
              n.emission.toString(),
            ])
          await contest?.epoch()
          await visionNet?.epoch()
          if (visionModel)
            await askVision(
              gateway.server.url,
              {
                model: visionModel,
                name: VISION_MODEL_NAME,
                images: visionImages.slice(2 * e, 2 * e + 2).map((d) => d.pixels),
              },
              visionUser,
            )
        }
        await users?.stop()
        await Promise.race([
          Promise.all(validators.map((v) => v.settled())),
          new Promise((r) => setTimeout(r, 10_000).unref()),
        ])
        // No new checks (so no new disputes); the games under way are played to their end.
        for (const v of validators) await v.stop()
        await Promise.all(disputeServices.map((d) => d.idle(90_000)))
        const played = await listDisputes(devnet.publicClient, { address: game, netuid })
        const slashedOf = (hotkey: string) =>
          played
            .filter((d) => d.miner.toLowerCase() === hotkey.toLowerCase())
            .reduce((sum, d) => sum + d.slashed, 0n)
        const neurons = await readNeurons({ publicClient: devnet.publicClient, address, netuid })
        const flagsOf = (hotkey: string) =>
          validators.reduce(
            (sum, v) =>
              sum +
              v.store.evidence().filter((r) => r.hotkey.toLowerCase() === hotkey.toLowerCase())
                .length,
            0,
          )
        const minerSet = new Set(minerIdx.map((i) => devnet.accounts[i]!.address.toLowerCase()))
        const validatorSet = new Set(
          validatorIdx.map((i) => devnet.accounts[i]!.address.toLowerCase()),
        )
        const out = {
          miners: neurons
            .filter((n) => minerSet.has(n.hotkey.toLowerCase()))
            .map((n) => {
              const cheater = cheaters.has(n.hotkey.toLowerCase())
              return {
                uid: n.uid,
                hotkey: n.hotkey,
                cheater,
                cheatMode: cheater ? cheatMode : null,
                emission: n.emission.toString(),
                emissionByEpoch: perEpoch.get(n.hotkey.toLowerCase()) ?? [],
                flags: flagsOf(n.hotkey),
                slashed: slashedOf(n.hotkey).toString(),
              }
            }),
          validators: neurons
            .filter((n) => validatorSet.has(n.hotkey.toLowerCase()))
            .map((n) => ({ uid: n.uid, hotkey: n.hotkey, emission: n.emission.toString() })),
          checkedAnswers: validators.reduce(
            (sum, v) => sum + v.store.checks().filter((c) => c.outcome !== 'unavailable').length,
            0,
          ),
          userRequests: users?.stats ?? { served: 0, failed: 0 },
          disputes: {
            opened: played.length,
            minerLost: played.filter((d) => d.decided?.minerLost === true).length,
            challengerLost: played.filter((d) => d.decided?.minerLost === false).length,
            timedOut: played.filter((d) => d.decided?.reason === DisputeReason.TIMEOUT).length,
          },
          deployment: manifest,
          gossip: validators.map((v) => v.snapshot()),
          judged: Object.fromEntries(
            miners
              .filter((m) => m.service.judged.size > 0)
              .map((m) => [m.service.hotkey, Object.fromEntries(m.service.judged)]),
          ),
          ...(contest ? { competition: await contest.report() } : {}),
          ...(visionNet
            ? { vision: { ...(await visionNet.report()), gatewayAnswers: visionUser } }
            : {}),
        }
        if (flags.json) console.log(JSON.stringify(out))
        else console.log(JSON.stringify(out, null, 2))
        return 0
      }
      // One epoch at a time: a slow competition evaluation must not overlap the next tick.
      let running = false
      timer = setInterval(() => {
        if (running) return
        running = true
        void epoch()
          .then(() => contest?.epoch())
          .then(() => visionNet?.epoch())
          .catch(() => {})
          .finally(() => {
            running = false
          })
      }, epochMs)
      const url = gateway.server.url
      say(
        `Verity devnet: chain ${devnet.rpcUrl}, ${nMiners} miners (${nCheaters} cheating), ${nValidators} validators`,
      )
      say(`Verity contract ${address}, token ${devnet.addresses.token}, subnet ${netuid}`)
      say(`Dispute game ${game}`)
      if (contest)
        say(
          `Model competition: subnet ${contest.netuid} (contract ${competition}); scores each epoch from competition validators ${contest.validators.map((v) => v.hotkey).join(', ')}`,
        )
      if (visionNet)
        say(
          `Vision subnet: ${visionNet.netuid} (model ${visionNet.modelId}, VisionSubnets ${visionSubnets}); 2 miners on /verity/classify/1, one sending invalid proofs`,
        )
      say(`Deployment manifest (for --deployment): ${manifest}`)
      say(`OpenAI-compatible API: ${url}/v1   (model ${model.config.name})`)
      if (visionPool)
        say(
          `Images: model ${VISION_MODEL_NAME}, one image_url part (data:image/png;base64,…); the answer's proof is in 'verity'`,
        )
      say(`Dashboard: ${url}/dashboard   (metagraph, receipts checked in the browser, playground)`)
      say(
        `API keys are off (open to anyone on this host); a node turns them on with --auth: npx verity node --role gateway --auth … then npx verity gateway keys create --data-dir <its data dir> --credit 10\n`,
      )
      say(`curl ${url}/v1/chat/completions -H 'content-type: application/json' \\`)
      say(
        `  -d '{"model":"${model.config.name}","messages":[{"role":"user","content":"Hello"}],"seed":1}'\n`,
      )
      say(`node -e "const OpenAI=require('openai');new OpenAI({baseURL:'${url}/v1',apiKey:'none'})`)
      say(
        `  .chat.completions.create({model:'${model.config.name}',messages:[{role:'user',content:'Hello'}]})`,
      )
      say(`  .then(r=>console.log(r.choices[0].message.content))"\n`)
      for (const p of providers) say(`Provider ${p.node.address} at ${p.ingress.url} (${p.label})`)
      if (nProviders > 0) {
        say(
          `Rent one: a tenant keyfile for the funded dev account ${devnet.accounts[tenantIdx]!.address}:`,
        )
        say(
          `  npx verity wallet create --name tenant --dev --chain-id ${devnet.chain.id} --dev-index ${tenantIdx}`,
        )
        say(
          `  npx verity deploy examples/market/tiny.yaml --key ~/.verity/wallets/tenant/coldkey.json \\`,
        )
        say(`    --rpc ${devnet.rpcUrl} --deployment ${manifest}\n`)
      }
      say(`Check a saved answer alone: npx verity verify response.json --reexecute \\`)
      say(`  --rpc ${devnet.rpcUrl} --deployment ${manifest}\n`)
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
