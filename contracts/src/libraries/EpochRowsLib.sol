// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Subnet, EpochState, MAX_UIDS, WORDS} from "./Types.sol";
import {Kernel} from "./KernelLib.sol";

/// @title EpochRowsLib
/// @notice The running epoch's validator rows as the consensus and bonds passes read them:
/// row state loaded into memory, a weight word decoded, and the kernels' view of the storage.
library EpochRowsLib {
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

        uint256 internal constant PRESENT = 1 << 128;
    uint256 internal constant LOW = PRESENT - 1;

    function at(uint256[] memory a, uint256 i) internal pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := mload(add(add(a, 0x20), shl(5, i)))
        }
    }

    function put(uint256[] memory a, uint256 i, uint256 v) internal pure {
        assembly ("memory-safe") {
            mstore(add(add(a, 0x20), shl(5, i)), v)
        }
    }

    function loadRows(EpochState storage e, bool withUse) internal view returns (Rows memory R) {
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
    function decode(Subnet storage s, Rows memory R, uint256 k, uint256 n, bool withBonds) internal view {
        unchecked {
            uint256 base = k << 4;
            uint256 end = base + 16 > n ? n - base : 16;
            uint256[] memory reg = R.reg;
            for (uint256 c = 0; c < end; c++) {
                put(reg, c, s.neurons[base + c].registrationBlock);
            }
            uint256[] memory wv = R.wv;
            for (uint256 r = 0; r < R.count; r++) {
                uint256 i = at(R.uid, r);
                uint256 word = s.weights[i][k];
                uint256 bits = (s.weightMask[i][k >> 4] >> ((k & 15) << 4)) & 0xffff;
                if (withBonds) put(R.bond, r, s.bonds[i][k]);
                uint256 sum = at(R.sum, r);
                uint256 t = at(R.thr, r);
                uint256 o = r << 4;
                for (uint256 c = 0; c < 16; c++) {
                    uint256 v;
                    if (c < end && (bits >> c) & 1 == 1 && base + c != i && at(reg, c) < t) {
                        v = sum == 0 ? PRESENT : (((word >> (c << 4)) & 0xffff) << 32) / sum | PRESENT;
                    }
                    put(wv, o + c, v);
                }
            }
        }
    }

    /// @dev The kernels' view of the rows for columns [from, to): storage slots, the weightMask
    /// words those columns need, and whether any row masks by registration block.
    function kernel(Subnet storage s, EpochState storage e, Rows memory R, uint256 from, uint256 to)
        internal
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
                uint256 i = at(R.uid, r);
                for (uint256 h = h0; h <= h1; h++) {
                    put(K.mask, (r << 1) | h, s.weightMask[i][h]);
                }
                if (at(R.thr, r) <= maxReg) K.regOn = 1;
            }
        }
    }

    /// @dev Registration blocks of word k's columns into K.reg (max past n: never masks, never recent).
    function loadReg(Subnet storage s, Kernel memory K, uint256 k, uint256 n) internal view {
        unchecked {
            uint256 base = k << 4;
            for (uint256 c = 0; c < 16; c++) {
                put(K.reg, c, base + c < n ? s.neurons[base + c].registrationBlock : type(uint256).max);
            }
        }
    }
}
