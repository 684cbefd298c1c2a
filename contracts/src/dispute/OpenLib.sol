// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {DisputeMerkleLib as Merkle} from "./DisputeMerkleLib.sol";
import {OpenParams, Receipt} from "./DisputeTypes.sol";
import {ModelConfig, ScheduleLib as S} from "./ScheduleLib.sol";

/// @title OpenLib
/// @notice What the dispute game checks when a dispute opens, apart from the chain's state: the
/// receipt's EIP-712 digest and signer, the request, the output tokens and the model's config
/// against the hashes the receipt signs, and the one-shot checks (a receipt that contradicts
/// itself loses at once).
/// @dev A linked library (keeps DisputeGame under 24 KB); the game calls it by DELEGATECALL.
library OpenLib {
    /// @dev One-shot reasons (DisputeGame's decision reasons 1..7).
    uint8 internal constant TRACE_LEAVES = 1;
    uint8 internal constant EARLY_STOP = 2;
    uint8 internal constant TOO_MANY_TOKENS = 3;
    uint8 internal constant NO_TOKENS = 4;
    uint8 internal constant REFUSED_REQUEST = 5;
    uint8 internal constant FUTURE_RECEIPT = 6;
    uint8 internal constant BAD_TOKEN = 7;

    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant RECEIPT_TYPEHASH = keccak256(
        "Receipt(uint256 chainId,uint16 netuid,bytes32 modelRoot,bytes32 requestHash,bytes32 outputHash,bytes32 traceRoot,uint64 traceLeaves,address minerHotkey,uint64 issuedBlock,uint64 validUntilBlock,bytes32 nonce)"
    );

    error WrongChain(uint256 chainId);
    error RequestMismatch();
    error RequestExtensionUnsupported();
    error LogitAdjustmentsUnsupported();
    error ResponseFormatUnsupported();
    error RequestForAnotherModel(bytes32 modelRoot);
    error OutputMismatch();
    error ConfigNotInModel();
    error OutputIndex(uint256 index, uint256 tokens);

    /// @dev The request's canonical ABI tuple (src/verify/request.ts).
    struct Request {
        bytes32 modelRoot;
        bytes32 promptHash;
        uint32[] promptTokens;
        uint32 maxTokens;
        uint32 temperatureMilli;
        uint32 topK;
        uint32 topPMilli;
        uint64 seed;
        uint32[] stopTokens;
        string[] stop;
    }

    /// @dev The extended tuple (src/verify/request.ts) of a request with logit bias, penalties
    /// or logprobs: the base fields, then these.
    struct ExtendedRequest {
        bytes32 modelRoot;
        bytes32 promptHash;
        uint32[] promptTokens;
        uint32 maxTokens;
        uint32 temperatureMilli;
        uint32 topK;
        uint32 topPMilli;
        uint64 seed;
        uint32[] stopTokens;
        string[] stop;
        uint32[] biasTokens;
        int32[] biasMilli;
        int32 presencePenaltyMilli;
        int32 frequencyPenaltyMilli;
        uint32 logprobs;
    }

    /// @dev The formatted tuple (src/verify/request.ts) of a request with a response format or a
    /// price: the extended fields, then these.
    struct FormattedRequest {
        bytes32 modelRoot;
        bytes32 promptHash;
        uint32[] promptTokens;
        uint32 maxTokens;
        uint32 temperatureMilli;
        uint32 topK;
        uint32 topPMilli;
        uint64 seed;
        uint32[] stopTokens;
        string[] stop;
        uint32[] biasTokens;
        int32[] biasMilli;
        int32 presencePenaltyMilli;
        int32 frequencyPenaltyMilli;
        uint32 logprobs;
        uint8 responseFormat;
        string responseSchema;
        uint256 promptPriceWei;
        uint256 completionPriceWei;
    }

    /// @dev What open learns: the receipt's key and signer, the config and request in the game's
    /// storage form, the trace's shape, and the one-shot verdict (0: none).
    struct Opened {
        bytes32 digest;
        address signer;
        uint256 config;
        uint256 config2;
        bytes32 promptRoot;
        uint256 sampling;
        uint256 promptLength;
        uint256 generated;
        uint8 oneShot;
        uint256 outputToken;
    }

    /// @notice Checks a dispute's opening data against the receipt. Reverts when the data does
    /// not match the receipt's hashes (the challenger's mistake); returns a one-shot reason when
    /// the receipt contradicts itself (the miner's).
    /// @param verity The Verity core: the receipts' EIP-712 verifying contract.
    /// @param noOutput The sentinel for "no output claim".
    function check(OpenParams calldata o, address verity, uint64 noOutput) external view returns (Opened memory r) {
        Receipt calldata rc = o.receipt;
        if (rc.chainId != block.chainid) revert WrongChain(rc.chainId);
        r.digest = digest(rc, verity);
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(r.digest, o.signature);
        r.signer = err == ECDSA.RecoverError.NoError ? signer : address(0);

        if (sha256(o.request) != rc.requestHash) revert RequestMismatch();

        if (sha256(o.tokens) != rc.outputHash || o.tokens.length & 3 != 0) revert OutputMismatch();
        ModelConfig memory c = S.parseConfig(o.config);
        bytes32 leaf = sha256(abi.encodePacked(o.config, o.tokenizerDigest));
        if (Merkle.root(leaf, 0, S.weightLeafCount(c), o.configProof) != rc.modelRoot) revert ConfigNotInModel();
        (r.config, r.config2) = S.pack(c);

        Request memory q = decodeRequest(o.request);
        if (q.modelRoot != rc.modelRoot) revert RequestForAnotherModel(q.modelRoot);
        r.promptLength = q.promptTokens.length;
        r.generated = o.tokens.length >> 2;
        r.sampling = uint256(q.seed) | uint256(q.temperatureMilli) << 64 | uint256(q.topK) << 96
            | uint256(q.topPMilli) << 128;
        r.promptRoot = promptRoot(q.promptTokens);
        if (o.outputIndex != noOutput) {
            if (o.outputIndex >= r.generated) revert OutputIndex(o.outputIndex, r.generated);
            r.outputToken = token(o.tokens, o.outputIndex);
        }
        r.oneShot = oneShot(rc, q, c, o.tokens);
    }

    /// @dev The request's base fields. The tuples differ in their first dynamic offset (head
    /// word 2: 10 words for the base tuple, 15 for the extended one, 19 for the formatted one).
    /// Logprobs and a price do not change what is sampled. A request with logit bias, penalties
    /// or a response format is refused: the sample step does not yet recompute the adjusted
    /// logits or the format's token mask, and checking it without them could make an honest
    /// miner lose (docs/DETERMINISM.md, "logit adjustments").
    function decodeRequest(bytes calldata request) internal pure returns (Request memory q) {
        uint256 head = request.length < 128 ? 0 : uint256(bytes32(request[96:128]));
        if (head == 320) return abi.decode(request, (Request));
        if (head == 480) {
            ExtendedRequest memory x = abi.decode(request, (ExtendedRequest));
            refuseAdjustments(x.biasTokens.length, x.presencePenaltyMilli, x.frequencyPenaltyMilli);
            return Request(
                x.modelRoot,
                x.promptHash,
                x.promptTokens,
                x.maxTokens,
                x.temperatureMilli,
                x.topK,
                x.topPMilli,
                x.seed,
                x.stopTokens,
                x.stop
            );
        }
        if (head != 608) revert RequestExtensionUnsupported();
        FormattedRequest memory f = abi.decode(request, (FormattedRequest));
        refuseAdjustments(f.biasTokens.length, f.presencePenaltyMilli, f.frequencyPenaltyMilli);
        if (f.responseFormat != 0) revert ResponseFormatUnsupported();
        q = Request(
            f.modelRoot,
            f.promptHash,
            f.promptTokens,
            f.maxTokens,
            f.temperatureMilli,
            f.topK,
            f.topPMilli,
            f.seed,
            f.stopTokens,
            f.stop
        );
    }

    function refuseAdjustments(uint256 biasCount, int32 presence, int32 frequency) private pure {
        if (biasCount != 0 || presence != 0 || frequency != 0) revert LogitAdjustmentsUnsupported();
    }

    /// @dev The receipt's EIP-712 digest in domain {Verity, 1, chainId, verity}.
    function digest(Receipt calldata rc, address verity) internal pure returns (bytes32) {
        bytes32 domain =
            keccak256(abi.encode(DOMAIN_TYPEHASH, keccak256("Verity"), keccak256("1"), rc.chainId, verity));
        bytes32 structHash = keccak256(
            abi.encode(
                RECEIPT_TYPEHASH,
                rc.chainId,
                rc.netuid,
                rc.modelRoot,
                rc.requestHash,
                rc.outputHash,
                rc.traceRoot,
                rc.traceLeaves,
                rc.minerHotkey,
                rc.issuedBlock,
                rc.validUntilBlock,
                rc.nonce
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }

    /// @dev The receipt contradicts itself, or answers a request the runtime refuses (so no
    /// honest miner signs it): the first such reason, or 0.
    function oneShot(Receipt calldata rc, Request memory q, ModelConfig memory c, bytes calldata tokens)
        private
        view
        returns (uint8)
    {
        // An honest miner signs the block it has seen: never one still to come.
        if (rc.issuedBlock > block.number) return FUTURE_RECEIPT;
        uint256 t = q.promptTokens.length;
        uint256 g = tokens.length >> 2;
        // generate.ts validateRequest refuses these; generation always samples a token.
        if (t == 0 || q.maxTokens == 0 || t + q.maxTokens > c.context || q.seed >= 1 << 53) {
            return REFUSED_REQUEST;
        }
        for (uint256 i = 0; i < t; i++) {
            if (q.promptTokens[i] >= c.vocab) return REFUSED_REQUEST;
        }
        if (g == 0) return NO_TOKENS;
        if (g > q.maxTokens) return TOO_MANY_TOKENS;
        if (rc.traceLeaves != t + g - 1) return TRACE_LEAVES;
        for (uint256 i = 0; i < g; i++) {
            uint256 tok = token(tokens, i);
            if (tok >= c.vocab) return BAD_TOKEN;
            // Generation ends at a stop token: one can only be the last.
            if (i + 1 < g) {
                for (uint256 k = 0; k < q.stopTokens.length; k++) {
                    if (q.stopTokens[k] == tok) return EARLY_STOP;
                }
            }
        }
        return 0;
    }

    /// @dev Output token i (big-endian uint32).
    function token(bytes calldata tokens, uint256 i) private pure returns (uint256) {
        return uint32(bytes4(tokens[4 * i:4 * i + 4]));
    }

    /// @dev The vecRoot of the prompt tokens as an int32 vector: what embed's one step opens.
    function promptRoot(uint32[] memory tokens) internal view returns (bytes32) {
        uint256 n = tokens.length;
        bytes32[] memory chunks = new bytes32[](S.chunkCount(n));
        for (uint256 i = 0; i < n; i++) {
            uint256 v = tokens[i];
            // little-endian int32 in lane i % 8 (lane 0 in the top bytes)
            uint256 le = (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | ((v & 0xff) << 24);
            chunks[i >> 3] |= bytes32(le << (224 - 32 * (i & 7)));
        }
        return Merkle.rootOfMemory(chunks);
    }
}
