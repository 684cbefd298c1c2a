import { readdirSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { type Address, formatEther, getAddress } from 'viem'
import { readContract } from 'viem/actions'
import { verityAbi } from '../../chain/abis.ts'
import { addStake } from '../../chain/actions/addStake.ts'
import { approveToken } from '../../chain/actions/approveToken.ts'
import { getColdkeyStake } from '../../chain/actions/getColdkeyStake.ts'
import { getPendingWithdrawal } from '../../chain/actions/getPendingWithdrawal.ts'
import { getStake } from '../../chain/actions/getStake.ts'
import { getUid } from '../../chain/actions/getUid.ts'
import { removeStake } from '../../chain/actions/removeStake.ts'
import { withdrawStake } from '../../chain/actions/withdrawStake.ts'
import { ChainError } from '../../errors/chain.ts'
import { readKeyfile } from '../../node/wallet.ts'
import type { parseArgs } from '../args.ts'
import { KEY_FLAGS, loadAccount, openChain, signerFor, vtyBalance } from '../chain-session.ts'
import { CHAIN_FLAGS, CHAIN_FLAGS_HELP } from '../chain-target.ts'
import type { Command } from '../main.ts'
import { subcommandGroup } from '../subcommand.ts'
import { addressOrKeyfile, amountFlag, netuidFlag, parseAddress, stringFlag } from '../values.ts'

const HELP = `usage: verity stake add --netuid <id> --hotkey <address|keyfile> --amount <VTY> --key <coldkey>
       verity stake remove --netuid <id> --hotkey <address|keyfile> --amount <VTY> --key <coldkey>
       verity stake withdraw --key <coldkey> [--to <address>]
       verity stake list (--key <coldkey> | --address <address>)
       (each also takes --rpc, --deployment, --passphrase-file, --json)

A coldkey stakes VTY on a hotkey registered on a subnet: its own hotkey, or anyone's (delegation:
the stake backs that hotkey's validator weight and earns its dividends minus the hotkey's take).
add: approves the core to take the amount and stakes it (it counts from the next epoch on).
remove: unstakes; the VTY stays locked for the protocol's unstake delay (a dispute may still
slash it), then 'withdraw' sends every unlocked withdrawal to the coldkey (or --to).
list: the coldkey's stake on every hotkey of every subnet (own: a hotkey keyfile in the same
wallet as the coldkey keyfile; delegated: anyone else's), the stake others delegated to the
wallet's own registered hotkeys, and the coldkey's pending withdrawals.
Amounts are decimal VTY, like 10 or 0.5.

${CHAIN_FLAGS_HELP}
Keyfiles are decrypted with --passphrase-file or VERITY_PASSPHRASE.`

const spec = {
  ...CHAIN_FLAGS,
  ...KEY_FLAGS,
  netuid: { type: 'string' },
  hotkey: { type: 'string' },
  amount: { type: 'string' },
  to: { type: 'string' },
  address: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

type Flags = ReturnType<typeof parseArgs>['flags']

function hotkeyFlag(flags: Flags): Address {
  const raw = stringFlag(
    flags,
    'hotkey',
    '--hotkey <address|keyfile> is required: the hotkey staked on',
  )
  return addressOrKeyfile(raw, '--hotkey')
}

async function add(flags: Flags): Promise<number> {
  const netuid = netuidFlag(flags)
  const hotkey = hotkeyFlag(flags)
  const amount = amountFlag(flags, 'amount')
  const session = await openChain(flags)
  const core = session.deployment.contracts.verity
  // an unknown subnet or hotkey is a clear error before anything is sent
  await getUid(session.publicClient, { address: core, netuid, hotkey })
  const account = loadAccount(flags, session.chainId)
  const balance = await vtyBalance(session, account.address)
  if (balance < amount)
    throw new ChainError(
      `insufficient VTY balance: ${account.address} holds ${formatEther(balance)} VTY, staking needs ${formatEther(amount)} VTY`,
    )
  const wallet = signerFor(session, account)
  await approveToken(wallet, { token: session.deployment.contracts.token, spender: core, amount })
  const { hash } = await addStake(wallet, { address: core, netuid, hotkey, amount })
  if (flags.json)
    console.log(JSON.stringify({ netuid, hotkey, amount: formatEther(amount), tx: hash }))
  else console.log(`staked ${formatEther(amount)} VTY on ${hotkey} (subnet ${netuid}), tx ${hash}`)
  return 0
}

async function remove(flags: Flags): Promise<number> {
  const netuid = netuidFlag(flags)
  const hotkey = hotkeyFlag(flags)
  const amount = amountFlag(flags, 'amount')
  const session = await openChain(flags)
  const core = session.deployment.contracts.verity
  const account = loadAccount(flags, session.chainId)
  const staked = await getColdkeyStake(session.publicClient, {
    address: core,
    netuid,
    hotkey,
    coldkey: account.address,
  })
  if (staked < amount)
    throw new ChainError(
      `insufficient stake: ${account.address} has ${formatEther(staked)} VTY on ${hotkey} (subnet ${netuid}), not ${formatEther(amount)}`,
    )
  const { hash } = await removeStake(signerFor(session, account), {
    address: core,
    netuid,
    hotkey,
    amount,
  })
  const delay = await readContract(session.publicClient, {
    address: core,
    abi: verityAbi,
    functionName: 'protocolParams',
  })
  if (flags.json)
    console.log(JSON.stringify({ netuid, hotkey, amount: formatEther(amount), tx: hash }))
  else
    console.log(
      `unstaked ${formatEther(amount)} VTY from ${hotkey} (subnet ${netuid}), tx ${hash}; it unlocks after about ${delay.unstakeDelay} blocks (verity stake withdraw)`,
    )
  return 0
}

async function withdraw(flags: Flags): Promise<number> {
  const session = await openChain(flags)
  const core = session.deployment.contracts.verity
  const account = loadAccount(flags, session.chainId)
  const to = typeof flags.to === 'string' ? parseAddress(flags.to, '--to') : account.address
  const [, unlocked, nextUnlock] = await getPendingWithdrawal(session.publicClient, {
    address: core,
    coldkey: account.address,
  })
  if (unlocked === 0n)
    throw new ChainError(
      nextUnlock > 0n
        ? `nothing to withdraw yet: the next withdrawal unlocks at block ${nextUnlock}`
        : 'nothing to withdraw: no pending withdrawals (verity stake remove starts one)',
    )
  const { hash } = await withdrawStake(signerFor(session, account), { address: core, to })
  if (flags.json) console.log(JSON.stringify({ amount: formatEther(unlocked), to, tx: hash }))
  else console.log(`withdrew ${formatEther(unlocked)} VTY to ${to}, tx ${hash}`)
  return 0
}

/** The hotkey addresses in the same wallet as a coldkey keyfile (<wallet>/hotkeys/*.json). */
function walletHotkeys(coldkeyPath: string): Set<Address> {
  const dir = join(dirname(coldkeyPath), 'hotkeys')
  const out = new Set<Address>()
  if (basename(coldkeyPath) !== 'coldkey.json') return out
  try {
    for (const f of readdirSync(dir))
      if (f.endsWith('.json')) out.add(getAddress(readKeyfile(join(dir, f)).address))
  } catch {
    // no hotkeys directory
  }
  return out
}

async function list(flags: Flags): Promise<number> {
  let coldkey: Address
  let own = new Set<Address>()
  if (typeof flags.address === 'string') coldkey = parseAddress(flags.address, '--address')
  else {
    const path = stringFlag(
      flags,
      'key',
      '--key <coldkey> or --address <address> is required: whose stake',
    )
    coldkey = getAddress(readKeyfile(path).address)
    own = walletHotkeys(path)
  }
  const session = await openChain(flags)
  const core = session.deployment.contracts.verity
  const client = session.publicClient
  const count = await readContract(client, {
    address: core,
    abi: verityAbi,
    functionName: 'subnetCount',
  })
  const rows: { netuid: number; uid: number; hotkey: Address; stake: bigint; own: boolean }[] = []
  // the wallet's own hotkeys: all stake on them, and what others delegated
  const hotkeys: { netuid: number; uid: number; hotkey: Address; total: bigint; others: bigint }[] =
    []
  for (let netuid = 1; netuid <= count; netuid++) {
    const neurons = await readContract(client, {
      address: core,
      abi: verityAbi,
      functionName: 'metagraph',
      args: [netuid],
    }).catch(() => [])
    const values = await Promise.all(
      neurons.map((n) =>
        getColdkeyStake(client, { address: core, netuid, hotkey: n.hotkey, coldkey }),
      ),
    )
    for (const [uid, n] of neurons.entries()) {
      const stake = values[uid]!
      const mine = own.has(getAddress(n.hotkey))
      if (stake > 0n) rows.push({ netuid, uid, hotkey: n.hotkey, stake, own: mine })
      if (mine) {
        const total = await getStake(client, { address: core, netuid, hotkey: n.hotkey })
        hotkeys.push({
          netuid,
          uid,
          hotkey: n.hotkey,
          total,
          others: total > stake ? total - stake : 0n,
        })
      }
    }
  }
  const [locked, unlocked, nextUnlock] = await getPendingWithdrawal(client, {
    address: core,
    coldkey,
  })
  if (flags.json) {
    console.log(
      JSON.stringify({
        coldkey,
        stakes: rows.map((r) => ({ ...r, stake: formatEther(r.stake) })),
        hotkeys: hotkeys.map((h) => ({
          ...h,
          total: formatEther(h.total),
          others: formatEther(h.others),
        })),
        withdrawals: {
          locked: formatEther(locked),
          unlocked: formatEther(unlocked),
          nextUnlock: nextUnlock > 0n ? Number(nextUnlock) : null,
        },
      }),
    )
    return 0
  }
  console.log(`coldkey ${coldkey}`)
  if (rows.length === 0) console.log('  no stake')
  for (const r of rows)
    console.log(
      `  subnet ${r.netuid}  uid ${r.uid}  ${r.hotkey}  ${formatEther(r.stake)} VTY  ${r.own ? 'own' : 'delegated'}`,
    )
  for (const h of hotkeys)
    console.log(
      `  your hotkey ${h.hotkey} (subnet ${h.netuid}, uid ${h.uid}): ${formatEther(h.total)} VTY staked in all, ${formatEther(h.others)} VTY delegated by others`,
    )
  console.log(
    `  withdrawals: ${formatEther(locked)} VTY locked${nextUnlock > 0n ? ` (next unlock at block ${nextUnlock})` : ''}, ${formatEther(unlocked)} VTY ready to withdraw`,
  )
  return 0
}

export const command: Command = subcommandGroup({
  name: 'stake',
  summary: 'stake VTY on a hotkey, unstake, withdraw, list',
  help: HELP,
  spec,
  table: { add, remove, withdraw, list },
})
