import { getAddress, type Hex, zeroHash } from 'viem'
import { readContract } from 'viem/actions'
import { verityAbi } from '../../chain/abis.ts'
import { getCompetition } from '../../chain/actions/getCompetition.ts'
import { getModelCommits } from '../../chain/actions/getModelCommits.ts'
import { getStake } from '../../chain/actions/getStake.ts'
import { getWeights } from '../../chain/actions/getWeights.ts'
import { ChainError } from '../../errors/chain.ts'
import { UsageError } from '../../errors/cli.ts'
import type { parseArgs } from '../args.ts'
import { KEY_FLAGS, loadAccount, openChain } from '../chain-session.ts'
import { CHAIN_FLAGS, CHAIN_FLAGS_HELP } from '../chain-target.ts'
import type { Command } from '../main.ts'
import { subcommandGroup } from '../subcommand.ts'
import { setSubnetModelAsOwner } from '../subnet-model.ts'
import { netuidFlag } from '../values.ts'

const HELP = `usage: verity competition winner --netuid <competition> [--json]
       verity competition winner --netuid <competition> --promote --to <inference netuid>
                                 --key <coldkey> [--name <model name>]
       (each also takes --rpc, --deployment, --passphrase-file)

winner: the model the validators' latest weights put first on a model competition subnet: each
uid's weight row (normalised) counts by its hotkey's stake (equally when no setter has stake);
the uid with the largest total wins (the earlier commitment on a tie). Prints its uid, hotkey,
modelRoot, file sha256 and share of the weight.
--promote: the owner of the inference subnet --to makes it serve the winner (verity subnet
set-model), registering the modelRoot with the committed file hash under --name (default
competition-<netuid>-uid-<uid>) if the registry lacks it.

${CHAIN_FLAGS_HELP}`

const spec = {
  ...CHAIN_FLAGS,
  ...KEY_FLAGS,
  netuid: { type: 'string' },
  promote: { type: 'boolean' },
  to: { type: 'string' },
  name: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

type Flags = ReturnType<typeof parseArgs>['flags']

async function winner(flags: Flags): Promise<number> {
  const netuid = netuidFlag(flags)
  if (!flags.promote && flags.to !== undefined) throw new UsageError('--to needs --promote')
  if (flags.promote && typeof flags.to !== 'string')
    throw new UsageError('--promote needs --to <inference netuid>')
  const to = flags.promote ? netuidFlag({ netuid: flags.to }) : undefined
  const session = await openChain(flags)
  const client = session.publicClient
  const core = session.deployment.contracts.verity
  const competition = session.deployment.contracts.competition
  if (!competition)
    throw new ChainError(
      'this deployment has no model competition contract (contracts.competition in the manifest)',
    )
  const rules = await getCompetition(client, { address: competition, netuid })
  if (rules.declaredAt === 0n)
    throw new ChainError(
      `subnet ${netuid} is not a model competition (its owner never declared one)`,
    )
  const neurons = await readContract(client, {
    address: core,
    abi: verityAbi,
    functionName: 'metagraph',
    args: [netuid],
  })
  const hotkeys = neurons.map((n) => n.hotkey)
  const [commits, rows, stakes] = await Promise.all([
    getModelCommits(client, { address: competition, netuid, hotkeys }),
    Promise.all(hotkeys.map((_, uid) => getWeights(client, { address: core, netuid, uid }))),
    Promise.all(hotkeys.map((hotkey) => getStake(client, { address: core, netuid, hotkey }))),
  ])
  const setters = rows
    .map(([uids, values], uid) => ({ uid, uids, values, sum: values.reduce((a, b) => a + b, 0) }))
    .filter((r) => r.sum > 0)
  if (setters.length === 0)
    throw new ChainError(`no validator has set weights on subnet ${netuid} yet`)
  const totalStake = setters.reduce((a, r) => a + stakes[r.uid]!, 0n)
  // Stake in wei is far beyond 2^53: count it in 1e-6 VTY units, exact enough for a ranking.
  const voice = (uid: number) => (totalStake === 0n ? 1 : Number(stakes[uid]! / 10n ** 12n))
  const score = new Array<number>(hotkeys.length).fill(0)
  for (const r of setters)
    r.uids.forEach((j, k) => {
      if (j < score.length) score[j]! += (voice(r.uid) * r.values[k]!) / r.sum
    })
  const total = score.reduce((a, b) => a + b, 0)
  let best = -1
  for (let uid = 0; uid < score.length; uid++) {
    if (commits[uid]!.modelRoot === zeroHash || score[uid]! <= 0) continue
    const b = best < 0 ? undefined : best
    if (
      b === undefined ||
      score[uid]! > score[b]! ||
      (score[uid] === score[b] && commits[uid]!.seq < commits[b]!.seq)
    )
      best = uid
  }
  if (best < 0)
    throw new ChainError(`the weights on subnet ${netuid} give nothing to a committed model`)
  const commit = commits[best]!
  const result = {
    netuid,
    uid: best,
    hotkey: getAddress(hotkeys[best]!),
    modelRoot: commit.modelRoot,
    fileHash: commit.fileHash,
    share: Number((score[best]! / total).toFixed(6)),
  }
  let promoted: Awaited<ReturnType<typeof setSubnetModelAsOwner>> | undefined
  if (to !== undefined) {
    const account = loadAccount(flags, session.chainId)
    const name = typeof flags.name === 'string' ? flags.name : `competition-${netuid}-uid-${best}`
    promoted = await setSubnetModelAsOwner(session, account, {
      netuid: to,
      modelRoot: commit.modelRoot as Hex,
      // The registry's file hash is what the competition committed to: the file root
      // (src/competition/file-root.ts), not the sha256 that `subnet register-model` records.
      register: { name, ggufHash: commit.fileHash as Hex },
      unregisteredHint: '',
    })
  }
  if (flags.json) console.log(JSON.stringify({ ...result, ...(promoted ? { promoted } : {}) }))
  else {
    console.log(
      `subnet ${netuid}: uid ${best} (${result.hotkey}) leads with ${(result.share * 100).toFixed(1)}% of the weight, model ${commit.modelRoot}`,
    )
    if (promoted)
      console.log(
        `subnet ${to} ${promoted.status === 'active' ? 'serves it now' : `serves it from epoch ${promoted.epoch}`}${promoted.registered ? ' (registered now)' : ''}`,
      )
  }
  return 0
}

export const command: Command = subcommandGroup({
  name: 'competition',
  summary: "a model competition's winner, and promoting it to an inference subnet",
  help: HELP,
  spec,
  table: { winner },
})
