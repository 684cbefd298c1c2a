// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ExpLib} from "./ExpLib.sol";
import {PrngLib} from "./PrngLib.sol";
import {VecLib} from "./VecLib.sol";

/// @dev The request's sampling parameters in their integer form (sampler/sample.ts).
struct SamplingParams {
    /// @dev Temperature in thousandths; 0 = greedy.
    uint256 temperatureMilli;
    /// @dev Keep the k most likely tokens; 0 = all.
    uint256 topK;
    /// @dev Nucleus mass in thousandths; 1000 = off.
    uint256 topPMilli;
}

/// @title SamplerLib
/// @notice One sampler step (src/runtime/sampler/sample.ts) checked instead of sorted: the caller
/// gives `order`, the prefix of the candidates in (logit desc, index asc) order that the sampler
/// reads, and one pass over the logits proves it is that prefix. Sorting thousands of candidates
/// on chain would cost more than the whole check.
/// @dev `order` is that many big-endian uint32 token indices. Which prefix: greedy, just the
/// argmax; otherwise the candidates the weight loop visits, i.e. up to k = min(topK, m) of them
/// (m = number of candidates; topK 0 = m), ending early with the first whose weight is 0.
/// A prefix of length L is proven by: strictly ordered, every entry a candidate, and exactly L
/// indices j with (z_j, j) at or before the last entry in the order (so nothing is missing and
/// the first entry is the maximum).
library SamplerLib {
    uint256 private constant LO = 0x00000000ffffffff00000000ffffffff00000000ffffffff00000000ffffffff;
    uint256 private constant SLOT_ONES = 0x0000000000000001000000000000000100000000000000010000000000000001;
    uint256 private constant FLIP = 0x8000000080000000800000008000000080000000800000008000000080000000;

    error OrderLength(uint256 given, uint256 expected);
    error OrderNotSorted(uint256 position);
    error OrderIndex(uint256 position, uint256 index);
    error OrderNotPrefix(uint256 atOrBefore, uint256 inOrder);
    error OrderNotCandidate();
    error TemperatureTooHigh(uint256 temperatureMilli);
    error Vocabulary();

    /// @dev The token drawn from an n-element logits vector (its chunk bytes) and the PRNG state
    /// after the draw. Greedy draws nothing.
    function sample(
        bytes calldata logits,
        uint256 n,
        SamplingParams memory p,
        uint32[4] memory state,
        bytes calldata order
    ) internal pure returns (uint256 token, uint32[4] memory) {
        VecLib.requireVector(logits, n);
        if (n == 0) revert Vocabulary();
        // sample.ts checks temperature <= 100 (100,000 milli): every product below stays < 2^53.
        if (p.temperatureMilli > 100_000) revert TemperatureTooHigh(p.temperatureMilli);
        uint256 base = VecLib.start(logits);
        uint256 len = order.length >> 2;
        if (len == 0 || order.length & 3 != 0) revert OrderLength(order.length, 0);
        if (p.temperatureMilli == 0) {
            if (len != 1) revert OrderLength(len, 1);
            uint256 j = entry(order, 0, n);
            requirePrefix(base, n, j, VecLib.get(base, j), 1);
            return (j, state);
        }
        Scan memory sc = scan(base, n, order, len, int256(p.temperatureMilli));
        if (sc.zLast < sc.zthr) revert OrderNotCandidate();
        requirePrefix(base, n, sc.last, sc.zLast, len);
        uint256 count = sc.count;
        uint256 total = sc.total;
        if (count == len) {
            // No zero weight: the loop ran k = min(topK, m) times. With topK <= len, m >= len
            // holds already (len distinct candidates); otherwise len must be every candidate.
            if (p.topK == 0 || p.topK > len) {
                uint256 m = countCandidates(base, n, sc.zthr);
                if (m != len) revert OrderLength(len, m);
            } else if (p.topK != len) {
                revert OrderLength(len, p.topK);
            }
        } else if (p.topK != 0 && len > p.topK) {
            // The zero weight at entry len - 1 was visited only if len - 1 < topK.
            revert OrderLength(len, p.topK);
        }
        uint256 w = sc.weights;
        // Unchecked: cumulative weights stay below 2^37, times 1000 (or topPMilli <= 1000 times
        // the total) below 2^47; i < count <= len.
        unchecked {
            if (p.topPMilli < 1000) {
                uint256 cum = 0;
                for (uint256 i = 0; i < count; i++) {
                    cum += weightAt(w, i);
                    if (cum * 1000 >= p.topPMilli * total) {
                        count = i + 1;
                        total = cum;
                        break;
                    }
                }
            }
            uint256 u = PrngLib.below(state, total);
            uint256 acc = 0;
            for (uint256 i = 0; i < count; i++) {
                acc += weightAt(w, i);
                if (acc > u) return (entry(order, i, n), state);
            }
            return (entry(order, count - 1, n), state);
        }
    }

    /// @dev What one pass over the order finds.
    struct Scan {
        int256 zthr; // the candidates' lowest logit
        uint256 last; // the order's last index and its logit
        int256 zLast;
        uint256 count; // entries with a non-zero weight
        uint256 total; // their sum
        uint256 weights; // memory: weight i as a big-endian uint32 at weights + 4i
    }

    /// @dev Order entry i (a token index below n).
    function entry(bytes calldata order, uint256 i, uint256 n) private pure returns (uint256 j) {
        assembly ("memory-safe") {
            j := shr(224, calldataload(add(order.offset, shl(2, i))))
        }
        if (j >= n) revert OrderIndex(i, j);
    }

    function weightAt(uint256 w, uint256 i) private pure returns (uint256 e) {
        assembly ("memory-safe") {
            e := shr(224, mload(add(w, shl(2, i))))
        }
    }

    /// @dev One pass over the order: strictly in (logit desc, index asc), and the weights
    /// E_i = roundShift(expQ30(w_i), 10), w_i = roundDiv((z_i - zmax) 1000, t), up to the first
    /// zero (sample.ts stops there; it must be the last entry). Each weight is <= 2^20 and their
    /// sum stays below 2^37; they are kept 4 bytes each (memory grows with the order's length).
    function scan(uint256 base, uint256 n, bytes calldata order, uint256 len, int256 t)
        private
        pure
        returns (Scan memory sc)
    {
        bytes memory tbl = ExpLib.table();
        uint256 w;
        assembly ("memory-safe") {
            // 4 bytes per weight; the last write spills 28 bytes past them.
            w := mload(0x40)
            mstore(0x40, add(w, add(shl(2, len), 0x20)))
        }
        sc.weights = w;
        uint256 prev = entry(order, 0, n);
        int256 zmax = VecLib.get(base, prev);
        // Candidates: (z - zmax) 1000 >= -(16 2^16 + 1) t, i.e. z >= zmax - floor((16 2^16 + 1) t / 1000).
        sc.zthr = zmax - ((16 * 65536 + 1) * t) / 1000;
        int256 zPrev = zmax;
        // Unchecked: logits are int32 and t <= 100,000, so |2 (z - zmax) 1000 + t| < 2^44; the
        // weights' sum stays below 2^37; i < len.
        unchecked {
            for (uint256 i = 0; i < len; i++) {
                uint256 j = prev;
                int256 zj = zmax;
                if (i > 0) {
                    j = entry(order, i, n);
                    zj = VecLib.get(base, j);
                    if (!(zPrev > zj || (zPrev == zj && prev < j))) revert OrderNotSorted(i);
                }
                // (z - zmax) 1000 <= 0: roundDiv is floor((2a + t) / (2t)) by floor division.
                int256 a = 2 * (zj - zmax) * 1000 + t;
                int256 q = a / (2 * t);
                if (a % (2 * t) < 0) q -= 1;
                uint256 e = (uint256(ExpLib.expQ30(q, tbl)) + 512) >> 10;
                sc.last = j;
                sc.zLast = zj;
                if (e == 0) {
                    if (i != len - 1) revert OrderLength(len, i + 1);
                    break;
                }
                assembly ("memory-safe") {
                    mstore(add(w, shl(2, i)), shl(224, e))
                }
                sc.total += e;
                sc.count++;
                prev = j;
                zPrev = zj;
            }
        }
    }

    /// @dev Reverts unless exactly `len` indices j have (z_j, j) at or before (zLast, last) in
    /// the order: z_j >= zLast for j <= last, z_j > zLast after it.
    function requirePrefix(uint256 base, uint256 n, uint256 last, int256 zLast, uint256 len) private pure {
        // Counts stay below n; unchecked.
        unchecked {
            uint256 wl = last >> 3;
            uint256 full = n >> 3;
            uint256 c = countGE(base, 0, wl, zLast);
            if (wl + 1 < full) c += countGE(base, wl + 1, full, zLast + 1);
            // The word holding `last`, then the last partial word if it is another one.
            uint256 stop = (wl + 1) << 3;
            if (stop > n) stop = n;
            for (uint256 j = wl << 3; j < stop; j++) {
                int256 zj = VecLib.get(base, j);
                if (j <= last ? zj >= zLast : zj > zLast) c++;
            }
            if (wl < full) {
                for (uint256 j = full << 3; j < n; j++) {
                    if (VecLib.get(base, j) > zLast) c++;
                }
            }
            if (c != len) revert OrderNotPrefix(c, len);
        }
    }

    /// @dev m: the number of j with z_j >= zthr.
    function countCandidates(uint256 base, uint256 n, int256 zthr) private pure returns (uint256 m) {
        uint256 full = n >> 3;
        m = countGE(base, 0, full, zthr);
        for (uint256 j = full << 3; j < n; j++) {
            if (VecLib.get(base, j) >= zthr) m++;
        }
    }

    /// @dev How many lanes of words [w0, w1) are >= thr. Lanes get their sign bit flipped (signed
    /// order becomes unsigned order), even and odd lanes sit in 64-bit slots, and bit 32 of
    /// (lane + 2^32 - thr') in a slot is the comparison, thr' = thr + 2^31 clamped to [0, 2^32].
    function countGE(uint256 base, uint256 w0, uint256 w1, int256 thr) private pure returns (uint256 c) {
        if (w0 >= w1) return 0;
        uint256 tu;
        if (thr <= -(1 << 31)) tu = 0;
        else if (thr >= (1 << 31)) tu = 1 << 32;
        else tu = uint256(thr + (1 << 31));
        assembly ("memory-safe") {
            // 2^32 - thr' in every slot (no borrow: lane + 2^32 - thr' >= 0).
            let bias := mul(sub(0x100000000, tu), SLOT_ONES)
            let acc := 0
            let end := add(base, shl(5, w1))
            for { let p := add(base, shl(5, w0)) } lt(p, end) { p := add(p, 0x20) } {
                let w := xor(swap(calldataload(p)), FLIP)
                acc := add(acc, and(shr(32, add(and(w, LO), bias)), SLOT_ONES))
                acc := add(acc, and(shr(32, add(and(shr(32, w), LO), bias)), SLOT_ONES))
            }
            // Each slot counts at most 2 per word: no carry between slots below 2^63 words.
            acc := add(and(acc, 0xffffffffffffffffffffffffffffffff), shr(128, acc))
            c := add(and(acc, 0xffffffffffffffff), shr(64, acc))

            function swap(w_) -> r_ {
                w_ := or(and(shr(8, w_), 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff), and(shl(8, w_), 0xff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00))
                r_ := or(and(shr(16, w_), 0x0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff), and(shl(16, w_), 0xffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000))
            }
        }
    }
}
