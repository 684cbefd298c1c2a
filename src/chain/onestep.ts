import {
  type Address,
  type Chain,
  getAddress,
  type Hex,
  type PublicClient,
  type Transport,
  toHex,
  type WalletClient,
} from 'viem'
import { expQ30 } from '../runtime/fixed/exp.ts'
import { roundDiv, roundShift } from '../runtime/fixed/int.ts'
import { argmax, type SamplingParams } from '../runtime/sampler/sample.ts'
import { vecChunks } from '../runtime/trace/hasher.ts'
import { OpKind } from '../runtime/trace/ops.ts'
import { type ElementInputs, samplerLogits } from '../runtime/trace/recompute.ts'
import {
  oneStepAttentionLibBytecode,
  oneStepHarnessAbi,
  oneStepHarnessBytecode,
  oneStepHarnessLinkReferences,
  oneStepLibBytecode,
  oneStepSamplerLibBytecode,
} from './abis.ts'
import { linkBytecode } from './devnet.ts'

/**
 * Encoding of one-step inputs for OneStepLib (contracts/src/dispute): vectors as the chunk bytes
 * their vecRoot hashes, weight rows as int8 bytes, the rope base as its double's bits, and the
 * sampler's order hint. `oneStepCall` maps the runtime's `ElementInputs` (trace/inputs.ts) to the
 * library function and arguments that recompute the same element.
 */

/** A vector's chunk bytes: int32 little-endian, zero-padded to 32-byte chunks (vecChunks). */
export function vectorBytes(v: Int32Array): Hex {
  return toHex(vecChunks(v))
}

/** An int8 weight row's bytes. */
export function rowBytes(q: Int8Array): Hex {
  return toHex(new Uint8Array(q.buffer, q.byteOffset, q.length))
}

/** The IEEE 754 bits of a double (the rope base as the config bytes store it). */
export function float64Bits(x: number): bigint {
  return new BigUint64Array(new Float64Array([x]).buffer)[0]!
}

/** The IEEE 754 bits of a float32 value (a rope frequency factor as the config bytes store it). */
export function float32Bits(x: number): number {
  return new Uint32Array(new Float32Array([x]).buffer)[0]!
}

/** The index of a largest |v_j| (the lowest one): the maximum hint of rmsnorm and projection. */
export function maxAbsIndex(v: ArrayLike<number>): number {
  let best = 0
  for (let j = 1; j < v.length; j++) if (Math.abs(v[j]!) > Math.abs(v[best]!)) best = j
  return best
}

/** The index of a largest v_j (the lowest one): softmax's maximum hint. */
export function maxIndex(v: ArrayLike<number>): number {
  let best = 0
  for (let j = 1; j < v.length; j++) if (v[j]! > v[best]!) best = j
  return best
}

/**
 * The sampler's order hint: the prefix of the candidates in (logit desc, index asc) order that
 * sample.ts visits. Greedy: the argmax. Otherwise up to min(topK, m) candidates, ending with the
 * first whose weight is 0 if the loop stops there.
 */
export function samplerOrder(logits: Int32Array, params: SamplingParams): number[] {
  if (params.temperatureMilli === 0) return [argmax(logits)]
  let zmax = logits[0]!
  for (const z of logits) if (z > zmax) zmax = z
  const floor = -(16 * 65536 + 1) * params.temperatureMilli
  const candidates: number[] = []
  for (let i = 0; i < logits.length; i++)
    if ((logits[i]! - zmax) * 1000 >= floor) candidates.push(i)
  candidates.sort((a, b) => logits[b]! - logits[a]! || a - b)
  const k = params.topK > 0 ? Math.min(params.topK, candidates.length) : candidates.length
  const out: number[] = []
  for (let i = 0; i < k; i++) {
    out.push(candidates[i]!)
    const w = roundDiv((logits[candidates[i]!]! - zmax) * 1000, params.temperatureMilli)
    if (roundShift(expQ30(w), 10) === 0) break
  }
  return out
}

/** The order hint as the library reads it: big-endian uint32 indices. */
export function orderBytes(order: readonly number[]): Hex {
  const out = new Uint8Array(order.length * 4)
  const view = new DataView(out.buffer)
  for (let i = 0; i < order.length; i++) view.setUint32(4 * i, order[i]!)
  return toHex(out)
}

export type OneStepFunction =
  | 'embed'
  | 'rmsnorm'
  | 'projection'
  | 'rope'
  | 'score'
  | 'softmax'
  | 'attnMix'
  | 'residual'
  | 'swiglu'
  | 'sample'

/** Which linked library holds each one-step function (OneStepHarness forwards to all three). */
export const ONE_STEP_LIBRARY: Record<
  OneStepFunction,
  'OneStepLib' | 'OneStepAttentionLib' | 'OneStepSamplerLib'
> = {
  embed: 'OneStepLib',
  rmsnorm: 'OneStepLib',
  projection: 'OneStepLib',
  rope: 'OneStepLib',
  residual: 'OneStepLib',
  swiglu: 'OneStepLib',
  score: 'OneStepAttentionLib',
  softmax: 'OneStepAttentionLib',
  attnMix: 'OneStepAttentionLib',
  sample: 'OneStepSamplerLib',
}

export type OneStepCall = {
  functionName: OneStepFunction
  args: readonly unknown[]
  /** For `sample`, which returns the whole entry: the element's index in it. */
  pick?: number
}

/**
 * The library call that recomputes element `e` of an op from `inputs` (as `recomputeElement`
 * takes them). RoPE needs the model's rope base and frequency factors, which the runtime keeps
 * only as inverse frequencies: pass `ropeTheta` (and `ropeFreqFactors`, if any) from the model
 * config.
 */
export function oneStepCall(
  inputs: ElementInputs,
  e: number,
  context: { ropeTheta?: number; ropeFreqFactors?: readonly number[] } = {},
): OneStepCall {
  switch (inputs.kind) {
    case OpKind.EMBED:
      return {
        functionName: 'embed',
        args: [rowBytes(inputs.row.q), BigInt(inputs.row.m), BigInt(inputs.row.e), BigInt(e)],
      }
    case OpKind.ATTN_NORM:
    case OpKind.FFN_NORM:
    case OpKind.FINAL_NORM:
      return {
        functionName: 'rmsnorm',
        args: [
          vectorBytes(inputs.x),
          BigInt(inputs.x.length),
          BigInt(e),
          BigInt(inputs.g[e]!),
          BigInt(inputs.epsQ),
          BigInt(maxAbsIndex(inputs.x)),
        ],
      }
    case OpKind.Q:
    case OpKind.K:
    case OpKind.V:
    case OpKind.ATTN_OUT:
    case OpKind.GATE:
    case OpKind.UP:
    case OpKind.DOWN:
    case OpKind.LOGITS:
      return {
        functionName: 'projection',
        args: [
          vectorBytes(inputs.x),
          rowBytes(inputs.row.q),
          BigInt(inputs.row.m),
          BigInt(inputs.row.e),
          BigInt(inputs.row.bias ?? 0),
          BigInt(maxAbsIndex(inputs.x)),
        ],
      }
    case OpKind.Q_ROPE:
    case OpKind.K_ROPE: {
      if (context.ropeTheta === undefined) throw new RangeError('rope needs the model rope theta')
      const { headDim, ropeDim } = inputs
      const neox = inputs.neox === true
      const j = e % headDim
      const half = ropeDim / 2
      // The pair (StepLib `rope`): (2i, 2i + 1) or NEOX (i, i + ropeDim/2); x_j alone past ropeDim.
      const ia = j >= ropeDim ? e : e - j + (neox ? j % half : 2 * (j >> 1))
      const ib = j >= ropeDim ? e : ia + (neox ? half : 1)
      const i = neox ? j % half : j >> 1
      const factor = j < ropeDim ? context.ropeFreqFactors?.[i] : undefined
      return {
        functionName: 'rope',
        args: [
          BigInt(inputs.x[ia]!),
          BigInt(inputs.x[ib]!),
          BigInt(inputs.pos),
          BigInt(j),
          BigInt(ropeDim),
          neox,
          float64Bits(context.ropeTheta),
          factor === undefined ? 0 : float32Bits(factor),
        ],
      }
    }
    case OpKind.SCORES: {
      const d = inputs.q.length
      return {
        functionName: 'score',
        args: [vectorBytes(inputs.q), 0n, vectorBytes(inputs.keys[e]!), 0n, BigInt(d)],
      }
    }
    case OpKind.SOFTMAX:
      return {
        functionName: 'softmax',
        args: [
          vectorBytes(inputs.scores),
          0n,
          BigInt(inputs.scores.length),
          BigInt(e),
          BigInt(maxIndex(inputs.scores)),
        ],
      }
    case OpKind.ATTN_MIX: {
      const column = Int32Array.from(inputs.values, (v) => v[e]!)
      return {
        functionName: 'attnMix',
        args: [vectorBytes(inputs.probs), 0n, vectorBytes(column), BigInt(column.length)],
      }
    }
    case OpKind.RESID_ATTN:
    case OpKind.RESID_FFN:
      return { functionName: 'residual', args: [BigInt(inputs.a[e]!), BigInt(inputs.b[e]!)] }
    case OpKind.SWIGLU:
      return {
        functionName: 'swiglu',
        args: [BigInt(inputs.gate[e]!), BigInt(inputs.up[e]!)],
      }
    case OpKind.SAMPLE: {
      const { state, params } = inputs
      // The library samples from the logits it is given: with bias or penalties, the adjusted
      // ones (the game cannot prove those yet: OpenLib refuses such requests).
      const logits = samplerLogits(inputs.logits, params, inputs.prior ?? [])
      return {
        functionName: 'sample',
        args: [
          vectorBytes(logits),
          BigInt(logits.length),
          {
            temperatureMilli: BigInt(params.temperatureMilli),
            topK: BigInt(params.topK),
            topPMilli: BigInt(params.topPMilli),
          },
          Array.from(state),
          orderBytes(samplerOrder(logits, params)),
        ],
        pick: e,
      }
    }
    default:
      throw new RangeError(`unknown op kind ${(inputs as { kind: number }).kind}`)
  }
}

export type OneStepDeployment = {
  oneStepLib: Address
  oneStepAttentionLib: Address
  oneStepSamplerLib: Address
  harness: Address
}

/** Deploys the three one-step libraries and the OneStepHarness linked to them. */
export async function deployOneStep(
  publicClient: PublicClient<Transport, Chain>,
  wallet: WalletClient<Transport, Chain>,
): Promise<OneStepDeployment> {
  const deployed = async (hash: Hex): Promise<Address> => {
    const receipt = await publicClient.waitForTransactionReceipt({ hash })
    if (receipt.status !== 'success' || !receipt.contractAddress)
      throw new Error('one-step deployment reverted')
    return getAddress(receipt.contractAddress)
  }
  const account = wallet.account
  if (!account) throw new Error('the wallet has no account')
  const library = async (bytecode: Hex) =>
    await deployed(await wallet.deployContract({ abi: [], bytecode, account, chain: null }))
  const oneStepLib = await library(oneStepLibBytecode)
  const oneStepAttentionLib = await library(oneStepAttentionLibBytecode)
  const oneStepSamplerLib = await library(oneStepSamplerLibBytecode)
  const harness = await deployed(
    await wallet.deployContract({
      abi: oneStepHarnessAbi,
      bytecode: linkBytecode(oneStepHarnessBytecode, oneStepHarnessLinkReferences, {
        OneStepLib: oneStepLib,
        OneStepAttentionLib: oneStepAttentionLib,
        OneStepSamplerLib: oneStepSamplerLib,
      }),
      account,
      chain: null,
    }),
  )
  return { oneStepLib, oneStepAttentionLib, oneStepSamplerLib, harness }
}
