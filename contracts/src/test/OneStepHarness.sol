// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ExpLib} from "../dispute/ExpLib.sol";
import {FixedMathLib} from "../dispute/FixedMathLib.sol";
import {OneStepAttentionLib} from "../dispute/OneStepAttentionLib.sol";
import {OneStepLib} from "../dispute/OneStepLib.sol";
import {OneStepSamplerLib} from "../dispute/OneStepSamplerLib.sol";
import {RopeLib} from "../dispute/RopeLib.sol";
import {SamplingParams} from "../dispute/SamplerLib.sol";

/// @title OneStepHarness
/// @notice Test and benchmark harness: forwards to the linked OneStepLib, OneStepAttentionLib and
/// OneStepSamplerLib as the dispute game will
/// (DELEGATECALL, arguments re-encoded from calldata), so a transaction to it measures what a
/// one-step costs the game: calldata, the copy into the library call, and the compute.
/// @dev Not part of the protocol. A few internal RopeLib routines are exposed for the tests.
contract OneStepHarness {
    /// @dev Execution gas of one call to this harness (`data`: its calldata), measured around a
    /// DELEGATECALL to itself: what the step costs beyond its transaction's intrinsic gas.
    function gasOf(bytes calldata data) external returns (uint256 used, bool ok) {
        uint256 before = gasleft();
        (ok,) = address(this).delegatecall(data);
        used = before - gasleft();
    }

    function vecRoot(bytes calldata chunks) external view returns (bytes32) {
        return OneStepLib.vecRoot(chunks);
    }

    function rowLeaf(bytes calldata row, int256 m, int256 e) external view returns (bytes32) {
        return OneStepLib.rowLeaf(row, m, e);
    }

    function embed(bytes calldata row, int256 m, int256 e, uint256 j) external pure returns (int256) {
        return OneStepLib.embed(row, m, e, j);
    }

    function rmsnorm(bytes calldata x, uint256 n, uint256 j, int256 g, int256 epsQ, uint256 jmax)
        external
        pure
        returns (int256)
    {
        return OneStepLib.rmsnorm(x, n, j, g, epsQ, jmax);
    }

    function projection(bytes calldata x, bytes calldata row, int256 m, int256 e, int256 bias, uint256 jmax)
        external
        pure
        returns (int256)
    {
        return OneStepLib.projection(x, row, m, e, bias, jmax);
    }

    function projectionPartial(bytes calldata x, bytes calldata row, uint256 amax, int256 acc)
        external
        pure
        returns (int256)
    {
        return OneStepLib.projectionPartial(x, row, amax, acc);
    }

    function projectionFinal(int256 acc, uint256 amax, int256 m, int256 e, int256 bias)
        external
        pure
        returns (int256)
    {
        return OneStepLib.projectionFinal(acc, amax, m, e, bias);
    }

    function rope(
        int256 xa,
        int256 xb,
        uint256 pos,
        uint256 j,
        uint256 ropeDim,
        bool neox,
        uint64 thetaBits,
        uint32 factorBits
    ) external pure returns (int256) {
        return OneStepLib.rope(xa, xb, pos, j, ropeDim, neox, thetaBits, factorBits);
    }

    function ropeInvFreq(uint64 thetaBits, uint256 i, uint256 ropeDim, uint32 factorBits)
        external
        pure
        returns (int256)
    {
        return OneStepLib.ropeInvFreq(thetaBits, i, ropeDim, factorBits);
    }

    function ropeCosSin(uint64 thetaBits, uint256 pos, uint256 i, uint256 ropeDim, uint32 factorBits)
        external
        pure
        returns (int256, int256)
    {
        return OneStepLib.ropeCosSin(thetaBits, pos, i, ropeDim, factorBits);
    }

    function score(bytes calldata q, uint256 qOff, bytes calldata k, uint256 kOff, uint256 headDim)
        external
        pure
        returns (int256)
    {
        return OneStepAttentionLib.score(q, qOff, k, kOff, headDim);
    }

    function softmax(bytes calldata scores, uint256 off, uint256 len, uint256 s, uint256 jmax)
        external
        pure
        returns (int256)
    {
        return OneStepAttentionLib.softmax(scores, off, len, s, jmax);
    }

    function softmaxPartial(bytes calldata scores, uint256 off, uint256 len, int256 mx, int256 acc)
        external
        pure
        returns (int256)
    {
        return OneStepAttentionLib.softmaxPartial(scores, off, len, mx, acc);
    }

    function softmaxFinal(int256 x, int256 mx, int256 sum) external pure returns (int256) {
        return OneStepAttentionLib.softmaxFinal(x, mx, sum);
    }

    function attnMix(bytes calldata probs, uint256 pOff, bytes calldata values, uint256 len)
        external
        pure
        returns (int256)
    {
        return OneStepAttentionLib.attnMix(probs, pOff, values, len);
    }

    function attnMixStep(int256 acc, int256 p, int256 v) external pure returns (int256) {
        return OneStepAttentionLib.attnMixStep(acc, p, v);
    }

    function attnMixFinal(int256 acc) external pure returns (int256) {
        return OneStepAttentionLib.attnMixFinal(acc);
    }

    function residual(int256 a, int256 b) external pure returns (int256) {
        return OneStepLib.residual(a, b);
    }

    function swiglu(int256 g, int256 u) external pure returns (int256) {
        return OneStepLib.swiglu(g, u);
    }

    function sample(
        bytes calldata logits,
        uint256 n,
        SamplingParams calldata params,
        uint32[4] calldata state,
        bytes calldata order
    ) external pure returns (int256[5] memory) {
        return OneStepSamplerLib.sample(logits, n, params, state, order);
    }

    function prngSeed(uint256 seed) external pure returns (uint32[4] memory) {
        return OneStepSamplerLib.prngSeed(seed);
    }

    /// @dev The BigInt constants as computed on chain, and one EXP2 table entry from them.
    function ropeConstants() external pure returns (int256 ln2, int256 pi, int256 ln2Constant, int256 piConstant) {
        return (RopeLib.ln2(), RopeLib.pi(), RopeLib.LN2, RopeLib.PI);
    }

    function exp2TableEntry(uint256 i) external pure returns (int256) {
        return RopeLib.exp2TableEntry(i);
    }

    function ln(uint64 thetaBits) external pure returns (int256) {
        return RopeLib.ln(RopeLib.fromDouble(thetaBits));
    }

    /// @dev Every EXP2 entry recomputed by the BigInt routines, and ExpLib's literal table.
    function exp2Tables() external pure returns (int256[256] memory computed, int256[256] memory literal) {
        bytes memory tbl = ExpLib.table();
        for (uint256 i = 0; i < 256; i++) {
            computed[i] = RopeLib.exp2TableEntry(i);
            literal[i] = int256(uint256(uint8(tbl[4 * i])) << 24 | uint256(uint8(tbl[4 * i + 1])) << 16
                | uint256(uint8(tbl[4 * i + 2])) << 8 | uint256(uint8(tbl[4 * i + 3])));
        }
    }

    function expQ30(int256 d) external pure returns (int256) {
        return ExpLib.expQ30(d, ExpLib.table());
    }

    function sigmoidQ16(int256 g) external pure returns (int256) {
        return ExpLib.sigmoidQ16(g, ExpLib.table());
    }

    function isqrt(uint256 v) external pure returns (uint256) {
        return FixedMathLib.isqrt(v);
    }

    function bitLength(uint256 v) external pure returns (uint256) {
        return FixedMathLib.bitLength(v);
    }
}
