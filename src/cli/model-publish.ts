import { zeroAddress } from 'viem'
import { commitModel } from '../chain/actions/commitModel.ts'
import { getCompetition } from '../chain/actions/getCompetition.ts'
import { getModelCommit } from '../chain/actions/getModelCommit.ts'
import { ChainError } from '../errors/chain.ts'
import type { parseArgs } from './args.ts'
import { loadAccount, openChain, signerFor } from './chain-session.ts'
import { modelCommitment } from './model-commitment.ts'
import { netuidFlag } from './values.ts'

type Flags = ReturnType<typeof parseArgs>['flags']

/**
 * `verity model publish`: commits a GGUF file's modelRoot, file root (a Merkle root over its 1 MiB chunks), size and parameter count to a
 * competition subnet from the hotkey in --key. The file is read and loaded first (a file the
 * runtime refuses is an error before anything is sent), and the subnet's rules are checked so
 * that the usual refusals are named here rather than as a revert.
 */
export async function publish(file: string, flags: Flags): Promise<number> {
  const netuid = netuidFlag(flags)
  const commitment = modelCommitment(file)
  const session = await openChain(flags)
  const address = session.deployment.contracts.competition
  if (!address)
    throw new ChainError(
      'this deployment has no model competition contract (contracts.competition in the manifest)',
    )
  const rules = await getCompetition(session.publicClient, { address, netuid })
  if (rules.declaredAt === 0n)
    throw new ChainError(
      `subnet ${netuid} is not a model competition (its owner never declared one)`,
    )
  if (commitment.params > rules.maxParams)
    throw new ChainError(
      `the model has ${commitment.params} parameters; subnet ${netuid} allows at most ${rules.maxParams}`,
    )
  const account = loadAccount(flags, session.chainId)
  const { hash, receipt } = await commitModel(signerFor(session, account), {
    address,
    netuid,
    modelRoot: commitment.modelRoot,
    fileHash: commitment.fileHash,
    size: commitment.size,
    params: commitment.params,
  })
  const stored = await getModelCommit(session.publicClient, {
    address,
    netuid,
    hotkey: account.address,
  })
  const copyOf = stored.copyOf === zeroAddress ? null : stored.copyOf
  if (flags.json) {
    console.log(
      JSON.stringify({
        netuid,
        hotkey: account.address,
        modelRoot: commitment.modelRoot,
        fileHash: commitment.fileHash,
        size: commitment.size.toString(),
        params: commitment.params.toString(),
        commitBlock: receipt.blockNumber.toString(),
        seq: stored.seq.toString(),
        copyOf,
        tx: hash,
      }),
    )
    return 0
  }
  console.log(
    `committed ${commitment.name} (${commitment.params.toLocaleString('en-US')} parameters, ${commitment.size} bytes) to subnet ${netuid} at block ${receipt.blockNumber}`,
  )
  console.log(`  hotkey     ${account.address}`)
  console.log(`  modelRoot  ${commitment.modelRoot}`)
  console.log(`  file root  ${commitment.fileHash}`)
  if (copyOf)
    console.log(
      `  note: ${copyOf} committed this model first: this commitment is a copy and earns nothing`,
    )
  return 0
}
