// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title TraceMerkleLib
/// @notice The commitments a one-step input is bound to, with sha256 (precompile 0x02) as
/// src/runtime/trace/hasher.ts, merkle.ts and model/load.ts compute them.
library TraceMerkleLib {
    error ChunkBytes(uint256 length);
    error Sha256Failed();

    /// @dev vecRoot (of an op output, and a norm's modelRoot leaf): the chunks (32 bytes each, at
    /// least one) are the leaves of a binary tree padded to a power of two with zero chunks; a
    /// node is sha256(left || right); one chunk is its own root. Level by level in place in
    /// memory; an odd last node is paired with the root of an all-zero subtree of its height,
    /// which is what the zero padding hashes to.
    function vecRoot(bytes calldata chunks) internal view returns (bytes32 root) {
        uint256 len = chunks.length;
        if (len == 0 || len & 31 != 0) revert ChunkBytes(len);
        bool ok = true;
        assembly ("memory-safe") {
            let p := mload(0x40)
            calldatacopy(p, chunks.offset, len)
            let count := shr(5, len)
            let zero := 0 // the all-zero subtree root at the current height
            for {} gt(count, 1) {} {
                if and(count, 1) {
                    mstore(add(p, shl(5, count)), zero)
                    count := add(count, 1)
                }
                let half := shr(1, count)
                for { let i := 0 } lt(i, half) { i := add(i, 1) } {
                    // Node i of the next level overwrites node i of this one, already read.
                    ok := and(ok, staticcall(gas(), 0x02, add(p, shl(6, i)), 0x40, add(p, shl(5, i)), 0x20))
                }
                count := half
                if gt(count, 1) {
                    // One level up: sha256(zero || zero), in the scratch space.
                    mstore(0x00, zero)
                    mstore(0x20, zero)
                    ok := and(ok, staticcall(gas(), 0x02, 0x00, 0x40, 0x00, 0x20))
                    zero := mload(0x00)
                }
            }
            root := mload(p)
        }
        if (!ok) revert Sha256Failed();
    }

    /// @dev A weight row's modelRoot leaf: sha256(int8 row || int32le m || int32le e).
    function rowLeaf(bytes calldata row, int256 m, int256 e) internal view returns (bytes32 leaf) {
        uint256 len = row.length;
        bool ok;
        assembly ("memory-safe") {
            let p := mload(0x40)
            calldatacopy(p, row.offset, len)
            mstore(add(p, len), shl(192, or(shl(32, le32(m)), le32(e))))
            ok := staticcall(gas(), 0x02, p, add(len, 8), 0x00, 0x20)
            leaf := mload(0x00)

            // The low 32 bits of v as little-endian bytes, in the low 32 bits.
            function le32(v) -> r {
                r := or(or(shl(24, and(v, 0xff)), shl(16, and(shr(8, v), 0xff))), or(shl(8, and(shr(16, v), 0xff)), and(shr(24, v), 0xff)))
            }
        }
        if (!ok) revert Sha256Failed();
    }
}
