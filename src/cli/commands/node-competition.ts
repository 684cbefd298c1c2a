import type { Deployment } from '../../chain/deployment.ts'
import { DEVNET_CORPUS_SHA256, devnetCorpus } from '../../competition/devnet-corpus.ts'
import { DEVNET_EVALUATION_SPEC } from '../../competition/evaluate.ts'
import { UsageError } from '../../errors/cli.ts'
import type { ChainContext } from '../../node/chain.ts'
import { startCompetitionValidatorNode, startModelMinerNode } from '../../node/competition-node.ts'
import type { PeerNetworkOptions } from '../../node/peer.ts'
import type { ParsedArgs } from '../args.ts'
import { nativeSha256 } from '../model-file.ts'

export const COMPETITION_ROLES = ['model-miner', 'competition-validator'] as const
export type CompetitionRole = (typeof COMPETITION_ROLES)[number]

export const COMPETITION_ROLES_HELP = `Model competition subnets (the deployment's contracts.competition): --role model-miner
--serve-model <file.gguf,...> serves the files committed with 'verity model publish' on
/verity/model-file/1 (every chunk with its proof against the committed file root) from a node
published on chain for the hotkey; --role competition-validator finds each committing hotkey's
node on chain, downloads its file every epoch, scores it by its exact loss on the devnet's
evaluation set (data/kjv-held-out.txt; the subnet's declared evalSpecHash must be that one) and
sets weights. Neither loads the inference model (--model is not taken).`

/**
 * `verity node --role model-miner | competition-validator`: the two nodes of a model competition
 * subnet. Returns the node's stop once it runs.
 */
export async function startCompetitionRole(
  role: CompetitionRole,
  options: {
    flags: ParsedArgs['flags']
    chain: ChainContext
    deployment: Deployment
    dataDir: string
    network: PeerNetworkOptions
  },
): Promise<() => Promise<void>> {
  const { flags, chain, dataDir, network } = options
  if (flags.model !== undefined)
    throw new UsageError(`--model goes with the inference roles, not --role ${role}`)
  const serve = typeof flags['serve-model'] === 'string' ? flags['serve-model'] : undefined
  if (role === 'model-miner') {
    const files = (serve ?? '').split(',').filter((f) => f !== '')
    if (files.length === 0)
      throw new UsageError('--role model-miner needs --serve-model <file.gguf,...>')
    const node = await startModelMinerNode({ chain, dataDir, network, files })
    for (const f of node.server.served)
      console.log(`serving ${f.path} (file root ${f.root}, ${f.size} bytes)`)
    console.log(
      `model miner ${chain.walletClient.account.address} on ${node.peer.getMultiaddrs().map(String).join(' ')}`,
    )
    return node.stop
  }
  if (serve !== undefined) throw new UsageError('--serve-model goes with --role model-miner')
  const competition = options.deployment.contracts.competition
  if (!competition)
    throw new UsageError(
      'this deployment has no model competition contract (contracts.competition in the manifest)',
    )
  const node = await startCompetitionValidatorNode({
    chain,
    dataDir,
    network,
    competition,
    evaluation: {
      corpus: devnetCorpus(),
      corpusSha256: Uint8Array.from(Buffer.from(DEVNET_CORPUS_SHA256, 'hex')),
      spec: DEVNET_EVALUATION_SPEC,
    },
    load: { sha256: nativeSha256 },
  })
  console.log(
    `competition validator ${chain.walletClient.account.address} on ${node.peer.getMultiaddrs().map(String).join(' ')}`,
  )
  return node.stop
}
