// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title SigmoidLib
/// @notice Liquid alpha (subtensor alpha_sigmoid) in I32F32 with a deterministic fixed-point exp.
library SigmoidLib {
    int256 private constant ONE = 1 << 32;

    /// @dev alpha = clamp(low + sigmoid * (high - low), low, high),
    /// sigmoid = 1 / (1 + exp(slope * (diff - 0.5))), slope = steepness / -100.
    function alpha(uint256 c, uint256 w, uint256 b, uint256 low, uint256 high, int256 slope)
        internal
        pure
        returns (uint256)
    {
        unchecked {
            int256 diff;
            if (w >= b) diff = w > c ? int256(w - c) : int256(0);
            else diff = int256(b - w);
            if (diff > ONE) diff = ONE;
            // slope = I32F32 steepness / -100 (truncated), computed once per epoch by the caller
            int256 arg = (slope * (diff - ONE / 2)) >> 32;
            int256 sig = (ONE * ONE) / (ONE + exp(arg));
            int256 a = int256(low) + ((sig * int256(high - low)) >> 32);
            if (a > int256(high)) a = int256(high);
            if (a < int256(low)) a = int256(low);
            return uint256(a);
        }
    }

    /// @dev exp_safe: e^x for I32F32 x clamped to [-20, 20], reproducing substrate-fixed's
    /// transcendental::exp step by step (as src/consensus/exp.ts): x = 1 gives the I9F23 constant e;
    /// otherwise result = 1 + |x| + sum_{i=2..31} term_i with term_i = floor(term_{i-1}*|x|/2^32)/i
    /// (a zero term ends the sum early, which changes nothing); the reciprocal for x < 0.
    function exp(int256 x) internal pure returns (int256) {
        unchecked {
            if (x < -20 * ONE) x = -20 * ONE;
            else if (x > 20 * ONE) x = 20 * ONE;
            if (x == 0) return ONE;
            if (x == ONE) return 22802600 << 9;
            bool neg = x < 0;
            int256 a = neg ? -x : x;
            int256 result;
            assembly ("memory-safe") {
                result := add(ONE, a)
                let term := a
                for { let i := 2 } lt(i, 32) { i := add(i, 1) } {
                    term := div(shr(32, mul(term, a)), i)
                    if iszero(term) { break }
                    result := add(result, term)
                }
            }
            if (neg) return (ONE << 32) / result;
            return result;
        }
    }
}
