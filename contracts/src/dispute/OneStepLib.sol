// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ExpLib} from "./ExpLib.sol";
import {FixedMathLib as M} from "./FixedMathLib.sol";
import {QuantLib} from "./QuantLib.sol";
import {RopeLib} from "./RopeLib.sol";
import {TraceMerkleLib} from "./TraceMerkleLib.sol";
import {VecLib} from "./VecLib.sol";

/// @title OneStepLib
/// @notice The dispute game's one-step check: one output element of any op, recomputed from the
/// op's inputs bit for bit as `recomputeElement` (src/runtime/trace/recompute.ts) does, plus the
/// commitments that bind those inputs (vecRoot, which is also a norm's leaf, weight row leaves).
/// The attention ops are in OneStepAttentionLib and the sampler step in OneStepSamplerLib (one
/// library would not fit a contract's 24 KB).
/// @dev A linked library; the game calls it by DELEGATECALL. Vectors are `bytes` in the form
/// their vecRoot hashes: int32 little-endian, zero-padded to 32-byte chunks (`n` elements take
/// max(1, ceil(n / 8)) chunks); weight rows are their int8 bytes. A slice argument (`off`,
/// `len`) names elements [off, off + len) of such bytes, for inputs that are part of a vector
/// (a head's scores start mid-chunk).
library OneStepLib {
    error ElementOutOfRange(uint256 element, uint256 length);

    /* COMMITMENTS */

    /// @notice The vecRoot of a vector's chunk bytes (trace leaf = sha256(opId || vecRoot); a
    /// norm's modelRoot leaf is the vecRoot of its Q16 values).
    function vecRoot(bytes calldata chunks) external view returns (bytes32) {
        return TraceMerkleLib.vecRoot(chunks);
    }

    /// @notice A weight row's modelRoot leaf: sha256(int8 row || int32le m || int32le e).
    function rowLeaf(bytes calldata row, int256 m, int256 e) external view returns (bytes32) {
        return TraceMerkleLib.rowLeaf(row, m, e);
    }

    /* OPS */

    /// @notice embed: element j of the token's embedding row, sat32(roundShift(q_j m, e - 16)).
    function embed(bytes calldata row, int256 m, int256 e, uint256 j) external pure returns (int256) {
        if (j >= row.length) revert ElementOutOfRange(j, row.length);
        return M.sat32RoundShift(int256(int8(uint8(row[j]))) * m, e - 16);
    }

    /// @notice attn_norm, ffn_norm, final_norm: element j of rmsnorm(x) with its weight g_j.
    /// `jmax` is an index of a largest |x| (a hint: checked against every element, not searched).
    function rmsnorm(bytes calldata x, uint256 n, uint256 j, int256 g, int256 epsQ, uint256 jmax)
        external
        pure
        returns (int256)
    {
        VecLib.requireVector(x, n);
        if (j >= n) revert ElementOutOfRange(j, n);
        uint256 amax = maxAt(x, n, jmax);
        (uint256 ssu, bool above) = VecLib.sumSquares(VecLib.start(x), n, normShift(amax), amax);
        if (above) revert QuantLib.NotTheMaximum(jmax);
        if (amax == 0) return 0;
        int256 sh = normShift(amax);
        // ss <= n 2^40 (|xs| <= 2^20); floorDiv of a non-negative sum is `/`.
        int256 ms = int256(ssu) / int256(n) + roundShift(epsQ, 8 + 2 * sh);
        int256 r = M.isqrtSigned(ms * 4096);
        return M.sat32(M.roundDivSym(roundShift(VecLib.get(VecLib.start(x), j), sh) * g * 64, r));
    }

    /// @notice q, k, v, attn_out, gate, up, down, logits: the output element of weight row
    /// (row, m, e) applied to x, whose length is the row's, plus the row's Q16 bias (q, k and v
    /// rows of a model with attention biases; 0 otherwise), saturating:
    /// sat32(roundShift(acc m mx, e + ex) + bias). `jmax` is an index of a largest |x| (a hint,
    /// checked).
    function projection(bytes calldata x, bytes calldata row, int256 m, int256 e, int256 bias, uint256 jmax)
        external
        pure
        returns (int256)
    {
        VecLib.requireVector(x, row.length);
        uint256 amax = maxAt(x, row.length, jmax);
        return finish(dot(x, row, amax, jmax), amax, m, e, bias);
    }

    /// @notice A long projection split into steps, as the game bisects a long sum: acc plus this
    /// part's sum_j row_j xq_j, for x's elements in whole chunks (the last one padded) and the
    /// matching row bytes, quantized with the whole vector's maximum amax (checked >= every
    /// |x_j| here; the game must also check that some element equals it).
    function projectionPartial(bytes calldata x, bytes calldata row, uint256 amax, int256 acc)
        external
        pure
        returns (int256)
    {
        VecLib.requireVector(x, row.length);
        if (amax > 1 << 31) revert QuantLib.NotTheMaximum(amax);
        return acc + dot(x, row, amax, amax);
    }

    /// @notice The projection's output from its finished sum, the vector's maximum and the
    /// row's bias (0 without).
    function projectionFinal(int256 acc, uint256 amax, int256 m, int256 e, int256 bias)
        external
        pure
        returns (int256)
    {
        return finish(acc, amax, m, e, bias);
    }

    /// @notice q_rope, k_rope: element j (index within its head) of a rotated head at position
    /// pos, from its pair (xa, xb) (recompute.ts). NORM (llama): the pair (2i, 2i + 1), i =
    /// floor(j / 2), j is its first when even. NEOX (qwen2): the pair (i, i + ropeDim / 2), i = j
    /// mod ropeDim / 2, j is its first when j < ropeDim / 2. The rope base comes as its IEEE 754
    /// double bits (as in the config bytes), pair i's frequency factor as float32 bits (0: none).
    /// j >= ropeDim passes through: xa is x_j.
    function rope(
        int256 xa,
        int256 xb,
        uint256 pos,
        uint256 j,
        uint256 ropeDim,
        bool neox,
        uint64 thetaBits,
        uint32 factorBits
    ) external pure returns (int256) {
        if (j >= ropeDim) return xa;
        uint256 half = ropeDim >> 1;
        (uint256 i, bool first) = neox ? (j % half, j < half) : (j >> 1, j & 1 == 0);
        (int256 c, int256 s) = RopeLib.cosSinQ20(thetaBits, pos, i, ropeDim, factorBits);
        // |x c| <= 2^51: far inside int256.
        int256 v = first ? xa * c - xb * s : xa * s + xb * c;
        return M.sat32(M.roundShiftRight(v, 20));
    }

    /// @notice The RoPE inverse frequency of pair i in 96-bit fixed point (rope.ts), divided by
    /// the pair's frequency factor (float32 bits; 0: none).
    function ropeInvFreq(uint64 thetaBits, uint256 i, uint256 ropeDim, uint32 factorBits)
        external
        pure
        returns (int256)
    {
        return RopeLib.invFreq(thetaBits, i, ropeDim, factorBits);
    }

    /// @notice cos and sin of pos * invFreq_i in Q20 (one entry of rope.ts `ropeRow`).
    function ropeCosSin(uint64 thetaBits, uint256 pos, uint256 i, uint256 ropeDim, uint32 factorBits)
        external
        pure
        returns (int256 c, int256 s)
    {
        return RopeLib.cosSinQ20(thetaBits, pos, i, ropeDim, factorBits);
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

    /* HELPERS */

    /// @dev |x_jmax| for jmax < n.
    function maxAt(bytes calldata x, uint256 n, uint256 jmax) private pure returns (uint256) {
        if (jmax >= n) revert ElementOutOfRange(jmax, n);
        int256 v = VecLib.get(VecLib.start(x), jmax);
        return uint256(v < 0 ? -v : v);
    }

    /// @dev rmsnorm's shift: max(bitLength(amax) - 20, -8).
    function normShift(uint256 amax) private pure returns (int256 sh) {
        sh = int256(M.bitLength(amax)) - 20;
        if (sh < -8) sh = -8;
    }

    /// @dev sum_j row_j xq_j with the scale of amax; reverts with `hint` if some |x_j| > amax.
    /// For amax = 0 every x_j is 0 and any scale gives 0: (2048, 0) is used.
    function dot(bytes calldata x, bytes calldata row, uint256 amax, uint256 hint) private pure returns (int256) {
        (int256 mx, int256 ex) = amax == 0 ? (int256(2048), int256(0)) : QuantLib.activationScale(amax);
        return QuantLib.dotQuantized(VecLib.start(x), VecLib.start(row), row.length, amax, mx, ex, hint);
    }

    /// @dev y = sat32(roundShift(acc m mx, e + ex) + bias); sat32(bias) for an all-zero vector.
    /// |acc| < 2^14 n and m mx < 2^24 for honest rows (m < 2^12): exact as in recompute.ts.
    function finish(int256 acc, uint256 amax, int256 m, int256 e, int256 bias) private pure returns (int256) {
        if (amax == 0) return M.sat32(bias);
        (int256 mx, int256 ex) = QuantLib.activationScale(amax);
        if (bias == 0) return M.sat32RoundShift(acc * (m * mx), e + ex);
        return M.sat32RoundShiftAdd(acc * (m * mx), e + ex, bias);
    }

    /// @dev roundShift for the small shifts of rmsnorm (s >= -8, |v| < 2^41).
    function roundShift(int256 v, int256 s) private pure returns (int256) {
        return s >= 0 ? M.roundShiftRight(v, uint256(s)) : v * int256(1 << uint256(-s));
    }
}
