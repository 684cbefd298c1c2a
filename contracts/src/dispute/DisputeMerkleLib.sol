// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title DisputeMerkleLib
/// @notice The sha256 Merkle trees of docs/DETERMINISM.md ("Trace") as the dispute game checks
/// them: leaves are 32-byte values padded to a power of two with zero leaves, a node is
/// sha256(left || right), a tree of one leaf is that leaf.
/// @dev Proofs are compact: siblings from the leaf up, leaving out every sibling whose subtree
/// lies wholly in the padding (the verifier knows the leaf count, so it knows those are the
/// zero subtrees). A proof must be consumed exactly. The TypeScript side builds the same form
/// (src/verify/dispute/proofs.ts).
library DisputeMerkleLib {
    error ProofLength(uint256 used, uint256 given);
    error RangeOutOfTree(uint256 first, uint256 count, uint256 leaves);
    error RangeBytes(uint256 length);
    error TreeTooDeep(uint256 height);

    /// @dev sha256(a || b) by the precompile, in the scratch space.
    function hashPair(bytes32 a, bytes32 b) internal view returns (bytes32 r) {
        assembly ("memory-safe") {
            mstore(0x00, a)
            mstore(0x20, b)
            if iszero(staticcall(gas(), 0x02, 0x00, 0x40, 0x00, 0x20)) { revert(0, 0) }
            r := mload(0x00)
        }
    }

    /// @dev log2 of the padded width of a tree of `count` leaves: the height of its root.
    function height(uint256 count) internal pure returns (uint256 h) {
        while ((uint256(1) << h) < count) h++;
    }

    /// @dev The root of a subtree of height h whose leaves are all zero.
    function zero(uint256 h) internal view returns (bytes32 z) {
        if (h > 40) revert TreeTooDeep(h);
        for (uint256 i = 0; i < h; i++) {
            z = hashPair(z, z);
        }
    }

    /// @dev The root over leaf `index` of a tree of `count` leaves, from its compact proof.
    function root(bytes32 leaf, uint256 index, uint256 count, bytes32[] calldata proof)
        internal
        view
        returns (bytes32 node)
    {
        if (index >= count) revert RangeOutOfTree(index, 1, count);
        uint256 top = height(count);
        node = leaf;
        uint256 used = 0;
        bytes32 z = bytes32(0); // zero subtree of height zh
        uint256 zh = 0;
        for (uint256 h = 0; h < top; h++) {
            uint256 sibling = (index >> h) ^ 1;
            bytes32 s;
            if ((sibling << h) >= count) {
                // wholly padding: it sits to the right
                while (zh < h) {
                    z = hashPair(z, z);
                    zh++;
                }
                s = z;
            } else {
                if (used >= proof.length) revert ProofLength(used + 1, proof.length);
                s = proof[used++];
            }
            node = (index >> h) & 1 == 0 ? hashPair(node, s) : hashPair(s, node);
        }
        if (used != proof.length) revert ProofLength(used, proof.length);
    }

    /// @dev How many siblings a compact proof of leaf `index` in a tree of `count` leaves holds
    /// (`root` consumes exactly that many): one per height whose sibling is not wholly padding.
    function proofSize(uint256 index, uint256 count) internal pure returns (uint256 k) {
        uint256 top = height(count);
        for (uint256 h = 0; h < top; h++) {
            if ((((index >> h) ^ 1) << h) < count) k++;
        }
    }

    /// @dev The root of a tree of `count` leaves from a contiguous range of them (32-byte chunks
    /// in `leaves`, starting at leaf `first`) and the compact proof of the range: at each height,
    /// the left neighbour of the range (if it has one) then its right neighbour (if it has one and
    /// it is not padding).
    function rangeRoot(bytes calldata leaves, uint256 first, uint256 count, bytes32[] calldata proof)
        internal
        view
        returns (bytes32)
    {
        uint256 n = leaves.length >> 5;
        if (n == 0 || leaves.length & 31 != 0) revert RangeBytes(leaves.length);
        if (first + n > count) revert RangeOutOfTree(first, n, count);
        bytes32[] memory level = new bytes32[](n);
        assembly ("memory-safe") {
            calldatacopy(add(level, 0x20), leaves.offset, leaves.length)
        }
        uint256 lo = first;
        uint256 hi = first + n - 1;
        uint256 used = 0;
        uint256 top = height(count);
        bytes32 z = bytes32(0);
        uint256 zh = 0;
        for (uint256 h = 0; h < top; h++) {
            uint256 nlo = lo >> 1;
            uint256 nhi = hi >> 1;
            // In place: parent t reads children at 2t - 1 or later, written entries are below t.
            for (uint256 t = 0; t <= nhi - nlo; t++) {
                uint256 li = (nlo + t) << 1;
                bytes32 left;
                bytes32 right;
                if (li < lo) {
                    if (used >= proof.length) revert ProofLength(used + 1, proof.length);
                    left = proof[used++];
                } else {
                    left = level[li - lo];
                }
                if (li + 1 > hi) {
                    if (((li + 1) << h) >= count) {
                        while (zh < h) {
                            z = hashPair(z, z);
                            zh++;
                        }
                        right = z;
                    } else {
                        if (used >= proof.length) revert ProofLength(used + 1, proof.length);
                        right = proof[used++];
                    }
                } else {
                    right = level[li + 1 - lo];
                }
                level[t] = hashPair(left, right);
            }
            lo = nlo;
            hi = nhi;
        }
        if (used != proof.length) revert ProofLength(used, proof.length);
        return level[0];
    }

    /// @dev The root over 2^k nodes given in order (a full level of a subtree).
    function rootOfLevel(bytes32[] calldata nodes) internal view returns (bytes32) {
        uint256 n = nodes.length;
        bytes32[] memory level = new bytes32[](n);
        for (uint256 i = 0; i < n; i++) {
            level[i] = nodes[i];
        }
        while (n > 1) {
            n >>= 1;
            for (uint256 i = 0; i < n; i++) {
                level[i] = hashPair(level[2 * i], level[2 * i + 1]);
            }
        }
        return level[0];
    }

    /// @dev The root over `n` leaves in memory (padded with zero leaves).
    function rootOfMemory(bytes32[] memory leaves) internal view returns (bytes32) {
        uint256 n = leaves.length;
        if (n == 0) return bytes32(0);
        uint256 width = uint256(1) << height(n);
        bytes32[] memory level = new bytes32[](width);
        for (uint256 i = 0; i < n; i++) {
            level[i] = leaves[i];
        }
        while (width > 1) {
            width >>= 1;
            for (uint256 i = 0; i < width; i++) {
                level[i] = hashPair(level[2 * i], level[2 * i + 1]);
            }
        }
        return level[0];
    }
}
