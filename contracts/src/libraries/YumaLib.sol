// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IVerity} from "../interfaces/IVerity.sol";
import {Subnet, Neuron, EpochState, Pool, MAX_VALIDATORS, MAX_UIDS, WORDS} from "./Types.sol";
import {KernelLib, Kernel} from "./KernelLib.sol";
import {EpochRowsLib} from "./EpochRowsLib.sol";

/// @title YumaLib
/// @notice subtensor's sparse epoch (epoch_mechanism) in I32F32, spread over transactions:
/// begin (stake, permits, active stake, masks, row sums) -> consensus chunks (caller-supplied
/// weighted medians checked exactly, clip, rank, trust) -> bond chunks (EMA bonds, dividends)
/// -> finish (emission split, outputs, each uid's unclaimed emission). The bond chunks are
/// BondsLib's.
/// @dev Only rows of uids holding a (stored) validator permit can carry weights or bonds, so the
/// matrices are walked over those rows only. Weights are read from storage 16 columns per word.
library YumaLib {

    /* BEGIN */

    /// @param emission The epoch's emission (< 2^85, the supply cap), keeper reward included.
    /// @param keeperBps Basis points of it paid to whoever runs the stages.
    /// @param now_ The protocol clock (fits 48 bits).
    /// @param warmEpoch Stake that arrived in this epoch index is left out (each pool's `warming`).
    function begin(
        Subnet storage s,
        mapping(address => Pool) storage pools,
        uint16 netuid,
        uint256 emission,
        uint256 keeperBps,
        uint256 now_,
        uint256 warmEpoch
    ) external {
        unchecked {
            EpochState storage e = s.epoch;
            uint256 n = s.n;
            e.block = uint48(now_); // a clock value: < 2^48
            e.n = uint16(n); // <= MAX_UIDS
            e.nextCol = 0;
            e.emission = uint96(emission); // < 2^85, the supply cap
            // an empty subnet's epoch is one finish call: nothing to pay for
            e.keeperBps = n == 0 ? 0 : uint16(keeperBps); // <= 500
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
                    // the pool's first slot: stake, warming, warmEpoch (Types.sol's Pool order)
                    Pool storage pool = pools[address(uint160(id))];
                    uint256 pw;
                    assembly ("memory-safe") {
                        pw := sload(pool.slot)
                    }
                    uint256 st = pw & 0xffffffffffffffffffffffff;
                    if (pw >> 192 == warmEpoch) {
                        // stake that arrived in this epoch does not count (no flash stake)
                        uint256 warm = (pw >> 96) & 0xffffffffffffffffffffffff;
                        st = warm >= st ? 0 : st - warm;
                    }
                    if (st < threshold) st = 0;
                    S[i] = st;
                    total += st;
                    uint256 r = (id >> 160) & 0xffffffffffff;
                    reg[i] = r;
                    if (r > maxReg) maxReg = r;
                    uint256 u = id >> 208;
                    upd[i] = u;
                    if (u + cutoff >= now_) {
                        if (i < 256) activeBits0 |= 1 << i;
                        else activeBits1 |= 1 << (i - 256);
                    }
                    if ((permit[i >> 8] >> (i & 255)) & 1 == 1) rowUid[rows++] = i;
                }
                // inplace_normalize_64 then narrow I64F64 -> I32F32
                for (uint256 i = 0; i < n; i++) {
                    S[i] = total == 0 ? S[i] : ((S[i] << 64) / total) >> 32;
                }
                _storePacked(_slotOf(e.stake), S, n, 64);
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
            e.activeSum = uint64(sumA); // a sum of normalised stakes: <= 2^32
            // the median's stake: rows with A > 0, renormalised
            uint256 stakeSum;
            {
                uint256[] memory use = new uint256[](rows);
                for (uint256 r = 0; r < rows; r++) {
                    uint256 u = A[r] == 0 ? 0 : (A[r] << 32) / sumUse;
                    stakeSum += u;
                    use[r] = u;
                }
                _storePacked(_slotOf(e.rowUse), use, rows, 64);
            }
            e.stakeSum = uint64(stakeSum); // normalised: <= 2^32 + rows
            e.minority = int64(int256(stakeSum) - int256((uint256(s.params.kappa) << 32) / 65535));
            e.rows = uint16(rows); // <= MAX_VALIDATORS
            {
                uint256[] memory commit = new uint256[](rows);
                uint256[] memory rowSum = new uint256[](rows);
                uint256[] memory update = new uint256[](rows);
                for (uint256 r = 0; r < rows; r++) {
                    uint256 i = rowUid[r];
                    uint256 cb = _commitBlock(s, i);
                    commit[r] = cb;
                    rowSum[r] = _rowSum(s, i, n, upd[i], cb, reg, maxReg);
                    update[r] = upd[i];
                }
                _storePacked(_slotOf(e.rowSum), rowSum, rows, 32);
                _storePacked(_slotOf(e.rowUpdate), update, rows, 48);
                _storePacked(_slotOf(e.rowUid), rowUid, rows, 16);
                _storePacked(_slotOf(e.rowActive), A, rows, 64);
                _storePacked(_slotOf(e.rowCommit), commit, rows, 64);
                // the trust and dividend accumulators start at zero (a fresh array is zeros)
                _storePacked(_slotOf(e.rowTrust), new uint256[](0), rows, 64);
                _storePacked(_slotOf(e.rowDiv), new uint256[](0), rows, 64);
            }
            e.maxReg = uint48(maxReg); // a clock value
            e.stage = n == 0 ? 3 : 1;
            emit IVerity.EpochStarted(netuid, s.epochIndex, now_, emission);
        }
    }

    /// @dev The first slot of an epoch array, for _storePacked and _loadU64 (one overload per
    /// element type and length: Solidity has no generic storage array).
    function _slotOf(uint64[MAX_UIDS] storage dst) private pure returns (uint256 slot) {
        assembly ("memory-safe") {
            slot := dst.slot
        }
    }

    function _slotOf(uint64[MAX_VALIDATORS] storage dst) private pure returns (uint256 slot) {
        assembly ("memory-safe") {
            slot := dst.slot
        }
    }

    function _slotOf(uint48[MAX_VALIDATORS] storage dst) private pure returns (uint256 slot) {
        assembly ("memory-safe") {
            slot := dst.slot
        }
    }

    function _slotOf(uint32[MAX_VALIDATORS] storage dst) private pure returns (uint256 slot) {
        assembly ("memory-safe") {
            slot := dst.slot
        }
    }

    function _slotOf(uint16[MAX_VALIDATORS] storage dst) private pure returns (uint256 slot) {
        assembly ("memory-safe") {
            slot := dst.slot
        }
    }

    /// @dev Packs vals[0, count) (zeros past vals' length) as `width`-bit elements, as Solidity lays
    /// out a static array of them (floor(256 / width) to a slot, low bits first), one SSTORE
    /// per slot instead of Solidity's read-modify-write per element. The last slot's elements
    /// past count become zero: nothing reads past count.
    function _storePacked(uint256 slot, uint256[] memory vals, uint256 count, uint256 width) private {
        assembly ("memory-safe") {
            let per := div(256, width)
            let mask := sub(shl(width, 1), 1)
            let len := mload(vals)
            let p := add(vals, 0x20)
            for { let i := 0 } lt(i, count) { i := add(i, per) } {
                let w := 0
                for { let j := 0 } and(lt(j, per), lt(add(i, j), count)) { j := add(j, 1) } {
                    let k := add(i, j)
                    if lt(k, len) { w := or(w, shl(mul(width, j), and(mload(add(p, shl(5, k))), mask))) }
                }
                sstore(add(slot, div(i, per)), w)
            }
        }
    }

    /// @dev Elements [from, to) of a uint64 array at `slot`, one SLOAD per slot (the slot of a
    /// uint64[MAX_UIDS] or uint64[MAX_VALIDATORS] alike).
    function _loadU64(uint256 slot, uint256 from, uint256 to) private view returns (uint256[] memory out) {
        out = new uint256[](to - from);
        assembly ("memory-safe") {
            let p := add(out, 0x20)
            let w := 0
            for { let j := from } lt(j, to) { j := add(j, 1) } {
                if or(eq(j, from), iszero(and(j, 3))) { w := sload(add(slot, shr(2, j))) }
                mstore(add(p, shl(5, sub(j, from))), and(shr(shl(6, and(j, 3)), w), 0xffffffffffffffff))
            }
        }
    }

    /// @dev is_topk_nonzero(S, maxValidators): in an ascending stable sort the first n-k lose (ties
    /// go to the higher uid), so the permits are the keys at or above the (n-k)th smallest.
    function _permits(Subnet storage s, EpochState storage e, uint256[] memory S, uint256 n) private {
        uint256 k = s.params.maxValidators;
        uint256 threshold;
        if (n >= k) {
            uint256[] memory keys = new uint256[](n);
            for (uint256 i = 0; i < n; i++) {
                keys[i] = (S[i] << 16) | i;
            }
            threshold = _kthSmallest(keys, n - k);
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

    /// @dev The kth smallest of distinct keys (0-based), by quickselect with Hoare's partition
    /// around the middle key: each pass keeps the part holding kth, both parts being non-empty.
    /// The keys are reordered.
    function _kthSmallest(uint256[] memory a, uint256 kth) private pure returns (uint256 v) {
        assembly ("memory-safe") {
            let base := add(a, 0x20)
            let lo := 0
            let hi := sub(mload(a), 1)
            for {} lt(lo, hi) {} {
                let pivot := mload(add(base, shl(5, add(lo, shr(1, sub(hi, lo))))))
                let i := sub(lo, 1)
                let j := add(hi, 1)
                for {} 1 {} {
                    i := add(i, 1)
                    for {} lt(mload(add(base, shl(5, i))), pivot) {} { i := add(i, 1) }
                    j := sub(j, 1)
                    for {} gt(mload(add(base, shl(5, j))), pivot) {} { j := sub(j, 1) }
                    if iszero(lt(i, j)) { break }
                    let pi := add(base, shl(5, i))
                    let pj := add(base, shl(5, j))
                    let t := mload(pi)
                    mstore(pi, mload(pj))
                    mstore(pj, t)
                }
                switch gt(kth, j)
                case 0 { hi := j }
                default { lo := add(j, 1) }
            }
            v := mload(add(base, shl(5, lo)))
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

    /* MEDIAN HINTS */

    /// @notice subtensor's weighted_median for columns [from, from+count) of the running epoch.
    function hints(Subnet storage s, uint16 from, uint16 count) external view returns (uint64[] memory out) {
        EpochState storage e = s.epoch;
        if (e.stage != 1) revert IVerity.WrongEpochStage(1, e.stage);
        uint256 n = e.n;
        uint256 to = uint256(from) + count;
        if (to > n) to = n;
        out = new uint64[](to > from ? to - from : 0);
        EpochRowsLib.Rows memory R = EpochRowsLib.loadRows(e, true);
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
                EpochRowsLib.decode(s, R, loaded, n, false);
            }
            uint256 k;
            for (uint256 r = 0; r < R.count; r++) {
                if (R.use[r] == 0) continue;
                score[k] = R.wv[(r << 4) | (j & 15)] & EpochRowsLib.LOW;
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

    function finish(Subnet storage s, uint16 netuid, uint16 count)
        external
        returns (uint256 paid)
    {
        unchecked {
            EpochState storage e = s.epoch;
            if (e.stage != 3) revert IVerity.WrongEpochStage(3, e.stage);
            uint256 n = e.n;
            uint256 from = e.nextCol;
            uint256 to = from + count > n ? n : from + count;
            if (count == 0 && n != 0) revert IVerity.BadChunk(uint16(from), count);
            if (from == 0) _sums(s, e, n);
            Out memory O = _split(s, e, from, to);
            // the keeper reward comes off the top (floored: the uids get the rounding)
            uint256 emission = e.emission;
            emission -= emission * e.keeperBps / 10_000;
            Neuron[MAX_UIDS] storage neurons = s.neurons;
            uint256 base;
            assembly ("memory-safe") {
                base := neurons.slot
            }
            for (uint256 j = from; j < to; j++) {
                uint256 k = j - from;
                uint256 sv = (O.server[k] * emission) >> 32;
                uint256 va = (O.validator[k] * emission) >> 32;
                // one event word per uid: server high, validator low (each < 2^85)
                O.server[k] = (sv << 128) | va;
                uint256 amount = sv + va;
                paid += amount;
                // the neuron's second slot at once (Types.sol's Neuron order): emission, unclaimed
                // plus this epoch's amount, stake weight, consensus, incentive, dividends, trust.
                // Amounts stay below the token cap (2^85), so each fits its 88 bits.
                uint256 slot = base + 2 * j + 1;
                uint256 unclaimed;
                assembly ("memory-safe") {
                    unclaimed := and(shr(88, sload(slot)), 0xffffffffffffffffffffff)
                }
                uint256 outputs = ((O.combined[k] * emission) >> 32) | ((unclaimed + amount) << 88)
                    | (_u16(O.stake[k]) << 176) | (_u16(O.cons[k]) << 192) | (_u16(O.inc[k]) << 208)
                    | (_u16(O.div[k]) << 224) | (_u16(O.trust[k]) << 240);
                assembly ("memory-safe") {
                    sstore(slot, outputs)
                }
            }
            uint64 index = s.epochIndex;
            emit IVerity.EpochEmissions(netuid, index, uint16(from), O.server);
            uint256 total = uint256(e.paid) + paid;
            if (to == n) {
                e.stage = 0;
                e.nextCol = 0;
                e.paid = 0;
                s.epochIndex = index + 1;
                s.lastEpochBlock = e.block;
                emit IVerity.EpochFinished(netuid, index, total);
            } else {
                e.paid = uint128(total); // <= the emission < 2^85
                e.nextCol = uint16(to); // <= n <= MAX_UIDS
                emit IVerity.EpochProgress(netuid, 3, uint16(to));
            }
    
        }
    }

    function _u16(uint256 x) private pure returns (uint256) {
        uint256 v = (x * 65535) >> 32;
        return v > 65535 ? 65535 : v;
    }

    /// @dev Raw dividends of the rows: classic Σ_j I_j·B_ij, Yuma3 A_r·Σ_j Bn_ij·I_j.
    function _rawDivs(EpochState storage e, uint256 rows, bool yuma3) private view returns (uint256[] memory d) {
        unchecked {
            d = _loadU64(_slotOf(e.rowDiv), 0, rows);
            if (yuma3) {
                uint256[] memory act = _loadU64(_slotOf(e.rowActive), 0, rows);
                for (uint256 r = 0; r < rows; r++) {
                    d[r] = (d[r] * act[r]) >> 32;
                }
            }
        }
    }

    /// @dev Dividend normaliser and Σ(I + D) over all uids, stored once for the finish chunks.
    function _sums(Subnet storage s, EpochState storage e, uint256 n) private {
        unchecked {
            uint256 rows = e.rows;
            uint256[] memory raw = _rawDivs(e, rows, s.params.yuma3);
            uint256 sumD;
            for (uint256 r = 0; r < rows; r++) {
                sumD += raw[r];
            }
            uint256 esum;
            for (uint256 r = 0; r < rows; r++) {
                uint256 d = raw[r];
                if (sumD != 0) d = (d << 32) / sumD;
                esum += d;
            }
            uint256 rankSum = e.rankSum;
            uint256[] memory ranks = _loadU64(_slotOf(e.rank), 0, n);
            for (uint256 j = 0; j < n; j++) {
                uint256 rank = ranks[j];
                esum += rankSum == 0 ? rank : (rank << 32) / rankSum;
            }
            e.divSum = uint64(sumD); // rows x I32F32 <= 1: < 2^39
            e.emissionSum = uint64(esum); // two normalised vectors: <= 2^33 + n
    
        }
    }

    function _split(Subnet storage s, EpochState storage e, uint256 from, uint256 to)
        private
        view
        returns (Out memory O)
    {
        unchecked {
            uint256 m = to - from;
            O.from = from;
            O.to = to;
            O.stake = _loadU64(_slotOf(e.stake), from, to);
            O.cons = _loadU64(_slotOf(e.consensus), from, to);
            O.inc = _loadU64(_slotOf(e.rank), from, to);
            O.div = new uint256[](m);
            O.trust = new uint256[](m);
            O.act = new uint256[](m);
            O.server = new uint256[](m);
            O.validator = new uint256[](m);
            O.combined = new uint256[](m);
            uint256 rankSum = e.rankSum;
            if (rankSum != 0) {
                for (uint256 k = 0; k < m; k++) {
                    O.inc[k] = (O.inc[k] << 32) / rankSum;
                }
            }
            uint256 rows = e.rows;
            uint256 sumD = e.divSum;
            uint256[] memory raw = _rawDivs(e, rows, s.params.yuma3);
            uint256[] memory trust = _loadU64(_slotOf(e.rowTrust), 0, rows);
            uint256[] memory act = _loadU64(_slotOf(e.rowActive), 0, rows);
            for (uint256 r = 0; r < rows; r++) {
                uint256 i = e.rowUid[r];
                if (i < from || i >= to) continue;
                uint256 d = raw[r];
                O.div[i - from] = sumD != 0 ? (d << 32) / sumD : d;
                O.trust[i - from] = trust[r];
                O.act[i - from] = act[r];
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
}
