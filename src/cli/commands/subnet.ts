import { bytesToHex, formatEther, getAddress } from 'viem'
import { readContract } from 'viem/actions'
import { verityAbi } from '../../chain/abis.ts'
import { approveToken } from '../../chain/actions/approveToken.ts'
import { createSubnet } from '../../chain/actions/createSubnet.ts'
import { getBurnPrice } from '../../chain/actions/getBurnPrice.ts'
import { getHyperparams } from '../../chain/actions/getHyperparams.ts'
import { getModel } from '../../chain/actions/getModel.ts'
import { getStake } from '../../chain/actions/getStake.ts'
import { getSubnet } from '../../chain/actions/getSubnet.ts'
import { registerModel } from '../../chain/actions/registerModel.ts'
import { registerNeuron } from '../../chain/actions/registerNeuron.ts'
import { setSubnetModel } from '../../chain/actions/setSubnetModel.ts'
import { transferToken } from '../../chain/actions/transferToken.ts'
import { DEFAULT_HYPERPARAMS, type Hyperparams } from '../../chain/types.ts'
import { ChainError } from '../../errors/chain.ts'
import { UsageError } from '../../errors/cli.ts'
import { readNeurons } from '../../node/chain.ts'
import { toHex } from '../../runtime/trace/merkle.ts'
import type { parseArgs } from '../args.ts'
import {
  type ChainSession,
  KEY_FLAGS,
  loadAccount,
  openChain,
  signerFor,
  vtyBalance,
} from '../chain-session.ts'
import { CHAIN_FLAGS, CHAIN_FLAGS_HELP } from '../chain-target.ts'
import { readHyperparams } from '../hyperparams-file.ts'
import type { Command } from '../main.ts'
import { loadModelFile, openModelFile } from '../model-file.ts'
import { subcommandGroup } from '../subcommand.ts'
import { setSubnetModelAsOwner } from '../subnet-model.ts'
import { printTable } from '../table.ts'
import { netuidFlag, parseAmount } from '../values.ts'

const HELP = `usage: verity subnet create --key <coldkey> [--model <file.gguf|default>]
                            [--hyperparams <file.yaml> | --devnet-hyperparams]
       verity subnet list
       verity subnet show --netuid <id>
       verity subnet register --netuid <id> --hotkey <hotkey keyfile> --key <coldkey> [--max-burn <VTY>]
       verity subnet metagraph --netuid <id>
       verity subnet set-model --netuid <id> --model <file.gguf|modelRoot> --key <coldkey> [--register]
       (each also takes --rpc, --deployment, --passphrase-file, --json)

create: registers the model in the core's registry if it is not there yet (its modelRoot, name and
the GGUF file's sha256), locks the subnet creation cost from the coldkey (which owns the subnet),
creates the subnet and names its model. Hyperparameters: subtensor's defaults, overridden by a
YAML file of hyperparameter names (burn, minBurn, maxBurn and stakeThreshold in VTY), or with
--devnet-hyperparams those 'verity devnet' uses (tempo 1, commit-reveal, free registration).
A subnet earns emission once governance gives it a share.
list: every subnet with its owner, size and model. show: a subnet and its hyperparameters.
register: registers the hotkey on the subnet by burning the registration price; the coldkey sends
the hotkey the price first (the hotkey signs the registration, so it needs ETH for gas).
metagraph: every uid with its hotkey, stake, trust, incentive, emission and validator permit.
set-model: the subnet owner names the model its miners serve (e.g. a competition's winner). A GGUF
file is registered first with --register when the registry lacks it; a modelRoot must be
registered already. A subnet without a model takes it at once, otherwise at the next epoch.

${CHAIN_FLAGS_HELP}
Keyfiles are decrypted with --passphrase-file or VERITY_PASSPHRASE.`

const spec = {
  ...CHAIN_FLAGS,
  ...KEY_FLAGS,
  netuid: { type: 'string' },
  hotkey: { type: 'string' },
  model: { type: 'string' },
  hyperparams: { type: 'string' },
  'devnet-hyperparams': { type: 'boolean' },
  'max-burn': { type: 'string' },
  register: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

type Flags = ReturnType<typeof parseArgs>['flags']

const u16 = (value: number) => (value / 65535).toFixed(4)

async function hyperparamsOf(flags: Flags): Promise<Hyperparams> {
  if (flags.hyperparams && flags['devnet-hyperparams'])
    throw new UsageError('--hyperparams and --devnet-hyperparams exclude each other')
  if (typeof flags.hyperparams === 'string') return readHyperparams(flags.hyperparams)
  // loaded only when asked for: the node module brings the networking stack along
  if (flags['devnet-hyperparams']) return (await import('../../node/network.ts')).DEVNET_HYPERPARAMS
  return DEFAULT_HYPERPARAMS
}

async function create(flags: Flags): Promise<number> {
  const params = await hyperparamsOf(flags)
  const modelArg = typeof flags.model === 'string' ? flags.model : undefined
  const model = loadModelFile(modelArg, { kernel: 'typescript', threads: 1 })
  const file = openModelFile(modelArg)
  const ggufHash = bytesToHex(file.sha256())
  file.close()
  const session = await openChain(flags)
  const core = session.deployment.contracts.verity
  const account = loadAccount(flags, session.chainId)
  const wallet = signerFor(session, account)
  const modelRoot = toHex(model.modelRoot) as `0x${string}`
  const known = await getModel(session.publicClient, { address: core, modelRoot }).then(
    () => true,
    () => false,
  )
  if (!known)
    await registerModel(wallet, { address: core, modelRoot, name: model.config.name, ggufHash })
  const lock = await readContract(session.publicClient, {
    address: core,
    abi: verityAbi,
    functionName: 'lockCost',
  })
  const balance = await vtyBalance(session, account.address)
  if (balance < lock)
    throw new ChainError(
      `insufficient VTY balance: creating a subnet locks ${formatEther(lock)} VTY, ${account.address} holds ${formatEther(balance)} VTY`,
    )
  await approveToken(wallet, {
    token: session.deployment.contracts.token,
    spender: core,
    amount: lock,
  })
  const { netuid, hash } = await createSubnet(wallet, { address: core, params, maxLock: lock })
  await setSubnetModel(wallet, { address: core, netuid, modelRoot })
  if (flags.json)
    console.log(
      JSON.stringify({
        netuid,
        owner: account.address,
        modelRoot,
        locked: formatEther(lock),
        tx: hash,
      }),
    )
  else
    console.log(
      `created subnet ${netuid} (owner ${account.address}, model ${model.config.name} ${modelRoot}, locked ${formatEther(lock)} VTY)${known ? '' : '; model registered'}`,
    )
  return 0
}

const MODEL_ROOT = /^0x[0-9a-fA-F]{64}$/

async function setModel(flags: Flags): Promise<number> {
  const netuid = netuidFlag(flags)
  const modelArg = typeof flags.model === 'string' ? flags.model : undefined
  if (!modelArg) throw new UsageError('set-model needs --model <file.gguf|modelRoot>')
  const byRoot = MODEL_ROOT.test(modelArg)
  if (byRoot && flags.register)
    throw new UsageError('--register needs the GGUF file (--model <file.gguf>), not a modelRoot')
  // A file is hashed and loaded (its modelRoot) before any chain call: a bad file costs no gas.
  let file: { modelRoot: `0x${string}`; name: string; ggufHash: `0x${string}` } | undefined
  if (!byRoot) {
    const model = loadModelFile(modelArg, { kernel: 'typescript', threads: 1 })
    const opened = openModelFile(modelArg)
    const ggufHash = bytesToHex(opened.sha256())
    opened.close()
    file = { modelRoot: toHex(model.modelRoot) as `0x${string}`, name: model.config.name, ggufHash }
  }
  const modelRoot = (file?.modelRoot ?? modelArg.toLowerCase()) as `0x${string}`
  const session = await openChain(flags)
  const account = loadAccount(flags, session.chainId)
  const result = await setSubnetModelAsOwner(session, account, {
    netuid,
    modelRoot,
    ...(file && flags.register ? { register: { name: file.name, ggufHash: file.ggufHash } } : {}),
    unregisteredHint: file
      ? `add --register to register ${file.name}`
      : 'pass its GGUF file with --register',
  })
  if (flags.json) console.log(JSON.stringify(result))
  else
    console.log(
      `subnet ${netuid} ${result.status === 'active' ? 'serves' : `will serve from epoch ${result.epoch}`} model ${modelRoot}${result.registered ? ' (registered now)' : ''}`,
    )
  return 0
}

async function subnetSummary(session: ChainSession, netuid: number) {
  const [owner, n, modelRoot, lastEpochBlock, epoch, pendingEmission, burn] = await getSubnet(
    session.publicClient,
    { address: session.deployment.contracts.verity, netuid },
  )
  return {
    netuid,
    owner,
    neurons: n,
    modelRoot,
    lastEpochBlock: Number(lastEpochBlock),
    epoch: Number(epoch),
    pendingEmission: formatEther(pendingEmission),
    burn: formatEther(burn),
  }
}

async function list(flags: Flags): Promise<number> {
  const session = await openChain(flags)
  const count = await readContract(session.publicClient, {
    address: session.deployment.contracts.verity,
    abi: verityAbi,
    functionName: 'subnetCount',
  })
  const rows = []
  for (let netuid = 1; netuid <= count; netuid++) rows.push(await subnetSummary(session, netuid))
  if (flags.json) console.log(JSON.stringify(rows))
  else if (rows.length === 0) console.log('no subnets yet (verity subnet create)')
  else
    for (const r of rows)
      console.log(
        `subnet ${r.netuid}  owner ${r.owner}  ${r.neurons} neurons  epoch ${r.epoch}  model ${r.modelRoot}`,
      )
  return 0
}

async function show(flags: Flags): Promise<number> {
  const netuid = netuidFlag(flags)
  const session = await openChain(flags)
  const core = session.deployment.contracts.verity
  const summary = await subnetSummary(session, netuid)
  const [params, price] = await Promise.all([
    getHyperparams(session.publicClient, { address: core, netuid }),
    getBurnPrice(session.publicClient, { address: core, netuid }),
  ])
  const hyperparams = Object.fromEntries(
    Object.entries(params).map(([k, v]) => [k, typeof v === 'bigint' ? v.toString() : v]),
  )
  if (flags.json) {
    console.log(JSON.stringify({ ...summary, burnPrice: formatEther(price), hyperparams }))
    return 0
  }
  console.log(
    `subnet ${netuid}: owner ${summary.owner}, ${summary.neurons} neurons, epoch ${summary.epoch}`,
  )
  console.log(`  model ${summary.modelRoot}`)
  console.log(
    `  registration price ${formatEther(price)} VTY, pending emission ${summary.pendingEmission} VTY`,
  )
  console.log('  hyperparameters:')
  for (const [k, v] of Object.entries(hyperparams)) console.log(`    ${k}: ${v}`)
  return 0
}

async function register(flags: Flags): Promise<number> {
  const netuid = netuidFlag(flags)
  const session = await openChain(flags)
  const core = session.deployment.contracts.verity
  const hotkey = loadAccount(flags, session.chainId, 'hotkey')
  const coldkey = loadAccount(flags, session.chainId)
  const price = await getBurnPrice(session.publicClient, { address: core, netuid })
  const maxBurn =
    typeof flags['max-burn'] === 'string' ? parseAmount(flags['max-burn'], '--max-burn') : price
  if (price > maxBurn)
    throw new ChainError(
      `the registration price is ${formatEther(price)} VTY, above --max-burn ${formatEther(maxBurn)}`,
    )
  const gas = await session.publicClient.getBalance({ address: hotkey.address })
  if (gas === 0n)
    throw new ChainError(
      `the hotkey ${hotkey.address} has no ETH to pay for gas (verity wallet transfer --eth)`,
    )
  const hotWallet = signerFor(session, hotkey)
  if (price > 0n) {
    const balance = await vtyBalance(session, coldkey.address)
    if (balance < price)
      throw new ChainError(
        `insufficient VTY balance: registration burns ${formatEther(price)} VTY, ${coldkey.address} holds ${formatEther(balance)} VTY`,
      )
    await transferToken(signerFor(session, coldkey), {
      token: session.deployment.contracts.token,
      to: hotkey.address,
      amount: price,
    })
    await approveToken(hotWallet, {
      token: session.deployment.contracts.token,
      spender: core,
      amount: price,
    })
  }
  const { uid, hash } = await registerNeuron(hotWallet, { address: core, netuid, maxBurn })
  if (flags.json)
    console.log(
      JSON.stringify({ netuid, uid, hotkey: hotkey.address, burned: formatEther(price), tx: hash }),
    )
  else
    console.log(
      `registered ${hotkey.address} on subnet ${netuid} as uid ${uid} (burned ${formatEther(price)} VTY)`,
    )
  return 0
}

async function metagraph(flags: Flags): Promise<number> {
  const netuid = netuidFlag(flags)
  const session = await openChain(flags)
  const core = session.deployment.contracts.verity
  const client = session.publicClient
  const neurons = await readContract(client, {
    address: core,
    abi: verityAbi,
    functionName: 'metagraph',
    args: [netuid],
  })
  const [stakes, nodes] = await Promise.all([
    Promise.all(neurons.map((n) => getStake(client, { address: core, netuid, hotkey: n.hotkey }))),
    readNeurons({ address: core, netuid, publicClient: client }),
  ])
  const rows = neurons.map((n, uid) => ({
    uid,
    hotkey: getAddress(n.hotkey),
    stake: formatEther(stakes[uid]!),
    trust: u16(n.validatorTrust),
    consensus: u16(n.consensus),
    incentive: u16(n.incentive),
    dividends: u16(n.dividends),
    emission: formatEther(BigInt(n.emission)),
    validatorPermit: n.validatorPermit,
    active: n.active,
    registrationBlock: Number(n.registrationBlock),
    peerId: nodes[uid]?.peerId ?? null,
  }))
  if (flags.json) {
    console.log(JSON.stringify({ netuid, neurons: rows }))
    return 0
  }
  if (rows.length === 0) {
    console.log(`subnet ${netuid} has no neurons yet (verity subnet register)`)
    return 0
  }
  const header = [
    'UID',
    'HOTKEY',
    'STAKE',
    'VTRUST',
    'CONSENSUS',
    'INCENTIVE',
    'DIVIDENDS',
    'EMISSION',
    'VPERMIT',
  ]
  const table = rows.map((r) => [
    String(r.uid),
    r.hotkey,
    r.stake,
    r.trust,
    r.consensus,
    r.incentive,
    r.dividends,
    r.emission,
    r.validatorPermit ? 'yes' : 'no',
  ])
  console.log(`subnet ${netuid} metagraph (${rows.length} neurons)`)
  printTable(header, table)
  return 0
}

export const command: Command = subcommandGroup({
  name: 'subnet',
  summary: "create, list and show subnets; register a hotkey; the metagraph; set a subnet's model",
  help: HELP,
  spec,
  table: {
    create,
    list,
    show,
    register,
    metagraph,
    'set-model': setModel,
  },
})
