// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ExpLib} from "./ExpLib.sol";
import {FixedMathLib as M} from "./FixedMathLib.sol";
import {PrngLib} from "./PrngLib.sol";
import {QuantLib} from "./QuantLib.sol";
import {RopeLib} from "./RopeLib.sol";
import {SamplerLib, SamplingParams} from "./SamplerLib.sol";
import {TraceMerkleLib} from "./TraceMerkleLib.sol";
import {VecLib} from "./VecLib.sol";

/// @title OneStepLib
/// @notice The dispute game's one-step check: one output element of any op, recomputed from the
/// op's inputs bit for bit as `recomputeElement` (src/runtime/trace/recompute.ts) does, plus the
/// commitments that bind those inputs (vecRoot, weight row leaves).
/// @dev A linked library; the game calls it by DELEGATECALL. Vectors are `bytes` in the form
/// their vecRoot hashes: int32 little-endian, zero-padded to 32-byte chunks (`n` elements take
/// max(1, ceil(n / 8)) chunks); weight rows are their int8 bytes. A slice argument (`off`,
/// `len`) names elements [off, off + len) of such bytes, for inputs that are part of a vector
/// (a head's scores start mid-chunk).
library OneStepLib {
    error ElementOutOfRange(uint256 element, uint256 length);

    /* COMMITMENTS */

    /// @notice The vecRoot of a vector's chunk bytes (trace leaf = sha256(opId || vecRoot)).
    function vecRoot(bytes calldata chunks) external view returns (bytes32) {
        return TraceMerkleLib.vecRoot(chunks);
    }

    /// @notice A weight row's modelRoot leaf: sha256(int8 row || int32le m || int32le e).
    function rowLeaf(bytes calldata row, int256 m, int256 e) external view returns (bytes32) {
        return TraceMerkleLib.rowLeaf(row, m, e);
    }

    /// @notice A norm vector's modelRoot leaf: sha256 of its int32le values (unpadded).
    function normLeaf(bytes calldata g) external pure returns (bytes32) {
        return TraceMerkleLib.normLeaf(g);
    }

    /* OPS */

    /// @notice embed: element j of the token's embedding row, sat32(roundShift(q_j m, e - 16)).
    function embed(bytes calldata row, int256 m, int256 e, uint256 j) external pure returns (int256) {
        if (j >= row.length) revert ElementOutOfRange(j, row.length);
        return M.sat32RoundShift(int256(int8(uint8(row[j]))) * m, e - 16);
    }

    /// @notice attn_norm, ffn_norm, final_norm: element j of rmsnorm(x) with its weight g_j.
    function rmsnorm(bytes calldata x, uint256 n, uint256 j, int256 g, int256 epsQ) external pure returns (int256) {
        VecLib.requireVector(x, n);
        if (j >= n) revert ElementOutOfRange(j, n);
        uint256 amax = VecLib.maxAbs(VecLib.start(x), n);
        if (amax == 0) return 0;
        int256 sh = int256(M.bitLength(amax)) - 20;
        if (sh < -8) sh = -8;
        // ss <= n 2^40 (|xs| <= 2^20); floorDiv of a non-negative sum is `/`.
        int256 ss = int256(VecLib.sumSquares(VecLib.start(x), n, sh));
        int256 ms = ss / int256(n) + roundShift(epsQ, 8 + 2 * sh);
        int256 r = M.isqrtSigned(ms * 4096);
        return M.sat32(M.roundDivSym(roundShift(VecLib.get(VecLib.start(x), j), sh) * g * 64, r));
    }

    /// @notice q, k, v, attn_out, gate, up, down, logits: the output element of weight row
    /// (row, m, e) applied to x, whose length is the row's.
    function projection(bytes calldata x, bytes calldata row, int256 m, int256 e) external pure returns (int256) {
        uint256 n = row.length;
        VecLib.requireVector(x, n);
        uint256 amax = VecLib.maxAbs(VecLib.start(x), n);
        if (amax == 0) return 0;
        (int256 mx, int256 ex) = QuantLib.activationScale(amax);
        int256 acc = QuantLib.dotQuantized(VecLib.start(x), VecLib.start(row), n, mx, ex);
        // |acc| < 2^14 n and m mx < 2^24 for honest rows (m < 2^12): exact as in recompute.ts.
        return M.sat32RoundShift(acc * (m * mx), e + ex);
    }

    /// @notice q_rope, k_rope: element j (index within its head) of a rotated head, from its pair
    /// (x0, x1) = (x_2i, x_2i+1), i = floor(j / 2), at position pos. The model's rope base comes
    /// as its IEEE 754 double bits (as in the config bytes). j >= ropeDim passes through.
    function rope(int256 x0, int256 x1, uint256 pos, uint256 j, uint256 ropeDim, uint64 thetaBits)
        external
        pure
        returns (int256)
    {
        if (j >= ropeDim) return j & 1 == 0 ? x0 : x1;
        (int256 c, int256 s) = RopeLib.cosSinQ20(thetaBits, pos, j >> 1, ropeDim);
        // |x c| <= 2^51: far inside int256.
        int256 v = j & 1 == 0 ? x0 * c - x1 * s : x0 * s + x1 * c;
        return M.sat32(M.roundShiftRight(v, 20));
    }

    /// @notice The RoPE inverse frequency of pair i in 96-bit fixed point (rope.ts).
    function ropeInvFreq(uint64 thetaBits, uint256 i, uint256 ropeDim) external pure returns (int256) {
        return RopeLib.invFreq(thetaBits, i, ropeDim);
    }

    /// @notice cos and sin of pos * invFreq_i in Q20 (one entry of rope.ts `ropeRow`).
    function ropeCosSin(uint64 thetaBits, uint256 pos, uint256 i, uint256 ropeDim)
        external
        pure
        returns (int256 c, int256 s)
    {
        return RopeLib.cosSinQ20(thetaBits, pos, i, ropeDim);
    }

    /// @notice scores: the score of one query head against one key, each headDim elements at
    /// element offsets qOff and kOff of the given bytes.
    function score(bytes calldata q, uint256 qOff, bytes calldata k, uint256 kOff, uint256 headDim)
        external
        pure
        returns (int256)
    {
        uint256 qb = VecLib.slice(q, qOff, headDim);
        uint256 kb = VecLib.slice(k, kOff, headDim);
        uint256 shq = shift15(VecLib.maxAbs(qb, headDim));
        uint256 shk = shift15(VecLib.maxAbs(kb, headDim));
        int256 dot = VecLib.dotShifted(qb, kb, headDim, shq, shk);
        // c = roundDiv(2^32, isqrt(d 2^32)), about 2^16 / sqrt(d); dot c < 2^50.
        int256 c = M.roundDiv(1 << 32, int256(M.isqrt(headDim << 32)));
        return M.sat32RoundShift(dot * c, 32 - int256(shq) - int256(shk));
    }

    /// @notice softmax: element s of one head's probabilities, its len scores at [off, off + len).
    function softmax(bytes calldata scores, uint256 off, uint256 len, uint256 s) external pure returns (int256) {
        if (s >= len) revert ElementOutOfRange(s, len);
        uint256 base = VecLib.slice(scores, off, len);
        int256 mx = VecLib.maxSigned(base, len);
        bytes memory tbl = ExpLib.table();
        // sum >= 2^30 (the maximum's term); numerators below 2^48.
        int256 sum = ExpLib.sumExp(base, len, mx, tbl);
        int256 es = ExpLib.expQ30(VecLib.get(base, s) - mx, tbl);
        return (2 * es * 65536 + sum) / (2 * sum);
    }

    /// @notice attn_mix, whole sum: sat32(roundShift(sum_s P_s v_s, 16)) for one output element,
    /// the head's len probabilities at [pOff, pOff + len) and the element's value at each
    /// position packed as a vector of len.
    function attnMix(bytes calldata probs, uint256 pOff, bytes calldata values, uint256 len)
        external
        pure
        returns (int256)
    {
        uint256 pb = VecLib.slice(probs, pOff, len);
        uint256 vb = VecLib.slice(values, 0, len);
        return M.sat32(M.roundShiftRight(VecLib.dot(pb, vb, len), 16));
    }

    /// @notice attn_mix, one step of the running sum the game bisects: acc_s = acc_{s-1} + P_s v_s
    /// (acc_{-1} = 0). |acc| < 2^51 for any prefix (docs/DETERMINISM.md, "attention mix").
    function attnMixStep(int256 acc, int256 p, int256 v) external pure returns (int256) {
        return acc + p * v;
    }

    /// @notice attn_mix from the finished sum: sat32(roundShift(acc, 16)).
    function attnMixFinal(int256 acc) external pure returns (int256) {
        return M.sat32(M.roundShiftRight(acc, 16));
    }

    /// @notice resid_attn, resid_ffn: sat32(a + b).
    function residual(int256 a, int256 b) external pure returns (int256) {
        return M.sat32(a + b);
    }

    /// @notice swiglu: silu(g) * u in Q16, as ops/swiglu.ts splits it (u = uh 2^16 + ul).
    function swiglu(int256 g, int256 u) external pure returns (int256) {
        int256 silu = M.sat32(M.roundShiftRight(g * ExpLib.sigmoidQ16(g, ExpLib.table()), 16));
        int256 uh = u >> 16; // floor
        return M.sat32(silu * uh + M.roundShiftRight(silu * (u - uh * 65536), 16));
    }

    /// @notice sample: the sample entry [token, s0, s1, s2, s3] (the PRNG words after the draw
    /// as int32, as the trace stores them) from the n logits, the state before the draw (the
    /// previous sample entry's words as uint32, or `prngSeed`), the request's parameters and the
    /// caller's `order` hint (SamplerLib: the candidate prefix, big-endian uint32 indices).
    function sample(
        bytes calldata logits,
        uint256 n,
        SamplingParams calldata params,
        uint32[4] calldata state,
        bytes calldata order
    ) external pure returns (int256[5] memory out) {
        (uint256 token, uint32[4] memory next) = SamplerLib.sample(logits, n, params, state, order);
        out[0] = int256(token);
        for (uint256 i = 0; i < 4; i++) {
            out[i + 1] = int256(int32(next[i]));
        }
    }

    /// @notice The PRNG state a request starts from (seed < 2^53).
    function prngSeed(uint256 seed) external pure returns (uint32[4] memory) {
        return PrngLib.seed(seed);
    }

    /* HELPERS */

    /// @dev roundShift for the small shifts of rmsnorm (s >= -8, |v| < 2^41).
    function roundShift(int256 v, int256 s) private pure returns (int256) {
        return s >= 0 ? M.roundShiftRight(v, uint256(s)) : v * int256(1 << uint256(-s));
    }

    /// @dev max(0, bitLength(amax) - 15): the attention operands' shift to 15 bits.
    function shift15(uint256 amax) private pure returns (uint256) {
        uint256 b = M.bitLength(amax);
        return b > 15 ? b - 15 : 0;
    }
}
