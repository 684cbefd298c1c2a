// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title SigmoidLib
/// @notice Liquid alpha (subtensor alpha_sigmoid) in I32F32 with a deterministic fixed-point exp.
library SigmoidLib {
    int256 private constant ONE = 1 << 32;

    /// @dev alpha = clamp(low + sigmoid * (high - low), low, high),
    /// sigmoid = 1 / (1 + exp((steepness / -100) * (diff - 0.5))).
    function alpha(uint256 c, uint256 w, uint256 b, uint256 low, uint256 high, int256 steep)
        internal
        pure
        returns (uint256)
    {
        unchecked {
            int256 diff;
            if (w >= b) diff = w > c ? int256(w - c) : int256(0);
            else diff = int256(b - w);
            if (diff > ONE) diff = ONE;
            int256 x = (steep * ONE * ONE) / (-100 * ONE); // I32F32 steep / -100, truncated
            int256 arg = (x * (diff - ONE / 2)) >> 32;
            int256 sig = (ONE * ONE) / (ONE + exp(arg));
            int256 a = int256(low) + ((sig * int256(high - low)) >> 32);
            if (a > int256(high)) a = int256(high);
            if (a < int256(low)) a = int256(low);
            return uint256(a);
        }
    }

    /// @dev e^x for I32F32 x: Taylor series on |x| until the term is negligible, reciprocal for x < 0.
    function exp(int256 x) internal pure returns (int256) {
        unchecked {
            if (x == 0) return ONE;
            bool neg = x < 0;
            int256 a = neg ? -x : x;
            if (a > 20 * ONE) a = 20 * ONE;
            int256 result = ONE + a;
            int256 term = a;
            for (int256 i = 2; i < 64; i++) {
                term = ((term * a) >> 32) / i;
                if (term == 0) break;
                result += term;
            }
            if (neg) return (ONE * ONE) / result;
            return result;
        }
    }
}
