import {
  type Account,
  type Address,
  bytesToHex,
  type Chain,
  type Client,
  type ContractFunctionArgs,
  type ContractFunctionName,
  encodeAbiParameters,
  getAddress,
  type Hash,
  type Hex,
  keccak256,
  type PublicClient,
  type TransactionReceipt,
  type Transport,
  type WalletClient,
} from 'viem'
import { ChainError } from '../errors/chain.ts'
import { modelCompetitionAbi, modelCompetitionBytecode, verityAbi } from './abis.ts'
import { sendAndWait, waitMined } from './dispute.ts'

/**
 * Model competition subnets on chain (contracts/src/competition/ModelCompetition.sol): a subnet
 * owner declares the rules once, registered hotkeys commit models, validators read the
 * commitments. Deployment and the one write path every competition action takes.
 */

/** The devnet's competition rules (src/competition: evaluation spec, epsilon). */
export const DEVNET_COMPETITION = {
  /** verity-tiny has 1,328,256 parameters; the devnet allows models up to 10M. */
  maxParams: 10_000_000n,
  /** 0.5%: a later model must beat an earlier one by more than this. */
  epsilonPpm: 5_000,
  /** Blocks a commitment must be older than the block whose hash seeds an evaluation. */
  minCommitAge: 2,
} as const

/**
 * Deploys ModelCompetition against the Verity core (ownership and registration are read there).
 * It has no owner and holds no funds.
 *
 * @example
 * const competition = await deployModelCompetition(publicClient, wallet, { core: verity })
 */
export async function deployModelCompetition(
  publicClient: PublicClient<Transport, Chain>,
  wallet: WalletClient<Transport, Chain, Account>,
  params: { core: Address },
): Promise<Address> {
  const hash = await wallet.deployContract({
    abi: modelCompetitionAbi,
    bytecode: modelCompetitionBytecode,
    args: [params.core],
    account: wallet.account,
    chain: null,
  })
  const receipt = await waitMined(publicClient, hash)
  if (receipt.status !== 'success' || !receipt.contractAddress)
    throw new ChainError(`model competition deployment ${hash} reverted`)
  return getAddress(receipt.contractAddress)
}

/**
 * The competition's ABI with the core's custom errors (an unknown netuid reverts with the core's
 * SubnetNotFound inside subnetInfo): viem decodes every revert by name.
 */
export const competitionErrorsAbi = [
  ...modelCompetitionAbi,
  ...verityAbi.filter(
    (x) =>
      x.type === 'error' &&
      !modelCompetitionAbi.some((y) => y.type === 'error' && y.name === x.name),
  ),
] as const

export type CompetitionWriteName = ContractFunctionName<typeof modelCompetitionAbi, 'nonpayable'>

export type CompetitionWriteReturnType = { hash: Hash; receipt: TransactionReceipt }

/**
 * Sends one transaction to the competition contract and waits for it; a revert surfaces as viem's
 * ContractFunctionExecutionError with the decoded custom error (estimation fails first).
 */
export async function writeCompetition<name extends CompetitionWriteName>(
  client: Client<Transport, Chain, Account>,
  address: Address,
  functionName: name,
  args: ContractFunctionArgs<typeof modelCompetitionAbi, 'nonpayable', name>,
  options: { gas?: bigint; signal?: AbortSignal } = {},
): Promise<CompetitionWriteReturnType> {
  return await sendAndWait(
    client,
    { address, abi: competitionErrorsAbi, functionName, args: args as readonly unknown[] },
    options,
  )
}

/**
 * ModelCompetition.modelCommitment: keccak256(abi.encode(uint16 netuid, address hotkey, bytes32
 * modelRoot, bytes32 fileHash, uint64 size, uint64 params, bytes32 salt)), what a hotkey announces
 * before it commits (src/chain/actions/commitModel.ts).
 */
export function modelCommitmentHash(c: {
  netuid: number
  hotkey: Address
  modelRoot: Hex
  fileHash: Hex
  size: bigint
  params: bigint
  salt: Hex
}): Hex {
  return keccak256(
    encodeAbiParameters(
      [
        { type: 'uint16' },
        { type: 'address' },
        { type: 'bytes32' },
        { type: 'bytes32' },
        { type: 'uint64' },
        { type: 'uint64' },
        { type: 'bytes32' },
      ],
      [c.netuid, c.hotkey, c.modelRoot, c.fileHash, c.size, c.params, c.salt],
    ),
  )
}

/** A fresh 32-byte salt for an announcement (secret until the commitment reveals it). */
export function randomSalt(): Hex {
  return bytesToHex(crypto.getRandomValues(new Uint8Array(32)))
}
