// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title FixedMathLib
/// @notice The integer primitives of docs/DETERMINISM.md ("Numbers and primitives"), bit for bit
/// as src/runtime/fixed/int.ts computes them on JavaScript numbers. The TypeScript values stay
/// below 2^53, where its floats are exact, so the int256 results here are the same integers.
/// @dev Solidity's int256 `/` truncates toward zero and `>>` floors; each function says which
/// one it needs.
library FixedMathLib {
    int256 internal constant INT32_MAX = 0x7fffffff;

    error FixedMathDomain();

    /// @dev Clamps to [-INT32_MAX, INT32_MAX] (symmetric, as sat32).
    function sat32(int256 v) internal pure returns (int256) {
        if (v > INT32_MAX) return INT32_MAX;
        if (v < -INT32_MAX) return -INT32_MAX;
        return v;
    }

    /// @dev floor(a / b) for b > 0: `/` truncates, so a negative remainder means one too high.
    function floorDiv(int256 a, int256 b) internal pure returns (int256 q) {
        q = a / b;
        if (a % b < 0) q -= 1;
    }

    /// @dev round(a / b), ties toward +inf: floor((2a + b) / (2b)), b > 0.
    function roundDiv(int256 a, int256 b) internal pure returns (int256) {
        return floorDiv(2 * a + b, 2 * b);
    }

    /// @dev round(a / b), ties away from zero, b > 0 (odd in a). Both numerators are positive
    /// where they are divided, so truncation is floor.
    function roundDivSym(int256 a, int256 b) internal pure returns (int256) {
        return a < 0 ? -((-2 * a + b) / (2 * b)) : (2 * a + b) / (2 * b);
    }

    /// @dev round(v / 2^s), ties toward +inf, for s >= 0: (v + 2^(s-1)) >> s (arithmetic, floor).
    /// s >= 254 with |v| < 2^253 rounds to 0 (int.ts returns 0 from s >= 54, where |v| < 2^52).
    function roundShiftRight(int256 v, uint256 s) internal pure returns (int256) {
        if (s == 0) return v;
        if (s >= 254) return 0;
        return (v + int256(1 << (s - 1))) >> s;
    }

    /// @dev sat32(roundShift(v, s)) for any shift: s < 0 multiplies by 2^-s. A left shift of a
    /// non-zero |v| by 32 or more bits is past INT32_MAX, so it saturates without being computed
    /// (int.ts multiplies in floats, exact or infinite, and saturates the same way).
    function sat32RoundShift(int256 v, int256 s) internal pure returns (int256) {
        if (s >= 0) return sat32(roundShiftRight(v, uint256(s)));
        if (v == 0) return 0;
        if (s <= -32) return v > 0 ? INT32_MAX : -INT32_MAX;
        return sat32(v * int256(1 << uint256(-s)));
    }

    /// @dev sat32(roundShift(v, s) + b) for an int32 b, exact: from s <= -32 on, a non-zero
    /// |v 2^-s| >= 2^32 outweighs any |b| <= 2^31, so the sum saturates to v's sign.
    function sat32RoundShiftAdd(int256 v, int256 s, int256 b) internal pure returns (int256) {
        if (s >= 0) return sat32(roundShiftRight(v, uint256(s)) + b);
        if (v == 0) return sat32(b);
        if (s <= -32) return v > 0 ? INT32_MAX : -INT32_MAX;
        return sat32(v * int256(1 << uint256(-s)) + b);
    }

    /// @dev 0 for 0, else k with 2^(k-1) <= v < 2^k.
    function bitLength(uint256 v) internal pure returns (uint256 k) {
        assembly ("memory-safe") {
            // Binary search over the bit position: 8 halvings cover 256 bits.
            let b := shl(7, lt(0xffffffffffffffffffffffffffffffff, v))
            b := or(b, shl(6, lt(0xffffffffffffffff, shr(b, v))))
            b := or(b, shl(5, lt(0xffffffff, shr(b, v))))
            b := or(b, shl(4, lt(0xffff, shr(b, v))))
            b := or(b, shl(3, lt(0xff, shr(b, v))))
            b := or(b, shl(2, lt(0xf, shr(b, v))))
            b := or(b, shl(1, lt(0x3, shr(b, v))))
            b := or(b, lt(0x1, shr(b, v)))
            k := add(b, iszero(iszero(v)))
        }
    }

    /// @dev floor(sqrt(v)), exact: Newton's iteration from an estimate at or above the root
    /// decreases monotonically to it.
    function isqrt(uint256 v) internal pure returns (uint256 x) {
        if (v == 0) return 0;
        unchecked {
            x = uint256(1) << ((bitLength(v) + 1) >> 1); // >= sqrt(v)
            while (true) {
                uint256 y = (x + v / x) >> 1;
                if (y >= x) return x;
                x = y;
            }
        }
    }

    /// @dev isqrt of a signed value that must be non-negative.
    function isqrtSigned(int256 v) internal pure returns (int256) {
        if (v < 0) revert FixedMathDomain();
        return int256(isqrt(uint256(v)));
    }
}
