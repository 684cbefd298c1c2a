import { getAddress, type Hex, type PrivateKeyAccount } from 'viem'
import { getModel } from '../chain/actions/getModel.ts'
import { getPendingChanges } from '../chain/actions/getPendingChanges.ts'
import { getSubnet } from '../chain/actions/getSubnet.ts'
import { registerModel } from '../chain/actions/registerModel.ts'
import { setSubnetModel } from '../chain/actions/setSubnetModel.ts'
import { ChainError } from '../errors/chain.ts'
import { type ChainSession, signerFor } from './chain-session.ts'

export type SubnetModelChange = {
  netuid: number
  modelRoot: Hex
  /** Whether this call registered the model. */
  registered: boolean
  /** 'active' when the subnet serves it now, 'pending' until the begin of `epoch`. */
  status: 'active' | 'pending'
  epoch?: number
  tx: Hex
}

/**
 * The owner of `netuid` names `modelRoot` as the model its miners serve (`verity subnet set-model`,
 * `verity competition winner --promote`). An unregistered model is registered first when
 * `register` gives its name and file hash, refused otherwise; a caller who is not the subnet owner
 * is refused before any transaction.
 */
export async function setSubnetModelAsOwner(
  session: ChainSession,
  account: PrivateKeyAccount,
  params: {
    netuid: number
    modelRoot: Hex
    register?: { name: string; ggufHash: Hex }
    /** What to tell the user when the model is not registered and `register` is absent. */
    unregisteredHint: string
  },
  options: { signal?: AbortSignal } = {},
): Promise<SubnetModelChange> {
  const { netuid, modelRoot } = params
  const core = session.deployment.contracts.verity
  const client = session.publicClient
  const [owner] = await getSubnet(client, { address: core, netuid }, options)
  if (getAddress(owner) !== getAddress(account.address))
    throw new ChainError(
      `only the owner of subnet ${netuid} (${getAddress(owner)}) may set its model, not ${account.address}`,
    )
  const known = await getModel(client, { address: core, modelRoot }, options).then(
    () => true,
    () => false,
  )
  const wallet = signerFor(session, account)
  if (!known) {
    if (!params.register)
      throw new ChainError(
        `model ${modelRoot} is not in the model registry: ${params.unregisteredHint}`,
      )
    await registerModel(wallet, { address: core, modelRoot, ...params.register }, options)
  }
  const { hash } = await setSubnetModel(wallet, { address: core, netuid, modelRoot }, options)
  const [, , now] = await getSubnet(client, { address: core, netuid }, options)
  const active = now.toLowerCase() === modelRoot.toLowerCase()
  const pending = active ? undefined : await getPendingChanges(client, { address: core, netuid })
  return {
    netuid,
    modelRoot,
    registered: !known,
    status: active ? 'active' : 'pending',
    ...(pending ? { epoch: Number(pending.epoch) } : {}),
    tx: hash,
  }
}
