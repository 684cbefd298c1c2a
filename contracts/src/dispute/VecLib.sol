// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title VecLib
/// @notice Reading trace vectors from calldata in the bytes their vecRoot hashes: int32
/// little-endian, 8 to a 32-byte word (src/runtime/trace/hasher.ts, `vecChunks`). A slice is
/// given by the calldata offset of its element 0 (`base`) and its length; it may start anywhere
/// (a head's scores start mid-chunk), since calldataload reads at any byte offset.
/// @dev Words are loaded whole and their eight lanes byte-swapped at once; lane k of a swapped
/// word is the big-endian int32 at bits [224 - 32k, 256 - 32k).
library VecLib {
    error VectorLength(uint256 bytesGiven, uint256 elements);
    error SliceOutOfRange(uint256 offset, uint256 count, uint256 elements);

    /// @dev The chunk bytes of an n-element vector: ceil(n / 8) words, at least one.
    function chunkBytes(uint256 n) internal pure returns (uint256) {
        return n == 0 ? 32 : ((n + 7) >> 3) << 5;
    }

    /// @dev Reverts unless `v` is exactly the chunk bytes of an n-element vector.
    function requireVector(bytes calldata v, uint256 n) internal pure {
        if (v.length != chunkBytes(n)) revert VectorLength(v.length, n);
    }

    /// @dev The calldata offset of element `off` of `v`, after checking off + count fit in it.
    function slice(bytes calldata v, uint256 off, uint256 count) internal pure returns (uint256 base) {
        if (off + count > v.length >> 2) revert SliceOutOfRange(off, count, v.length >> 2);
        assembly ("memory-safe") {
            base := add(v.offset, shl(2, off))
        }
    }

    /// @dev The calldata offset of `v`'s first byte.
    function start(bytes calldata v) internal pure returns (uint256 base) {
        assembly ("memory-safe") {
            base := v.offset
        }
    }

    /// @dev Element i of the slice at `base`, sign-extended.
    function get(uint256 base, uint256 i) internal pure returns (int256 x) {
        assembly ("memory-safe") {
            let w := calldataload(add(base, shl(2, i)))
            // The top 4 bytes, little-endian: byte 3 is the most significant.
            x := signextend(3, or(or(shl(24, byte(3, w)), shl(16, byte(2, w))), or(shl(8, byte(1, w)), byte(0, w))))
        }
    }

    /// @dev Largest |x_j| of the slice, all eight lanes of a word at a time: a lane's absolute
    /// value is (x xor m) + (m & 1) with m all ones in a negative lane (at most 2^31, so no carry
    /// leaves the lane), and the running maximum keeps even and odd lanes in separate words, each
    /// lane then in a 64-bit slot whose high half takes the comparison's borrow.
    function maxAbs(uint256 base, uint256 len) internal pure returns (uint256 amax) {
        assembly ("memory-safe") {
            let lo := 0x00000000ffffffff00000000ffffffff00000000ffffffff00000000ffffffff
            let ones := 0x0000000100000001000000010000000100000001000000010000000100000001
            let me := 0 // lanes 1, 3, 5, 7 (low half of each 64-bit slot)
            let mo := 0 // lanes 0, 2, 4, 6, shifted down
            let words := shr(3, len)
            let end := add(base, shl(5, words))
            for { let p := base } lt(p, end) { p := add(p, 0x20) } {
                let a := absLanes(swap(calldataload(p)))
                me := smax(me, and(a, lo), lo)
                mo := smax(mo, and(shr(32, a), lo), lo)
            }
            let rest := and(len, 7)
            if rest {
                // Lanes past the slice are cleared: they hold other calldata.
                let a := absLanes(and(swap(calldataload(end)), not(shr(shl(5, rest), not(0)))))
                me := smax(me, and(a, lo), lo)
                mo := smax(mo, and(shr(32, a), lo), lo)
            }
            // Fold the four slots: the high two onto the low two, then the last two.
            let m := smax(me, mo, lo)
            m := smax(and(m, 0xffffffffffffffffffffffffffffffff), shr(128, m), lo)
            amax := and(m, 0xffffffff)
            let other := and(shr(64, m), 0xffffffff)
            if gt(other, amax) { amax := other }

            function swap(w) -> r {
                w := or(and(shr(8, w), 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff), and(shl(8, w), 0xff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00))
                r := or(and(shr(16, w), 0x0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff), and(shl(16, w), 0xffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000))
            }
            function absLanes(w) -> a {
                let s := and(shr(31, w), 0x0000000100000001000000010000000100000001000000010000000100000001)
                a := add(xor(w, mul(s, 0xffffffff)), s)
            }
            // Slot-wise max of two words whose 64-bit slots hold values below 2^32.
            function smax(x, y, lo_) -> r {
                // Bit 32 of each slot of (x + 2^32) - y is set where x >= y.
                let ge := and(shr(32, sub(add(x, 0x0000000100000000000000010000000000000001000000000000000100000000), y)), 0x0000000000000001000000000000000100000000000000010000000000000001)
                let mk := mul(ge, 0xffffffff)
                r := or(and(x, mk), and(y, xor(mk, lo_)))
            }
        }
    }

    /// @dev sum_j p_j v_j over two slices of `len` (the attention mix: p >= 0 with sum p below
    /// 2^16 + len / 2 and |v| < 2^31 keep the sum below 2^51; the lanes are exact int256 anyway).
    function dot(uint256 pb, uint256 vb, uint256 len) internal pure returns (int256 acc) {
        assembly ("memory-safe") {
            let words := shr(3, len)
            for { let w := 0 } lt(w, words) { w := add(w, 1) } {
                let o := shl(5, w)
                acc := add(acc, dot8(swap(calldataload(add(pb, o))), swap(calldataload(add(vb, o)))))
            }
            let rest := and(len, 7)
            if rest {
                let o := shl(5, words)
                let mask := not(shr(shl(5, rest), not(0)))
                acc := add(acc, dot8(and(swap(calldataload(add(pb, o))), mask), swap(calldataload(add(vb, o)))))
            }

            function swap(w_) -> r_ {
                w_ := or(and(shr(8, w_), 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff), and(shl(8, w_), 0xff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00))
                r_ := or(and(shr(16, w_), 0x0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff), and(shl(16, w_), 0xffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000))
            }
            function dot8(a, b) -> t {
                t := mul(signextend(3, shr(224, a)), signextend(3, shr(224, b)))
                t := add(t, mul(signextend(3, shr(192, a)), signextend(3, shr(192, b))))
                t := add(t, mul(signextend(3, shr(160, a)), signextend(3, shr(160, b))))
                t := add(t, mul(signextend(3, shr(128, a)), signextend(3, shr(128, b))))
                t := add(t, mul(signextend(3, shr(96, a)), signextend(3, shr(96, b))))
                t := add(t, mul(signextend(3, shr(64, a)), signextend(3, shr(64, b))))
                t := add(t, mul(signextend(3, shr(32, a)), signextend(3, shr(32, b))))
                t := add(t, mul(signextend(3, a), signextend(3, b)))
            }
        }
    }

    /// @dev sum_j roundShift(a_j, sa) roundShift(b_j, sb) over two slices, sa, sb >= 0 (the
    /// attention score's dot: each factor below 2^15 after the shift, headDim <= 256 terms).
    function dotShifted(uint256 ab, uint256 bb, uint256 len, uint256 sa, uint256 sb) internal pure returns (int256 acc) {
        assembly ("memory-safe") {
            // roundShift(v, s) = (v + h) >> s with h = 2^(s-1), or 0 when s = 0.
            let ha := 0
            if sa { ha := shl(sub(sa, 1), 1) }
            let hb := 0
            if sb { hb := shl(sub(sb, 1), 1) }
            let words := shr(3, len)
            for { let w := 0 } lt(w, words) { w := add(w, 1) } {
                let o := shl(5, w)
                acc := add(acc, dot8(swap(calldataload(add(ab, o))), swap(calldataload(add(bb, o))), sa, ha, sb, hb))
            }
            let rest := and(len, 7)
            if rest {
                // A cleared lane rounds to 0: (0 + h) >> s = 0.
                let o := shl(5, words)
                let mask := not(shr(shl(5, rest), not(0)))
                acc := add(acc, dot8(and(swap(calldataload(add(ab, o))), mask), swap(calldataload(add(bb, o))), sa, ha, sb, hb))
            }

            function swap(w_) -> r_ {
                w_ := or(and(shr(8, w_), 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff), and(shl(8, w_), 0xff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00))
                r_ := or(and(shr(16, w_), 0x0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff), and(shl(16, w_), 0xffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000))
            }
            function lane(w_, k, s, h) -> v {
                v := sar(s, add(signextend(3, shr(sub(224, shl(5, k)), w_)), h))
            }
            function dot8(a, b, sa_, ha_, sb_, hb_) -> t {
                for { let k := 0 } lt(k, 8) { k := add(k, 1) } {
                    t := add(t, mul(lane(a, k, sa_, ha_), lane(b, k, sb_, hb_)))
                }
            }
        }
    }

    /// @dev Sum of the slice's elements after roundShift by `sh` (>= -8 here), squared: the
    /// rmsnorm sum of squares. |xs| <= 2^31 * 2^8 keeps each square below 2^78. Every |x_j|
    /// must be at most amax (the caller's maximum, checked here as QuantLib does: bit 32 of a
    /// 64-bit slot of |x| + 2^32 - 1 - amax), else it returns above = true.
    function sumSquares(uint256 base, uint256 len, int256 sh, uint256 amax)
        internal
        pure
        returns (uint256 ss, bool above)
    {
        assembly ("memory-safe") {
            let words := shr(3, len)
            let end := add(base, shl(5, words))
            let rest := and(len, 7)
            let mask := not(shr(shl(5, rest), not(0)))
            let k := mul(sub(0xffffffff, amax), 0x0000000000000001000000000000000100000000000000010000000000000001)
            let bad := 0
            switch sgt(sh, 0)
            case 1 {
                let half := shl(sub(sh, 1), 1)
                for { let p := base } lt(p, end) { p := add(p, 0x20) } {
                    let w := swap(calldataload(p))
                    bad := or(bad, over(w, k))
                    ss := add(ss, sq8r(w, sh, half))
                }
                if rest {
                    let w := and(swap(calldataload(end)), mask)
                    bad := or(bad, over(w, k))
                    ss := add(ss, sq8r(w, sh, half))
                }
            }
            default {
                let l := sub(0, sh)
                for { let p := base } lt(p, end) { p := add(p, 0x20) } {
                    let w := swap(calldataload(p))
                    bad := or(bad, over(w, k))
                    ss := add(ss, sq8l(w, l))
                }
                if rest {
                    let w := and(swap(calldataload(end)), mask)
                    bad := or(bad, over(w, k))
                    ss := add(ss, sq8l(w, l))
                }
            }
            above := iszero(iszero(and(bad, 0x0000000100000000000000010000000000000001000000000000000100000000)))

            function swap(w) -> r {
                w := or(and(shr(8, w), 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff), and(shl(8, w), 0xff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00))
                r := or(and(shr(16, w), 0x0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff), and(shl(16, w), 0xffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000))
            }
            // |x| lane by lane into 64-bit slots, plus 2^32 - 1 - amax: bit 32 set where above.
            function over(w, k_) -> v {
                let sg := and(shr(31, w), 0x0000000100000001000000010000000100000001000000010000000100000001)
                let a := add(xor(w, mul(sg, 0xffffffff)), sg)
                v := or(add(and(a, 0x00000000ffffffff00000000ffffffff00000000ffffffff00000000ffffffff), k_), add(and(shr(32, a), 0x00000000ffffffff00000000ffffffff00000000ffffffff00000000ffffffff), k_))
            }
            // (x + 2^(s-1)) >> s, squared, for the eight lanes.
            function sq8r(w, s, h) -> t {
                let v := sar(s, add(signextend(3, shr(224, w)), h))
                t := mul(v, v)
                v := sar(s, add(signextend(3, shr(192, w)), h))
                t := add(t, mul(v, v))
                v := sar(s, add(signextend(3, shr(160, w)), h))
                t := add(t, mul(v, v))
                v := sar(s, add(signextend(3, shr(128, w)), h))
                t := add(t, mul(v, v))
                v := sar(s, add(signextend(3, shr(96, w)), h))
                t := add(t, mul(v, v))
                v := sar(s, add(signextend(3, shr(64, w)), h))
                t := add(t, mul(v, v))
                v := sar(s, add(signextend(3, shr(32, w)), h))
                t := add(t, mul(v, v))
                v := sar(s, add(signextend(3, w), h))
                t := add(t, mul(v, v))
            }
            // x * 2^l squared is x^2 * 2^(2l).
            function sq8l(w, l) -> t {
                let v := signextend(3, shr(224, w))
                t := mul(v, v)
                v := signextend(3, shr(192, w))
                t := add(t, mul(v, v))
                v := signextend(3, shr(160, w))
                t := add(t, mul(v, v))
                v := signextend(3, shr(128, w))
                t := add(t, mul(v, v))
                v := signextend(3, shr(96, w))
                t := add(t, mul(v, v))
                v := signextend(3, shr(64, w))
                t := add(t, mul(v, v))
                v := signextend(3, shr(32, w))
                t := add(t, mul(v, v))
                v := signextend(3, w)
                t := add(t, mul(v, v))
                t := shl(shl(1, l), t)
            }
        }
    }
}
