import { readFileSync } from 'node:fs'
import { type Address, type Chain, formatEther, type PublicClient, type Transport } from 'viem'
import { getBlockNumber } from 'viem/actions'
import { disputeGameAbi } from '../../chain/abis.ts'
import { getDispute } from '../../chain/actions/getDispute.ts'
import { getDisputeLog } from '../../chain/actions/getDisputeLog.ts'
import { listDisputes } from '../../chain/actions/listDisputes.ts'
import { DisputePhase, DisputeReason } from '../../chain/dispute.ts'
import { ChainError } from '../../errors/chain.ts'
import { UsageError } from '../../errors/cli.ts'
import { ReceiptError } from '../../errors/node.ts'
import { connectChain, readDisputeGame } from '../../node/chain.ts'
import { openChallenge, revertOf } from '../../node/challenge.ts'
import { loadKey, readPassphrase } from '../../node/wallet.ts'
import { loadModel } from '../../runtime/model/load.ts'
import { toHex } from '../../runtime/trace/merkle.ts'
import { verifyBundle } from '../../verify/bundle.ts'
import { disputeRequest } from '../../verify/dispute/open.ts'
import { DisputePlayer, minerToMove } from '../../verify/dispute/player.ts'
import { playSide } from '../../verify/dispute/side.ts'
import { parseSavedResponse } from '../../verify/response.ts'
import { parseArgs } from '../args.ts'
import { type ChainSession, openChain } from '../chain-session.ts'
import { CHAIN_FLAGS, CHAIN_FLAGS_HELP } from '../chain-target.ts'
import type { Command } from '../main.ts'
import { readModelFile } from '../model-file.ts'
import { simulateDisputeCommand } from './dispute-simulate.ts'

const HELP = `usage: verity dispute open <response> --rpc <url> --deployment <manifest> --key <keyfile>
                            [--passphrase-file <file>] [--game <address>] [--model <file.gguf|default>]
                            [--no-play] [--json]
       verity dispute status <id> --rpc <url> --deployment <manifest> [--game <address>] [--json]
       verity dispute list [--hotkey <address>] --rpc <url> --deployment <manifest> [--game <address>] [--json]
       verity dispute simulate [--sample-rate p --stake S --cost C --reward R ...] [--json]

Challenges a miner's answer on chain, by hand. open: <response> is an answer saved from the
gateway (a completion body, a saved event stream or a bare bundle: its 'verity' field holds the
request, the tokens and the signed receipt). The bundle must verify; the local runtime re-runs the
request over the receipt's tokens and the dispute is opened only if it disagrees (its own
traceRoot, or the first output token the trace did not sample), printing why. The bond (the
subnet's dispute parameter) is paid from the key's wallet, which must hold it; the game is
approved to take it. Then it plays the challenger's side to the end (each move when it is its
turn, a silent miner timed out), or with --no-play just opens and prints the dispute id.
The receipt must be for the deployment's chain and Verity contract. The game is --game, else the
one the deployment's Verity contract names. status: phase, whose move, deadline, decision and
what was slashed. list: every dispute from the game's events (--hotkey: one miner's). The keyfile
is decrypted with --passphrase-file or VERITY_PASSPHRASE. Exit 0 when the dispute opened (and,
played, was won), 1 when nothing was opened or the challenger lost.

${CHAIN_FLAGS_HELP}`

const spec = {
  ...CHAIN_FLAGS,
  key: { type: 'string' },
  'passphrase-file': { type: 'string' },
  game: { type: 'string' },
  model: { type: 'string' },
  hotkey: { type: 'string' },
  'no-play': { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

type Flags = ReturnType<typeof parseArgs>['flags']

const ADDRESS = /^0x[0-9a-fA-F]{40}$/

const nameOf = (table: Record<string, number>, value: number) =>
  Object.entries(table).find(([, v]) => v === value)?.[0] ?? String(value)

/** The reason a dispute was decided, in words. */
function reasonText(reason: number): string {
  return nameOf(DisputeReason, reason).toLowerCase().replaceAll('_', ' ')
}

function addressFlag(flags: Flags, name: string): Address | undefined {
  const value = flags[name]
  if (value === undefined) return undefined
  if (typeof value !== 'string' || !ADDRESS.test(value))
    throw new UsageError(`--${name} must be an address (0x and 40 hex digits)`)
  return value as Address
}

/** The game: --game, else the one the deployment's Verity contract names. */
async function gameOf(
  client: PublicClient<Transport, Chain>,
  flags: Flags,
  core: Address,
): Promise<Address> {
  const explicit = addressFlag(flags, 'game')
  if (explicit) return explicit
  const game = await readDisputeGame({ address: core, publicClient: client }).catch((error) => {
    throw new ChainError(`cannot read the dispute game from the Verity contract at ${core}`, {
      details: (error as Error).message.split('\n')[0],
    })
  })
  if (!game) throw new ChainError(`the Verity contract at ${core} names no dispute game`)
  return game
}

async function open(file: string, flags: Flags): Promise<number> {
  if (typeof flags.key !== 'string')
    throw new UsageError('--key <keyfile> is required: it pays the bond')
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new ReceiptError(`cannot read ${file}`, { details: (error as Error).message })
  }
  const { bundle } = parseSavedResponse(text)
  await verifyBundle(bundle)
  const { receipt, request, tokens } = bundle
  const model = loadModel(readModelFile(flags.model as string | undefined))
  if (toHex(model.modelRoot) !== receipt.modelRoot.toLowerCase())
    throw new ReceiptError('the local model is not the receipt model', {
      details: `receipt modelRoot ${receipt.modelRoot}, local ${toHex(model.modelRoot)} (pass --model)`,
    })
  const session = await openChain(flags)
  const { chainId, deployment } = session
  if (chainId !== receipt.chainId)
    throw new ReceiptError(
      `the receipt is for chain ${receipt.chainId}, ${session.rpcUrl} serves chain ${chainId}`,
    )
  if (receipt.verifyingContract.toLowerCase() !== deployment.contracts.verity.toLowerCase())
    throw new ReceiptError(
      `the receipt names Verity contract ${receipt.verifyingContract}, not the deployment's ${deployment.contracts.verity}`,
    )
  const passphrase = readPassphrase({
    file: typeof flags['passphrase-file'] === 'string' ? flags['passphrase-file'] : undefined,
  })
  const account = loadKey(flags.key, passphrase, { chainId })
  const chain = await connectChain({
    rpcUrl: session.rpcUrl,
    account,
    netuid: receipt.netuid,
    address: deployment.contracts.verity,
  })
  const game = await gameOf(chain.publicClient, flags, receipt.verifyingContract)
  const say = (line: string) => {
    if (!flags.json) console.log(line)
  }
  const result = await openChallenge({ chain, game, model, bundle }).catch((error) => {
    // The game's own error names the reason (ReceiptAlreadyDisputed, ReceiptExpired, ...).
    const revert = revertOf(error)
    const short = (error as { shortMessage?: string }).shortMessage ?? String(error)
    throw new ChainError('the game refused the dispute', {
      details: revert
        ? `${revert.errorName}(${(revert.args ?? []).map(String).join(', ')})`
        : short.split('\n')[0],
    })
  })
  if (!result.opened) {
    if (flags.json) console.log(JSON.stringify({ opened: false, reason: result.reason }))
    else console.error(`not opened: ${result.reason}`)
    return 1
  }
  const { id, claim } = result
  say(`disputed: ${claim.why}`)
  say(`opened dispute ${id} on game ${game} (block ${result.block})`)
  if (flags['no-play']) {
    if (flags.json)
      console.log(JSON.stringify({ opened: true, id: id.toString(), game, claim: claim.why }))
    return 0
  }
  const player = new DisputePlayer({
    model,
    request: disputeRequest(request, tokens),
    role: 'challenger',
    partElements: Number(
      await chain.publicClient.readContract({
        address: game,
        abi: disputeGameAbi,
        functionName: 'partElements',
      }),
    ),
  })
  const end = await playSide({
    client: chain.publicClient,
    wallet: chain.walletClient,
    game,
    id,
    player,
    fromBlock: result.block,
    onStep: (step) => {
      if (step.kind === 'moved') say(`  ${step.move} (block ${step.block})`)
      if (step.kind === 'timedOut')
        say(`  the miner let its deadline pass: timed out (block ${step.block})`)
    },
  })
  const won = end.minerLost
  if (flags.json)
    console.log(
      JSON.stringify({
        opened: true,
        id: id.toString(),
        game,
        claim: claim.why,
        minerLost: end.minerLost,
        reason: reasonText(end.reason),
        slashed: end.slashed.toString(),
      }),
    )
  else
    say(
      `dispute ${id} decided: the ${end.minerLost ? 'miner' : 'challenger'} lost (${reasonText(end.reason)}); slashed ${formatEther(end.slashed)} VTY`,
    )
  return won ? 0 : 1
}

async function status(idText: string, flags: Flags): Promise<number> {
  if (!/^\d+$/.test(idText))
    throw new UsageError(`the dispute id must be a number, got '${idText}'`)
  const id = BigInt(idText)
  const session: ChainSession = await openChain(flags)
  const client = session.publicClient
  const game = await gameOf(client, flags, session.deployment.contracts.verity)
  const d = await getDispute(client, { address: game, id })
  if (d.phase === DisputePhase.NONE) throw new ChainError(`no dispute ${id} on game ${game}`)
  const [log, head] = await Promise.all([
    getDisputeLog(client, { address: game, id }),
    getBlockNumber(client, { cacheTime: 0 }),
  ])
  const done = d.phase === DisputePhase.DONE
  const toMove = done ? null : minerToMove(d) ? 'miner' : 'challenger'
  const out = {
    id: id.toString(),
    game,
    netuid: d.netuid,
    miner: d.miner,
    challenger: d.challenger,
    receiptDigest: d.receipt,
    phase: nameOf(DisputePhase, d.phase).toLowerCase(),
    toMove,
    deadline: done ? null : Number(d.deadline),
    blocksLeft: done ? null : Number(d.deadline) - Number(head),
    decided: log.decided
      ? { minerLost: log.decided.minerLost, reason: reasonText(log.decided.reason) }
      : null,
    slashed: (log.slashed?.slashed ?? 0n).toString(),
    bond: d.bond.toString(),
  }
  if (flags.json) {
    console.log(JSON.stringify(out))
    return 0
  }
  console.log(`dispute ${id} on game ${game}, subnet ${d.netuid}`)
  console.log(`  miner ${d.miner}, challenger ${d.challenger}, bond ${formatEther(d.bond)} VTY`)
  console.log(`  phase ${out.phase}`)
  if (!done)
    console.log(
      `  ${toMove} to move by block ${out.deadline} (${out.blocksLeft! >= 0 ? `${out.blocksLeft} blocks left` : `passed ${-out.blocksLeft!} blocks ago: anyone may time it out`})`,
    )
  if (log.decided)
    console.log(
      `  decided: the ${log.decided.minerLost ? 'miner' : 'challenger'} lost (${out.decided!.reason}); slashed ${formatEther(BigInt(out.slashed))} VTY`,
    )
  return 0
}

async function list(flags: Flags): Promise<number> {
  const hotkey = addressFlag(flags, 'hotkey')
  const session = await openChain(flags)
  const client = session.publicClient
  const game = await gameOf(client, flags, session.deployment.contracts.verity)
  const disputes = await listDisputes(client, {
    address: game,
    ...(hotkey ? { miner: hotkey } : {}),
  })
  const rows = disputes.map((d) => ({
    id: d.id.toString(),
    netuid: d.netuid,
    miner: d.miner,
    challenger: d.challenger,
    openedBlock: Number(d.openedBlock),
    status: d.decided ? (d.decided.minerLost ? 'miner lost' : 'challenger lost') : 'open',
    reason: d.decided ? reasonText(d.decided.reason) : null,
    slashed: d.slashed.toString(),
  }))
  if (flags.json) console.log(JSON.stringify(rows))
  else if (rows.length === 0)
    console.log(`no disputes on game ${game}${hotkey ? ` for ${hotkey}` : ''}`)
  else
    for (const r of rows)
      console.log(
        `${r.id}\tsubnet ${r.netuid}\tminer ${r.miner}\tchallenger ${r.challenger}\t${r.status}${r.reason ? ` (${r.reason})` : ''}\tslashed ${formatEther(BigInt(r.slashed))} VTY`,
      )
  return 0
}

export const command: Command = {
  summary: 'challenge a saved answer on chain; dispute status and list',
  run: async (argv) => {
    // simulate has its own options (src/cli/commands/dispute-simulate.ts)
    if (argv[0] === 'simulate') return await simulateDisputeCommand(argv.slice(1))
    const { flags, positionals } = parseArgs(argv, spec)
    if (flags.help) {
      console.log(HELP)
      return 0
    }
    const [sub, arg, ...extra] = positionals
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`)
    if (sub === 'open') {
      if (!arg) throw new UsageError('give the saved response file: verity dispute open <response>')
      return await open(arg, flags)
    }
    if (sub === 'status') {
      if (!arg) throw new UsageError('give the dispute id: verity dispute status <id>')
      return await status(arg, flags)
    }
    if (sub === 'list') {
      if (arg) throw new UsageError(`unexpected argument '${arg}'`)
      return await list(flags)
    }
    throw new UsageError(`unknown dispute command '${sub ?? ''}' (open, status, list or simulate)`)
  },
}
