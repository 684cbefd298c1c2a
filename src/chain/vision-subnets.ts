import {
  type Account,
  type Address,
  type Chain,
  getAddress,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem'
import { ChainError } from '../errors/chain.ts'
import { verityAbi, visionSubnetsAbi, visionSubnetsBytecode } from './abis.ts'
import { waitMined } from './dispute.ts'

/**
 * Proven-classification subnets on chain (contracts/src/vision/VisionSubnets.sol): a subnet owner
 * binds its subnet to a VisionAnswers contract (hence a model) once, before the first epoch.
 */

/**
 * Deploys VisionSubnets against the Verity core (ownership and subnet state are read there).
 * It has no owner and holds no funds.
 *
 * @example
 * const vision = await deployVisionSubnets(publicClient, wallet, { core: verity })
 */
export async function deployVisionSubnets(
  publicClient: PublicClient<Transport, Chain>,
  wallet: WalletClient<Transport, Chain, Account>,
  params: { core: Address; signal?: AbortSignal },
): Promise<Address> {
  params.signal?.throwIfAborted()
  const hash = await wallet.deployContract({
    abi: visionSubnetsAbi,
    bytecode: visionSubnetsBytecode,
    args: [params.core],
    account: wallet.account,
    chain: null,
  })
  const receipt = await waitMined(
    publicClient,
    hash,
    params.signal ? { signal: params.signal } : {},
  )
  if (receipt.status !== 'success' || !receipt.contractAddress)
    throw new ChainError(`vision subnets deployment ${hash} reverted`)
  return getAddress(receipt.contractAddress)
}

/**
 * VisionSubnets' ABI with the core's custom errors (an unknown netuid reverts with the core's
 * SubnetNotFound inside subnetInfo): viem decodes every revert by name.
 */
export const visionSubnetsErrorsAbi = [
  ...visionSubnetsAbi,
  ...verityAbi.filter(
    (x) =>
      x.type === 'error' && !visionSubnetsAbi.some((y) => y.type === 'error' && y.name === x.name),
  ),
] as const
