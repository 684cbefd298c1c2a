import type { Account, Address, Chain, Client, Hash, TransactionReceipt, Transport } from 'viem'
import { sendAndWait } from '../dispute.ts'
import { visionSubnetsErrorsAbi } from '../vision-subnets.ts'

export type DeclareVisionSubnetParameters = {
  /** The VisionSubnets contract. */
  address: Address
  netuid: number
  /** The VisionAnswers contract whose verifier checks the subnet's proofs (its modelId is read). */
  answers: Address
}

export type DeclareVisionSubnetReturnType = { hash: Hash; receipt: TransactionReceipt }

/**
 * The subnet owner makes its subnet a proven-classification (vision) subnet bound to `answers`:
 * once, before the subnet's first epoch. Waits for the receipt; a revert surfaces as viem's
 * ContractFunctionExecutionError with the decoded custom error (NotSubnetOwner, SubnetDissolved,
 * AlreadyDeclared, SubnetAlreadyStarted, InvalidParam, the core's SubnetNotFound).
 *
 * @example
 * await declareVisionSubnet(ownerWallet, { address: vision, netuid: 2, answers })
 */
export async function declareVisionSubnet(
  client: Client<Transport, Chain, Account>,
  params: DeclareVisionSubnetParameters,
  options: { signal?: AbortSignal } = {},
): Promise<DeclareVisionSubnetReturnType> {
  return await sendAndWait(
    client,
    {
      address: params.address,
      abi: visionSubnetsErrorsAbi,
      functionName: 'declareVisionSubnet',
      args: [params.netuid, params.answers],
    },
    options,
  )
}
