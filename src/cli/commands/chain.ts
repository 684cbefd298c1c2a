import { writeFileSync } from 'node:fs'
import { type Address, decodeAbiParameters, formatEther } from 'viem'
import { readContract } from 'viem/actions'
import { computeMarketAbi, paymentChannelsAbi, verityAbi } from '../../chain/abis.ts'
import { advanceClock } from '../../chain/actions/advanceClock.ts'
import { executeGovernanceChange } from '../../chain/actions/executeGovernanceChange.ts'
import { getProtocolParams } from '../../chain/actions/getProtocolParams.ts'
import { getQueuedChanges } from '../../chain/actions/getQueuedChanges.ts'
import { queueGovernanceChange } from '../../chain/actions/queueGovernanceChange.ts'
import { deployModelCompetition } from '../../chain/competition.ts'
import {
  ABI_VERSION,
  DEPLOYMENT_FORMAT,
  type Deployment,
  formatDeployment,
} from '../../chain/deployment.ts'
import { deployLibraries, deployToken, deployVerity, setTokenMinter } from '../../chain/devnet.ts'
import { deployDisputeGame } from '../../chain/dispute.ts'
import { deployMarket } from '../../chain/market.ts'
import {
  DEVNET_CHANNEL_WINDOWS,
  deployPaymentChannels,
  PRODUCTION_CHANNEL_WINDOWS,
} from '../../chain/payments.ts'
import { CHANGE_KIND } from '../../chain/types.ts'
import { ChainError } from '../../errors/chain.ts'
import { UsageError } from '../../errors/cli.ts'
import { DEVNET_CHAIN_IDS } from '../../node/wallet.ts'
import type { parseArgs } from '../args.ts'
import { clientsAt, KEY_FLAGS, loadAccount, openChain, signerFor } from '../chain-session.ts'
import { CHAIN_FLAGS, CHAIN_FLAGS_HELP, chainSources, probeChainId } from '../chain-target.ts'
import {
  DEVNET_DEPLOY_PARAMS,
  type DeployParams,
  PRODUCTION_DEPLOY_PARAMS,
  readDeployParams,
} from '../deploy-params.ts'
import type { Command } from '../main.ts'
import { subcommandGroup } from '../subcommand.ts'
import { parseAmount, stringFlag } from '../values.ts'

const HELP = `usage: verity chain deploy --rpc <url> --key <keyfile> --out <manifest.json>
                          [--params <file.yaml> | --devnet-params] [--bid-deposit <VTY>]
                          [--min-escrow <VTY>] [--passphrase-file <file>] [--json]
       verity chain enact --rpc <url> --deployment <manifest.json> --key <keyfile> [--json]
       verity chain show --rpc <url> --deployment <manifest> [--json]

deploy: deploys the VTY token (the genesis supply minted to the deployer), the libraries, the
Verity core, the dispute game, the compute market (paid in VTY: every bid locks --bid-deposit,
default 5 VTY; an order opens with at least --min-escrow, default 1 VTY) and the payment channels
(challenge period and settle grace 7200 blocks each; 100 with --devnet-params), writes the deployment manifest to --out and prints it (progress
goes to stderr). Naming the game in the core is a governance change that waits out a delay (the
longest withdrawal, so stake that backed receipts cannot escape a new game):
  --devnet-params  DEVNET ONLY (chain id ${DEVNET_CHAIN_IDS.join(' or ')}): the devnet's parameters (one-block
                   governance delay, unstake delay ${DEVNET_DEPLOY_PARAMS.protocol.unstakeDelay} blocks, guardian = deployer); mines
                   through the delay so the network is ready at once.
  otherwise        the change is queued; the command prints the block after which
                   'verity chain enact' names the game (the manifest gets it then).
Parameters come from --params <file.yaml> over the production defaults, which assume ~12 s blocks:
  genesis: 1000000               # VTY minted to the deployer
  guardian: <deployer>           # may pause the protocol
  minUnstakeDelay: 50400         # blocks (7 days): floor of protocol.unstakeDelay
  minGovernanceDelay: 14400      # blocks (2 days): floor of protocol.governanceDelay
  protocol: { unstakeDelay: 50400, governanceDelay: 14400, epochDeadline: 7200, keeperBps: 100,
              maxSubnets: 256, minLock: 1000, lockReductionInterval: 100800 }
  dispute:  { bond: 10, slashMin: 5, slashBps: 5000, rewardBps: 5000, window: 300,
              maxValidity: 7200, minBond: 1, maxBond: 1000, paramsDelay: 7200, partElements: 4096 }
The longest dispute (80 × window + 1 + maxValidity) must end within minUnstakeDelay.
enact: executes the queued change naming the dispute game once its delay has passed, and writes
the game into the manifest file.
show: the manifest and what the chain says: head block, the core's dispute game, protocol params,
the compute market and its bid deposit and minimum escrow.

${CHAIN_FLAGS_HELP}
The keyfile is decrypted with --passphrase-file or VERITY_PASSPHRASE.`

const spec = {
  ...CHAIN_FLAGS,
  ...KEY_FLAGS,
  out: { type: 'string' },
  params: { type: 'string' },
  'devnet-params': { type: 'boolean' },
  'bid-deposit': { type: 'string' },
  'min-escrow': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

type Flags = ReturnType<typeof parseArgs>['flags']

const progress = (line: string) => console.error(line)

/** A positive VTY amount flag with a default. */
function vtyFlag(flags: Flags, name: string, fallback: string): bigint {
  const raw = flags[name]
  const value = parseAmount(typeof raw === 'string' ? raw : fallback, `--${name}`)
  if (value === 0n) throw new UsageError(`--${name} must be more than 0`)
  return value
}

async function deploy(flags: Flags): Promise<number> {
  const rpcUrl = chainSources(flags).rpc
  if (!rpcUrl)
    throw new UsageError(
      '--rpc <url> is required (or VERITY_RPC, or rpc in the config file): the chain to deploy to',
    )
  const out = stringFlag(flags, 'out', '--out <manifest.json> is required: where the manifest goes')
  if (flags['devnet-params'] && flags.params)
    throw new UsageError('--params and --devnet-params exclude each other')
  const params: DeployParams = flags['devnet-params']
    ? DEVNET_DEPLOY_PARAMS
    : typeof flags.params === 'string'
      ? readDeployParams(flags.params)
      : PRODUCTION_DEPLOY_PARAMS
  const marketParams = {
    bidDeposit: vtyFlag(flags, 'bid-deposit', '5'),
    minEscrow: vtyFlag(flags, 'min-escrow', '1'),
  }
  const chainId = await probeChainId(rpcUrl)
  const devnet = flags['devnet-params'] === true
  if (devnet && !DEVNET_CHAIN_IDS.includes(chainId))
    throw new UsageError(
      `--devnet-params is for devnets only (chain id ${DEVNET_CHAIN_IDS.join(' or ')}); this chain is ${chainId}`,
    )
  const account = loadAccount(flags, chainId)
  const { chain, publicClient } = clientsAt(rpcUrl, chainId)
  const wallet = signerFor({ chain, rpcUrl }, account)
  const gas = await publicClient.getBalance({ address: account.address })
  if (gas === 0n) throw new ChainError(`the deployer ${account.address} has no ETH to pay for gas`)
  progress(`deploying to chain ${chainId} as ${account.address}`)
  const token = await deployToken(publicClient, wallet, params.genesis)
  progress(`  VTY token ${token} (${formatEther(params.genesis)} VTY to the deployer)`)
  const libraries = await deployLibraries(publicClient, wallet)
  progress(`  libraries ${Object.keys(libraries).length}`)
  const block = (await publicClient.getBlockNumber()) + 1n
  const verity = await deployVerity(publicClient, wallet, {
    token,
    libraries,
    config: {
      clockMode: 0,
      minUnstakeDelay: params.minUnstakeDelay,
      minGovernanceDelay: params.minGovernanceDelay,
      params: params.protocol,
      guardian: params.guardian ?? account.address,
    },
  })
  await setTokenMinter(publicClient, wallet, token, verity)
  progress(`  Verity core ${verity}`)
  const { game } = await deployDisputeGame(publicClient, wallet, {
    core: verity,
    token,
    ...params.game,
    defaults: params.dispute,
  })
  progress(`  dispute game ${game}`)
  const market = await deployMarket(publicClient, wallet, { token, ...marketParams })
  progress(
    `  compute market ${market} (bid deposit ${formatEther(marketParams.bidDeposit)} VTY, min escrow ${formatEther(marketParams.minEscrow)} VTY)`,
  )
  const windows = devnet ? DEVNET_CHANNEL_WINDOWS : PRODUCTION_CHANNEL_WINDOWS
  const payments = await deployPaymentChannels(publicClient, wallet, {
    token,
    disputeGame: game,
    ...windows,
  })
  progress(
    `  payment channels ${payments} (challenge period ${windows.challengePeriod} blocks, settle grace ${windows.settleGrace} blocks)`,
  )
  const competition = await deployModelCompetition(publicClient, wallet, { core: verity })
  progress(`  model competition ${competition}`)
  const deployment: Deployment = {
    format: DEPLOYMENT_FORMAT,
    chainId,
    abiVersion: ABI_VERSION,
    block,
    deployer: account.address,
    contracts: { verity, token, market, payments, competition, libraries: { ...libraries } },
  }
  // the manifest is written before governance: a failure there leaves a usable (game-less) one
  writeFileSync(out, formatDeployment(deployment))
  const queued = await queueGovernanceChange(wallet, {
    address: verity,
    change: { kind: 'disputeGame', game },
  })
  if (devnet) {
    progress(`  mining through the governance delay to block ${queued.eta}`)
    await advanceClock(publicClient, { address: verity, to: queued.eta, mine: true })
    await executeGovernanceChange(wallet, { address: verity, ...queued })
    deployment.contracts.disputeGame = game
    writeFileSync(out, formatDeployment(deployment))
    progress(`  the core names the dispute game: the network is ready`)
  } else {
    progress(
      `  the core names the dispute game after block ${queued.eta}: then run 'verity chain enact --rpc ${rpcUrl} --deployment ${out} --key <keyfile>'`,
    )
  }
  progress(`manifest written to ${out}`)
  process.stdout.write(formatDeployment(deployment))
  return 0
}

async function enact(flags: Flags): Promise<number> {
  const session = await openChain(flags)
  const { deployment, publicClient } = session
  const core = deployment.contracts.verity
  const account = loadAccount(flags, session.chainId)
  const pending = (
    await getQueuedChanges(publicClient, { address: core, fromBlock: deployment.block })
  ).filter((c) => c.kind === CHANGE_KIND.disputeGame)
  const change = pending.at(-1)
  if (!change) throw new ChainError('no queued change names a dispute game: nothing to enact')
  const clock = BigInt(
    await readContract(publicClient, { address: core, abi: verityAbi, functionName: 'clock' }),
  )
  if (clock < change.eta)
    throw new ChainError(
      `the change naming the dispute game is not ready: block ${clock} now, ready after block ${change.eta} (${change.eta - clock} to go)`,
    )
  const [game] = decodeAbiParameters([{ type: 'address' }], change.data)
  await executeGovernanceChange(signerFor(session, account), { address: core, ...change })
  const updated: Deployment = {
    ...deployment,
    contracts: { ...deployment.contracts, disputeGame: game },
  }
  const source = flags.deployment
  if (typeof source === 'string' && !/^https?:\/\//i.test(source))
    writeFileSync(source, formatDeployment(updated))
  if (flags.json) process.stdout.write(formatDeployment(updated))
  else
    console.log(
      `the core names dispute game ${game}${typeof source === 'string' ? `; ${source} updated` : ''}`,
    )
  return 0
}

async function show(flags: Flags): Promise<number> {
  const session = await openChain(flags)
  const { deployment, publicClient } = session
  const core = deployment.contracts.verity
  const [block, game, params] = await Promise.all([
    publicClient.getBlockNumber(),
    readContract(publicClient, { address: core, abi: verityAbi, functionName: 'disputeGame' }),
    getProtocolParams(publicClient, { address: core }),
  ])
  const named: Address | null = /^0x0{40}$/.test(game) ? null : game
  const marketAddress = deployment.contracts.market
  const market = marketAddress
    ? await Promise.all([
        readContract(publicClient, {
          address: marketAddress,
          abi: computeMarketAbi,
          functionName: 'bidDeposit',
        }),
        readContract(publicClient, {
          address: marketAddress,
          abi: computeMarketAbi,
          functionName: 'minEscrow',
        }),
      ]).then(([bidDeposit, minEscrow]) => ({
        address: marketAddress,
        bidDeposit: formatEther(bidDeposit),
        minEscrow: formatEther(minEscrow),
      }))
    : null
  const paymentsAddress = deployment.contracts.payments
  const payments = paymentsAddress
    ? await Promise.all(
        (['challengePeriod', 'settleGrace', 'disputeGame'] as const).map((functionName) =>
          readContract(publicClient, {
            address: paymentsAddress,
            abi: paymentChannelsAbi,
            functionName,
          }),
        ),
      ).then(([challengePeriod, settleGrace, disputeGame]) => ({
        address: paymentsAddress,
        challengePeriod: Number(challengePeriod),
        settleGrace: Number(settleGrace),
        disputeGame: disputeGame as Address,
      }))
    : null
  const chain = {
    block: block.toString(),
    disputeGame: named,
    market,
    payments,
    protocolParams: {
      unstakeDelay: Number(params.unstakeDelay),
      governanceDelay: Number(params.governanceDelay),
      epochDeadline: Number(params.epochDeadline),
      keeperBps: params.keeperBps,
      maxSubnets: params.maxSubnets,
      minLock: formatEther(params.minLock),
      lockReductionInterval: Number(params.lockReductionInterval),
    },
  }
  if (flags.json) {
    console.log(JSON.stringify({ deployment: JSON.parse(formatDeployment(deployment)), chain }))
    return 0
  }
  process.stdout.write(formatDeployment(deployment))
  console.log(`chain ${session.chainId} at ${session.rpcUrl}, block ${block}`)
  console.log(`  dispute game named by the core: ${named ?? 'none yet (verity chain enact)'}`)
  if (named && deployment.contracts.disputeGame && named !== deployment.contracts.disputeGame)
    console.log(`  note: the manifest names ${deployment.contracts.disputeGame}`)
  console.log(
    `  compute market: ${market ? `${market.address} (bid deposit ${market.bidDeposit} VTY, min escrow ${market.minEscrow} VTY)` : 'none in this deployment'}`,
  )
  console.log(
    `  payment channels: ${payments ? `${payments.address} (challenge period ${payments.challengePeriod} blocks, settle grace ${payments.settleGrace} blocks)` : 'none in this deployment'}`,
  )
  console.log(
    `  model competition: ${deployment.contracts.competition ?? 'none in this deployment'}`,
  )
  console.log('  protocol params:')
  for (const [k, v] of Object.entries(chain.protocolParams))
    console.log(`    ${k}: ${v}${k === 'minLock' ? ' VTY' : ''}`)
  return 0
}

export const command: Command = subcommandGroup({
  name: 'chain',
  summary: 'deploy Verity to a chain, enact the queued dispute game, show a deployment',
  help: HELP,
  spec,
  table: { deploy, enact, show },
})
