import type { Account, Address, Chain, Hex, Transport, WalletClient } from 'viem'
import { declareCompetition } from '../chain/actions/declareCompetition.ts'
import type { Devnet } from '../chain/devnet.ts'
import type { Model } from '../runtime/model/load.ts'
import { DEVNET_HYPERPARAMS, setupSubnet, stakeValidators } from './network.ts'

type Wallet = WalletClient<Transport, Chain, Account>

/**
 * A competition subnet's hyperparameters on a devnet: the inference subnet's, with weights set
 * directly (no commit-reveal: a competition's scores are public and the same at every honest
 * validator, so there is nothing to copy from another's weights).
 */
export const DEVNET_COMPETITION_HYPERPARAMS = { ...DEVNET_HYPERPARAMS, commitReveal: false }

/**
 * Sets up a model competition subnet on a devnet: creates the subnet (owner: account 0, with the
 * block emission no other subnet has, registered `model` as its served model), registers the
 * validators and model miners, declares the competition's rules (before the first epoch, as the
 * contract requires), stakes on the validators and runs the first epoch so their stake counts
 * from the next one. Returns the netuid.
 */
export async function setupCompetitionSubnet(
  devnet: Devnet,
  options: {
    competition: Address
    model: Model
    ggufSha256: Uint8Array
    miners: Wallet[]
    validators: Wallet[]
    rules: { evalSpecHash: Hex; maxParams: bigint; epsilonPpm: number; minCommitAge: number }
    validatorStake?: bigint
    signal?: AbortSignal
  },
): Promise<number> {
  const o = options.signal ? { signal: options.signal } : {}
  const owner = devnet.walletClients[0]! as Wallet
  // Validators go in as unstaked hotkeys: setupSubnet would run the first epoch before the
  // declaration could be made.
  const netuid = await setupSubnet(devnet, {
    model: options.model,
    ggufBytes: { sha256: options.ggufSha256 },
    miners: options.miners,
    validators: [],
    gateways: options.validators,
    params: DEVNET_COMPETITION_HYPERPARAMS,
    ...o,
  })
  await declareCompetition(owner, { address: options.competition, netuid, ...options.rules }, o)
  await stakeValidators(
    devnet,
    {
      netuid,
      validators: options.validators,
      ...(options.validatorStake === undefined ? {} : { stake: options.validatorStake }),
    },
    o,
  )
  return netuid
}
