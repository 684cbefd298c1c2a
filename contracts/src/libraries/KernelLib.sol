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
            rowsLoop(K, k, c0, c1, use, act, trust, add(col, 0x20))

            // Every row of word k. Here and below, a self-call that never runs (a pointer is never
            // zero, a word's bits fit 16) keeps a function out of line: inlined into its caller,
            // its values would be spilled to memory and rebuilt at every use.
            function rowsLoop(K_, k_, c0_, c1_, use_, act_, trust_, colP) {
                if iszero(colP) { rowsLoop(K_, k_, c0_, c1_, use_, act_, trust_, colP) }
                mstore(add(colP, 0xc40), add(colP, shl(5, c0_)))
                mstore(add(colP, 0xc60), add(colP, shl(5, c1_)))
                let rows := mload(K_)
                for { let r := 0 } lt(r, rows) { r := add(r, 1) } {
                    let o := shl(5, r)
                    let word, bits, sum := rowWord(K_, r, k_)
                    mstore(add(colP, 0xc00), mload(add(add(use_, 0x20), o)))
                    mstore(add(colP, 0xc20), mload(add(add(act_, 0x20), o)))
                    let tr := column(shr(shl(4, c0_), word), shr(c0_, bits), sum, add(colP, 0xc00))
                    let tp := add(add(trust_, 0x20), o)
                    mstore(tp, add(mload(tp), tr))
                }
            }

            // cells [c0, c1) of one row (word and bits shifted to c0; ctx: stake, active stake,
            // first and end column pointer): column scratch at cc (med, +16 below, +32 equal, +48 lo,
            // +64 hi, +80 rank words); returns the row's clipped trust
            function column(word, bits, sum, ctx) -> tr {
                if iszero(ctx) { tr := column(word, bits, sum, ctx) }
                let u := mload(ctx)
                let a := mload(add(ctx, 0x20))
                let cc := mload(add(ctx, 0x40))
                let ce := mload(add(ctx, 0x60))
                // ctx sits 0xc00 past the first column: a whole word is unrolled
                let whole := and(eq(cc, sub(ctx, 0xc00)), eq(ce, sub(ctx, 0xa00)))
                switch or(iszero(u), mload(add(ctx, 0x80)))
                case 0 {
                    // a row with median stake, no lo/hi needed: an absent cell is w = 0, which
                    // adds nothing to trust or rank, so only the median sums look at it
                    if whole {
                        tr := wholeWord(word, bits, sum, u, a, cc)
                        cc := ce
                    }
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

            // the fast path of `column` over all 16 columns of a word, unrolled (one block per
            // column, identical but for its shift and offsets)
            function wholeWord(word, bits, sum, u, a, cc) -> tr {
                if gt(bits, 0xffff) { tr := wholeWord(word, and(bits, 0xffff), sum, u, a, cc) }
                // each division's divisor is or(sum, tr >> 255), which is sum (tr < 2^255) but ties
                // it to the block before: the optimizer would otherwise hoist all 16 divisions to
                // the top, and their 16 live values do not fit the stack
                {
                    let med := mload(cc)
                    let w := 0
                    if and(bits, 0x1) { w := div(shl(32, and(word, 0xffff)), or(sum, shr(255, tr))) }
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
                {
                    let med := mload(add(cc, 0x20))
                    let w := 0
                    if and(bits, 0x2) { w := div(shl(32, and(shr(16, word), 0xffff)), or(sum, shr(255, tr))) }
                    switch lt(w, med)
                    case 1 {
                        let q := add(cc, 0x220)
                        mstore(q, add(mload(q), u))
                    }
                    default {
                        if eq(w, med) {
                            let q := add(cc, 0x420)
                            mstore(q, add(mload(q), u))
                        }
                        w := med
                    }
                    tr := add(tr, w)
                    let q := add(cc, 0xa20)
                    mstore(q, add(mload(q), shr(32, mul(a, w))))
                }
                {
                    let med := mload(add(cc, 0x40))
                    let w := 0
                    if and(bits, 0x4) { w := div(shl(32, and(shr(32, word), 0xffff)), or(sum, shr(255, tr))) }
                    switch lt(w, med)
                    case 1 {
                        let q := add(cc, 0x240)
                        mstore(q, add(mload(q), u))
                    }
                    default {
                        if eq(w, med) {
                            let q := add(cc, 0x440)
                            mstore(q, add(mload(q), u))
                        }
                        w := med
                    }
                    tr := add(tr, w)
                    let q := add(cc, 0xa40)
                    mstore(q, add(mload(q), shr(32, mul(a, w))))
                }
                {
                    let med := mload(add(cc, 0x60))
                    let w := 0
                    if and(bits, 0x8) { w := div(shl(32, and(shr(48, word), 0xffff)), or(sum, shr(255, tr))) }
                    switch lt(w, med)
                    case 1 {
                        let q := add(cc, 0x260)
                        mstore(q, add(mload(q), u))
                    }
                    default {
                        if eq(w, med) {
                            let q := add(cc, 0x460)
                            mstore(q, add(mload(q), u))
                        }
                        w := med
                    }
                    tr := add(tr, w)
                    let q := add(cc, 0xa60)
                    mstore(q, add(mload(q), shr(32, mul(a, w))))
                }
                {
                    let med := mload(add(cc, 0x80))
                    let w := 0
                    if and(bits, 0x10) { w := div(shl(32, and(shr(64, word), 0xffff)), or(sum, shr(255, tr))) }
                    switch lt(w, med)
                    case 1 {
                        let q := add(cc, 0x280)
                        mstore(q, add(mload(q), u))
                    }
                    default {
                        if eq(w, med) {
                            let q := add(cc, 0x480)
                            mstore(q, add(mload(q), u))
                        }
                        w := med
                    }
                    tr := add(tr, w)
                    let q := add(cc, 0xa80)
                    mstore(q, add(mload(q), shr(32, mul(a, w))))
                }
                {
                    let med := mload(add(cc, 0xa0))
                    let w := 0
                    if and(bits, 0x20) { w := div(shl(32, and(shr(80, word), 0xffff)), or(sum, shr(255, tr))) }
                    switch lt(w, med)
                    case 1 {
                        let q := add(cc, 0x2a0)
                        mstore(q, add(mload(q), u))
                    }
                    default {
                        if eq(w, med) {
                            let q := add(cc, 0x4a0)
                            mstore(q, add(mload(q), u))
                        }
                        w := med
                    }
                    tr := add(tr, w)
                    let q := add(cc, 0xaa0)
                    mstore(q, add(mload(q), shr(32, mul(a, w))))
                }
                {
                    let med := mload(add(cc, 0xc0))
                    let w := 0
                    if and(bits, 0x40) { w := div(shl(32, and(shr(96, word), 0xffff)), or(sum, shr(255, tr))) }
                    switch lt(w, med)
                    case 1 {
                        let q := add(cc, 0x2c0)
                        mstore(q, add(mload(q), u))
                    }
                    default {
                        if eq(w, med) {
                            let q := add(cc, 0x4c0)
                            mstore(q, add(mload(q), u))
                        }
                        w := med
                    }
                    tr := add(tr, w)
                    let q := add(cc, 0xac0)
                    mstore(q, add(mload(q), shr(32, mul(a, w))))
                }
                {
                    let med := mload(add(cc, 0xe0))
                    let w := 0
                    if and(bits, 0x80) { w := div(shl(32, and(shr(112, word), 0xffff)), or(sum, shr(255, tr))) }
                    switch lt(w, med)
                    case 1 {
                        let q := add(cc, 0x2e0)
                        mstore(q, add(mload(q), u))
                    }
                    default {
                        if eq(w, med) {
                            let q := add(cc, 0x4e0)
                            mstore(q, add(mload(q), u))
                        }
                        w := med
                    }
                    tr := add(tr, w)
                    let q := add(cc, 0xae0)
                    mstore(q, add(mload(q), shr(32, mul(a, w))))
                }
                {
                    let med := mload(add(cc, 0x100))
                    let w := 0
                    if and(bits, 0x100) { w := div(shl(32, and(shr(128, word), 0xffff)), or(sum, shr(255, tr))) }
                    switch lt(w, med)
                    case 1 {
                        let q := add(cc, 0x300)
                        mstore(q, add(mload(q), u))
                    }
                    default {
                        if eq(w, med) {
                            let q := add(cc, 0x500)
                            mstore(q, add(mload(q), u))
                        }
                        w := med
                    }
                    tr := add(tr, w)
                    let q := add(cc, 0xb00)
                    mstore(q, add(mload(q), shr(32, mul(a, w))))
                }
                {
                    let med := mload(add(cc, 0x120))
                    let w := 0
                    if and(bits, 0x200) { w := div(shl(32, and(shr(144, word), 0xffff)), or(sum, shr(255, tr))) }
                    switch lt(w, med)
                    case 1 {
                        let q := add(cc, 0x320)
                        mstore(q, add(mload(q), u))
                    }
                    default {
                        if eq(w, med) {
                            let q := add(cc, 0x520)
                            mstore(q, add(mload(q), u))
                        }
                        w := med
                    }
                    tr := add(tr, w)
                    let q := add(cc, 0xb20)
                    mstore(q, add(mload(q), shr(32, mul(a, w))))
                }
                {
                    let med := mload(add(cc, 0x140))
                    let w := 0
                    if and(bits, 0x400) { w := div(shl(32, and(shr(160, word), 0xffff)), or(sum, shr(255, tr))) }
                    switch lt(w, med)
                    case 1 {
                        let q := add(cc, 0x340)
                        mstore(q, add(mload(q), u))
                    }
                    default {
                        if eq(w, med) {
                            let q := add(cc, 0x540)
                            mstore(q, add(mload(q), u))
                        }
                        w := med
                    }
                    tr := add(tr, w)
                    let q := add(cc, 0xb40)
                    mstore(q, add(mload(q), shr(32, mul(a, w))))
                }
                {
                    let med := mload(add(cc, 0x160))
                    let w := 0
                    if and(bits, 0x800) { w := div(shl(32, and(shr(176, word), 0xffff)), or(sum, shr(255, tr))) }
                    switch lt(w, med)
                    case 1 {
                        let q := add(cc, 0x360)
                        mstore(q, add(mload(q), u))
                    }
                    default {
                        if eq(w, med) {
                            let q := add(cc, 0x560)
                            mstore(q, add(mload(q), u))
                        }
                        w := med
                    }
                    tr := add(tr, w)
                    let q := add(cc, 0xb60)
                    mstore(q, add(mload(q), shr(32, mul(a, w))))
                }
                {
                    let med := mload(add(cc, 0x180))
                    let w := 0
                    if and(bits, 0x1000) { w := div(shl(32, and(shr(192, word), 0xffff)), or(sum, shr(255, tr))) }
                    switch lt(w, med)
                    case 1 {
                        let q := add(cc, 0x380)
                        mstore(q, add(mload(q), u))
                    }
                    default {
                        if eq(w, med) {
                            let q := add(cc, 0x580)
                            mstore(q, add(mload(q), u))
                        }
                        w := med
                    }
                    tr := add(tr, w)
                    let q := add(cc, 0xb80)
                    mstore(q, add(mload(q), shr(32, mul(a, w))))
                }
                {
                    let med := mload(add(cc, 0x1a0))
                    let w := 0
                    if and(bits, 0x2000) { w := div(shl(32, and(shr(208, word), 0xffff)), or(sum, shr(255, tr))) }
                    switch lt(w, med)
                    case 1 {
                        let q := add(cc, 0x3a0)
                        mstore(q, add(mload(q), u))
                    }
                    default {
                        if eq(w, med) {
                            let q := add(cc, 0x5a0)
                            mstore(q, add(mload(q), u))
                        }
                        w := med
                    }
                    tr := add(tr, w)
                    let q := add(cc, 0xba0)
                    mstore(q, add(mload(q), shr(32, mul(a, w))))
                }
                {
                    let med := mload(add(cc, 0x1c0))
                    let w := 0
                    if and(bits, 0x4000) { w := div(shl(32, and(shr(224, word), 0xffff)), or(sum, shr(255, tr))) }
                    switch lt(w, med)
                    case 1 {
                        let q := add(cc, 0x3c0)
                        mstore(q, add(mload(q), u))
                    }
                    default {
                        if eq(w, med) {
                            let q := add(cc, 0x5c0)
                            mstore(q, add(mload(q), u))
                        }
                        w := med
                    }
                    tr := add(tr, w)
                    let q := add(cc, 0xbc0)
                    mstore(q, add(mload(q), shr(32, mul(a, w))))
                }
                {
                    let med := mload(add(cc, 0x1e0))
                    let w := 0
                    if and(bits, 0x8000) { w := div(shl(32, and(shr(240, word), 0xffff)), or(sum, shr(255, tr))) }
                    switch lt(w, med)
                    case 1 {
                        let q := add(cc, 0x3e0)
                        mstore(q, add(mload(q), u))
                    }
                    default {
                        if eq(w, med) {
                            let q := add(cc, 0x5e0)
                            mstore(q, add(mload(q), u))
                        }
                        w := med
                    }
                    tr := add(tr, w)
                    let q := add(cc, 0xbe0)
                    mstore(q, add(mload(q), shr(32, mul(a, w))))
                }
            }

            // word k of row r: the stored weights, the present bits and the row sum
            function rowWord(K_, r, k_) -> word, bits, sum {
                if iszero(K_) { word, bits, sum := rowWord(K_, r, k_) }
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
    /// `vals` rows x 16 scratch words (a row's new bond values; words past `end` are left as
    /// they were, their columns' sums being 0).
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
                let vp := add(valsP, shl(9, r))
                let out := 0
                switch fast
                case 1 {
                    bits := and(bits, all)
                    out := clippedLiquid(word, bits, sum, and(bw, lanes), colP, vp, mload(add(P, 0xe0)), P)
                }
                default {
                    out := generic(word, bits, sum, and(bw, lanes), vp, colP, end, mode, bp, liquid, fixedA, P)
                }
                if iszero(mload(add(keep, add(shl(5, r), 0x20)))) { out := 0 }
                if iszero(eq(out, bw)) { sstore(slot, out) }
            }
            // dividends (a zero column sum means all its v are 0)
            for { let r := 0 } lt(r, rows) { r := add(r, 1) } {
                let dp := add(dv, add(shl(5, r), 0x20))
                mstore(dp, rowDividend(mload(dp), add(valsP, shl(9, r)), colP))
            }

            // Σ_c floor(floor(v·2^32/colSum)·I_c / 2^32) over the row's 16 value words, unrolled.
            // Every word a row did not write belongs to a column past the chunk's end, whose sum
            // is 0, and a zero value or a zero divisor adds 0 (EVM division by 0 is 0).
            function rowDividend(d, vp, q) -> acc {
                acc := d
                // never true (vp is a memory pointer): a recursive function is not inlined, which
                // keeps the optimizer from rebuilding vp and q from spilled caller variables
                if iszero(vp) { acc := rowDividend(d, vp, q) }
                acc := add(acc, shr(32, mul(div(shl(32, mload(vp)), mload(add(q, 0x400))), mload(add(q, 0x200)))))
                acc := add(acc, shr(32, mul(div(shl(32, mload(add(vp, 0x20))), mload(add(q, 0x420))), mload(add(q, 0x220)))))
                acc := add(acc, shr(32, mul(div(shl(32, mload(add(vp, 0x40))), mload(add(q, 0x440))), mload(add(q, 0x240)))))
                acc := add(acc, shr(32, mul(div(shl(32, mload(add(vp, 0x60))), mload(add(q, 0x460))), mload(add(q, 0x260)))))
                acc := add(acc, shr(32, mul(div(shl(32, mload(add(vp, 0x80))), mload(add(q, 0x480))), mload(add(q, 0x280)))))
                acc := add(acc, shr(32, mul(div(shl(32, mload(add(vp, 0xa0))), mload(add(q, 0x4a0))), mload(add(q, 0x2a0)))))
                acc := add(acc, shr(32, mul(div(shl(32, mload(add(vp, 0xc0))), mload(add(q, 0x4c0))), mload(add(q, 0x2c0)))))
                acc := add(acc, shr(32, mul(div(shl(32, mload(add(vp, 0xe0))), mload(add(q, 0x4e0))), mload(add(q, 0x2e0)))))
                acc := add(acc, shr(32, mul(div(shl(32, mload(add(vp, 0x100))), mload(add(q, 0x500))), mload(add(q, 0x300)))))
                acc := add(acc, shr(32, mul(div(shl(32, mload(add(vp, 0x120))), mload(add(q, 0x520))), mload(add(q, 0x320)))))
                acc := add(acc, shr(32, mul(div(shl(32, mload(add(vp, 0x140))), mload(add(q, 0x540))), mload(add(q, 0x340)))))
                acc := add(acc, shr(32, mul(div(shl(32, mload(add(vp, 0x160))), mload(add(q, 0x560))), mload(add(q, 0x360)))))
                acc := add(acc, shr(32, mul(div(shl(32, mload(add(vp, 0x180))), mload(add(q, 0x580))), mload(add(q, 0x380)))))
                acc := add(acc, shr(32, mul(div(shl(32, mload(add(vp, 0x1a0))), mload(add(q, 0x5a0))), mload(add(q, 0x3a0)))))
                acc := add(acc, shr(32, mul(div(shl(32, mload(add(vp, 0x1c0))), mload(add(q, 0x5c0))), mload(add(q, 0x3c0)))))
                acc := add(acc, shr(32, mul(div(shl(32, mload(add(vp, 0x1e0))), mload(add(q, 0x5e0))), mload(add(q, 0x3e0)))))
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
            // 0 otherwise (a0). p points at the columns' consensus words (their sums 0x400 on), vp
            // at the row's value words. Unrolled: one block per column, identical but for the
            // column's shift and offsets (a loop spends more on its pointers than on the cell).
            function clippedLiquid(word, bits, sum, bl, p, vp, a0, P_) -> out {
                // never true: kept out of line, as rowDividend
                if gt(bits, 0xffff) { out := clippedLiquid(word, and(bits, 0xffff), sum, bl, p, vp, a0, P_) }
                {
                    let v := 0
                    if and(bits, 0x1) {
                        let w := div(shl(32, and(word, 0xffff)), sum)
                        let med := mload(add(p, 0x0))
                        if or(med, iszero(w)) {
                            if gt(w, med) { w := med }
                            let b := div(shl(32, and(bl, 0xffff)), 65535)
                            let a := a0
                            if lt(w, b) { a := alphaOf(sub(b, w), P_) }
                            v := add(shr(32, mul(sub(0x100000000, a), b)), shr(32, mul(a, w)))
                            if gt(v, 0x100000000) { v := 0x100000000 }
                            let q := add(p, 0x400)
                            mstore(q, add(mload(q), v))
                            out := or(out, shr(32, mul(v, 65535)))
                        }
                    }
                    mstore(add(vp, 0x0), v)
                }
                {
                    let v := 0
                    if and(bits, 0x2) {
                        let w := div(shl(32, and(shr(16, word), 0xffff)), sum)
                        let med := mload(add(p, 0x20))
                        if or(med, iszero(w)) {
                            if gt(w, med) { w := med }
                            let b := div(shl(32, and(shr(16, bl), 0xffff)), 65535)
                            let a := a0
                            if lt(w, b) { a := alphaOf(sub(b, w), P_) }
                            v := add(shr(32, mul(sub(0x100000000, a), b)), shr(32, mul(a, w)))
                            if gt(v, 0x100000000) { v := 0x100000000 }
                            let q := add(p, 0x420)
                            mstore(q, add(mload(q), v))
                            out := or(out, shl(16, shr(32, mul(v, 65535))))
                        }
                    }
                    mstore(add(vp, 0x20), v)
                }
                {
                    let v := 0
                    if and(bits, 0x4) {
                        let w := div(shl(32, and(shr(32, word), 0xffff)), sum)
                        let med := mload(add(p, 0x40))
                        if or(med, iszero(w)) {
                            if gt(w, med) { w := med }
                            let b := div(shl(32, and(shr(32, bl), 0xffff)), 65535)
                            let a := a0
                            if lt(w, b) { a := alphaOf(sub(b, w), P_) }
                            v := add(shr(32, mul(sub(0x100000000, a), b)), shr(32, mul(a, w)))
                            if gt(v, 0x100000000) { v := 0x100000000 }
                            let q := add(p, 0x440)
                            mstore(q, add(mload(q), v))
                            out := or(out, shl(32, shr(32, mul(v, 65535))))
                        }
                    }
                    mstore(add(vp, 0x40), v)
                }
                {
                    let v := 0
                    if and(bits, 0x8) {
                        let w := div(shl(32, and(shr(48, word), 0xffff)), sum)
                        let med := mload(add(p, 0x60))
                        if or(med, iszero(w)) {
                            if gt(w, med) { w := med }
                            let b := div(shl(32, and(shr(48, bl), 0xffff)), 65535)
                            let a := a0
                            if lt(w, b) { a := alphaOf(sub(b, w), P_) }
                            v := add(shr(32, mul(sub(0x100000000, a), b)), shr(32, mul(a, w)))
                            if gt(v, 0x100000000) { v := 0x100000000 }
                            let q := add(p, 0x460)
                            mstore(q, add(mload(q), v))
                            out := or(out, shl(48, shr(32, mul(v, 65535))))
                        }
                    }
                    mstore(add(vp, 0x60), v)
                }
                {
                    let v := 0
                    if and(bits, 0x10) {
                        let w := div(shl(32, and(shr(64, word), 0xffff)), sum)
                        let med := mload(add(p, 0x80))
                        if or(med, iszero(w)) {
                            if gt(w, med) { w := med }
                            let b := div(shl(32, and(shr(64, bl), 0xffff)), 65535)
                            let a := a0
                            if lt(w, b) { a := alphaOf(sub(b, w), P_) }
                            v := add(shr(32, mul(sub(0x100000000, a), b)), shr(32, mul(a, w)))
                            if gt(v, 0x100000000) { v := 0x100000000 }
                            let q := add(p, 0x480)
                            mstore(q, add(mload(q), v))
                            out := or(out, shl(64, shr(32, mul(v, 65535))))
                        }
                    }
                    mstore(add(vp, 0x80), v)
                }
                {
                    let v := 0
                    if and(bits, 0x20) {
                        let w := div(shl(32, and(shr(80, word), 0xffff)), sum)
                        let med := mload(add(p, 0xa0))
                        if or(med, iszero(w)) {
                            if gt(w, med) { w := med }
                            let b := div(shl(32, and(shr(80, bl), 0xffff)), 65535)
                            let a := a0
                            if lt(w, b) { a := alphaOf(sub(b, w), P_) }
                            v := add(shr(32, mul(sub(0x100000000, a), b)), shr(32, mul(a, w)))
                            if gt(v, 0x100000000) { v := 0x100000000 }
                            let q := add(p, 0x4a0)
                            mstore(q, add(mload(q), v))
                            out := or(out, shl(80, shr(32, mul(v, 65535))))
                        }
                    }
                    mstore(add(vp, 0xa0), v)
                }
                {
                    let v := 0
                    if and(bits, 0x40) {
                        let w := div(shl(32, and(shr(96, word), 0xffff)), sum)
                        let med := mload(add(p, 0xc0))
                        if or(med, iszero(w)) {
                            if gt(w, med) { w := med }
                            let b := div(shl(32, and(shr(96, bl), 0xffff)), 65535)
                            let a := a0
                            if lt(w, b) { a := alphaOf(sub(b, w), P_) }
                            v := add(shr(32, mul(sub(0x100000000, a), b)), shr(32, mul(a, w)))
                            if gt(v, 0x100000000) { v := 0x100000000 }
                            let q := add(p, 0x4c0)
                            mstore(q, add(mload(q), v))
                            out := or(out, shl(96, shr(32, mul(v, 65535))))
                        }
                    }
                    mstore(add(vp, 0xc0), v)
                }
                {
                    let v := 0
                    if and(bits, 0x80) {
                        let w := div(shl(32, and(shr(112, word), 0xffff)), sum)
                        let med := mload(add(p, 0xe0))
                        if or(med, iszero(w)) {
                            if gt(w, med) { w := med }
                            let b := div(shl(32, and(shr(112, bl), 0xffff)), 65535)
                            let a := a0
                            if lt(w, b) { a := alphaOf(sub(b, w), P_) }
                            v := add(shr(32, mul(sub(0x100000000, a), b)), shr(32, mul(a, w)))
                            if gt(v, 0x100000000) { v := 0x100000000 }
                            let q := add(p, 0x4e0)
                            mstore(q, add(mload(q), v))
                            out := or(out, shl(112, shr(32, mul(v, 65535))))
                        }
                    }
                    mstore(add(vp, 0xe0), v)
                }
                {
                    let v := 0
                    if and(bits, 0x100) {
                        let w := div(shl(32, and(shr(128, word), 0xffff)), sum)
                        let med := mload(add(p, 0x100))
                        if or(med, iszero(w)) {
                            if gt(w, med) { w := med }
                            let b := div(shl(32, and(shr(128, bl), 0xffff)), 65535)
                            let a := a0
                            if lt(w, b) { a := alphaOf(sub(b, w), P_) }
                            v := add(shr(32, mul(sub(0x100000000, a), b)), shr(32, mul(a, w)))
                            if gt(v, 0x100000000) { v := 0x100000000 }
                            let q := add(p, 0x500)
                            mstore(q, add(mload(q), v))
                            out := or(out, shl(128, shr(32, mul(v, 65535))))
                        }
                    }
                    mstore(add(vp, 0x100), v)
                }
                {
                    let v := 0
                    if and(bits, 0x200) {
                        let w := div(shl(32, and(shr(144, word), 0xffff)), sum)
                        let med := mload(add(p, 0x120))
                        if or(med, iszero(w)) {
                            if gt(w, med) { w := med }
                            let b := div(shl(32, and(shr(144, bl), 0xffff)), 65535)
                            let a := a0
                            if lt(w, b) { a := alphaOf(sub(b, w), P_) }
                            v := add(shr(32, mul(sub(0x100000000, a), b)), shr(32, mul(a, w)))
                            if gt(v, 0x100000000) { v := 0x100000000 }
                            let q := add(p, 0x520)
                            mstore(q, add(mload(q), v))
                            out := or(out, shl(144, shr(32, mul(v, 65535))))
                        }
                    }
                    mstore(add(vp, 0x120), v)
                }
                {
                    let v := 0
                    if and(bits, 0x400) {
                        let w := div(shl(32, and(shr(160, word), 0xffff)), sum)
                        let med := mload(add(p, 0x140))
                        if or(med, iszero(w)) {
                            if gt(w, med) { w := med }
                            let b := div(shl(32, and(shr(160, bl), 0xffff)), 65535)
                            let a := a0
                            if lt(w, b) { a := alphaOf(sub(b, w), P_) }
                            v := add(shr(32, mul(sub(0x100000000, a), b)), shr(32, mul(a, w)))
                            if gt(v, 0x100000000) { v := 0x100000000 }
                            let q := add(p, 0x540)
                            mstore(q, add(mload(q), v))
                            out := or(out, shl(160, shr(32, mul(v, 65535))))
                        }
                    }
                    mstore(add(vp, 0x140), v)
                }
                {
                    let v := 0
                    if and(bits, 0x800) {
                        let w := div(shl(32, and(shr(176, word), 0xffff)), sum)
                        let med := mload(add(p, 0x160))
                        if or(med, iszero(w)) {
                            if gt(w, med) { w := med }
                            let b := div(shl(32, and(shr(176, bl), 0xffff)), 65535)
                            let a := a0
                            if lt(w, b) { a := alphaOf(sub(b, w), P_) }
                            v := add(shr(32, mul(sub(0x100000000, a), b)), shr(32, mul(a, w)))
                            if gt(v, 0x100000000) { v := 0x100000000 }
                            let q := add(p, 0x560)
                            mstore(q, add(mload(q), v))
                            out := or(out, shl(176, shr(32, mul(v, 65535))))
                        }
                    }
                    mstore(add(vp, 0x160), v)
                }
                {
                    let v := 0
                    if and(bits, 0x1000) {
                        let w := div(shl(32, and(shr(192, word), 0xffff)), sum)
                        let med := mload(add(p, 0x180))
                        if or(med, iszero(w)) {
                            if gt(w, med) { w := med }
                            let b := div(shl(32, and(shr(192, bl), 0xffff)), 65535)
                            let a := a0
                            if lt(w, b) { a := alphaOf(sub(b, w), P_) }
                            v := add(shr(32, mul(sub(0x100000000, a), b)), shr(32, mul(a, w)))
                            if gt(v, 0x100000000) { v := 0x100000000 }
                            let q := add(p, 0x580)
                            mstore(q, add(mload(q), v))
                            out := or(out, shl(192, shr(32, mul(v, 65535))))
                        }
                    }
                    mstore(add(vp, 0x180), v)
                }
                {
                    let v := 0
                    if and(bits, 0x2000) {
                        let w := div(shl(32, and(shr(208, word), 0xffff)), sum)
                        let med := mload(add(p, 0x1a0))
                        if or(med, iszero(w)) {
                            if gt(w, med) { w := med }
                            let b := div(shl(32, and(shr(208, bl), 0xffff)), 65535)
                            let a := a0
                            if lt(w, b) { a := alphaOf(sub(b, w), P_) }
                            v := add(shr(32, mul(sub(0x100000000, a), b)), shr(32, mul(a, w)))
                            if gt(v, 0x100000000) { v := 0x100000000 }
                            let q := add(p, 0x5a0)
                            mstore(q, add(mload(q), v))
                            out := or(out, shl(208, shr(32, mul(v, 65535))))
                        }
                    }
                    mstore(add(vp, 0x1a0), v)
                }
                {
                    let v := 0
                    if and(bits, 0x4000) {
                        let w := div(shl(32, and(shr(224, word), 0xffff)), sum)
                        let med := mload(add(p, 0x1c0))
                        if or(med, iszero(w)) {
                            if gt(w, med) { w := med }
                            let b := div(shl(32, and(shr(224, bl), 0xffff)), 65535)
                            let a := a0
                            if lt(w, b) { a := alphaOf(sub(b, w), P_) }
                            v := add(shr(32, mul(sub(0x100000000, a), b)), shr(32, mul(a, w)))
                            if gt(v, 0x100000000) { v := 0x100000000 }
                            let q := add(p, 0x5c0)
                            mstore(q, add(mload(q), v))
                            out := or(out, shl(224, shr(32, mul(v, 65535))))
                        }
                    }
                    mstore(add(vp, 0x1c0), v)
                }
                {
                    let v := 0
                    if and(bits, 0x8000) {
                        let w := div(shl(32, and(shr(240, word), 0xffff)), sum)
                        let med := mload(add(p, 0x1e0))
                        if or(med, iszero(w)) {
                            if gt(w, med) { w := med }
                            let b := div(shl(32, and(shr(240, bl), 0xffff)), 65535)
                            let a := a0
                            if lt(w, b) { a := alphaOf(sub(b, w), P_) }
                            v := add(shr(32, mul(sub(0x100000000, a), b)), shr(32, mul(a, w)))
                            if gt(v, 0x100000000) { v := 0x100000000 }
                            let q := add(p, 0x5e0)
                            mstore(q, add(mload(q), v))
                            out := or(out, shl(240, shr(32, mul(v, 65535))))
                        }
                    }
                    mstore(add(vp, 0x1e0), v)
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
