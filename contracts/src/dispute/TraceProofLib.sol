// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {DisputeMerkleLib as Merkle} from "./DisputeMerkleLib.sol";
import {StepContext, VectorOpening, WeightOpening} from "./DisputeTypes.sol";
import {ScheduleLib as S} from "./ScheduleLib.sol";
import {TraceMerkleLib} from "./TraceMerkleLib.sol";

/// @title TraceProofLib
/// @notice Checks that data a party brings is where the schedule says (src/runtime/trace/
/// checks.ts): op outputs under R_p or under an earlier checkpoint, weights (rows whole, norms
/// a chunk at a time) under modelRoot,
/// prompt tokens under the prompt's root. Each check reverts with an error naming what failed.
library TraceProofLib {
    error NotInTrace(uint256 pos, uint256 layer, uint256 kind);
    error NotInModel(uint256 leafIndex);
    error NotInPrompt(uint256 pos);
    error OpeningRange(uint256 from, uint256 count, uint256 firstChunk, uint256 chunks);
    error NotEarlier(uint256 pos, uint256 disputed);

    /// @dev The vecRoot of the opened chunks of an n-element vector.
    function vecRoot(VectorOpening calldata o, uint256 length) internal view returns (bytes32) {
        uint256 total = S.chunkCount(length);
        if (o.firstChunk == 0 && o.chunks.length == total << 5 && o.rangeProof.length == 0) {
            return TraceMerkleLib.vecRoot(o.chunks);
        }
        return Merkle.rangeRoot(o.chunks, o.firstChunk, total, o.rangeProof);
    }

    /// @dev Checks that `o` opens elements [from, from + count) of op (layer, kind) at position
    /// s <= ctx.pos; returns the element offset of `from` in o.chunks.
    function opening(
        StepContext memory ctx,
        VectorOpening calldata o,
        uint256 s,
        uint256 layer,
        uint256 kind,
        uint256 from,
        uint256 count
    ) internal view returns (uint256 off) {
        uint256 length = S.opLength(ctx.config, s, kind);
        off = covered(o, from, count, length);
        bytes32 leaf = Merkle.hashPair(S.opId(s, layer, kind, length), vecRoot(o, length));
        if (!inTrace(ctx, leaf, s, layer, kind, o)) revert NotInTrace(s, layer, kind);
    }

    /// @dev Checks that [from, from + count) lies in the opened chunks and in the vector.
    function covered(VectorOpening calldata o, uint256 from, uint256 count, uint256 length)
        internal
        pure
        returns (uint256)
    {
        uint256 first = o.firstChunk << 3;
        uint256 n = o.chunks.length >> 2;
        if (from < first || from + count > first + n || from + count > length) {
            revert OpeningRange(from, count, o.firstChunk, o.chunks.length >> 5);
        }
        return from - first;
    }

    /// @dev Whether `leaf` is op (layer, kind) of position s: under R_p for s = p, else a
    /// boundary leaf under boundaryRoot_s, under c_s, under traceRoot.
    function inTrace(
        StepContext memory ctx,
        bytes32 leaf,
        uint256 s,
        uint256 layer,
        uint256 kind,
        VectorOpening calldata o
    ) internal view returns (bool) {
        if (s == ctx.pos) {
            uint256 count = S.opCount(ctx.config, ctx.promptLength, s);
            return Merkle.root(leaf, S.indexOf(ctx.config, layer, kind), count, o.leafProof) == ctx.positionRoot;
        }
        if (s > ctx.pos) revert NotEarlier(s, ctx.pos);
        if (kind != S.K_ROPE && kind != S.V && kind != S.SAMPLE) revert NotInTrace(s, layer, kind);
        return boundaryLeafIn(ctx, leaf, s, S.boundaryIndexOf(ctx.config, layer, kind), o);
    }

    /// @dev Boundary leaf j of an earlier position s under its boundaryRoot, c_s and traceRoot.
    function boundaryLeafIn(StepContext memory ctx, bytes32 leaf, uint256 s, uint256 j, VectorOpening calldata o)
        internal
        view
        returns (bool)
    {
        uint256 nb = S.boundaryCount(ctx.config, ctx.promptLength, s);
        if (Merkle.root(leaf, j, nb, o.leafProof) != o.boundaryRoot) return false;
        bytes32 c = S.checkpoint(s, nb, o.boundaryRoot);
        return Merkle.root(c, s, ctx.positions, o.checkpointProof) == ctx.traceRoot;
    }

    /// @dev Checks a modelRoot leaf at `leafIndex`; returns nothing, reverts when it is not there.
    function weight(StepContext memory ctx, WeightOpening calldata w, uint256 leafIndex) internal view {
        bytes32 leaf = sha256(w.data);
        if (Merkle.root(leaf, leafIndex, S.weightLeafCount(ctx.config), w.proof) != ctx.modelRoot) {
            revert NotInModel(leafIndex);
        }
    }

    /// @dev Checks a norm's chunk at modelRoot leaf `leafIndex`: the leaf is the vecRoot of the
    /// norm's `chunks` chunks, w.data is chunk `chunk` (32 bytes), and w.proof is the chunk's
    /// compact proof to that vecRoot followed by the leaf's compact proof to modelRoot.
    function normWeight(
        StepContext memory ctx,
        WeightOpening calldata w,
        uint256 leafIndex,
        uint256 chunk,
        uint256 chunks
    ) internal view {
        uint256 k = Merkle.proofSize(chunk, chunks);
        if (k > w.proof.length) revert Merkle.ProofLength(k, w.proof.length);
        bytes32 leaf = Merkle.root(bytes32(w.data), chunk, chunks, w.proof[:k]);
        if (Merkle.root(leaf, leafIndex, S.weightLeafCount(ctx.config), w.proof[k:]) != ctx.modelRoot) {
            revert NotInModel(leafIndex);
        }
    }

    /// @dev Prompt token p (< T) under the prompt's root (the vecRoot of the tokens as int32).
    function promptToken(StepContext memory ctx, VectorOpening calldata o, uint256 p) internal view returns (uint256) {
        uint256 off = covered(o, p, 1, ctx.promptLength);
        if (vecRoot(o, ctx.promptLength) != ctx.promptRoot) revert NotInPrompt(p);
        return uint256(int256(element(o.chunks, off)));
    }

    /// @dev Element i of chunk bytes (int32 little-endian), sign-extended.
    function element(bytes calldata chunks, uint256 i) internal pure returns (int32 v) {
        uint256 w;
        assembly ("memory-safe") {
            w := calldataload(add(chunks.offset, shl(2, i)))
        }
        // The top 4 bytes, little-endian.
        uint32 le = uint32(w >> 224);
        v = int32((le >> 24) | ((le >> 8) & 0xff00) | ((le << 8) & 0xff0000) | (le << 24));
    }

    /// @dev Lane `lane` of a 32-byte chunk, as int32.
    function lane(bytes32 chunk, uint256 i) internal pure returns (int256) {
        uint32 le = uint32(uint256(chunk) >> (224 - 32 * i));
        return int256(int32((le >> 24) | ((le >> 8) & 0xff00) | ((le << 8) & 0xff0000) | (le << 24)));
    }
}
