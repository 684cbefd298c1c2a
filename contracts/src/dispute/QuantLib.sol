// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {FixedMathLib} from "./FixedMathLib.sol";

/// @title QuantLib
/// @notice The projection's int8 activation quantization and the int8 dot product with one
/// weight row (src/runtime/ops/quantize-activation.ts, trace/recompute.ts; docs/DETERMINISM.md,
/// "projections"), a 32-byte word at a time.
library QuantLib {
    /// @dev Some |x_j| is above the maximum the caller gave (its hint: an index or amax).
    error NotTheMaximum(uint256 hint);

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
    /// of the int8 row. Eight elements (one word of x) at a time, without a division:
    /// - |xq| = floor(N / mx) with N = |x| 2^ex + floor(mx / 2) (ex >= 0) or
    ///   N = (|x| + mx 2^(s-1)) >> s (s = -ex > 0): the spec's floor((2|a| + D) / (2D)) with its
    ///   factor 2 (and 2^s) divided out first, as floor(floor(A / B) / C) = floor(A / (BC)).
    ///   N < 2^20 since |x| 2^ex < 2^19 by the choice of ex; the 32-bit lanes never carry
    ///   (|x| + mx 2^(s-1) < 2^31 + 2^25).
    /// - floor(N / mx) = (N R) >> 32 with R = floor(2^32 / mx) + 1: R mx - 2^32 = e in (0, mx]
    ///   and N e < 2^20 2^12 = 2^32, so the error never reaches the next integer. N R < 2^42
    ///   fits a 64-bit slot: four lanes go through one MUL.
    /// - t = sign(x) |xq| and the weight w are offset by 128 to bytes in [0, 255]; the four
    ///   lanes' sum of t' w' is the top slot of one MUL of t' (slots in lane order) by w' (slots
    ///   reversed): lower products stay below 2^18 per slot and never carry into it.
    /// - sum w t = sum t' w' - 128 (sum t' + sum w') + 128^2 K over the K lanes read. Lanes past
    ///   n (x cleared, so t' = 128; w' whatever bytes follow the row) add exactly 0.
    /// - Every |x| must be at most amax (the caller's maximum, not searched for here): a lane
    ///   above it sets bit 31 of |x| + 2^31 - 1 - amax (no carry: both are below 2^31), and the
    ///   call reverts with `hint`. amax = 2^31 (only a -2^31 lane reaches it) checks nothing.
    /// |acc| <= 127 * 128 * n < 2^28 for n <= 16384; nothing overflows, nothing is checked.
    function dotQuantized(uint256 xb, uint256 rb, uint256 n, uint256 amax, int256 mx, int256 ex, uint256 hint)
        internal
        pure
        returns (int256 acc)
    {
        bool above;
        assembly ("memory-safe") {
            let words := shr(3, n)
            let rest := and(n, 7)
            let r := add(div(0x100000000, mx), 1)
            // N = ((|x| << sl) + c) >> sr (ex >= 0: sl = ex, sr = 0; else sl = 0, sr = s).
            let sl := 0
            let sr := 0
            let c := shr(1, mx)
            switch slt(ex, 0)
            case 1 {
                sr := sub(0, ex)
                c := shl(sub(sr, 1), mx)
            }
            default { sl := ex }
            // c and 2^31 - 1 - amax in every 32-bit lane.
            let ones := 0x0000000100000001000000010000000100000001000000010000000100000001
            c := mul(c, ones)
            // The low sr bits of each lane cleared before the shift, so none enters the lane
            // below (they do not change the floor).
            let hm := mul(sub(0x100000000, shl(sr, 1)), ones)
            let k := 0
            if lt(amax, 0x80000000) { k := mul(sub(0x7fffffff, amax), ones) }
            let dot := 0
            let sums := 0
            let bad := 0
            // One word of x and its 8 row bytes per iteration (few live values: no spills).
            let p := xb
            let q := rb
            let wend := add(xb, shl(5, words))
            for {} lt(p, wend) {
                p := add(p, 0x20)
                q := add(q, 8)
            } {
                let rw := xor(calldataload(q), 0x8080808080808080808080808080808080808080808080808080808080808080)
                let d, t, v := word8(calldataload(p), rw, sl, sr, c, r, k, hm)
                dot := add(dot, d)
                sums := add(sums, t)
                bad := or(bad, v)
            }
            let lanes := shl(3, words)
            if rest {
                // Lanes past n are cleared (their bytes are padding or other calldata); the swap
                // moves whole lanes, so the mask is the same before it.
                let xw := and(calldataload(p), not(shr(shl(5, rest), not(0))))
                let rw := xor(calldataload(q), 0x8080808080808080808080808080808080808080808080808080808080808080)
                let d, t, v := word8(xw, rw, sl, sr, c, r, k, hm)
                dot := add(dot, d)
                sums := add(sums, t)
                bad := or(bad, v)
                lanes := add(lanes, 8)
            }
            // Fold the four 64-bit slot sums (each below 2^24).
            sums := add(and(sums, 0xffffffffffffffffffffffffffffffff), shr(128, sums))
            sums := add(and(sums, 0xffffffffffffffff), shr(64, sums))
            acc := add(sub(dot, shl(7, sums)), shl(14, lanes))
            above := and(lt(amax, 0x80000000), iszero(iszero(and(bad, 0x8000000080000000800000008000000080000000800000008000000080000000))))

            // One word of x (little-endian lanes, not yet swapped) against the row bytes at the
            // top of rw (already offset by 128): the word's sum of t' w', its t' + w' (slots),
            // and |x| + 2^31 - 1 - amax (lanes).
            function word8(xw, rw, sl_, sr_, c_, r_, k_, hm_) -> d, t, v {
                // Byte-swap the eight lanes to big-endian.
                xw := or(and(shr(8, xw), 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff), and(shl(8, xw), 0xff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00))
                xw := or(and(shr(16, xw), 0x0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff), and(shl(16, xw), 0xffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000))
                // sg: 1 in each negative lane; xw becomes |x| lane by lane (at most 2^31).
                let sg := and(shr(31, xw), 0x0000000100000001000000010000000100000001000000010000000100000001)
                xw := add(xor(xw, mul(sg, 0xffffffff)), sg)
                v := add(xw, k_)
                // N per lane, then lanes 7, 5, 3, 1 (e) and 6, 4, 2, 0 (o) in the low 20 bits of
                // 64-bit slots 0..3, and |xq| = (N R) >> 32 in the low byte.
                xw := shr(sr_, and(add(shl(sl_, xw), c_), hm_))
                let e := and(shr(32, mul(and(xw, 0x00000000000fffff00000000000fffff00000000000fffff00000000000fffff), r_)), 0x00000000000000ff00000000000000ff00000000000000ff00000000000000ff)
                let o := and(shr(32, mul(and(shr(32, xw), 0x00000000000fffff00000000000fffff00000000000fffff00000000000fffff), r_)), 0x00000000000000ff00000000000000ff00000000000000ff00000000000000ff)
                // t' = 128 + |xq|, or 128 - |xq| in a negative lane.
                e := sub(add(e, 0x0000000000000080000000000000008000000000000000800000000000000080), and(shl(1, e), mul(and(sg, 0x0000000000000001000000000000000100000000000000010000000000000001), 0xff)))
                o := sub(add(o, 0x0000000000000080000000000000008000000000000000800000000000000080), and(shl(1, o), mul(and(shr(32, sg), 0x0000000000000001000000000000000100000000000000010000000000000001), 0xff)))
                // Row bytes b0..b7 at the top of rw; slots 3..0 get b7, b5, b3, b1 (we) and
                // b6, b4, b2, b0 (wo): one MUL places three copies that do not overlap.
                let b := shr(192, rw)
                let we := or(and(mul(b, 0x0000000000000001000000000000000000010000000000000000000100000000), 0x00000000000000ff00000000000000ff00000000000000ff0000000000000000), and(shr(240, rw), 0xff))
                let wo := or(and(mul(b, 0x0000000000000000010000000000000000000100000000000000000001000000), 0x00000000000000ff00000000000000ff00000000000000ff0000000000000000), shr(248, rw))
                d := add(shr(192, mul(e, we)), shr(192, mul(o, wo)))
                t := add(add(e, o), add(we, wo))
            }
        }
        if (above) revert NotTheMaximum(hint);
    }
}
