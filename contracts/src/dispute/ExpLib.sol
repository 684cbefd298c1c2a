// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title ExpLib
/// @notice expQ30, e^(d / 2^16) in Q30 for d <= 0 (Q16), and the sigmoid built on it, exactly as
/// src/runtime/fixed/exp.ts and ops/swiglu.ts (docs/DETERMINISM.md, "expQ30").
/// @dev Every intermediate is non-negative and below 2^53 (|d| <= 2^21 so |d| * LOG2E_Q30 < 2^52;
/// table * p <= 2^52), so plain shifts round as roundShift does. The 256-entry EXP2 table,
/// round(2^(-i/256) * 2^26), is a 1 KiB literal copied to memory once per call; RopeLib's
/// `exp2TableEntry` recomputes any entry from the BigInt algorithm, and the tests check all 256.
library ExpLib {
    int256 internal constant LOG2E_Q30 = 1549082005;
    int256 internal constant LN2_Q26 = 46516320;
    /// @dev Below -32 (Q16) the Q30 result is 0.
    int256 internal constant EXP_MIN_Q16 = -32 * 65536;

    error ExpPositive(int256 d);

    /// @dev The EXP2 table, entry i as a big-endian uint32 at byte 4i.
    function table() internal pure returns (bytes memory) {
        return
            hex"0400000003fd3b2d03fa784503f7b74703f4f83003f23b0003ef7fb603ecc64f"
            hex"03ea0ecb03e7592903e4a56703e1f38403df437e03dc955403d9e90603d73e91"
            hex"03d495f403d1ef2f03cf4a3f03cca72503ca05dd03c7666703c4c8c303c22ced"
            hex"03bf92e603bcfaad03ba643e03b7cf9b03b53cc003b2abae03b01c6303ad8edd"
            hex"03ab031c03a8791d03a5f0e103a36a6503a0e5a9039e62ab039be16b039961e6"
            hex"0396e41c0394680b0391edb3038f7511038cfe26038a88ef0388156c0385a39b"
            hex"0383337c0380c50c037e584b037bed38037983d203771c170374b6060372519e"
            hex"036feede036d8dc5036b2e520368d08303667457036419ce0361c0e5035f699d"
            hex"035d13f3035abfe703586d7803561ca40353cd6b03517fca034f33c2034ce951"
            hex"034aa076034859300346137e0343cf5e03418ccf033f4bd2033d0c63033ace83"
            hex"033892300336576a03341e2e0331e67d032fb054032d7bb3032b489903291705"
            hex"0326e6f60324b86a03228b6103205fda031e35d3031c0d4c0319e6430317c0b7"
            hex"03159ca803137a15031158fb030f395b030d1b33030afe830308e3490306c984"
            hex"0304b13303029a56030084eb02fe70f102fc5e6702fa4d4c02f83da002f62f61"
            hex"02f4228e02f2172702f00d2a02ee049602ebfd6b02e9f7a702e7f34902e5f051"
            hex"02e3eebd02e1ee8d02dfefbf02ddf25302dbf64802d9fb9c02d8024f02d60a5f"
            hex"02d413cd02d21e9602d02abb02ce383902cc471002ca574002c868c702c67ba4"
            hex"02c48fd602c2a55d02c0bc3702bed46402bcede302bb08b202b924d102b7423f"
            hex"02b560fc02b3810502b1a25b02afc4fb02ade8e702ac0e1c02aa349902a85c5f"
            hex"02a6856b02a4afbd02a2db5402a10830029f364f029d65b0029b96530299c837"
            hex"0297fb5b02962fbd0294655e02929c3c0290d457028f0dad028d483e028b8408"
            hex"0289c10c0287ff4802863ebb02847f650282c14402810458027f48a1027d8e1c"
            hex"027bd4ca027a1ca9027865b80276aff80274fb6702734803027195ce026fe4c4"
            hex"026e34e7026c8634026ad8ac02692c4d026781160265d70702642e200262865e"
            hex"0260dfc1025f3a49025d95f5025bf2c4025a50b50258afc702570ffa0255714d"
            hex"0253d3bf0252374f02509bfc024f01c7024d68ad024bd0ae024a39ca0248a3ff"
            hex"02470f4e02457bb40243e932024257c70240c771023f3831023daa04023c1cec"
            hex"023a90e6023905f302377c110235f33f02346b7d0232e4cb02315f27022fda91"
            hex"022e5708022cd48b022b53190229d2b2022853560226d503022557b80223db75"
            hex"0222603a0220e605021f6cd6021df4ac021c7d86021b07640219924502181e29"
            hex"0216ab0e021538f30213c7d9021257bf0210e8a3020f7a85020e0d65020ca142"
            hex"020b361a0209cbee020862bd0206fa860205934802042d030202c7b50201635f";
    }

    /// @dev expQ30(d) for d <= 0; `tbl` is `table()`.
    function expQ30(int256 d, bytes memory tbl) internal pure returns (int256 r) {
        if (d > 0) revert ExpPositive(d);
        assembly ("memory-safe") {
            r := expYul(d, add(tbl, 0x20))

            function expYul(d_, t_) -> r_ {
                if iszero(slt(d_, sub(0, 2097152))) {
                    let u := shr(20, add(mul(sub(0, d_), 1549082005), 0x80000))
                    let f := and(u, 0x3ffff)
                    let y := shr(26, add(mul(f, 46516320), 0x2000000))
                    let p := add(sub(0x4000000, y), shr(27, add(mul(y, y), 0x4000000)))
                    let s := add(22, shr(26, u))
                    let e := shr(224, mload(add(t_, shl(2, and(shr(18, u), 0xff)))))
                    r_ := shr(s, add(mul(e, p), shl(sub(s, 1), 1)))
                }
            }
        }
    }

    /// @dev sigmoidQ16(g): g >= 0: roundDiv(2^46, 2^30 + expQ30(-g)); else with e = expQ30(g),
    /// roundDiv(e 2^16, 2^30 + e). Both quotients are of non-negative numbers, so `/` is floor.
    function sigmoidQ16(int256 g, bytes memory tbl) internal pure returns (int256) {
        unchecked {
            // |g| <= 2^31 and e <= 2^30: every term below 2^48.
            if (g >= 0) {
                int256 b = (1 << 30) + expQ30(-g, tbl);
                return ((1 << 47) + b) / (2 * b);
            }
            int256 e = expQ30(g, tbl);
            int256 den = (1 << 30) + e;
            return (2 * e * 65536 + den) / (2 * den);
        }
    }

    /// @dev sum_j expQ30(x_j - mx) over the slice at `base` (VecLib), softmax's denominator, with
    /// above = true if some x_j > mx (mx is the caller's maximum, checked, not searched for;
    /// |mx| < 2^31).
    /// Each term is at most 2^30, so the sum of up to 2^20 terms is below 2^51. The lanes run
    /// expQ30 inline and without its d < -32 cut: there n >= 46, so the final shift is at least
    /// 68 and table * p <= 2^52 rounds to 0 anyway (for any d >= -(2^32 - 2): shifts past 255
    /// give 0 in the EVM too); the index (u >> 18) & 255, times 4, is (u >> 16) & 0x3fc.
    function sumExp(uint256 base, uint256 len, int256 mx, bytes memory tbl)
        internal
        pure
        returns (int256 sum, bool above)
    {
        assembly ("memory-safe") {
            let t := add(tbl, 0x20)
            let bad := 0
            // x > mx, checked a word at a time: with sign bits flipped (signed order becomes
            // unsigned), bit 32 of a lane's 64-bit slot in x' + 2^32 - 1 - mx' is set where x > mx.
            let k := mul(sub(0xffffffff, add(mx, 0x80000000)), 0x0000000000000001000000000000000100000000000000010000000000000001)
            let end := add(base, shl(5, shr(3, len)))
            for { let p := base } lt(p, end) { p := add(p, 0x20) } {
                let w := swap(calldataload(p))
                {
                    let f := xor(w, 0x8000000080000000800000008000000080000000800000008000000080000000)
                    bad := or(bad, or(add(and(f, 0x00000000ffffffff00000000ffffffff00000000ffffffff00000000ffffffff), k), add(and(shr(32, f), 0x00000000ffffffff00000000ffffffff00000000ffffffff00000000ffffffff), k)))
                }
                {
                    let d := sub(mx, signextend(3, shr(224, w)))
                    let u := shr(20, add(mul(d, 1549082005), 0x80000))
                    let y := shr(26, add(mul(and(u, 0x3ffff), 46516320), 0x2000000))
                    let s := add(22, shr(26, u))
                    sum := add(sum, shr(s, add(mul(shr(224, mload(add(t, and(shr(16, u), 0x3fc)))), add(sub(0x4000000, y), shr(27, add(mul(y, y), 0x4000000)))), shl(sub(s, 1), 1))))
                }
                {
                    let d := sub(mx, signextend(3, shr(192, w)))
                    let u := shr(20, add(mul(d, 1549082005), 0x80000))
                    let y := shr(26, add(mul(and(u, 0x3ffff), 46516320), 0x2000000))
                    let s := add(22, shr(26, u))
                    sum := add(sum, shr(s, add(mul(shr(224, mload(add(t, and(shr(16, u), 0x3fc)))), add(sub(0x4000000, y), shr(27, add(mul(y, y), 0x4000000)))), shl(sub(s, 1), 1))))
                }
                {
                    let d := sub(mx, signextend(3, shr(160, w)))
                    let u := shr(20, add(mul(d, 1549082005), 0x80000))
                    let y := shr(26, add(mul(and(u, 0x3ffff), 46516320), 0x2000000))
                    let s := add(22, shr(26, u))
                    sum := add(sum, shr(s, add(mul(shr(224, mload(add(t, and(shr(16, u), 0x3fc)))), add(sub(0x4000000, y), shr(27, add(mul(y, y), 0x4000000)))), shl(sub(s, 1), 1))))
                }
                {
                    let d := sub(mx, signextend(3, shr(128, w)))
                    let u := shr(20, add(mul(d, 1549082005), 0x80000))
                    let y := shr(26, add(mul(and(u, 0x3ffff), 46516320), 0x2000000))
                    let s := add(22, shr(26, u))
                    sum := add(sum, shr(s, add(mul(shr(224, mload(add(t, and(shr(16, u), 0x3fc)))), add(sub(0x4000000, y), shr(27, add(mul(y, y), 0x4000000)))), shl(sub(s, 1), 1))))
                }
                {
                    let d := sub(mx, signextend(3, shr(96, w)))
                    let u := shr(20, add(mul(d, 1549082005), 0x80000))
                    let y := shr(26, add(mul(and(u, 0x3ffff), 46516320), 0x2000000))
                    let s := add(22, shr(26, u))
                    sum := add(sum, shr(s, add(mul(shr(224, mload(add(t, and(shr(16, u), 0x3fc)))), add(sub(0x4000000, y), shr(27, add(mul(y, y), 0x4000000)))), shl(sub(s, 1), 1))))
                }
                {
                    let d := sub(mx, signextend(3, shr(64, w)))
                    let u := shr(20, add(mul(d, 1549082005), 0x80000))
                    let y := shr(26, add(mul(and(u, 0x3ffff), 46516320), 0x2000000))
                    let s := add(22, shr(26, u))
                    sum := add(sum, shr(s, add(mul(shr(224, mload(add(t, and(shr(16, u), 0x3fc)))), add(sub(0x4000000, y), shr(27, add(mul(y, y), 0x4000000)))), shl(sub(s, 1), 1))))
                }
                {
                    let d := sub(mx, signextend(3, shr(32, w)))
                    let u := shr(20, add(mul(d, 1549082005), 0x80000))
                    let y := shr(26, add(mul(and(u, 0x3ffff), 46516320), 0x2000000))
                    let s := add(22, shr(26, u))
                    sum := add(sum, shr(s, add(mul(shr(224, mload(add(t, and(shr(16, u), 0x3fc)))), add(sub(0x4000000, y), shr(27, add(mul(y, y), 0x4000000)))), shl(sub(s, 1), 1))))
                }
                {
                    let d := sub(mx, signextend(3, w))
                    let u := shr(20, add(mul(d, 1549082005), 0x80000))
                    let y := shr(26, add(mul(and(u, 0x3ffff), 46516320), 0x2000000))
                    let s := add(22, shr(26, u))
                    sum := add(sum, shr(s, add(mul(shr(224, mload(add(t, and(shr(16, u), 0x3fc)))), add(sub(0x4000000, y), shr(27, add(mul(y, y), 0x4000000)))), shl(sub(s, 1), 1))))
                }
            }
            let rest := and(len, 7)
            if rest {
                let w := swap(calldataload(end))
                for { let j := 0 } lt(j, rest) { j := add(j, 1) } {
                    let d := sub(mx, signextend(3, shr(sub(224, shl(5, j)), w)))
                    bad := or(bad, shl(32, slt(d, 0)))
                    let u := shr(20, add(mul(d, 1549082005), 0x80000))
                    let y := shr(26, add(mul(and(u, 0x3ffff), 46516320), 0x2000000))
                    let s := add(22, shr(26, u))
                    sum := add(sum, shr(s, add(mul(shr(224, mload(add(t, and(shr(16, u), 0x3fc)))), add(sub(0x4000000, y), shr(27, add(mul(y, y), 0x4000000)))), shl(sub(s, 1), 1))))
                }
            }
            above := iszero(iszero(and(bad, 0x0000000100000000000000010000000000000001000000000000000100000000)))

            function swap(w_) -> r_ {
                w_ := or(and(shr(8, w_), 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff), and(shl(8, w_), 0xff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00))
                r_ := or(and(shr(16, w_), 0x0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff), and(shl(16, w_), 0xffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000))
            }
        }
    }
}
