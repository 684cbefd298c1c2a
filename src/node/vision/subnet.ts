import { sha256 } from '@noble/hashes/sha2.js'
import {
  type Account,
  type Address,
  type Chain,
  type Hex,
  hexToBytes,
  type Transport,
  type WalletClient,
} from 'viem'
import { declareVisionSubnet } from '../../chain/actions/declareVisionSubnet.ts'
import type { Devnet } from '../../chain/devnet.ts'
import type { Model } from '../../runtime/model/load.ts'
import { DEVNET_HYPERPARAMS, setupSubnet, stakeValidators } from '../network.ts'

type Wallet = WalletClient<Transport, Chain, Account>

/**
 * A vision subnet's hyperparameters on a devnet: the inference subnet's, with weights set
 * directly (no commit-reveal, as on the competition subnet: a validator's scores are whether
 * proofs verify, which every honest validator finds the same).
 */
export const DEVNET_VISION_HYPERPARAMS = { ...DEVNET_HYPERPARAMS, commitReveal: false }

/**
 * Sets up a proven-classification subnet on a devnet: registers the vision model in the model
 * registry under its id (the verification key's hash, with the vkey file's sha256 as its file
 * hash), creates the subnet with it (owner: account 0, with the block emission no other subnet
 * has), registers the miners and validators, declares the subnet's VisionAnswers before the
 * first epoch (as VisionSubnets requires), then stakes on the validators and runs the first epoch
 * so their stake counts from the next one. Returns the netuid.
 */
export async function setupVisionSubnet(
  devnet: Devnet,
  options: {
    /** The VisionSubnets contract. */
    vision: Address
    /** The VisionAnswers contract of the model. */
    answers: Address
    modelId: Hex
    /** The verification key's JSON text (its sha256 is the registry's file hash). */
    vkeyJson: string
    miners: Wallet[]
    validators: Wallet[]
    validatorStake?: bigint
    signal?: AbortSignal
  },
): Promise<number> {
  const o = options.signal ? { signal: options.signal } : {}
  const owner = devnet.walletClients[0]! as Wallet
  // setupSubnet reads only the root and the name of a model: the vision model's are its id and
  // name (its weights are constants of the circuit, so the vkey names them).
  const visionModel = {
    modelRoot: hexToBytes(options.modelId),
    config: { name: 'digits-mlp' },
  } as unknown as Model
  // Validators go in as unstaked hotkeys: setupSubnet would run the first epoch before the
  // declaration could be made.
  const netuid = await setupSubnet(devnet, {
    model: visionModel,
    ggufBytes: { sha256: sha256(new TextEncoder().encode(options.vkeyJson)) },
    miners: options.miners,
    validators: [],
    gateways: options.validators,
    params: DEVNET_VISION_HYPERPARAMS,
    ...o,
  })
  await declareVisionSubnet(owner, { address: options.vision, netuid, answers: options.answers }, o)
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
