// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IVerity} from "../interfaces/IVerity.sol";
import {Subnet, EpochState} from "./Types.sol";
import {KernelLib, Kernel, BondKnobs} from "./KernelLib.sol";
import {EpochRowsLib} from "./EpochRowsLib.sol";

/// @title BondsLib
/// @notice The epoch's bond chunks (stage 2): EMA bonds written back as u16 and the dividend
/// accumulators, Yuma3 through KernelLib, classic in Solidity. Its own library so the epoch's
/// code fits the 24 KB limit compiled for run time.
library BondsLib {
    uint256 private constant ONE = 1 << 32;

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
            EpochRowsLib.Rows memory R = EpochRowsLib.loadRows(e, false);
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
                    EpochRowsLib.decode(s, R, k, n, true);
                    for (uint256 r = 0; r < rows; r++) {
                        out[r] = 0;
                    }
                    uint256 end = (k << 4) + 16 > to ? to : (k << 4) + 16;
                    for (uint256 j = k << 4; j < end; j++) {
                        _column(e, R, P, j, EpochRowsLib.at(R.reg, j & 15), vals, out, div);
                    }
                    for (uint256 r = 0; r < rows; r++) {
                        uint256 v = keep[r] ? out[r] : 0;
                        uint256 i = R.uid[r];
                        if (EpochRowsLib.at(R.bond, r) != v) s.bonds[i][k] = v;
                    }
                }
            }
            for (uint256 r = 0; r < rows; r++) {
                e.rowDiv[r] = uint64(div[r]); // n columns x I32F32 <= 1: < 2^41
            }
            if (to == n) {
                e.stage = 3;
                e.nextCol = 0;
            } else {
                e.nextCol = uint16(to); // <= n <= MAX_UIDS
            }
            emit IVerity.EpochProgress(netuid, e.stage, e.nextCol);
        }
    }

    /// @dev Yuma3 bonds of columns [from, to) through KernelLib, one weight word at a time.
    function _yuma3Bonds(
        Subnet storage s,
        EpochState storage e,
        EpochRowsLib.Rows memory R,
        BondParams memory P,
        uint256 from,
        uint256 to,
        bool[] memory keep,
        uint256[] memory div
    ) private {
        unchecked {
            Kernel memory K = EpochRowsLib.kernel(s, e, R, from, to);
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
            uint256[] memory vals = new uint256[](rows * 16);
            bool regs = K.regOn != 0 || P.lastTempo <= e.maxReg;
            uint256 n = e.n;
            for (uint256 k = from >> 4; k << 4 < to; k++) {
                uint256 base = k << 4;
                uint256 end = base + 16 > to ? to - base : 16;
                Q.recent = 0;
                if (regs) {
                    EpochRowsLib.loadReg(s, K, k, n);
                    for (uint256 c = 0; c < end; c++) {
                        if (P.lastTempo <= EpochRowsLib.at(K.reg, c)) Q.recent |= 1 << c;
                    }
                }
                for (uint256 c = 0; c < end; c++) {
                    uint256 j = base + c;
                    EpochRowsLib.put(col, c, e.consensus[j]);
                    EpochRowsLib.put(col, c + 16, P.rankSum == 0 ? e.rank[j] : (uint256(e.rank[j]) << 32) / P.rankSum);
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
    /// W + bp*(clip - W) kept when > 0. Returns the value with EpochRowsLib.PRESENT set, or 0 when absent.
    function _wb(uint256 x, uint256 c, uint256 bp) private pure returns (uint256) {
        unchecked {
            if (bp == 0 || x == 0) return x;
            uint256 w = x & EpochRowsLib.LOW;
            uint256 cw = w;
            bool cp = true;
            if (w > c) {
                if (c == 0) cp = false;
                cw = c;
            }
            if (bp == ONE) return cp ? cw | EpochRowsLib.PRESENT : 0;
            int256 v2 = cp ? int256(cw) : int256(0);
            int256 it = int256(w) + ((int256(bp) * (v2 - int256(w))) >> 32);
            return it > 0 ? uint256(it) | EpochRowsLib.PRESENT : 0;
        }
    }

    function _column(
        EpochState storage e,
        EpochRowsLib.Rows memory R,
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
        EpochRowsLib.Rows memory R,
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
                uint256 b = recent ? 0 : (EpochRowsLib.at(bond, r) >> sh) & 0xffff;
                uint256 x = _wb(EpochRowsLib.at(wv, (r << 4) | cj), c, P.bp);
                uint256 d = x != 0 ? ((x & EpochRowsLib.LOW) * EpochRowsLib.at(act, r)) >> 32 : 0;
                sumB += b;
                sumD += d;
                EpochRowsLib.put(vals, r, b | (d << 64) | (x != 0 ? 1 << 63 : 0));
            }
            uint256 alpha = P.alpha;
            uint256 oneMinus = ONE - alpha;
            uint256 sumE;
            for (uint256 r = 0; r < rows; r++) {
                uint256 x = EpochRowsLib.at(vals, r);
                uint256 b = x & 0xffff;
                uint256 d = x >> 64;
                uint256 bn = sumB == 0 ? b << 32 : (b << 32) / sumB;
                uint256 acc = (oneMinus * bn) >> 32;
                if ((x >> 63) & 1 == 1) acc += (alpha * (sumD == 0 ? d : (d << 32) / sumD)) >> 32;
                EpochRowsLib.put(vals, r, acc);
                sumE += acc;
            }
            if (sumE == 0) return;
            uint256 max;
            for (uint256 r = 0; r < rows; r++) {
                uint256 v = EpochRowsLib.at(vals, r);
                if (v == 0) continue;
                v = (v << 32) / sumE;
                EpochRowsLib.put(vals, r, v);
                EpochRowsLib.put(div, r, EpochRowsLib.at(div, r) + ((inc * v) >> 32));
                if (v > max) max = v;
            }
            for (uint256 r = 0; r < rows; r++) {
                uint256 v = EpochRowsLib.at(vals, r);
                if (v == 0) continue;
                uint256 u = (((v << 32) / max) * 65535) >> 32;
                EpochRowsLib.put(out, r, EpochRowsLib.at(out, r) | ((u > 65535 ? 65535 : u) << sh));
            }
        }
    }
}
