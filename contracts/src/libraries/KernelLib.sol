// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @dev The rows of the running epoch and the storage they read, as the kernels see them.
/// Every array is indexed by row r (mask: two words per row, reg: 16 columns of one word).
struct Kernel {
    uint256 rows;
    uint256 wslot; // first slot of s.weights (row i, word k at wslot + 32i + k)
    uint256 bslot; // first slot of s.bonds (same layout)
    uint256[] uid;
    uint256[] sum; // masked u16 row sum
    uint256[] thr; // uids registered at or after it are masked
    uint256[] mask; // weightMask words of the row (0 when not needed by this transaction)
    uint256[] reg; // registration blocks of the word's columns, read when regOn
    uint256 regOn; // 1 when some row's threshold is at or below the newest registration
}

/// @dev Yuma3 bond parameters of one transaction (I32F32 raw bits).
struct BondKnobs {
    uint256 bp; // bonds penalty
    uint256 liquid; // 1: liquid alpha
    uint256 alpha; // fixed EMA rate
    uint256 low;
    uint256 high;
    int256 slope;
    uint256 recent; // bit c: column c of the word was registered since the last tempo
    uint256 a0; // scratch: the liquid alpha at a zero difference
}

/// @title KernelLib
/// @notice The epoch's per-cell loops in Yul, one 16-column weight word of every row at a time.
/// A cell (row r, column c of word k) is present when its weightMask bit is set, it is not on the
/// diagonal and its column was registered before the row's threshold; its value is then the u16
/// weight divided by the row's masked sum (I32F32, truncated; 0 when the sum is 0).
/// @dev Arithmetic is exactly YumaLib's and src/consensus's (floor products, truncated quotients;
/// the liquid-alpha sigmoid and its exp as src/consensus/liquid-alpha.ts and exp.ts, docs/CONSENSUS.md).
library KernelLib {
    /// @dev Consensus of columns [c0, c1) of word k. `col` holds 6 x 16 words: the claimed
    /// medians, then per column the median stake below and equal to the claim, the lowest and
    /// highest score over rows with stake, and the clipped rank; 4 more words of row scratch and
    /// a flag: 1 when the check needs the lowest and highest scores (a degenerate minority),
    /// which are left untouched otherwise. Row trust accumulates in `trust`.
    function consensusWord(
        Kernel memory K,
        uint256 k,
        uint256 c0,
        uint256 c1,
        uint256[] memory use,
        uint256[] memory act,
        uint256[] memory trust,
        uint256[] memory col
    ) internal view {
        assembly ("memory-safe") {
            let colP := add(col, 0x20)
            let rows := mload(K)
            for { let r := 0 } lt(r, rows) { r := add(r, 1) } {
                let o := shl(5, r)
                let word, bits, sum := rowWord(K, r, k)
                mstore(add(colP, 0xc00), mload(add(add(use, 0x20), o)))
                mstore(add(colP, 0xc20), mload(add(add(act, 0x20), o)))
                mstore(add(colP, 0xc40), add(colP, shl(5, c0)))
                mstore(add(colP, 0xc60), add(colP, shl(5, c1)))
                let tr := column(shr(shl(4, c0), word), shr(c0, bits), sum, add(colP, 0xc00))
                let tp := add(add(trust, 0x20), o)
                mstore(tp, add(mload(tp), tr))
            }

            // cells [c0, c1) of one row (word and bits shifted to c0; ctx: stake, active stake,
            // first and end column pointer): column scratch at cc (med, +16 below, +32 equal, +48 lo,
            // +64 hi, +80 rank words); returns the row's clipped trust
            function column(word, bits, sum, ctx) -> tr {
                let u := mload(ctx)
                let a := mload(add(ctx, 0x20))
                let cc := mload(add(ctx, 0x40))
                let ce := mload(add(ctx, 0x60))
                switch or(iszero(u), mload(add(ctx, 0x80)))
                case 0 {
                    // a row with median stake, no lo/hi needed: an absent cell is w = 0, which
                    // adds nothing to trust or rank, so only the median sums look at it
                    for {} lt(cc, ce) { cc := add(cc, 0x20) } {
                        let med := mload(cc)
                        let w := 0
                        if and(bits, 1) { w := div(shl(32, and(word, 0xffff)), sum) }
                        bits := shr(1, bits)
                        word := shr(16, word)
                        switch lt(w, med)
                        case 1 {
                            let q := add(cc, 0x200)
                            mstore(q, add(mload(q), u))
                        }
                        default {
                            if eq(w, med) {
                                let q := add(cc, 0x400)
                                mstore(q, add(mload(q), u))
                            }
                            w := med
                        }
                        tr := add(tr, w)
                        let q := add(cc, 0xa00)
                        mstore(q, add(mload(q), shr(32, mul(a, w))))
                    }
                }
                default {
                    for {} lt(cc, ce) { cc := add(cc, 0x20) } {
                        let med := mload(cc)
                        let w := 0
                        if and(bits, 1) { w := div(shl(32, and(word, 0xffff)), sum) }
                        bits := shr(1, bits)
                        word := shr(16, word)
                        if u {
                            switch lt(w, med)
                            case 1 { mstore(add(cc, 0x200), add(mload(add(cc, 0x200)), u)) }
                            default { if eq(w, med) { mstore(add(cc, 0x400), add(mload(add(cc, 0x400)), u)) } }
                            if lt(w, mload(add(cc, 0x600))) { mstore(add(cc, 0x600), w) }
                            if gt(w, mload(add(cc, 0x800))) { mstore(add(cc, 0x800), w) }
                        }
                        if gt(w, med) { w := med }
                        tr := add(tr, w)
                        mstore(add(cc, 0xa00), add(mload(add(cc, 0xa00)), shr(32, mul(a, w))))
                    }
                }
            }

            // word k of row r: the stored weights, the present bits and the row sum
            function rowWord(K_, r, k_) -> word, bits, sum {
                let o := shl(5, r)
                let i := mload(add(mload(add(K_, 0x60)), add(o, 0x20)))
                word := sload(add(mload(add(K_, 0x20)), add(shl(5, i), k_)))
                let m := mload(add(mload(add(K_, 0xc0)), add(shl(6, r), add(shl(5, shr(4, k_)), 0x20))))
                bits := and(shr(shl(4, and(k_, 15)), m), 0xffff)
                if eq(shr(4, i), k_) { bits := and(bits, not(shl(and(i, 15), 1))) }
                if mload(add(K_, 0x100)) {
                    let t := mload(add(mload(add(K_, 0xa0)), add(o, 0x20)))
                    let regP := add(mload(add(K_, 0xe0)), 0x20)
                    for { let c := 0 } lt(c, 16) { c := add(c, 1) } {
                        if iszero(lt(mload(add(regP, shl(5, c))), t)) { bits := and(bits, not(shl(c, 1))) }
                    }
                }
                sum := mload(add(mload(add(K_, 0x80)), add(o, 0x20)))
            }
        }
    }

    /// @dev Yuma3 bonds of the first `end` columns of word k: the EMA (liquid alpha or fixed rate)
    /// of every row, written back to s.bonds (zero for rows in `drop`), and Σ_c Bn_rc·I_c added to
    /// `div`. `col` holds 3 x 16 words: consensus, incentive, and scratch for the column sums;
    /// `vals` rows x 17 scratch words (a row's 16 new bond values, then the mask of the columns
    /// whose value was written).
    function bondsWord(
        Kernel memory K,
        BondKnobs memory P,
        uint256 k,
        uint256 end,
        uint256[] memory col,
        uint256[] memory vals,
        uint256[] memory keep,
        uint256[] memory dv
    ) internal {
        assembly ("memory-safe") {
            let colP := add(col, 0x20)
            let valsP := add(vals, 0x20)
            let rows := mload(K)
            let bp := mload(P)
            let mode := 2
            if iszero(bp) { mode := 0 }
            if eq(bp, 0x100000000) { mode := 1 }
            let liquid := mload(add(P, 0x20))
            let fixedA := mload(add(P, 0x40))
            let lanes := 0 // bond lanes of columns not registered since the last tempo
            {
                let recent := mload(add(P, 0xc0))
                for { let c := 0 } lt(c, 16) { c := add(c, 1) } {
                    mstore(add(colP, shl(5, add(c, 32))), 0)
                    if iszero(and(shr(c, recent), 1)) { lanes := or(lanes, shl(shl(4, c), 0xffff)) }
                }
            }
            let fast := and(eq(mode, 1), iszero(iszero(liquid)))
            // the liquid alpha at d = 0, the cells' usual value, kept in P's scratch word
            if liquid { mstore(add(P, 0xe0), alphaOf(0, P)) }
            let all := sub(shl(end, 1), 1)
            for { let r := 0 } lt(r, rows) { r := add(r, 1) } {
                let word, bits, sum := rowWord(K, r, k)
                let slot := bondSlot(K, r, k)
                let bw := sload(slot)
                let vp := add(valsP, mul(r, 0x220))
                let out := 0
                switch fast
                case 1 {
                    bits := and(bits, all)
                    out := clippedLiquid(word, bits, sum, and(bw, lanes), colP, sub(vp, colP), P)
                    mstore(add(vp, 0x200), bits)
                }
                default {
                    out := generic(word, bits, sum, and(bw, lanes), vp, colP, end, mode, bp, liquid, fixedA, P)
                    mstore(add(vp, 0x200), all)
                }
                if iszero(mload(add(keep, add(shl(5, r), 0x20)))) { out := 0 }
                if iszero(eq(out, bw)) { sstore(slot, out) }
            }
            // dividends (a zero column sum means all its v are 0)
            for { let r := 0 } lt(r, rows) { r := add(r, 1) } {
                let dp := add(dv, add(shl(5, r), 0x20))
                mstore(dp, rowDividend(mload(dp), add(valsP, mul(r, 0x220)), colP))
            }

            // Σ over the columns the row wrote (mask after its 16 values) of floor(v/colSum)·I_c
            function rowDividend(d, vp, q) -> acc {
                acc := d
                let m := mload(add(vp, 0x200))
                for {} m {} {
                    if and(m, 1) {
                        let v := mload(vp)
                        if v { acc := add(acc, shr(32, mul(div(shl(32, v), mload(add(q, 0x400))), mload(add(q, 0x200))))) }
                    }
                    m := shr(1, m)
                    vp := add(vp, 0x20)
                    q := add(q, 0x20)
                }
            }

            // any mode: every column below end_ gets a value
            function generic(word, bits, sum, bl, vp, colP_, end_, mode_, bp_, liquid_, fixedA_, P_) -> out {
                for { let c := 0 } lt(c, end_) { c := add(c, 1) } {
                    let sh := shl(4, c)
                    let p := and(shr(c, bits), 1)
                    let w := 0
                    if p { w := div(shl(32, and(shr(sh, word), 0xffff)), sum) }
                    let med := mload(add(colP_, shl(5, c)))
                    if mode_ {
                        // weights for bonds: clipped W (bp = 1), else W + bp*(clip - W) kept when > 0
                        let cw := w
                        let cp := p
                        if gt(w, med) {
                            cw := med
                            cp := and(p, iszero(iszero(med)))
                        }
                        switch mode_
                        case 1 {
                            p := cp
                            w := mul(cw, cp)
                        }
                        default {
                            let it := add(w, sar(32, mul(bp_, sub(mul(cw, cp), w))))
                            p := and(p, sgt(it, 0))
                            w := mul(it, p)
                        }
                    }
                    let b := div(shl(32, and(shr(sh, bl), 0xffff)), 65535)
                    let v := 0
                    switch liquid_
                    case 0 { v := add(shr(32, mul(fixedA_, w)), shr(32, mul(sub(0x100000000, fixedA_), b))) }
                    default {
                        // mat_ema_alpha_sparse: only cells of the current Wb row, capped at 1
                        if p {
                            let d := 0
                            switch lt(w, b)
                            case 0 { if gt(w, med) { d := sub(w, med) } }
                            default { d := sub(b, w) }
                            if gt(d, 0x100000000) { d := 0x100000000 }
                            let a := mload(add(P_, 0xe0))
                            if d { a := alphaOf(d, P_) }
                            v := add(shr(32, mul(sub(0x100000000, a), b)), shr(32, mul(a, w)))
                            if gt(v, 0x100000000) { v := 0x100000000 }
                        }
                    }
                    mstore(add(vp, shl(5, c)), v)
                    if v {
                        let sp := add(colP_, shl(5, add(c, 32)))
                        mstore(sp, add(mload(sp), v))
                        let u := shr(32, mul(v, 65535))
                        if gt(u, 65535) { u := 65535 }
                        out := or(out, shl(sh, u))
                    }
                }
            }

            // the present cells of one row with bp = 1 and liquid alpha (absent cells get no
            // value): Wb = min(W, C) <= C, so the sigmoid's difference is b - Wb when Wb < b and
            // 0 otherwise (P's scratch word). p walks the columns' consensus words, p + dvp their
            // value words in the row's scratch.
            function clippedLiquid(word, bits, sum, bl, p, dvp, P_) -> out {
                for { let sh := 0 } bits {} {
                    if and(bits, 1) {
                        let w := div(shl(32, and(word, 0xffff)), sum)
                        let med := mload(p)
                        let v := 0
                        // clipped to a zero consensus, the cell leaves Wb
                        if or(med, iszero(w)) {
                            if gt(w, med) { w := med }
                            let b := div(shl(32, and(bl, 0xffff)), 65535)
                            let a := mload(add(P_, 0xe0))
                            if lt(w, b) { a := alphaOf(sub(b, w), P_) }
                            v := add(shr(32, mul(sub(0x100000000, a), b)), shr(32, mul(a, w)))
                            if gt(v, 0x100000000) { v := 0x100000000 }
                            let q := add(p, 0x400)
                            mstore(q, add(mload(q), v))
                            // v <= 1, so the u16 needs no cap
                            out := or(out, shl(sh, shr(32, mul(v, 65535))))
                        }
                        mstore(add(p, dvp), v)
                    }
                    bits := shr(1, bits)
                    word := shr(16, word)
                    bl := shr(16, bl)
                    p := add(p, 0x20)
                    sh := add(sh, 16)
                }
            }

            function bondSlot(K_, r, k_) -> slot {
                let i := mload(add(mload(add(K_, 0x60)), add(shl(5, r), 0x20)))
                slot := add(mload(add(K_, 0x40)), add(shl(5, i), k_))
            }

            // liquid alpha (src/consensus/liquid-alpha.ts) for a clamped difference d
            function alphaOf(d, P_) -> a {
                let low := mload(add(P_, 0x60))
                let high := mload(add(P_, 0x80))
                let arg := sar(32, mul(mload(add(P_, 0xa0)), sub(d, 0x80000000)))
                let sig := div(shl(64, 1), add(0x100000000, expSafe(arg)))
                a := add(low, sar(32, mul(sig, sub(high, low))))
                if sgt(a, high) { a := high }
                if slt(a, low) { a := low }
            }

            // exp_safe (src/consensus/exp.ts)
            function expSafe(x) -> result {
                let lim := 0x1400000000 // 20 << 32
                if slt(x, sub(0, lim)) { x := sub(0, lim) }
                if sgt(x, lim) { x := lim }
                switch x
                case 0 { result := 0x100000000 }
                case 0x100000000 { result := shl(9, 22802600) }
                default {
                    let neg := slt(x, 0)
                    let a := x
                    if neg { a := sub(0, x) }
                    result := add(0x100000000, a)
                    let term := a
                    for { let i := 2 } lt(i, 32) { i := add(i, 1) } {
                        term := div(shr(32, mul(term, a)), i)
                        if iszero(term) { break }
                        result := add(result, term)
                    }
                    if neg { result := div(shl(64, 1), result) }
                }
            }

            function rowWord(K_, r, k_) -> word, bits, sum {
                let o := shl(5, r)
                let i := mload(add(mload(add(K_, 0x60)), add(o, 0x20)))
                word := sload(add(mload(add(K_, 0x20)), add(shl(5, i), k_)))
                let m := mload(add(mload(add(K_, 0xc0)), add(shl(6, r), add(shl(5, shr(4, k_)), 0x20))))
                bits := and(shr(shl(4, and(k_, 15)), m), 0xffff)
                if eq(shr(4, i), k_) { bits := and(bits, not(shl(and(i, 15), 1))) }
                if mload(add(K_, 0x100)) {
                    let t := mload(add(mload(add(K_, 0xa0)), add(o, 0x20)))
                    let regP := add(mload(add(K_, 0xe0)), 0x20)
                    for { let c := 0 } lt(c, 16) { c := add(c, 1) } {
                        if iszero(lt(mload(add(regP, shl(5, c))), t)) { bits := and(bits, not(shl(c, 1))) }
                    }
                }
                sum := mload(add(mload(add(K_, 0x80)), add(o, 0x20)))
            }
        }
    }
}
