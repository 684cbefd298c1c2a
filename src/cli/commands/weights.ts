import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { type Address, bytesToHex, type Hex } from 'viem'
import { commitWeights } from '../../chain/actions/commitWeights.ts'
import { computeCommitHash } from '../../chain/actions/computeCommitHash.ts'
import { getHyperparams } from '../../chain/actions/getHyperparams.ts'
import { getSubnet } from '../../chain/actions/getSubnet.ts'
import { getUid } from '../../chain/actions/getUid.ts'
import { getWeights } from '../../chain/actions/getWeights.ts'
import { revealWeights } from '../../chain/actions/revealWeights.ts'
import { maxUpscaleToU16 } from '../../consensus/weights.ts'
import { ChainError } from '../../errors/chain.ts'
import { UsageError } from '../../errors/cli.ts'
import type { parseArgs } from '../args.ts'
import {
  type ChainSession,
  KEY_FLAGS,
  loadAccount,
  openChain,
  signerFor,
} from '../chain-session.ts'
import { CHAIN_FLAGS, CHAIN_FLAGS_HELP } from '../chain-target.ts'
import type { Command } from '../main.ts'
import { subcommandGroup } from '../subcommand.ts'
import { addressOrKeyfile, netuidFlag, stringFlag } from '../values.ts'

const HELP = `usage: verity weights show --netuid <id> (--hotkey <address|keyfile> | --uid <n>)
       verity weights commit --netuid <id> --key <hotkey> --weights <uid:w,uid:w,...> --salts <file>
       verity weights reveal --netuid <id> --key <hotkey> --salts <file>
       (each also takes --rpc, --deployment, --passphrase-file, --json)

For validators who set weights by hand. show: the weight row a uid has on chain.
commit: commits a hash of the weights (uid:weight pairs, any non-negative numbers, scaled so the
largest is 65535) with a random salt, and saves the weights and salt in the salts file (mode 600,
kept until revealed: without it the commit cannot be revealed). reveal: reveals the saved commits
of this hotkey once the subnet has reached their reveal epoch (revealPeriodEpochs after the commit
epoch) and removes them from the file; before or after that epoch it says when the window is.
The subnet must use commit-reveal (commitReveal in its hyperparameters).

${CHAIN_FLAGS_HELP}
Keyfiles are decrypted with --passphrase-file or VERITY_PASSPHRASE.`

const spec = {
  ...CHAIN_FLAGS,
  ...KEY_FLAGS,
  netuid: { type: 'string' },
  hotkey: { type: 'string' },
  uid: { type: 'string' },
  weights: { type: 'string' },
  salts: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

type Flags = ReturnType<typeof parseArgs>['flags']

/** One commit kept for its reveal. */
type SavedCommit = {
  netuid: number
  hotkey: Address
  uids: number[]
  values: number[]
  salt: Hex
  versionKey: string
  epoch: number
  hash: Hex
}

function readSalts(path: string): SavedCommit[] {
  if (!existsSync(path)) return []
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8'))
    if (!Array.isArray(parsed)) throw new Error('not a list')
    return parsed as SavedCommit[]
  } catch (error) {
    throw new UsageError(`salts file ${path} is not a list of saved commits`, { cause: error })
  }
}

function writeSalts(path: string, commits: SavedCommit[]): void {
  writeFileSync(path, `${JSON.stringify(commits, null, 2)}\n`, { mode: 0o600 })
  chmodSync(path, 0o600)
}

/** Parses 'uid:weight,uid:weight' into uids and u16 values. */
export function parseWeights(raw: string): { uids: number[]; values: number[] } {
  const uids: number[] = []
  const weights: number[] = []
  for (const part of raw.split(',').map((p) => p.trim())) {
    const m = /^(\d+):(\d+(\.\d+)?)$/.exec(part)
    if (!m) throw new UsageError(`--weights must be uid:weight pairs like 0:1,3:2.5, got '${part}'`)
    const uid = Number(m[1])
    if (uid > 65535) throw new UsageError(`--weights: uid ${uid} is out of range`)
    if (uids.includes(uid)) throw new UsageError(`--weights names uid ${uid} twice`)
    uids.push(uid)
    weights.push(Number(m[2]))
  }
  if (!weights.some((w) => w > 0))
    throw new UsageError('--weights must give some uid a weight above 0')
  return { uids, values: maxUpscaleToU16(weights) }
}

async function show(flags: Flags): Promise<number> {
  const netuid = netuidFlag(flags)
  const session = await openChain(flags)
  const core = session.deployment.contracts.verity
  let uid: number
  if (typeof flags.uid === 'string') {
    if (!/^\d+$/.test(flags.uid)) throw new UsageError(`--uid must be a number, got '${flags.uid}'`)
    uid = Number(flags.uid)
  } else {
    const raw = stringFlag(
      flags,
      'hotkey',
      '--hotkey <address|keyfile> or --uid <n> is required: whose weights',
    )
    uid = await getUid(session.publicClient, {
      address: core,
      netuid,
      hotkey: addressOrKeyfile(raw, '--hotkey'),
    })
  }
  const [uids, values] = await getWeights(session.publicClient, { address: core, netuid, uid })
  if (flags.json) {
    console.log(
      JSON.stringify({ netuid, uid, weights: uids.map((u, i) => ({ uid: u, weight: values[i] })) }),
    )
    return 0
  }
  if (uids.length === 0) console.log(`uid ${uid} on subnet ${netuid} has no weights`)
  else {
    console.log(`uid ${uid} on subnet ${netuid} weights:`)
    for (const [i, u] of uids.entries())
      console.log(`  uid ${u}: ${values[i]} (${((values[i]! / 65535) * 100).toFixed(1)}% of max)`)
  }
  return 0
}

async function epochOf(session: ChainSession, netuid: number): Promise<number> {
  const info = await getSubnet(session.publicClient, {
    address: session.deployment.contracts.verity,
    netuid,
  })
  return Number(info[4])
}

async function commit(flags: Flags): Promise<number> {
  const netuid = netuidFlag(flags)
  const salts = stringFlag(
    flags,
    'salts',
    '--salts <file> is required: where the salt is kept for the reveal',
  )
  const { uids, values } = parseWeights(
    stringFlag(flags, 'weights', '--weights <uid:w,...> is required'),
  )
  const saved = readSalts(salts)
  const session = await openChain(flags)
  const core = session.deployment.contracts.verity
  const account = loadAccount(flags, session.chainId)
  await getUid(session.publicClient, { address: core, netuid, hotkey: account.address })
  const params = await getHyperparams(session.publicClient, { address: core, netuid })
  if (!params.commitReveal)
    throw new ChainError(
      `subnet ${netuid} does not use commit-reveal: its weights are set directly`,
    )
  const salt = bytesToHex(randomBytes(32))
  const versionKey = params.weightsVersionKey
  const hash = computeCommitHash({
    hotkey: account.address,
    netuid,
    uids,
    values,
    salt,
    versionKey,
  })
  const epoch = await epochOf(session, netuid)
  // saved before sending: a commit whose salt is lost can never be revealed
  const entry: SavedCommit = {
    netuid,
    hotkey: account.address,
    uids,
    values,
    salt,
    versionKey: versionKey.toString(),
    epoch,
    hash,
  }
  writeSalts(salts, [...saved, entry])
  try {
    await commitWeights(signerFor(session, account), { address: core, netuid, hash })
  } catch (error) {
    writeSalts(salts, saved)
    throw error
  }
  const revealEpoch = epoch + params.revealPeriodEpochs
  if (flags.json) console.log(JSON.stringify({ ...entry, salt: undefined, revealEpoch }))
  else
    console.log(
      `committed weights for ${uids.length} uids on subnet ${netuid} in epoch ${epoch}; reveal in epoch ${revealEpoch} (verity weights reveal --salts ${salts})`,
    )
  return 0
}

async function reveal(flags: Flags): Promise<number> {
  const netuid = netuidFlag(flags)
  const salts = stringFlag(
    flags,
    'salts',
    '--salts <file> is required: the file weights commit wrote',
  )
  const saved = readSalts(salts)
  const session = await openChain(flags)
  const core = session.deployment.contracts.verity
  const account = loadAccount(flags, session.chainId)
  const mine = saved.filter(
    (c) => c.netuid === netuid && c.hotkey.toLowerCase() === account.address.toLowerCase(),
  )
  if (mine.length === 0)
    throw new UsageError(
      `salts file ${salts} holds no commit of ${account.address} on subnet ${netuid}`,
    )
  const params = await getHyperparams(session.publicClient, { address: core, netuid })
  const epoch = await epochOf(session, netuid)
  const due = mine.filter((c) => c.epoch + params.revealPeriodEpochs === epoch)
  if (due.length === 0) {
    const next = mine.map((c) => c.epoch + params.revealPeriodEpochs).filter((e) => e > epoch)
    throw new ChainError(
      next.length > 0
        ? `the reveal window is not open yet: subnet ${netuid} is in epoch ${epoch}, the commit reveals in epoch ${Math.min(...next)}`
        : `the reveal window has closed: subnet ${netuid} is in epoch ${epoch}, past every saved commit's reveal epoch`,
    )
  }
  const wallet = signerFor(session, account)
  const revealed: SavedCommit[] = []
  for (const c of due) {
    await revealWeights(wallet, {
      address: core,
      netuid,
      uids: c.uids,
      values: c.values,
      salt: c.salt,
      versionKey: BigInt(c.versionKey),
    })
    revealed.push(c)
  }
  writeSalts(
    salts,
    saved.filter((c) => !revealed.includes(c)),
  )
  if (flags.json)
    console.log(JSON.stringify({ netuid, epoch, revealed: revealed.map((c) => c.hash) }))
  else console.log(`revealed ${revealed.length} commit(s) on subnet ${netuid} in epoch ${epoch}`)
  return 0
}

export const command: Command = subcommandGroup({
  name: 'weights',
  summary: "a validator's weights by hand: show, commit, reveal",
  help: HELP,
  spec,
  table: { show, commit, reveal },
})
