// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @notice The snarkjs-exported Groth16 verifier of one vision model (contracts/src/vision/*Verifier.sol).
interface IGroth16Verifier4 {
    function verifyProof(
        uint256[2] calldata pA,
        uint256[2][2] calldata pB,
        uint256[2] calldata pC,
        uint256[4] calldata pubSignals
    ) external view returns (bool);
}

/// @title VisionAnswers
/// @notice Records answers of one zk-proven image classifier. A model's identity is the hash of its
/// verification key (src/vision/model-id.ts): the weights are constants of the circuit, so the
/// verifier this contract calls accepts proofs of that model only. The public signals are the
/// circuit's (circuits/lib/digits-mlp.circom): two field elements packing the 64 pixels, one packing
/// the 10 scores, and the label. An answer is recorded once per input (the label is a function of
/// the input, so a second valid proof can only repeat it); every valid submission emits an event
/// naming its prover.
contract VisionAnswers {
    struct Answer {
        address prover;
        uint8 label;
        uint64 blockNumber;
        uint256 scoresPacked;
    }

    IGroth16Verifier4 public immutable verifier;
    bytes32 public immutable modelId;

    /// @notice First verified answer per input hash, keccak256(abi.encode(pixelsPacked[0], pixelsPacked[1])).
    mapping(bytes32 inputHash => Answer) public answers;
    uint256 public answerCount;

    event AnswerVerified(
        bytes32 indexed modelId, bytes32 indexed inputHash, uint8 label, uint256 scoresPacked, address indexed prover
    );

    error InvalidProof();
    error LabelOutOfRange(uint256 label);

    constructor(IGroth16Verifier4 verifier_, bytes32 modelId_) {
        verifier = verifier_;
        modelId = modelId_;
    }

    /// @notice Verifies a proof that the model maps the packed pixels to these scores and label, and
    /// records it. Reverts with InvalidProof if the verifier says no.
    function submit(
        uint256[2] calldata pA,
        uint256[2][2] calldata pB,
        uint256[2] calldata pC,
        uint256[4] calldata pubSignals
    ) external returns (bytes32 inputHash) {
        // the circuit proves label < 10; checked first so a malformed call fails before the pairing
        if (pubSignals[3] >= 10) revert LabelOutOfRange(pubSignals[3]);
        if (!verifier.verifyProof(pA, pB, pC, pubSignals)) revert InvalidProof();
        inputHash = inputHashOf(pubSignals[0], pubSignals[1]);
        uint8 label = uint8(pubSignals[3]);
        if (answers[inputHash].prover == address(0)) {
            answers[inputHash] = Answer(msg.sender, label, uint64(block.number), pubSignals[2]);
            answerCount++;
        }
        emit AnswerVerified(modelId, inputHash, label, pubSignals[2], msg.sender);
    }

    function inputHashOf(uint256 pixelsLo, uint256 pixelsHi) public pure returns (bytes32) {
        return keccak256(abi.encode(pixelsLo, pixelsHi));
    }
}
