import type { VerificationKey } from 'snarkjs'
import { encodeAbiParameters, type Hex, keccak256 } from 'viem'

const g1 = (p: string[]) => [BigInt(p[0] as string), BigInt(p[1] as string)] as const
// snarkjs's Solidity verifier (and the EIP-197 precompile) order G2 coordinates (x1, x0), (y1, y0)
const g2 = (p: string[][]) =>
  [
    BigInt((p[0] as string[])[1] as string),
    BigInt((p[0] as string[])[0] as string),
    BigInt((p[1] as string[])[1] as string),
    BigInt((p[1] as string[])[0] as string),
  ] as const

/**
 * A vision model's identity on chain: keccak256 of the ABI encoding of its verification key
 * (alpha1, beta2, gamma2, delta2, IC), the same numbers the exported verifier hard-codes. The
 * weights are constants of the circuit, so another model, or the same model with another setup,
 * has another id.
 */
export function visionModelId(vkey: VerificationKey): Hex {
  return keccak256(
    encodeAbiParameters(
      [
        { type: 'uint256[2]' },
        { type: 'uint256[4]' },
        { type: 'uint256[4]' },
        { type: 'uint256[4]' },
        { type: 'uint256[2][]' },
      ],
      [
        g1(vkey.vk_alpha_1),
        g2(vkey.vk_beta_2),
        g2(vkey.vk_gamma_2),
        g2(vkey.vk_delta_2),
        vkey.IC.map(g1),
      ],
    ),
  )
}
