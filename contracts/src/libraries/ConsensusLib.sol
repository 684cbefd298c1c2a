// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IVerity} from "../interfaces/IVerity.sol";
import {Subnet, EpochState, MAX_UIDS} from "./Types.sol";
import {KernelLib, Kernel} from "./KernelLib.sol";
import {EpochRowsLib} from "./EpochRowsLib.sol";

/// @title ConsensusLib
/// @notice The epoch's consensus chunks (stage 1): each column's caller-supplied weighted median
/// checked exactly, then clipped weights, rank and validator trust, through KernelLib.
/// @dev Written as small functions over a memory scratch (`col`) so that no function needs the
/// compiler to move stack variables to memory: the kernel can then stay out of line and keep
/// its values on the stack. Scratch words 96..99 are the kernel's row context, 100 its flag for a
/// degenerate minority; 101 the minority, 102 the median stake, 103 the rank sum, 104 "some
/// consensus is non-zero", 105 n.
library ConsensusLib {
    function consensus(Subnet storage s, uint16 netuid, uint64[] calldata medians) external {
        unchecked {
            EpochState storage e = s.epoch;
            if (e.stage != 1) revert IVerity.WrongEpochStage(1, e.stage);
            uint256 from = e.nextCol;
            uint256 to = from + medians.length;
            if (medians.length == 0 || to > e.n) revert IVerity.BadChunk(uint16(from), medians.length);
            EpochRowsLib.Rows memory R = EpochRowsLib.loadRows(e, true);
            Kernel memory K = EpochRowsLib.kernel(s, e, R, from, to);
            uint256[] memory trust = _loadTrust(e, R.count);
            uint256[] memory col = _scratch(e);
            uint256[] memory meds = new uint256[](to - from);
            for (uint256 j = 0; j < meds.length; j++) {
                meds[j] = medians[j];
            }
            for (uint256 k = from >> 4; k << 4 < to; k++) {
                _word(s, K, R, trust, col, meds, from, k);
            }
            _close(e, netuid, trust, col, to);
        }
    }

    function _loadTrust(EpochState storage e, uint256 rows) private view returns (uint256[] memory trust) {
        trust = new uint256[](rows);
        for (uint256 r = 0; r < rows; r++) {
            trust[r] = e.rowTrust[r];
        }
    }

    function _scratch(EpochState storage e) private view returns (uint256[] memory col) {
        col = new uint256[](106);
        int256 minority = e.minority;
        uint256 stakeSum = e.stakeSum;
        // the lowest and highest scores matter only to a degenerate minority
        if (stakeSum != 0 && (minority < 0 || uint256(minority) >= stakeSum)) col[100] = 1;
        col[101] = uint256(minority);
        col[102] = stakeSum;
        col[103] = e.rankSum;
        col[104] = e.anyConsensus ? 1 : 0;
        col[105] = e.n;
    }

    /// @dev Columns [max(from, 16k), min(from + meds.length, 16k + 16)) of word k.
    function _word(
        Subnet storage s,
        Kernel memory K,
        EpochRowsLib.Rows memory R,
        uint256[] memory trust,
        uint256[] memory col,
        uint256[] memory meds,
        uint256 from,
        uint256 k
    ) private {
        unchecked {
            uint256 base = k << 4;
            uint256 c0 = base < from ? from - base : 0;
            uint256 to = from + meds.length;
            uint256 c1 = base + 16 > to ? to - base : 16;
            for (uint256 c = c0; c < c1; c++) {
                EpochRowsLib.put(col, c, meds[base + c - from]);
                EpochRowsLib.put(col, c + 16, 0);
                EpochRowsLib.put(col, c + 32, 0);
                EpochRowsLib.put(col, c + 48, type(uint256).max);
                EpochRowsLib.put(col, c + 64, 0);
                EpochRowsLib.put(col, c + 80, 0);
            }
            if (K.regOn != 0) EpochRowsLib.loadReg(s, K, k, col[105]);
            KernelLib.consensusWord(K, k, c0, c1, R.use, R.act, trust, col);
            _check(s.epoch, col, base, c0, c1);
        }
    }

    /// @dev The median check of columns [c0, c1) of the word at `base`, and their outputs.
    function _check(EpochState storage e, uint256[] memory col, uint256 base, uint256 c0, uint256 c1) private {
        unchecked {
            int256 minority = int256(col[101]);
            uint256 stakeSum = col[102];
            for (uint256 c = c0; c < c1; c++) {
                uint256 med = EpochRowsLib.at(col, c);
                uint256 below = EpochRowsLib.at(col, c + 16);
                bool ok;
                if (stakeSum == 0) ok = med == 0;
                else if (minority < 0) ok = med == EpochRowsLib.at(col, c + 48);
                else if (uint256(minority) >= stakeSum) ok = med == EpochRowsLib.at(col, c + 64);
                else ok = below <= uint256(minority) && uint256(minority) < below + EpochRowsLib.at(col, c + 32);
                if (!ok) revert IVerity.ConsensusMismatch(uint16(base + c), uint64(med));
                if (med != 0) col[104] = 1;
                col[103] += EpochRowsLib.at(col, c + 80);
            }
            _store(e, col, base, c0, c1);
        }
    }

    /// @dev The consensus and rank of columns [c0, c1): a whole word as 4 slots each (one SSTORE
    /// per slot), a partial one element by element.
    function _store(EpochState storage e, uint256[] memory col, uint256 base, uint256 c0, uint256 c1) private {
        unchecked {
            if (c0 != 0 || c1 != 16) {
                for (uint256 c = c0; c < c1; c++) {
                    // consensus <= 2^32 (a weight), rank <= 2^32 (active stake times weights)
                    e.consensus[base + c] = uint64(EpochRowsLib.at(col, c));
                    e.rank[base + c] = uint64(EpochRowsLib.at(col, c + 80));
                }
                return;
            }
            uint64[MAX_UIDS] storage cons = e.consensus;
            uint64[MAX_UIDS] storage rank = e.rank;
            assembly ("memory-safe") {
                let p := add(col, 0x20)
                let cs := add(cons.slot, shr(2, base))
                let rs := add(rank.slot, shr(2, base))
                for { let q := 0 } lt(q, 4) { q := add(q, 1) } {
                    let wc := 0
                    let wr := 0
                    for { let j := 0 } lt(j, 4) { j := add(j, 1) } {
                        let c := add(shl(2, q), j)
                        wc := or(wc, shl(shl(6, j), and(mload(add(p, shl(5, c))), 0xffffffffffffffff)))
                        wr := or(wr, shl(shl(6, j), and(mload(add(p, shl(5, add(c, 80)))), 0xffffffffffffffff)))
                    }
                    sstore(add(cs, q), wc)
                    sstore(add(rs, q), wr)
                }
            }
        }
    }

    function _close(EpochState storage e, uint16 netuid, uint256[] memory trust, uint256[] memory col, uint256 to)
        private
    {
        for (uint256 r = 0; r < trust.length; r++) {
            e.rowTrust[r] = uint64(trust[r]); // clipped weights of one row: <= 2^32
        }
        e.rankSum = uint64(col[103]); // n ranks <= 2^32 each: < 2^41
        e.anyConsensus = col[104] == 1;
        if (to == e.n) {
            e.stage = 2;
            e.nextCol = 0;
        } else {
            e.nextCol = uint16(to); // <= n <= MAX_UIDS
        }
        emit IVerity.EpochProgress(netuid, e.stage, e.nextCol);
    }
}
