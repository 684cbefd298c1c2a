import { type Address, encodeAbiParameters, type Hex, keccak256 } from 'viem'

export type ComputeCommitHashParameters = {
  hotkey: Address
  netuid: number
  uids: readonly number[]
  values: readonly number[]
  /** 32-byte salt */
  salt: Hex
  versionKey: bigint
}

export type ComputeCommitHashReturnType = Hex

/**
 * The hash `commitWeights` expects: keccak256(abi.encode(hotkey, netuid, uids, values, salt,
 * versionKey)). Pure; no client needed.
 *
 * @example
 * const hash = computeCommitHash({ hotkey, netuid: 1, uids: [1], values: [65535], salt, versionKey: 0n })
 */
export function computeCommitHash(
  params: ComputeCommitHashParameters,
): ComputeCommitHashReturnType {
  return keccak256(
    encodeAbiParameters(
      [
        { type: 'address' },
        { type: 'uint16' },
        { type: 'uint16[]' },
        { type: 'uint16[]' },
        { type: 'bytes32' },
        { type: 'uint64' },
      ],
      [params.hotkey, params.netuid, params.uids, params.values, params.salt, params.versionKey],
    ),
  )
}
