// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {PrngLib} from "./PrngLib.sol";
import {SamplerLib, SamplingParams} from "./SamplerLib.sol";

/// @title OneStepSamplerLib
/// @notice The dispute game's one-step check of a sample entry (OneStepLib has the other ops):
/// the sampler step of src/runtime/sampler/sample.ts, and the PRNG state a request starts from.
/// @dev A linked library; the game calls it by DELEGATECALL.
library OneStepSamplerLib {
    /// @notice sample: the sample entry [token, s0, s1, s2, s3] (the PRNG words after the draw
    /// as int32, as the trace stores them) from the n logits, the state before the draw (the
    /// previous sample entry's words as uint32, or `prngSeed`), the request's parameters and the
    /// caller's `order` hint (SamplerLib: the candidate prefix, big-endian uint32 indices).
    function sample(
        bytes calldata logits,
        uint256 n,
        SamplingParams calldata params,
        uint32[4] calldata state,
        bytes calldata order
    ) external pure returns (int256[5] memory out) {
        (uint256 token, uint32[4] memory next) = SamplerLib.sample(logits, n, params, state, order);
        out[0] = int256(token);
        for (uint256 i = 0; i < 4; i++) {
            out[i + 1] = int256(int32(next[i]));
        }
    }

    /// @notice The PRNG state a request starts from (seed < 2^53).
    function prngSeed(uint256 seed) external pure returns (uint32[4] memory) {
        return PrngLib.seed(seed);
    }
}
