// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {FixedMathLib} from "./FixedMathLib.sol";

/// @title QuantLib
/// @notice The projection's int8 activation quantization and the int8 dot product with one
/// weight row (src/runtime/ops/quantize-activation.ts, trace/recompute.ts; docs/DETERMINISM.md,
/// "projections"), a 32-byte word at a time.
library QuantLib {
    /// @dev [mx, ex] for amax > 0: ex = 19 - bitLength(amax), mx = ceil(amax 2^ex / 127) in
    /// [2065, 4129]; above 4095, once more with ex - 1. Numerators are positive, so
    /// ceil(a / b) = (a + b - 1) / b.
    function activationScale(uint256 amax) internal pure returns (int256 mx, int256 ex) {
        ex = 19 - int256(FixedMathLib.bitLength(amax));
        mx = ceilScaled(amax, ex);
        if (mx > 4095) {
            ex -= 1;
            mx = ceilScaled(amax, ex);
        }
    }

    function ceilScaled(uint256 amax, int256 e) private pure returns (int256) {
        // amax <= 2^31 and |e| <= 19: below 2^50.
        if (e >= 0) return int256(((amax << uint256(e)) + 126) / 127);
        uint256 b = 127 << uint256(-e);
        return int256((amax + b - 1) / b);
    }

    /// @dev acc = sum_j row_j xq_j over n elements, xq_j = roundDivSym(x_j 2^ex, mx) (ex >= 0) or
    /// roundDivSym(x_j, mx 2^-ex) (ex < 0); `xb` is the calldata offset of x's chunk bytes, `rb`
    /// of the int8 row.
    /// Per lane, roundDivSym(a, D) = sdiv(2a + D - (a < 0 ? 2D : 0), 2D): for a >= 0 the numerator
    /// is positive and sdiv floors; for a < 0 it is 2a - D < 0 and sdiv truncates toward zero,
    /// which is -floor((D - 2a) / (2D)), the spec's value. 2a is x << (ex + 1) (ex >= 0) or x << 1.
    /// Bounds: ex is chosen so that |x| 2^ex < 2^19 (|2a| < 2^20), D < 2^26; |xq| <= 127 and
    /// |row| <= 128 keep |acc| below 2^14 n: no lane or sum leaves int256, nothing is checked.
    function dotQuantized(uint256 xb, uint256 rb, uint256 n, int256 mx, int256 ex)
        internal
        pure
        returns (int256 acc)
    {
        assembly ("memory-safe") {
            let ex1 := 1
            let d := mx
            switch slt(ex, 0)
            case 1 { d := shl(sub(0, ex), mx) }
            default { ex1 := add(ex, 1) }
            let d2 := shl(1, d)
            let nd2 := sub(0, d2)
            let words := shr(3, n)
            let p := xb
            let r := rb
            // Four x words (32 elements) per row word.
            let gend := add(xb, shl(7, shr(2, words)))
            for {} lt(p, gend) {
                p := add(p, 0x80)
                r := add(r, 0x20)
            } {
                let rw := calldataload(r)
                acc := add(acc, dot8(swap(calldataload(p)), rw, ex1, d, d2, nd2))
                acc := add(acc, dot8(swap(calldataload(add(p, 0x20))), shl(64, rw), ex1, d, d2, nd2))
                acc := add(acc, dot8(swap(calldataload(add(p, 0x40))), shl(128, rw), ex1, d, d2, nd2))
                acc := add(acc, dot8(swap(calldataload(add(p, 0x60))), shl(192, rw), ex1, d, d2, nd2))
            }
            let wend := add(xb, shl(5, words))
            for {} lt(p, wend) {
                p := add(p, 0x20)
                r := add(r, 8)
            } { acc := add(acc, dot8(swap(calldataload(p)), calldataload(r), ex1, d, d2, nd2)) }
            let rest := and(n, 7)
            if rest {
                // Lanes past n are cleared, so they quantize to 0 and the row bytes read past
                // the row's end (other calldata) multiply 0.
                let xw := and(swap(calldataload(p)), not(shr(shl(5, rest), not(0))))
                acc := add(acc, dot8(xw, calldataload(r), ex1, d, d2, nd2))
            }

            function swap(w) -> s {
                w := or(and(shr(8, w), 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff), and(shl(8, w), 0xff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00))
                s := or(and(shr(16, w), 0x0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff), and(shl(16, w), 0xffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000))
            }
            // Eight lanes of x (a swapped word) against row bytes 0..7 of rw.
            function dot8(xw, rw, e1, d_, d2_, nd2_) -> t {
                let v := signextend(3, shr(224, xw))
                t := mul(signextend(0, byte(0, rw)), sdiv(add(add(shl(e1, v), d_), and(sar(255, v), nd2_)), d2_))
                v := signextend(3, shr(192, xw))
                t := add(t, mul(signextend(0, byte(1, rw)), sdiv(add(add(shl(e1, v), d_), and(sar(255, v), nd2_)), d2_)))
                v := signextend(3, shr(160, xw))
                t := add(t, mul(signextend(0, byte(2, rw)), sdiv(add(add(shl(e1, v), d_), and(sar(255, v), nd2_)), d2_)))
                v := signextend(3, shr(128, xw))
                t := add(t, mul(signextend(0, byte(3, rw)), sdiv(add(add(shl(e1, v), d_), and(sar(255, v), nd2_)), d2_)))
                v := signextend(3, shr(96, xw))
                t := add(t, mul(signextend(0, byte(4, rw)), sdiv(add(add(shl(e1, v), d_), and(sar(255, v), nd2_)), d2_)))
                v := signextend(3, shr(64, xw))
                t := add(t, mul(signextend(0, byte(5, rw)), sdiv(add(add(shl(e1, v), d_), and(sar(255, v), nd2_)), d2_)))
                v := signextend(3, shr(32, xw))
                t := add(t, mul(signextend(0, byte(6, rw)), sdiv(add(add(shl(e1, v), d_), and(sar(255, v), nd2_)), d2_)))
                v := signextend(3, xw)
                t := add(t, mul(signextend(0, byte(7, rw)), sdiv(add(add(shl(e1, v), d_), and(sar(255, v), nd2_)), d2_)))
            }
        }
    }
}
