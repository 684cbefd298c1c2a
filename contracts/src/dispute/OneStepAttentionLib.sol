// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ExpLib} from "./ExpLib.sol";
import {FixedMathLib as M} from "./FixedMathLib.sol";
import {QuantLib} from "./QuantLib.sol";
import {VecLib} from "./VecLib.sol";

/// @title OneStepAttentionLib
/// @notice The dispute game's one-step check of the attention ops (scores, softmax, attn_mix),
/// bit for bit as `recomputeElement` (src/runtime/trace/recompute.ts); OneStepLib has the others.
/// Long sums (softmax's denominator, the mix over positions) also come as steps the game can
/// bisect instead of proving every position's input at once.
/// @dev A linked library; the game calls it by DELEGATECALL. Vectors as in OneStepLib.
library OneStepAttentionLib {
    error ElementOutOfRange(uint256 element, uint256 length);
    error EmptySum();

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
    /// `jmax` is the index (in the slice) of a largest score (a hint, checked).
    function softmax(bytes calldata scores, uint256 off, uint256 len, uint256 s, uint256 jmax)
        external
        pure
        returns (int256)
    {
        if (s >= len) revert ElementOutOfRange(s, len);
        if (jmax >= len) revert ElementOutOfRange(jmax, len);
        uint256 base = VecLib.slice(scores, off, len);
        int256 mx = VecLib.get(base, jmax);
        bytes memory tbl = ExpLib.table();
        // sum >= 2^30 (the maximum's term); numerators below 2^48.
        (int256 sum, bool above) = ExpLib.sumExp(base, len, mx, tbl);
        if (above) revert QuantLib.NotTheMaximum(jmax);
        int256 es = ExpLib.expQ30(VecLib.get(base, s) - mx, tbl);
        return (2 * es * 65536 + sum) / (2 * sum);
    }

    /// @notice A long softmax denominator split into steps, as the game bisects a long sum: acc
    /// plus sum_j expQ30(x_j - mx) over the scores at [off, off + len), mx the head's maximum
    /// (checked >= every score here; the game must also check that some score equals it).
    function softmaxPartial(bytes calldata scores, uint256 off, uint256 len, int256 mx, int256 acc)
        external
        pure
        returns (int256)
    {
        if (mx > M.INT32_MAX || mx < -M.INT32_MAX) revert QuantLib.NotTheMaximum(uint256(mx));
        (int256 sum, bool above) = ExpLib.sumExp(VecLib.slice(scores, off, len), len, mx, ExpLib.table());
        if (above) revert QuantLib.NotTheMaximum(uint256(mx));
        return acc + sum;
    }

    /// @notice softmax from the finished denominator: roundDiv(expQ30(x - mx) 2^16, sum), x the
    /// element's score.
    function softmaxFinal(int256 x, int256 mx, int256 sum) external pure returns (int256) {
        if (sum <= 0) revert EmptySum();
        int256 es = ExpLib.expQ30(x - mx, ExpLib.table());
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

    /// @dev max(0, bitLength(amax) - 15): the attention operands' shift to 15 bits.
    function shift15(uint256 amax) private pure returns (uint256) {
        uint256 b = M.bitLength(amax);
        return b > 15 ? b - 15 : 0;
    }
}
