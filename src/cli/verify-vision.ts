import type { Address, Hex } from 'viem'
import { digitsVerifierAbi, visionAnswersAbi } from '../chain/abis.ts'
import { getVisionSubnet } from '../chain/actions/getVisionSubnet.ts'
import { UsageError } from '../errors/cli.ts'
import { checkVisionAnswer, type VisionAnswer } from '../vision/answer.ts'
import { visionModelId } from '../vision/model-id.ts'
import { type Groth16Proof, stopProver, verifierArgs } from '../vision/prover.ts'
import type { ParsedArgs } from './args.ts'
import { openChain } from './chain-session.ts'
import { readDigitsCircuit } from './vision-artifacts.ts'

/** A saved vision response: the gateway's chat.completion whose `verity.task` is 'vision'. */
type SavedVision = {
  content: unknown
  verity: Record<string, unknown>
}

type Mismatch = { field: string; problem: string }

/** The vision response in a saved file, or undefined when the file holds something else. */
export function savedVisionResponse(text: string): SavedVision | undefined {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof json !== 'object' || json === null) return undefined
  const body = json as { choices?: unknown; verity?: unknown }
  const verity = body.verity as Record<string, unknown> | undefined
  if (typeof verity !== 'object' || verity === null || verity.task !== 'vision') return undefined
  const choice = Array.isArray(body.choices) ? (body.choices[0] as Record<string, unknown>) : {}
  const message = (choice?.message ?? {}) as Record<string, unknown>
  return { content: message.content, verity }
}

/** The outcome of `verity verify` on a vision answer. */
export type VisionVerifyResult = {
  ok: boolean
  /** checkVisionAnswer's verdict: signature, binding and the Groth16 proof, off chain. */
  offchain: boolean
  /** What the contract's verifier said (null: not asked). */
  onchain: boolean | null
  contract?: { vision: Address; verifier: Address; modelId: Hex }
  mismatches: Mismatch[]
  passed: string[]
}

/**
 * Checks a saved vision answer alone: the message shown is the label, the answer is for the local
 * circuit's model, and checkVisionAnswer passes (the miner's signature over the input, label,
 * scores and proof; the public signals; the proof). With `onchain`, the deployment's VisionAnswers
 * must record the same model id, and its verifier's verifyProof is asked by eth_call: what it says
 * is reported even when the off-chain checks failed (so a changed public input shows the contract
 * refusing it too).
 */
export async function verifyVisionAnswer(
  saved: SavedVision,
  options: { flags: ParsedArgs['flags']; onchain: boolean; circuitDir?: string },
): Promise<VisionVerifyResult> {
  const mismatches: Mismatch[] = []
  const passed: string[] = []
  const v = saved.verity
  const circuit = readDigitsCircuit(options.circuitDir)
  const localId = visionModelId(circuit.vkey)
  const answer = {
    pixels: v.pixels,
    label: v.label,
    scores: v.scores,
    proof: v.proof,
    publicSignals: v.publicSignals,
    receipt: v.receipt,
  } as VisionAnswer
  const receipt = (v.receipt ?? {}) as Partial<VisionAnswer['receipt']>
  if (saved.content !== String(v.label))
    mismatches.push({
      field: 'choices[0].message.content',
      problem: `the message shown (${JSON.stringify(saved.content)?.slice(0, 40)}) is not the label ${String(v.label)}`,
    })
  if (String(v.modelId).toLowerCase() !== String(receipt.modelId).toLowerCase())
    mismatches.push({ field: 'verity.modelId', problem: "it is not the receipt's model id" })
  let offchain = false
  try {
    const miner = (v.miner as { hotkey?: unknown } | undefined)?.hotkey
    const verdict = await checkVisionAnswer(answer, {
      vkey: circuit.vkey,
      modelId: localId,
      ...(typeof miner === 'string' && /^0x[0-9a-fA-F]{40}$/.test(miner)
        ? { miner: miner as Address }
        : {}),
    })
    if (verdict.ok) {
      offchain = true
      passed.push(
        `signature ok: signed by miner ${verdict.signer} for this input, label ${String(v.label)} and scores`,
      )
      passed.push(`proof ok: the Groth16 proof verifies off chain for model ${localId}`)
    } else
      mismatches.push({
        field: 'verity',
        problem: `${verdict.reason}${verdict.signed ? ' (signed by the miner: evidence against it)' : ''}`,
      })
  } finally {
    await stopProver()
  }
  if (!options.onchain) {
    passed.push('on chain NOT checked: pass --onchain with --rpc and --deployment')
    return { ok: mismatches.length === 0, offchain, onchain: null, mismatches, passed }
  }
  const session = await openChain(options.flags)
  const subnets = session.deployment.contracts.vision
  if (!subnets)
    throw new UsageError(
      'the deployment manifest names no vision contract (contracts.vision: the VisionSubnets address)',
    )
  const chainFailed = (error: unknown): never => {
    throw new UsageError(`cannot read the chain at ${session.rpcUrl}`, {
      details: (error as Error).message.split('\n')[0],
    })
  }
  if (receipt.chainId !== session.chainId)
    mismatches.push({
      field: 'verity.receipt.chainId',
      problem: `the receipt is for chain ${String(receipt.chainId)}, ${session.rpcUrl} serves chain ${session.chainId}`,
    })
  const read = <T>(
    address: Address,
    abi: readonly unknown[],
    functionName: string,
    args?: unknown[],
  ) =>
    session.publicClient
      .readContract({ address, abi, functionName, ...(args ? { args } : {}) } as never)
      .catch(chainFailed) as Promise<T>
  // The receipt's subnet names its VisionAnswers (and so its verifier) on chain: the answer is
  // checked by the contract that subnet is bound to, not one the caller picks.
  const binding = await getVisionSubnet(session.publicClient, {
    address: subnets,
    netuid: Number(receipt.netuid),
  }).catch(chainFailed)
  if (binding.declaredAt === 0n) {
    mismatches.push({
      field: 'verity.receipt.netuid',
      problem: `subnet ${String(receipt.netuid)} is not a vision subnet on ${subnets}`,
    })
    return { ok: false, offchain, onchain: null, mismatches, passed }
  }
  const vision = binding.answers
  const modelId = await read<Hex>(vision, visionAnswersAbi, 'modelId')
  const verifier = await read<Address>(vision, visionAnswersAbi, 'verifier')
  const contract = { vision, verifier, modelId }
  if (String(v.modelId).toLowerCase() !== modelId.toLowerCase()) {
    mismatches.push({
      field: 'verity.modelId',
      problem: `the contract at ${vision} verifies model ${modelId}, not this answer's ${String(v.modelId)}`,
    })
    return { ok: false, offchain, onchain: null, contract, mismatches, passed }
  }
  let args: ReturnType<typeof verifierArgs>
  try {
    const signals = v.publicSignals as string[]
    if (!Array.isArray(signals) || signals.length !== 4)
      throw new Error('4 public signals expected')
    args = verifierArgs(v.proof as Groth16Proof, signals)
  } catch {
    mismatches.push({ field: 'verity.proof', problem: 'the proof or public signals are malformed' })
    return { ok: false, offchain, onchain: null, contract, mismatches, passed }
  }
  const onchain = await read<boolean>(verifier, digitsVerifierAbi, 'verifyProof', [...args])
  if (onchain)
    passed.push(
      `on chain ok: the verifier ${verifier} of VisionAnswers ${vision} (model ${modelId.slice(0, 10)}…) says the proof is valid`,
    )
  else
    mismatches.push({
      field: 'verity.proof',
      problem: `the contract's verifier ${verifier} says the proof is NOT valid for these public signals`,
    })
  return { ok: mismatches.length === 0, offchain, onchain, contract, mismatches, passed }
}

/** `verity verify` on a vision answer: prints what passed, or each mismatch; exit 0 or 1. */
export async function verifyVisionCommand(
  saved: SavedVision,
  flags: ParsedArgs['flags'],
): Promise<number> {
  for (const flag of ['request', 'reexecute', 'lease', 'model'])
    if (flags[flag] !== undefined)
      throw new UsageError(`--${flag} is for text answers; this is a vision answer`)
  const result = await verifyVisionAnswer(saved, {
    flags,
    onchain: flags.onchain === true,
    ...(typeof flags.circuit === 'string' ? { circuitDir: flags.circuit } : {}),
  })
  const { ok, offchain, onchain, contract, mismatches } = result
  if (flags.json)
    console.log(JSON.stringify({ ok, task: 'vision', offchain, onchain, contract, mismatches }))
  else {
    if (ok) for (const line of result.passed) console.log(line)
    else if (onchain !== null)
      console.log(
        `contract: the verifier ${contract?.verifier} says ${onchain ? 'valid' : 'NOT valid'}`,
      )
    for (const m of mismatches) console.error(`error: ${m.field}: ${m.problem}`)
  }
  return ok ? 0 : 1
}
