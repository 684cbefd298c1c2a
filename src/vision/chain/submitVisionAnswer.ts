import type { Account, Address, Chain, Client, Hash, TransactionReceipt, Transport } from 'viem'
import { visionAnswersAbi } from '../../chain/abis.ts'
import { sendAndWait } from '../../chain/dispute.ts'
import { type Groth16Proof, verifierArgs } from '../prover.ts'

/** VisionAnswers.submit: verifies the proof on chain and records the answer (reverts if invalid). */
export async function submitVisionAnswer(
  client: Client<Transport, Chain, Account>,
  params: { address: Address; proof: Groth16Proof; publicSignals: string[]; signal?: AbortSignal },
): Promise<{ hash: Hash; receipt: TransactionReceipt }> {
  return await sendAndWait(
    client,
    {
      address: params.address,
      abi: visionAnswersAbi,
      functionName: 'submit',
      args: verifierArgs(params.proof, params.publicSignals),
    },
    params.signal ? { signal: params.signal } : {},
  )
}
