// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ModelConfig} from "./ScheduleLib.sol";

/// @dev A receipt as the miner signed it (src/verify/receipt.ts, EIP-712 type `Receipt`).
struct Receipt {
    uint256 chainId;
    uint16 netuid;
    bytes32 modelRoot;
    bytes32 requestHash;
    bytes32 outputHash;
    bytes32 traceRoot;
    uint64 traceLeaves;
    address minerHotkey;
    uint64 issuedBlock;
    uint64 validUntilBlock;
    bytes32 nonce;
}

/// @dev What a challenger brings to open a dispute.
struct OpenParams {
    Receipt receipt;
    /// @dev 65-byte (r, s, v) signature of the receipt's EIP-712 digest.
    bytes signature;
    /// @dev The request's canonical ABI encoding (src/verify/request.ts): sha256 = requestHash.
    bytes request;
    /// @dev The output tokens, big-endian uint32 each: sha256 = outputHash.
    bytes tokens;
    /// @dev The model's config bytes and tokenizer digest: modelRoot leaf 0 hashes both.
    bytes config;
    bytes32 tokenizerDigest;
    bytes32[] configProof;
    /// @dev The challenger's traceRoot for the same request (must differ from the receipt's),
    /// ignored for an output claim.
    bytes32 claimedRoot;
    /// @dev NO_OUTPUT_CLAIM, or the index k of an output token the challenger says is not the
    /// one the miner's trace sampled (element 0 of sample at position T - 1 + k).
    uint64 outputIndex;
}

/// @dev Part of an op output, proven in the trace: 32-byte chunks [firstChunk, firstChunk + n)
/// of its vector under its vecRoot (compact range proof; a whole vector needs none), the op's
/// leaf sha256(opId || vecRoot) under R_p (an op of the disputed position) or under its
/// position's boundaryRoot, and then that position's checkpoint under traceRoot. A prompt
/// token is opened the same way under the prompt's root, without leaf or checkpoint.
struct VectorOpening {
    bytes chunks;
    uint256 firstChunk;
    bytes32[] rangeProof;
    bytes32[] leafProof;
    bytes32 boundaryRoot;
    bytes32[] checkpointProof;
}

/// @dev A modelRoot leaf: a weight row (int8 values, int32le m, int32le e [, int32le bias]) with
/// its compact proof, or one 32-byte chunk of a norm's int32le values (a norm's leaf is their
/// vecRoot) with the chunk's compact proof to that vecRoot followed by the leaf's to modelRoot.
struct WeightOpening {
    bytes data;
    bytes32[] proof;
}

/// @dev The challenger's one-step proof: the disputed element's lane in its chunk, the inputs
/// the op kind reads (StepLib lists them per kind), a maximum hint (rmsnorm, projection,
/// softmax) and the sampler's order hint.
struct StepProof {
    uint256 lane;
    VectorOpening[] vectors;
    WeightOpening[] weights;
    uint256 hint;
    bytes order;
}

/// @dev What the step checks need to know of a dispute, read from storage once per move.
struct StepContext {
    ModelConfig config;
    uint256 promptLength;
    uint256 positions;
    /// @dev The disputed position, the op's index in R_p and its (layer, kind).
    uint256 pos;
    uint256 index;
    uint256 layer;
    uint256 kind;
    /// @dev The disputed element (chunk * 8 + lane).
    uint256 element;
    bytes32 traceRoot;
    bytes32 modelRoot;
    bytes32 promptRoot;
    bytes32 positionRoot;
    uint256 seed;
    uint256 temperatureMilli;
    uint256 topK;
    uint256 topPMilli;
    /// @dev Elements per part of a bisected projection or softmax sum.
    uint256 partElements;
}
