// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {StepContext, StepProof, VectorOpening, WeightOpening} from "./DisputeTypes.sol";
import {OneStepAttentionLib} from "./OneStepAttentionLib.sol";
import {OneStepLib} from "./OneStepLib.sol";
import {OneStepSamplerLib} from "./OneStepSamplerLib.sol";
import {ModelConfig, ScheduleLib as S} from "./ScheduleLib.sol";
import {SamplingParams} from "./SamplerLib.sol";
import {TraceProofLib as P} from "./TraceProofLib.sol";

/// @title StepLib
/// @notice The dispute game's one step: element e of the disputed op recomputed from inputs the
/// challenger proves where the schedule puts them (src/runtime/trace/onestep.ts, `oneStepVectors`
/// and `oneStepWeights`), with the one-step kernels (OneStepLib, OneStepAttentionLib,
/// OneStepSamplerLib). Inputs, in the order `vectors` must give them:
/// - embed: the token (prompt token p under the prompt's root, or sample at p - 1); the
///   embedding row.
/// - rmsnorm: the whole input vector; the chunk of the norm weights that holds g_e (the norm's
///   modelRoot leaf is the vecRoot of its values; the proof is the chunk's, then the leaf's).
/// - projections: the whole input vector; the weight row (with its bias for q, k, v rows of a
///   model with attention biases).
/// - rope: the chunks holding the element's pair in q (or k): (2i, 2i + 1) for NORM, (i, i +
///   ropeDim / 2) for NEOX, the element alone past ropeDim; with rope frequency factors, the
///   config leaf (modelRoot leaf 0) as the one weight.
/// - scores: the head's query slice in q_rope; the KV head's key slice of k_rope at position s.
/// - softmax: the head's scores.
/// - residual adds, swiglu: the element in each of the two inputs.
/// - sample: the whole logits; the previous sample (p > T - 1).
/// attn_mix, long projections and long softmax rows are played as sums (SumLib).
/// @dev A linked library; the game calls it by DELEGATECALL.
library StepLib {
    error WrongInputs(uint256 kind, uint256 vectors, uint256 weights);
    error UseSumGame(uint256 kind);
    error WeightBytes(uint256 length, uint256 expected);
    error NotWholeVector(uint256 kind);

    /// @notice The value element ctx.element of the disputed op has when computed from the
    /// proven inputs. Reverts (naming the problem) when an input is not where the schedule puts it.
    function recompute(StepContext memory ctx, StepProof calldata p) external view returns (int256) {
        uint256 kind = ctx.kind;
        // A lane past the op's length is padding: zero in an honest chunk.
        if (ctx.element >= S.opLength(ctx.config, ctx.pos, kind)) return 0;
        if (kind == S.EMBED) return embed(ctx, p);
        if (S.isNorm(kind)) return rmsnorm(ctx, p);
        if (S.isProjection(kind)) return projection(ctx, p);
        if (kind == S.Q_ROPE || kind == S.K_ROPE) return rope(ctx, p);
        if (kind == S.SCORES) return scores(ctx, p);
        if (kind == S.SOFTMAX) return softmax(ctx, p);
        if (kind == S.RESID_ATTN || kind == S.RESID_FFN || kind == S.SWIGLU) return pairwise(ctx, p);
        if (kind == S.SAMPLE) return sample(ctx, p);
        revert UseSumGame(kind);
    }

    function expect(StepProof calldata p, uint256 kind, uint256 vectors, uint256 weights) private pure {
        if (p.vectors.length != vectors || p.weights.length != weights) {
            revert WrongInputs(kind, p.vectors.length, p.weights.length);
        }
    }

    function embed(StepContext memory ctx, StepProof calldata p) private view returns (int256) {
        expect(p, S.EMBED, 1, 1);
        uint256 token;
        if (ctx.pos < ctx.promptLength) {
            token = P.promptToken(ctx, p.vectors[0], ctx.pos);
        } else {
            uint256 off = P.opening(ctx, p.vectors[0], ctx.pos - 1, S.NO_LAYER, S.SAMPLE, 0, 1);
            token = uint256(int256(P.element(p.vectors[0].chunks, off)));
        }
        uint256 dim = ctx.config.dim;
        WeightOpening calldata w = p.weights[0];
        rowData(ctx.config, w, S.EMBED, dim);
        P.weight(ctx, w, S.embedLeaf(ctx.config, token));
        return OneStepLib.embed(w.data[0:dim], le32(w.data, dim), le32(w.data, dim + 4), ctx.element);
    }

    function rmsnorm(StepContext memory ctx, StepProof calldata p) private view returns (int256) {
        expect(p, ctx.kind, 1, 1);
        ModelConfig memory c = ctx.config;
        (uint256 layerIn, uint256 kindIn) = normInput(c, ctx.layer, ctx.kind);
        VectorOpening calldata x = whole(ctx, p.vectors[0], ctx.pos, layerIn, kindIn);
        // g_j: the chunk of the norm that holds j, under the norm's leaf (its vecRoot).
        WeightOpening calldata g = p.weights[0];
        if (g.data.length != 32) revert WeightBytes(g.data.length, 32);
        P.normWeight(ctx, g, S.normLeaf(c, ctx.layer, ctx.kind), ctx.element >> 3, S.chunkCount(c.dim));
        return OneStepLib.rmsnorm(x.chunks, c.dim, ctx.element, le32(g.data, 4 * (ctx.element & 7)), c.epsQ, p.hint);
    }

    function projection(StepContext memory ctx, StepProof calldata p) private view returns (int256) {
        expect(p, ctx.kind, 1, 1);
        (uint256 leaf, uint256 cols) = S.rowLeaf(ctx.config, ctx.layer, ctx.kind, ctx.element);
        if (cols > ctx.partElements) revert UseSumGame(ctx.kind);
        (uint256 layerIn, uint256 kindIn) = projectionInput(ctx.layer, ctx.kind);
        VectorOpening calldata x = whole(ctx, p.vectors[0], ctx.pos, layerIn, kindIn);
        WeightOpening calldata w = p.weights[0];
        int256 bias = rowData(ctx.config, w, ctx.kind, cols);
        P.weight(ctx, w, leaf);
        return OneStepLib.projection(
            x.chunks, w.data[0:cols], le32(w.data, cols), le32(w.data, cols + 4), bias, p.hint
        );
    }

    /// @dev The element's pair (xa, xb) in q (or k), opened as one range [ia, ib] of the head:
    /// NORM (2i, 2i + 1), NEOX (i, i + ropeDim / 2); an element past ropeDim is its own range.
    /// With rope frequency factors the rotation also reads the config leaf (modelRoot leaf 0:
    /// the config bytes, then the tokenizer digest) for factor i.
    function rope(StepContext memory ctx, StepProof calldata p) private view returns (int256) {
        ModelConfig memory c = ctx.config;
        uint256 j = ctx.element % c.headDim;
        uint256 half = c.ropeDim >> 1;
        bool rotates = j < c.ropeDim;
        uint256 i = c.neox ? j % half : j >> 1;
        uint256 ia = ctx.element;
        uint256 ib = ia;
        if (rotates) {
            ia = ctx.element - j + (c.neox ? i : 2 * i);
            ib = ia + (c.neox ? half : 1);
        }
        bool factored = rotates && c.nFactors != 0;
        expect(p, ctx.kind, 1, factored ? 1 : 0);
        VectorOpening calldata v = p.vectors[0];
        uint256 off = P.opening(ctx, v, ctx.pos, ctx.layer, ctx.kind == S.Q_ROPE ? S.Q : S.K, ia, ib - ia + 1);
        int256 xa = P.element(v.chunks, off);
        if (!rotates) return xa;
        uint32 factor = factored ? ropeFactor(ctx, p.weights[0], i) : 0;
        return OneStepLib.rope(xa, P.element(v.chunks, off + ib - ia), ctx.pos, j, c.ropeDim, c.neox, c.thetaBits, factor);
    }

    /// @dev Rope frequency factor i (float32 bits) from the config leaf, opened under modelRoot
    /// at leaf 0: its bytes are the config bytes OpenLib parsed (75 + 4n of them, factor i at
    /// 75 + 4i) and the 32-byte tokenizer digest.
    function ropeFactor(StepContext memory ctx, WeightOpening calldata w, uint256 i) private view returns (uint32) {
        uint256 size = S.V2_HEADER + 4 * ctx.config.nFactors + 32;
        if (w.data.length != size) revert WeightBytes(w.data.length, size);
        P.weight(ctx, w, 0);
        uint256 at = S.V2_HEADER + 4 * i;
        return uint32(bytes4(w.data[at:at + 4]));
    }

    function scores(StepContext memory ctx, StepProof calldata p) private view returns (int256) {
        expect(p, S.SCORES, 2, 0);
        ModelConfig memory c = ctx.config;
        uint256 n = ctx.pos + 1;
        uint256 h = ctx.element / n;
        uint256 s = ctx.element % n;
        uint256 g = h / (c.nHeads / c.nKvHeads);
        uint256 hd = c.headDim;
        uint256 qOff = P.opening(ctx, p.vectors[0], ctx.pos, ctx.layer, S.Q_ROPE, h * hd, hd);
        uint256 kOff = P.opening(ctx, p.vectors[1], s, ctx.layer, S.K_ROPE, g * hd, hd);
        return OneStepAttentionLib.score(p.vectors[0].chunks, qOff, p.vectors[1].chunks, kOff, hd);
    }

    function softmax(StepContext memory ctx, StepProof calldata p) private view returns (int256) {
        expect(p, S.SOFTMAX, 1, 0);
        uint256 n = ctx.pos + 1;
        if (n > ctx.partElements) revert UseSumGame(S.SOFTMAX);
        uint256 h = ctx.element / n;
        uint256 off = P.opening(ctx, p.vectors[0], ctx.pos, ctx.layer, S.SCORES, h * n, n);
        return OneStepAttentionLib.softmax(p.vectors[0].chunks, off, n, ctx.element % n, p.hint);
    }

    /// @dev resid_attn (residual input + attn_out), resid_ffn (resid_attn + down), swiglu (gate, up).
    function pairwise(StepContext memory ctx, StepProof calldata p) private view returns (int256) {
        expect(p, ctx.kind, 2, 0);
        uint256 l = ctx.layer;
        uint256 e = ctx.element;
        (uint256 la, uint256 ka) = ctx.kind == S.RESID_ATTN
            ? (l == 0 ? (S.NO_LAYER, S.EMBED) : (l - 1, S.RESID_FFN))
            : (l, ctx.kind == S.RESID_FFN ? S.RESID_ATTN : S.GATE);
        uint256 kb = ctx.kind == S.RESID_ATTN ? S.ATTN_OUT : ctx.kind == S.RESID_FFN ? S.DOWN : S.UP;
        int256 a = P.element(p.vectors[0].chunks, P.opening(ctx, p.vectors[0], ctx.pos, la, ka, e, 1));
        int256 b = P.element(p.vectors[1].chunks, P.opening(ctx, p.vectors[1], ctx.pos, l, kb, e, 1));
        return ctx.kind == S.SWIGLU ? OneStepLib.swiglu(a, b) : OneStepLib.residual(a, b);
    }

    function sample(StepContext memory ctx, StepProof calldata p) private view returns (int256) {
        bool first = ctx.pos + 1 == ctx.promptLength;
        expect(p, S.SAMPLE, first ? 1 : 2, 0);
        uint256 vocab = ctx.config.vocab;
        VectorOpening calldata logits = whole(ctx, p.vectors[0], ctx.pos, S.NO_LAYER, S.LOGITS);
        uint32[4] memory state;
        if (first) {
            state = OneStepSamplerLib.prngSeed(ctx.seed);
        } else {
            // The PRNG words after the previous draw: elements 1..4 of sample at p - 1.
            uint256 off = P.opening(ctx, p.vectors[1], ctx.pos - 1, S.NO_LAYER, S.SAMPLE, 1, 4);
            for (uint256 i = 0; i < 4; i++) {
                state[i] = uint32(int32(P.element(p.vectors[1].chunks, off + i)));
            }
        }
        SamplingParams memory params = SamplingParams(ctx.temperatureMilli, ctx.topK, ctx.topPMilli);
        int256[5] memory out = OneStepSamplerLib.sample(logits.chunks, vocab, params, state, p.order);
        return out[ctx.element];
    }

    /* HELPERS */

    /// @dev An opening of a whole input vector (the kernels take every element).
    function whole(StepContext memory ctx, VectorOpening calldata o, uint256 s, uint256 layer, uint256 kind)
        private
        view
        returns (VectorOpening calldata)
    {
        uint256 length = S.opLength(ctx.config, s, kind);
        if (o.firstChunk != 0 || o.chunks.length != S.chunkCount(length) << 5) revert NotWholeVector(kind);
        P.opening(ctx, o, s, layer, kind, 0, length);
        return o;
    }

    /// @dev The rmsnorm's input: the residual stream entering the layer, or leaving the last one.
    function normInput(ModelConfig memory c, uint256 layer, uint256 kind) internal pure returns (uint256, uint256) {
        if (kind == S.ATTN_NORM) return layer == 0 ? (S.NO_LAYER, S.EMBED) : (layer - 1, S.RESID_FFN);
        if (kind == S.FFN_NORM) return (layer, S.RESID_ATTN);
        return (c.nLayers - 1, S.RESID_FFN);
    }

    /// @dev The projection's input vector.
    function projectionInput(uint256 layer, uint256 kind) internal pure returns (uint256, uint256) {
        if (kind == S.ATTN_OUT) return (layer, S.ATTN_MIX);
        if (kind == S.GATE || kind == S.UP) return (layer, S.FFN_NORM);
        if (kind == S.DOWN) return (layer, S.SWIGLU);
        if (kind == S.LOGITS) return (S.NO_LAYER, S.FINAL_NORM);
        return (layer, S.ATTN_NORM);
    }

    /// @dev Checks a weight row leaf's length: `cols` int8 values, int32le m and e, and for the
    /// q, k and v rows of a model with attention biases an int32le Q16 bias. Returns the bias
    /// (0 without).
    function rowData(ModelConfig memory c, WeightOpening calldata w, uint256 kind, uint256 cols)
        internal
        pure
        returns (int256)
    {
        bool biased = c.attnBias && (kind == S.Q || kind == S.K || kind == S.V);
        uint256 size = cols + (biased ? 12 : 8);
        if (w.data.length != size) revert WeightBytes(w.data.length, size);
        return biased ? le32(w.data, cols + 8) : int256(0);
    }

    /// @dev The int32 little-endian at byte `at`.
    function le32(bytes calldata d, uint256 at) internal pure returns (int256) {
        uint32 v = uint32(bytes4(d[at:at + 4]));
        return int256(int32((v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24)));
    }
}
