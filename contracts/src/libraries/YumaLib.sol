// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IVerity} from "../interfaces/IVerity.sol";
import {Subnet, Neuron, EpochState, Pool, MAX_VALIDATORS, MAX_UIDS, WORDS} from "./Types.sol";
import {KernelLib, Kernel, BondKnobs} from "./KernelLib.sol";

/// @title YumaLib
/// @notice subtensor's sparse epoch (epoch_mechanism) in I32F32, spread over transactions:
/// begin (stake, permits, active stake, masks, row sums) -> consensus chunks (caller-supplied
/// weighted medians checked exactly, clip, rank, trust) -> bond chunks (EMA bonds, dividends)
/// -> finish (emission split, outputs, claimable balances).
/// @dev Only rows of uids holding a (stored) validator permit can carry weights or bonds, so the
/// matrices are walked over those rows only. Weights are read from storage 16 columns per word.
library YumaLib {
    uint256 private constant ONE = 1 << 32;

    /// @dev The rows of the running epoch, loaded into memory.
    struct Rows {
        uint256 count;
        uint256[] uid;
        uint256[] sum;
        uint256[] act;
        uint256[] use;
        uint256[] thr; // min(last update, commit block + 1): uids registered at or after it are masked
        uint256[] wv; // decoded word: rows x 16 cells (allocated by the passes that decode)
        uint256[] bond; // bond word per row
        uint256[] reg; // registration blocks of the word's 16 columns
    }

    /* BEGIN */

    function begin(Subnet storage s, mapping(address => Pool) storage pools, uint16 netuid, uint256 emission)
        external
    {
        EpochState storage e = s.epoch;
        uint256 n = s.n;
        e.block = uint48(block.number);
        e.n = uint16(n);
        e.nextCol = 0;
        e.emission = uint128(emission);
        e.anyConsensus = false;
        e.rankSum = 0;

        uint256[] memory S = new uint256[](n);
        uint256[] memory reg = new uint256[](n);
        uint256[] memory upd = new uint256[](n);
        uint256 activeBits0;
        uint256 activeBits1;
        uint256 rows;
        uint256[] memory rowUid = new uint256[](MAX_VALIDATORS);
        uint256 maxReg;
        {
            uint256 total;
            uint256 threshold = s.params.stakeThreshold;
            uint256 cutoff = s.params.activityCutoff;
            // the permits the last epoch gave (RegistrationLib clears a replaced uid's bit)
            uint256[2] memory permit = [e.newPermit[0], e.newPermit[1]];
            Neuron[MAX_UIDS] storage neurons = s.neurons;
            uint256 base;
            assembly ("memory-safe") {
                base := neurons.slot
            }
            for (uint256 i = 0; i < n; i++) {
                // the neuron's first slot: hotkey, registration block, last update
                uint256 id;
                uint256 slot = base + 2 * i;
                assembly ("memory-safe") {
                    id := sload(slot)
                }
                uint256 st = pools[address(uint160(id))].stake;
                if (st < threshold) st = 0;
                S[i] = st;
                total += st;
                uint256 r = (id >> 160) & 0xffffffffffff;
                reg[i] = r;
                if (r > maxReg) maxReg = r;
                uint256 u = id >> 208;
                upd[i] = u;
                if (u + cutoff >= block.number) {
                    if (i < 256) activeBits0 |= 1 << i;
                    else activeBits1 |= 1 << (i - 256);
                }
                if ((permit[i >> 8] >> (i & 255)) & 1 == 1) rowUid[rows++] = i;
            }
            // inplace_normalize_64 then narrow I64F64 -> I32F32
            for (uint256 i = 0; i < n; i++) {
                uint256 v = total == 0 ? S[i] : ((S[i] << 64) / total) >> 32;
                S[i] = v;
                e.stake[i] = uint64(v);
            }
        }
        e.active[0] = activeBits0;
        e.active[1] = activeBits1;
        _permits(s, e, S, n);

        // active stake A over permitted, active rows
        uint256[] memory A = new uint256[](rows);
        uint256 sumA;
        for (uint256 r = 0; r < rows; r++) {
            uint256 i = rowUid[r];
            bool act = (i < 256 ? activeBits0 >> i : activeBits1 >> (i - 256)) & 1 == 1;
            A[r] = act ? S[i] : 0;
            sumA += A[r];
        }
        uint256 sumUse;
        for (uint256 r = 0; r < rows; r++) {
            if (sumA != 0) A[r] = (A[r] << 32) / sumA;
            sumUse += A[r];
        }
        e.activeSum = uint64(sumA);
        // the median's stake: rows with A > 0, renormalised
        uint256 stakeSum;
        for (uint256 r = 0; r < rows; r++) {
            uint256 u = A[r] == 0 ? 0 : (A[r] << 32) / sumUse;
            stakeSum += u;
            e.rowUse[r] = uint64(u);
        }
        e.stakeSum = uint64(stakeSum);
        e.minority = int64(int256(stakeSum) - int256((uint256(s.params.kappa) << 32) / 65535));
        e.rows = uint16(rows);
        for (uint256 r = 0; r < rows; r++) {
            uint256 i = rowUid[r];
            e.rowUid[r] = uint16(i);
            e.rowActive[r] = uint64(A[r]);
            e.rowUpdate[r] = uint48(upd[i]);
            uint256 cb = _commitBlock(s, i);
            e.rowCommit[r] = uint64(cb);
            e.rowSum[r] = uint32(_rowSum(s, i, n, upd[i], cb, reg, maxReg));
            e.rowTrust[r] = 0;
            e.rowDiv[r] = 0;
        }
        e.maxReg = uint48(maxReg);
        e.stage = n == 0 ? 3 : 1;
        emit IVerity.EpochStarted(netuid, s.epochIndex, block.number, emission);
    }

    /// @dev is_topk_nonzero(S, maxValidators): ascending stable sort, the first n-k lose; ties go to the higher uid.
    function _permits(Subnet storage s, EpochState storage e, uint256[] memory S, uint256 n) private {
        uint256 k = s.params.maxValidators;
        uint256 threshold;
        if (n >= k) {
            uint256[] memory keys = new uint256[](n);
            for (uint256 i = 0; i < n; i++) {
                keys[i] = (S[i] << 16) | i;
            }
            _sort(keys, 0, int256(n) - 1);
            threshold = keys[n - k];
        }
        uint256 b0;
        uint256 b1;
        for (uint256 i = 0; i < n; i++) {
            if (S[i] != 0 && ((S[i] << 16) | i) >= threshold) {
                if (i < 256) b0 |= 1 << i;
                else b1 |= 1 << (i - 256);
            }
        }
        e.newPermit[0] = b0;
        e.newPermit[1] = b1;
    }

    function _sort(uint256[] memory a, int256 lo, int256 hi) private pure {
        while (lo < hi) {
            uint256 pivot = a[uint256(lo + (hi - lo) / 2)];
            int256 i = lo;
            int256 j = hi;
            while (i <= j) {
                while (a[uint256(i)] < pivot) i++;
                while (a[uint256(j)] > pivot) j--;
                if (i <= j) {
                    (a[uint256(i)], a[uint256(j)]) = (a[uint256(j)], a[uint256(i)]);
                    i++;
                    j--;
                }
            }
            if (j - lo < hi - i) {
                _sort(a, lo, j);
                lo = i;
            } else {
                _sort(a, i, hi);
                hi = j;
            }
        }
    }

    /// @dev Earliest unexpired commit block of uid i with commit-reveal on, else max.
    function _commitBlock(Subnet storage s, uint256 i) private view returns (uint256 cb) {
        cb = type(uint64).max;
        if (!s.params.commitReveal) return cb;
        uint256 count = s.commitCount[i];
        uint64 current = s.epochIndex;
        uint16 period = s.params.revealPeriodEpochs;
        for (uint256 c = 0; c < count; c++) {
            if (current > s.commits[i][c].epoch + period) continue;
            uint256 b = s.commits[i][c].block;
            if (b < cb) cb = b;
        }
    }

    /// @dev Sum of the row's u16 values after the diagonal, outdated and commit-reveal masks: the
    /// raw sum kept by set_weights (diagonal excluded) minus the entries on uids registered at or
    /// after min(last update, commit block + 1), which are rare; rows with none skip the scan.
    function _rowSum(
        Subnet storage s,
        uint256 i,
        uint256 n,
        uint256 upd,
        uint256 cb,
        uint256[] memory reg,
        uint256 maxReg
    ) private view returns (uint256 sum) {
        unchecked {
            sum = s.rowRawSum[i];
            uint256 t = cb + 1 < upd ? cb + 1 : upd;
            if (t > maxReg) return sum;
            for (uint256 j = 0; j < n; j++) {
                if (j == i || reg[j] < t) continue;
                if ((s.weightMask[i][j >> 8] >> (j & 255)) & 1 == 0) continue;
                sum -= (s.weights[i][j >> 4] >> ((j & 15) << 4)) & 0xffff;
            }
        }
    }

    /* SHARED */

    uint256 private constant PRESENT = 1 << 128;
    uint256 private constant LOW = PRESENT - 1;

    function _at(uint256[] memory a, uint256 i) private pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := mload(add(add(a, 0x20), shl(5, i)))
        }
    }

    function _put(uint256[] memory a, uint256 i, uint256 v) private pure {
        assembly ("memory-safe") {
            mstore(add(add(a, 0x20), shl(5, i)), v)
        }
    }

    function _loadRows(EpochState storage e, bool withUse) private view returns (Rows memory R) {
        unchecked {
            uint256 rows = e.rows;
            R.count = rows;
            R.uid = new uint256[](rows);
            R.sum = new uint256[](rows);
            R.act = new uint256[](rows);
            R.use = new uint256[](rows);
            R.thr = new uint256[](rows);
            R.bond = new uint256[](rows);
            R.reg = new uint256[](16);
            for (uint256 r = 0; r < rows; r++) {
                R.uid[r] = e.rowUid[r];
                R.sum[r] = e.rowSum[r];
                R.act[r] = e.rowActive[r];
                if (withUse) R.use[r] = e.rowUse[r];
                uint256 upd = e.rowUpdate[r];
                uint256 cb = uint256(e.rowCommit[r]) + 1;
                R.thr[r] = cb < upd ? cb : upd;
            }
        }
    }

    /// @dev Decodes word k of every row: wv[r*16 + c] = W[r][16k+c] | PRESENT, or 0 when the entry is
    /// omitted or masked (diagonal, outdated, commit-reveal). Also loads the bond words if asked.
    function _decode(Subnet storage s, Rows memory R, uint256 k, uint256 n, bool withBonds) private view {
        unchecked {
            uint256 base = k << 4;
            uint256 end = base + 16 > n ? n - base : 16;
            uint256[] memory reg = R.reg;
            for (uint256 c = 0; c < end; c++) {
                _put(reg, c, s.neurons[base + c].registrationBlock);
            }
            uint256[] memory wv = R.wv;
            for (uint256 r = 0; r < R.count; r++) {
                uint256 i = _at(R.uid, r);
                uint256 word = s.weights[i][k];
                uint256 bits = (s.weightMask[i][k >> 4] >> ((k & 15) << 4)) & 0xffff;
                if (withBonds) _put(R.bond, r, s.bonds[i][k]);
                uint256 sum = _at(R.sum, r);
                uint256 t = _at(R.thr, r);
                uint256 o = r << 4;
                for (uint256 c = 0; c < 16; c++) {
                    uint256 v;
                    if (c < end && (bits >> c) & 1 == 1 && base + c != i && _at(reg, c) < t) {
                        v = sum == 0 ? PRESENT : (((word >> (c << 4)) & 0xffff) << 32) / sum | PRESENT;
                    }
                    _put(wv, o + c, v);
                }
            }
        }
    }

    /* CONSENSUS */

    function consensus(Subnet storage s, uint16 netuid, uint64[] calldata medians) external {
        unchecked {
            EpochState storage e = s.epoch;
            if (e.stage != 1) revert IVerity.WrongEpochStage(1, e.stage);
            uint256 n = e.n;
            uint256 from = e.nextCol;
            uint256 to = from + medians.length;
            if (medians.length == 0 || to > n) revert IVerity.BadChunk(uint16(from), medians.length);
            Rows memory R = _loadRows(e, true);
            Kernel memory K = _kernel(s, e, R, from, to);
            uint256 rows = R.count;
            uint256[] memory trust = new uint256[](rows);
            for (uint256 r = 0; r < rows; r++) {
                trust[r] = e.rowTrust[r];
            }
            int256 minority = e.minority;
            uint256 stakeSum = e.stakeSum;
            uint256 rankSum = e.rankSum;
            bool any = e.anyConsensus;
            uint256[] memory col = new uint256[](101);
            // the lowest and highest scores matter only to a degenerate minority
            if (stakeSum != 0 && (minority < 0 || uint256(minority) >= stakeSum)) col[100] = 1;
            for (uint256 k = from >> 4; k << 4 < to; k++) {
                uint256 base = k << 4;
                uint256 c0 = base < from ? from - base : 0;
                uint256 c1 = base + 16 > to ? to - base : 16;
                for (uint256 c = c0; c < c1; c++) {
                    _put(col, c, medians[base + c - from]);
                    _put(col, c + 16, 0);
                    _put(col, c + 32, 0);
                    _put(col, c + 48, type(uint256).max);
                    _put(col, c + 64, 0);
                    _put(col, c + 80, 0);
                }
                if (K.regOn != 0) _loadReg(s, K, k, n);
                KernelLib.consensusWord(K, k, c0, c1, R.use, R.act, trust, col);
                for (uint256 c = c0; c < c1; c++) {
                    uint256 med = _at(col, c);
                    uint256 below = _at(col, c + 16);
                    bool ok;
                    if (stakeSum == 0) ok = med == 0;
                    else if (minority < 0) ok = med == _at(col, c + 48);
                    else if (uint256(minority) >= stakeSum) ok = med == _at(col, c + 64);
                    else ok = below <= uint256(minority) && uint256(minority) < below + _at(col, c + 32);
                    if (!ok) revert IVerity.ConsensusMismatch(uint16(base + c), uint64(med));
                    if (med != 0) any = true;
                    uint256 rank = _at(col, c + 80);
                    e.consensus[base + c] = uint64(med);
                    e.rank[base + c] = uint64(rank);
                    rankSum += rank;
                }
            }
            for (uint256 r = 0; r < rows; r++) {
                e.rowTrust[r] = uint64(trust[r]);
            }
            e.rankSum = uint64(rankSum);
            e.anyConsensus = any;
            if (to == n) {
                e.stage = 2;
                e.nextCol = 0;
            } else {
                e.nextCol = uint16(to);
            }
            emit IVerity.EpochProgress(netuid, e.stage, e.nextCol);
        }
    }

    /// @dev The kernels' view of the rows for columns [from, to): storage slots, the weightMask
    /// words those columns need, and whether any row masks by registration block.
    function _kernel(Subnet storage s, EpochState storage e, Rows memory R, uint256 from, uint256 to)
        private
        view
        returns (Kernel memory K)
    {
        unchecked {
            uint256 rows = R.count;
            K.rows = rows;
            uint256[WORDS][MAX_UIDS] storage W = s.weights;
            uint256[WORDS][MAX_UIDS] storage B = s.bonds;
            uint256 ws;
            uint256 bs;
            assembly ("memory-safe") {
                ws := W.slot
                bs := B.slot
            }
            K.wslot = ws;
            K.bslot = bs;
            K.uid = R.uid;
            K.sum = R.sum;
            K.thr = R.thr;
            K.mask = new uint256[](rows * 2);
            K.reg = new uint256[](16);
            uint256 maxReg = e.maxReg;
            uint256 h0 = from >> 8;
            uint256 h1 = (to - 1) >> 8;
            for (uint256 r = 0; r < rows; r++) {
                uint256 i = _at(R.uid, r);
                for (uint256 h = h0; h <= h1; h++) {
                    _put(K.mask, (r << 1) | h, s.weightMask[i][h]);
                }
                if (_at(R.thr, r) <= maxReg) K.regOn = 1;
            }
        }
    }

    /// @dev Registration blocks of word k's columns into K.reg (max past n: never masks, never recent).
    function _loadReg(Subnet storage s, Kernel memory K, uint256 k, uint256 n) private view {
        unchecked {
            uint256 base = k << 4;
            for (uint256 c = 0; c < 16; c++) {
                _put(K.reg, c, base + c < n ? s.neurons[base + c].registrationBlock : type(uint256).max);
            }
        }
    }

    /// @notice subtensor's weighted_median for columns [from, from+count) of the running epoch.
    function hints(Subnet storage s, uint16 from, uint16 count) external view returns (uint64[] memory out) {
        EpochState storage e = s.epoch;
        if (e.stage != 1) revert IVerity.WrongEpochStage(1, e.stage);
        uint256 n = e.n;
        uint256 to = uint256(from) + count;
        if (to > n) to = n;
        out = new uint64[](to > from ? to - from : 0);
        Rows memory R = _loadRows(e, true);
        R.wv = new uint256[](R.count * 16);
        uint256 m;
        for (uint256 r = 0; r < R.count; r++) {
            if (R.use[r] != 0) m++;
        }
        uint256[] memory stake = new uint256[](m);
        uint256[] memory score = new uint256[](m);
        uint256[] memory idx = new uint256[](m);
        {
            uint256 k;
            for (uint256 r = 0; r < R.count; r++) {
                if (R.use[r] != 0) stake[k++] = R.use[r];
            }
        }
        int256 minority = e.minority;
        uint256 loaded = type(uint256).max;
        for (uint256 j = from; j < to; j++) {
            if (j >> 4 != loaded) {
                loaded = j >> 4;
                _decode(s, R, loaded, n, false);
            }
            uint256 k;
            for (uint256 r = 0; r < R.count; r++) {
                if (R.use[r] == 0) continue;
                score[k] = R.wv[(r << 4) | (j & 15)] & LOW;
                idx[k] = k;
                k++;
            }
            out[j - from] = uint64(_median(stake, score, idx, m, minority, 0, int256(uint256(e.stakeSum))));
        }
    }

    function _median(
        uint256[] memory stake,
        uint256[] memory score,
        uint256[] memory idx,
        uint256 len,
        int256 minority,
        int256 lo,
        int256 hi
    ) private pure returns (uint256) {
        while (true) {
            if (len == 0) return 0;
            if (len == 1) return score[idx[0]];
            uint256 pivot = score[idx[len / 2]];
            int256 loStake;
            int256 hiStake;
            uint256[] memory lower = new uint256[](len);
            uint256[] memory upper = new uint256[](len);
            uint256 nl;
            uint256 nu;
            for (uint256 t = 0; t < len; t++) {
                uint256 x = idx[t];
                if (score[x] == pivot) continue;
                if (score[x] < pivot) {
                    loStake += int256(stake[x]);
                    lower[nl++] = x;
                } else {
                    hiStake += int256(stake[x]);
                    upper[nu++] = x;
                }
            }
            if (lo + loStake <= minority && minority < hi - hiStake) return pivot;
            if (minority < lo + loStake && nl != 0) {
                idx = lower;
                len = nl;
                hi = lo + loStake;
            } else if (hi - hiStake <= minority && nu != 0) {
                idx = upper;
                len = nu;
                lo = hi - hiStake;
            } else {
                return pivot;
            }
        }
        return 0;
    }

    /* BONDS */

    struct BondParams {
        uint256 bp;
        bool yuma3;
        bool liquid;
        uint256 alpha;
        uint256 low;
        uint256 high;
        int256 slope;
        uint256 lastTempo;
        uint256 rankSum;
    }

    function bonds(Subnet storage s, uint16 netuid, uint16 count) external {
        unchecked {
            EpochState storage e = s.epoch;
            if (e.stage != 2) revert IVerity.WrongEpochStage(2, e.stage);
            uint256 from = e.nextCol;
            uint256 n = e.n;
            uint256 to = from + count > n ? n : from + count;
            if (count == 0 || (count & 15 != 0 && to != n)) revert IVerity.BadChunk(uint16(from), count);
            Rows memory R = _loadRows(e, false);
            BondParams memory P = _bondParams(s, e);
            uint256 rows = R.count;
            uint256[] memory div = new uint256[](rows);
            bool[] memory keep = new bool[](rows);
            for (uint256 r = 0; r < rows; r++) {
                div[r] = e.rowDiv[r];
                uint256 i = R.uid[r];
                keep[r] = (e.newPermit[i >> 8] >> (i & 255)) & 1 == 1;
            }
            if (P.yuma3) {
                _yuma3Bonds(s, e, R, P, from, to, keep, div);
            } else {
                uint256[] memory vals = new uint256[](rows);
                uint256[] memory out = new uint256[](rows);
                R.wv = new uint256[](rows * 16);
                for (uint256 k = from >> 4; k << 4 < to; k++) {
                    _decode(s, R, k, n, true);
                    for (uint256 r = 0; r < rows; r++) {
                        out[r] = 0;
                    }
                    uint256 end = (k << 4) + 16 > to ? to : (k << 4) + 16;
                    for (uint256 j = k << 4; j < end; j++) {
                        _column(e, R, P, j, _at(R.reg, j & 15), vals, out, div);
                    }
                    for (uint256 r = 0; r < rows; r++) {
                        uint256 v = keep[r] ? out[r] : 0;
                        uint256 i = R.uid[r];
                        if (_at(R.bond, r) != v) s.bonds[i][k] = v;
                    }
                }
            }
            for (uint256 r = 0; r < rows; r++) {
                e.rowDiv[r] = uint64(div[r]);
            }
            if (to == n) {
                e.stage = 3;
                e.nextCol = 0;
            } else {
                e.nextCol = uint16(to);
            }
            emit IVerity.EpochProgress(netuid, e.stage, e.nextCol);
        }
    }

    /// @dev Yuma3 bonds of columns [from, to) through KernelLib, one weight word at a time.
    function _yuma3Bonds(
        Subnet storage s,
        EpochState storage e,
        Rows memory R,
        BondParams memory P,
        uint256 from,
        uint256 to,
        bool[] memory keep,
        uint256[] memory div
    ) private {
        unchecked {
            Kernel memory K = _kernel(s, e, R, from, to);
            BondKnobs memory Q;
            Q.bp = P.bp;
            Q.liquid = P.liquid ? 1 : 0;
            Q.alpha = P.alpha;
            Q.low = P.low;
            Q.high = P.high;
            Q.slope = P.slope;
            uint256 rows = R.count;
            uint256[] memory keepW = new uint256[](rows);
            for (uint256 r = 0; r < rows; r++) {
                keepW[r] = keep[r] ? 1 : 0;
            }
            uint256[] memory col = new uint256[](48);
            uint256[] memory vals = new uint256[](rows * 17);
            bool regs = K.regOn != 0 || P.lastTempo <= e.maxReg;
            uint256 n = e.n;
            for (uint256 k = from >> 4; k << 4 < to; k++) {
                uint256 base = k << 4;
                uint256 end = base + 16 > to ? to - base : 16;
                Q.recent = 0;
                if (regs) {
                    _loadReg(s, K, k, n);
                    for (uint256 c = 0; c < end; c++) {
                        if (P.lastTempo <= _at(K.reg, c)) Q.recent |= 1 << c;
                    }
                }
                for (uint256 c = 0; c < end; c++) {
                    uint256 j = base + c;
                    _put(col, c, e.consensus[j]);
                    _put(col, c + 16, P.rankSum == 0 ? e.rank[j] : (uint256(e.rank[j]) << 32) / P.rankSum);
                }
                KernelLib.bondsWord(K, Q, k, end, col, vals, keepW, div);
            }
        }
    }

    function _bondParams(Subnet storage s, EpochState storage e) private view returns (BondParams memory P) {
        P.bp = (uint256(s.params.bondsPenalty) << 32) / 65535;
        P.yuma3 = s.params.yuma3;
        P.liquid = s.params.liquidAlpha && e.anyConsensus;
        // alpha = 1 - I32F32(I64F64(bma) / 1e6)
        P.alpha = ONE - ((uint256(s.params.bondsMovingAverage) << 64) / 1_000_000 >> 32);
        P.low = (uint256(s.params.alphaLow) << 32) / 65535;
        P.high = (uint256(s.params.alphaHigh) << 32) / 65535;
        P.slope = (int256(s.params.alphaSigmoidSteepness) * int256(ONE) * int256(ONE)) / (-100 * int256(ONE));
        uint256 b = e.block;
        uint256 tempo = s.params.tempo;
        P.lastTempo = b > tempo ? b - tempo : 0;
        P.rankSum = e.rankSum;
    }

    /// @dev Weights for bonds from a decoded cell x: W (bp = 0), clipped W (bp = 1), else
    /// W + bp*(clip - W) kept when > 0. Returns the value with PRESENT set, or 0 when absent.
    function _wb(uint256 x, uint256 c, uint256 bp) private pure returns (uint256) {
        unchecked {
            if (bp == 0 || x == 0) return x;
            uint256 w = x & LOW;
            uint256 cw = w;
            bool cp = true;
            if (w > c) {
                if (c == 0) cp = false;
                cw = c;
            }
            if (bp == ONE) return cp ? cw | PRESENT : 0;
            int256 v2 = cp ? int256(cw) : int256(0);
            int256 it = int256(w) + ((int256(bp) * (v2 - int256(w))) >> 32);
            return it > 0 ? uint256(it) | PRESENT : 0;
        }
    }

    function _column(
        EpochState storage e,
        Rows memory R,
        BondParams memory P,
        uint256 j,
        uint256 regJ,
        uint256[] memory vals,
        uint256[] memory out,
        uint256[] memory div
    ) private view {
        unchecked {
            uint256 c = e.consensus[j];
            uint256 inc = P.rankSum == 0 ? e.rank[j] : (uint256(e.rank[j]) << 32) / P.rankSum;
            _classic(R, P, c, inc, P.lastTempo <= regJ, j & 15, vals, out, div);
        }
    }

    function _classic(
        Rows memory R,
        BondParams memory P,
        uint256 c,
        uint256 inc,
        bool recent,
        uint256 cj,
        uint256[] memory vals,
        uint256[] memory out,
        uint256[] memory div
    ) private pure {
        unchecked {
            uint256 sumB;
            uint256 sumD;
            uint256 rows = R.count;
            uint256 sh = cj << 4;
            uint256[] memory wv = R.wv;
            uint256[] memory bond = R.bond;
            uint256[] memory act = R.act;
            // vals[r] = raw bond (u16) | present << 63 | delta << 64
            for (uint256 r = 0; r < rows; r++) {
                uint256 b = recent ? 0 : (_at(bond, r) >> sh) & 0xffff;
                uint256 x = _wb(_at(wv, (r << 4) | cj), c, P.bp);
                uint256 d = x != 0 ? ((x & LOW) * _at(act, r)) >> 32 : 0;
                sumB += b;
                sumD += d;
                _put(vals, r, b | (d << 64) | (x != 0 ? 1 << 63 : 0));
            }
            uint256 alpha = P.alpha;
            uint256 oneMinus = ONE - alpha;
            uint256 sumE;
            for (uint256 r = 0; r < rows; r++) {
                uint256 x = _at(vals, r);
                uint256 b = x & 0xffff;
                uint256 d = x >> 64;
                uint256 bn = sumB == 0 ? b << 32 : (b << 32) / sumB;
                uint256 acc = (oneMinus * bn) >> 32;
                if ((x >> 63) & 1 == 1) acc += (alpha * (sumD == 0 ? d : (d << 32) / sumD)) >> 32;
                _put(vals, r, acc);
                sumE += acc;
            }
            if (sumE == 0) return;
            uint256 max;
            for (uint256 r = 0; r < rows; r++) {
                uint256 v = _at(vals, r);
                if (v == 0) continue;
                v = (v << 32) / sumE;
                _put(vals, r, v);
                _put(div, r, _at(div, r) + ((inc * v) >> 32));
                if (v > max) max = v;
            }
            for (uint256 r = 0; r < rows; r++) {
                uint256 v = _at(vals, r);
                if (v == 0) continue;
                uint256 u = (((v << 32) / max) * 65535) >> 32;
                _put(out, r, _at(out, r) | ((u > 65535 ? 65535 : u) << sh));
            }
        }
    }

    /* FINISH */

    struct Out {
        uint256 from;
        uint256 to;
        uint256[] stake;
        uint256[] cons;
        uint256[] inc;
        uint256[] div;
        uint256[] trust;
        uint256[] act;
        uint256[] server;
        uint256[] validator;
        uint256[] combined;
    }

    function finish(Subnet storage s, mapping(address => uint256) storage claimable, uint16 netuid, uint16 count)
        external
        returns (uint256 paid)
    {
        EpochState storage e = s.epoch;
        if (e.stage != 3) revert IVerity.WrongEpochStage(3, e.stage);
        uint256 n = e.n;
        uint256 from = e.nextCol;
        uint256 to = from + count > n ? n : from + count;
        if (count == 0 && n != 0) revert IVerity.BadChunk(uint16(from), count);
        if (from == 0) _sums(s, e, n);
        Out memory O = _split(s, e, from, to);
        uint256 emission = e.emission;
        uint256[2] memory permit = [e.newPermit[0], e.newPermit[1]];
        uint256[2] memory active = [e.active[0], e.active[1]];
        Neuron[MAX_UIDS] storage neurons = s.neurons;
        uint256 base;
        assembly ("memory-safe") {
            base := neurons.slot
        }
        for (uint256 j = from; j < to; j++) {
            uint256 k = j - from;
            uint256 sv = (O.server[k] * emission) >> 32;
            uint256 va = (O.validator[k] * emission) >> 32;
            O.server[k] = sv;
            O.validator[k] = va;
            // the neuron's second slot, every field of it at once (Types.sol's Neuron order):
            // emission, stake weight, consensus, incentive, dividends, validator trust, permit,
            // active. The emission fits its 96 bits: at most the epoch's, below the token cap (2^85).
            uint256 outputs = ((O.combined[k] * emission) >> 32) | (_u16(O.stake[k]) << 96)
                | (_u16(O.cons[k]) << 112) | (_u16(O.inc[k]) << 128) | (_u16(O.div[k]) << 144)
                | (_u16(O.trust[k]) << 160) | (((permit[j >> 8] >> (j & 255)) & 1) << 176)
                | (((active[j >> 8] >> (j & 255)) & 1) << 184);

            uint256 slot = base + 2 * j + 1;
            assembly ("memory-safe") {
                sstore(slot, outputs)
            }
            uint256 amount = sv + va;
            if (amount != 0) {
                claimable[neurons[j].hotkey] += amount;
                paid += amount;
            }
        }
        uint64 index = s.epochIndex;
        emit IVerity.EpochEmissions(netuid, index, uint16(from), O.server, O.validator);
        uint256 total = uint256(e.paid) + paid;
        if (to == n) {
            e.stage = 0;
            e.nextCol = 0;
            e.paid = 0;
            s.epochIndex = index + 1;
            s.lastEpochBlock = e.block;
            emit IVerity.EpochFinished(netuid, index, total);
        } else {
            e.paid = uint128(total);
            e.nextCol = uint16(to);
            emit IVerity.EpochProgress(netuid, 3, uint16(to));
        }
    }

    function _u16(uint256 x) private pure returns (uint256) {
        uint256 v = (x * 65535) >> 32;
        return v > 65535 ? 65535 : v;
    }

    /// @dev Raw dividend of row r: classic Σ_j I_j·B_ij, Yuma3 A_r·Σ_j Bn_ij·I_j.
    function _rawDiv(EpochState storage e, uint256 r, bool yuma3) private view returns (uint256 d) {
        d = e.rowDiv[r];
        if (yuma3) d = (d * e.rowActive[r]) >> 32;
    }

    /// @dev Dividend normaliser and Σ(I + D) over all uids, stored once for the finish chunks.
    function _sums(Subnet storage s, EpochState storage e, uint256 n) private {
        uint256 rows = e.rows;
        bool yuma3 = s.params.yuma3;
        uint256 sumD;
        for (uint256 r = 0; r < rows; r++) {
            sumD += _rawDiv(e, r, yuma3);
        }
        uint256 esum;
        for (uint256 r = 0; r < rows; r++) {
            uint256 d = _rawDiv(e, r, yuma3);
            if (sumD != 0) d = (d << 32) / sumD;
            esum += d;
        }
        uint256 rankSum = e.rankSum;
        for (uint256 j = 0; j < n; j++) {
            uint256 rank = e.rank[j];
            esum += rankSum == 0 ? rank : (rank << 32) / rankSum;
        }
        e.divSum = uint64(sumD);
        e.emissionSum = uint64(esum);
    }

    function _split(Subnet storage s, EpochState storage e, uint256 from, uint256 to)
        private
        view
        returns (Out memory O)
    {
        uint256 m = to - from;
        O.from = from;
        O.to = to;
        O.stake = new uint256[](m);
        O.cons = new uint256[](m);
        O.inc = new uint256[](m);
        O.div = new uint256[](m);
        O.trust = new uint256[](m);
        O.act = new uint256[](m);
        O.server = new uint256[](m);
        O.validator = new uint256[](m);
        O.combined = new uint256[](m);
        uint256 rankSum = e.rankSum;
        for (uint256 j = from; j < to; j++) {
            uint256 rank = e.rank[j];
            O.inc[j - from] = rankSum == 0 ? rank : (rank << 32) / rankSum;
            O.stake[j - from] = e.stake[j];
            O.cons[j - from] = e.consensus[j];
        }
        uint256 rows = e.rows;
        bool yuma3 = s.params.yuma3;
        uint256 sumD = e.divSum;
        for (uint256 r = 0; r < rows; r++) {
            uint256 i = e.rowUid[r];
            if (i < from || i >= to) continue;
            uint256 d = _rawDiv(e, r, yuma3);
            O.div[i - from] = sumD != 0 ? (d << 32) / sumD : d;
            O.trust[i - from] = e.rowTrust[r];
            O.act[i - from] = e.rowActive[r];
        }
        uint256 esum = e.emissionSum;
        if (esum != 0) {
            for (uint256 k = 0; k < m; k++) {
                O.server[k] = (O.inc[k] << 32) / esum;
                O.validator[k] = (O.div[k] << 32) / esum;
                O.combined[k] = ((O.inc[k] + O.div[k]) << 32) / esum;
            }
        } else {
            // no usable weights: validator and combined emission follow A, or S when A is all zero
            bool useStake = e.activeSum == 0;
            for (uint256 k = 0; k < m; k++) {
                O.server[k] = O.inc[k];
                uint256 v = useStake ? O.stake[k] : O.act[k];
                O.validator[k] = v;
                O.combined[k] = v;
            }
        }
    }
}
