// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {StepContext, VectorOpening, WeightOpening} from "./DisputeTypes.sol";
import {OneStepAttentionLib} from "./OneStepAttentionLib.sol";
import {OneStepLib} from "./OneStepLib.sol";
import {ScheduleLib as S} from "./ScheduleLib.sol";
import {StepLib} from "./StepLib.sol";
import {TraceProofLib as P} from "./TraceProofLib.sol";

/// @dev Openings a sum move brings: vectors and weights in the order SumLib lists per kind, and
/// an element index (`hint`) where a kind needs one.
struct SumOpenings {
    VectorOpening[] vectors;
    WeightOpening[] weights;
    uint256 hint;
}

/// @title SumLib
/// @notice The long sums of the one step, played as a sub-game (docs/DETERMINISM.md, "The
/// attention-mix sub-trace"): the miner commits to the partial sums acc_0 .. acc_{N-1} of the
/// disputed element (accRoot, leaf s = acc_s as int256), the last one must give its claimed value
/// (the final check), bisection finds the first partial sum the challenger disputes, and one step
/// checks acc_s = acc_{s-1} + term_s. Three sums:
/// - MIX (attn_mix, always): N = p + 1 terms P_s v_sj (src/runtime/trace/mix.ts); final
///   sat32(roundShift(acc, 16)).
/// - PROJECTION (input longer than ctx.partElements, e.g. down at large ffn): N parts of
///   partElements inputs, term = sum row_j xq_j over the part, quantized with the whole input's
///   maximum amax; final sat32(roundShift(acc m mx, e + ex)).
/// - SOFTMAX (rows longer than ctx.partElements): N parts of the head's scores, term =
///   sum expQ30(x_j - mx), mx the head's maximum; final roundDiv(expQ30(x - mx) 2^16, acc).
/// A maximum (amax, mx) is posted with an element equal to it; the challenger may show an
/// element above it instead of bisecting (`maxBroken`).
/// @dev A linked library; the game calls it by DELEGATECALL.
library SumLib {
    uint8 internal constant NONE = 0;
    uint8 internal constant MIX = 1;
    uint8 internal constant PROJECTION = 2;
    uint8 internal constant SOFTMAX = 3;

    error NotASum(uint256 kind);
    error WrongOpenings(uint8 sum, uint256 vectors, uint256 weights);
    error PartNotAligned(uint256 firstChunk);

    /// @dev Which sum element ctx.element of the disputed op is played as (NONE: a direct step).
    function kindOf(StepContext memory ctx) internal pure returns (uint8) {
        if (ctx.kind == S.ATTN_MIX) return MIX;
        if (S.isProjection(ctx.kind)) {
            uint256 cols = ctx.kind == S.DOWN ? ctx.config.ffn : ctx.config.dim;
            return cols > ctx.partElements ? PROJECTION : NONE;
        }
        if (ctx.kind == S.SOFTMAX && ctx.pos + 1 > ctx.partElements) return SOFTMAX;
        return NONE;
    }

    /// @dev The number of partial sums.
    function count(StepContext memory ctx, uint8 sum) internal pure returns (uint256) {
        if (sum == MIX) return ctx.pos + 1;
        uint256 n = sum == PROJECTION ? (ctx.kind == S.DOWN ? ctx.config.ffn : ctx.config.dim) : ctx.pos + 1;
        return (n + ctx.partElements - 1) / ctx.partElements;
    }

    function expect(SumOpenings calldata o, uint8 sum, uint256 vectors, uint256 weights) private pure {
        if (o.vectors.length != vectors || o.weights.length != weights) {
            revert WrongOpenings(sum, o.vectors.length, o.weights.length);
        }
    }

    /// @notice The final check's value from the last partial sum, and the posted maximum (0 for
    /// MIX). PROJECTION: vectors [the input's chunk holding element `hint`, |x_hint| = amax],
    /// weights [the row]. SOFTMAX: vectors [the scores chunk holding the head's element `hint`
    /// (its maximum), the chunk holding the disputed element's own score].
    function final_(StepContext memory ctx, uint8 sum, int256 last, SumOpenings calldata o)
        external
        view
        returns (int256 value, int256 param)
    {
        if (sum == MIX) {
            expect(o, sum, 0, 0);
            return (OneStepAttentionLib.attnMixFinal(last), 0);
        }
        if (sum == PROJECTION) {
            expect(o, sum, 1, 1);
            (uint256 leaf, uint256 cols) = S.rowLeaf(ctx.config, ctx.layer, ctx.kind, ctx.element);
            WeightOpening calldata w = o.weights[0];
            int256 bias = StepLib.rowData(ctx.config, w, ctx.kind, cols);
            P.weight(ctx, w, leaf);
            int256 x = projectionElement(ctx, o.vectors[0], o.hint);
            uint256 amax = uint256(x < 0 ? -x : x);
            int256 value =
                OneStepLib.projectionFinal(last, amax, StepLib.le32(w.data, cols), StepLib.le32(w.data, cols + 4), bias);
            return (value, int256(amax));
        }
        expect(o, sum, 2, 0);
        int256 mx = headScore(ctx, o.vectors[0], o.hint);
        int256 own = headScore(ctx, o.vectors[1], ctx.element % (ctx.pos + 1));
        return (OneStepAttentionLib.softmaxFinal(own, mx, last), mx);
    }

    /// @notice term_s. MIX: vectors [softmax chunk holding P_s, v chunk of position s holding
    /// v_sj]. PROJECTION: vectors [part s of the input], weights [the row]. SOFTMAX: vectors
    /// [part s of the head's scores].
    function term(StepContext memory ctx, uint8 sum, int256 param, uint256 s, SumOpenings calldata o)
        external
        view
        returns (int256)
    {
        uint256 n = ctx.pos + 1;
        if (sum == MIX) {
            expect(o, sum, 2, 0);
            uint256 hd = ctx.config.headDim;
            uint256 h = ctx.element / hd;
            uint256 g = h / (ctx.config.nHeads / ctx.config.nKvHeads);
            int256 prob =
                P.element(o.vectors[0].chunks, P.opening(ctx, o.vectors[0], ctx.pos, ctx.layer, S.SOFTMAX, h * n + s, 1));
            int256 v = P.element(
                o.vectors[1].chunks, P.opening(ctx, o.vectors[1], s, ctx.layer, S.V, g * hd + ctx.element % hd, 1)
            );
            return OneStepAttentionLib.attnMixStep(0, prob, v);
        }
        uint256 k = ctx.partElements;
        if (sum == PROJECTION) {
            expect(o, sum, 1, 1);
            (uint256 leaf, uint256 cols) = S.rowLeaf(ctx.config, ctx.layer, ctx.kind, ctx.element);
            uint256 from = s * k;
            uint256 len = cols - from < k ? cols - from : k;
            VectorOpening calldata x = o.vectors[0];
            // Parts start on chunk boundaries (partElements is a multiple of 8).
            if (x.firstChunk << 3 != from || x.chunks.length != S.chunkCount(len) << 5) {
                revert PartNotAligned(x.firstChunk);
            }
            (uint256 li, uint256 ki) = StepLib.projectionInput(ctx.layer, ctx.kind);
            P.opening(ctx, x, ctx.pos, li, ki, from, len);
            WeightOpening calldata w = o.weights[0];
            StepLib.rowData(ctx.config, w, ctx.kind, cols);
            P.weight(ctx, w, leaf);
            return OneStepLib.projectionPartial(x.chunks, w.data[from:from + len], uint256(param), 0);
        }
        expect(o, sum, 1, 0);
        uint256 h = ctx.element / n;
        uint256 start = s * k;
        uint256 count_ = n - start < k ? n - start : k;
        uint256 off = P.opening(ctx, o.vectors[0], ctx.pos, ctx.layer, S.SCORES, h * n + start, count_);
        return OneStepAttentionLib.softmaxPartial(o.vectors[0].chunks, off, count_, param, 0);
    }

    /// @notice Whether an element shows the posted maximum is not one: PROJECTION, vectors [the
    /// input's chunk holding element `hint`] with |x_hint| > amax; SOFTMAX, vectors [the scores
    /// chunk holding the head's element `hint`] above mx.
    function maxBroken(StepContext memory ctx, uint8 sum, int256 param, SumOpenings calldata o)
        external
        view
        returns (bool)
    {
        if (sum == MIX) revert NotASum(ctx.kind);
        expect(o, sum, 1, 0);
        if (sum == PROJECTION) {
            int256 x = projectionElement(ctx, o.vectors[0], o.hint);
            return (x < 0 ? -x : x) > param;
        }
        return headScore(ctx, o.vectors[0], o.hint) > param;
    }

    /// @dev Element j of the projection's input vector.
    function projectionElement(StepContext memory ctx, VectorOpening calldata o, uint256 j)
        private
        view
        returns (int256)
    {
        (uint256 li, uint256 ki) = StepLib.projectionInput(ctx.layer, ctx.kind);
        return P.element(o.chunks, P.opening(ctx, o, ctx.pos, li, ki, j, 1));
    }

    /// @dev Score j (< p + 1) of the disputed element's head.
    function headScore(StepContext memory ctx, VectorOpening calldata o, uint256 j) private view returns (int256) {
        uint256 n = ctx.pos + 1;
        if (j >= n) revert P.OpeningRange(j, 1, o.firstChunk, o.chunks.length >> 5);
        uint256 h = ctx.element / n;
        return P.element(o.chunks, P.opening(ctx, o, ctx.pos, ctx.layer, S.SCORES, h * n + j, 1));
    }
}
