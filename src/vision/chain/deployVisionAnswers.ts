import {
  type Account,
  type Address,
  type Chain,
  getAddress,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem'
import {
  digitsVerifierAbi,
  digitsVerifierBytecode,
  visionAnswersAbi,
  visionAnswersBytecode,
} from '../../chain/abis.ts'
import { waitMined } from '../../chain/dispute.ts'
import { ChainError } from '../../errors/chain.ts'

/**
 * Deploys the digits model's exported Groth16 verifier (contracts/src/vision/DigitsVerifier.sol)
 * and a VisionAnswers recording verified answers under `modelId` (src/vision/model-id.ts).
 */
export async function deployVisionAnswers(
  publicClient: PublicClient<Transport, Chain>,
  wallet: WalletClient<Transport, Chain, Account>,
  params: { modelId: Hex; signal?: AbortSignal },
): Promise<{ verifier: Address; answers: Address }> {
  const deploy = async (abi: readonly unknown[], bytecode: Hex, args: readonly unknown[]) => {
    params.signal?.throwIfAborted()
    const hash = await wallet.deployContract({
      abi,
      bytecode,
      args,
      account: wallet.account,
      chain: null,
    } as never)
    const receipt = await waitMined(
      publicClient,
      hash,
      params.signal ? { signal: params.signal } : {},
    )
    if (receipt.status !== 'success' || !receipt.contractAddress)
      throw new ChainError(`vision contract deployment ${hash} reverted`)
    return getAddress(receipt.contractAddress)
  }
  const verifier = await deploy(digitsVerifierAbi, digitsVerifierBytecode, [])
  const answers = await deploy(visionAnswersAbi, visionAnswersBytecode, [verifier, params.modelId])
  return { verifier, answers }
}
