// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @dev A model's config as the game uses it (docs/DETERMINISM.md; src/runtime/model/config.ts).
struct ModelConfig {
    uint256 vocab;
    uint256 dim;
    uint256 nLayers;
    uint256 nHeads;
    uint256 nKvHeads;
    uint256 headDim;
    uint256 ffn;
    uint256 context;
    uint256 ropeDim;
    bool tied;
    /// @dev The rope base as IEEE 754 double bits (RopeLib converts it exactly).
    uint64 thetaBits;
    /// @dev RMSNorm epsilon in units of 2^-40: round(eps 2^40).
    int256 epsQ;
    /// @dev Config v2 ("verity/model/v2") fields, zero for v1: the architecture (0 llama,
    /// 1 qwen2), NEOX rope pairing (rope type 2), q/k/v biases in the q, k and v row leaves, and
    /// the number of rope frequency factors (0, or ropeDim / 2; the factors themselves stay in
    /// the config leaf, which a rope step opens under modelRoot).
    uint256 arch;
    bool neox;
    bool attnBias;
    uint256 nFactors;
}

/// @title ScheduleLib
/// @notice The trace's schedule (src/runtime/trace/schedule.ts) on chain: which op sits at each
/// leaf of a position trace R_p, its element count and op id, the boundary leaves of a
/// checkpoint, and where each weight lives under modelRoot. Pure functions of the config and the
/// trace's shape (prompt length T; a position p samples iff p >= T - 1).
library ScheduleLib {
    uint256 internal constant LAYER_OPS = 17;
    uint256 internal constant NO_LAYER = 0xffff;
    uint256 internal constant CHECKPOINT_KIND = 0x100;
    /// @dev R_p has 1 + 17 L + 3 leaves at most; 240 layers keep it within 2^12 (the game's
    /// longest level-2 bisection is part of its worst-case length).
    uint256 internal constant MAX_LAYERS = 240;

    uint256 internal constant EMBED = 0;
    uint256 internal constant ATTN_NORM = 1;
    uint256 internal constant Q = 2;
    uint256 internal constant K = 3;
    uint256 internal constant V = 4;
    uint256 internal constant Q_ROPE = 5;
    uint256 internal constant K_ROPE = 6;
    uint256 internal constant SCORES = 7;
    uint256 internal constant SOFTMAX = 8;
    uint256 internal constant ATTN_MIX = 9;
    uint256 internal constant ATTN_OUT = 10;
    uint256 internal constant RESID_ATTN = 11;
    uint256 internal constant FFN_NORM = 12;
    uint256 internal constant GATE = 13;
    uint256 internal constant UP = 14;
    uint256 internal constant SWIGLU = 15;
    uint256 internal constant DOWN = 16;
    uint256 internal constant RESID_FFN = 17;
    uint256 internal constant FINAL_NORM = 18;
    uint256 internal constant LOGITS = 19;
    uint256 internal constant SAMPLE = 20;

    /// @dev Byte offsets of config v2's fields after the v1 ones, and of its first factor.
    uint256 internal constant V1_LENGTH = 68;
    uint256 internal constant V2_HEADER = 75;
    uint256 internal constant ARCH_QWEN2 = 1;
    uint256 internal constant ROPE_NORM = 0;
    uint256 internal constant ROPE_NEOX = 2;

    error ConfigBytes(uint256 length);
    error ConfigTruncated(uint256 length, uint256 expected);
    error UnknownArchitecture(uint256 arch);
    error UnknownRopeType(uint256 ropeType);
    error AttnBiasFlag(uint256 value);
    error RopeFactorCount(uint256 count, uint256 expected);
    error RopeFactorUnsupported(uint256 index, uint256 bits);
    error NonCanonicalConfig();
    error UnsupportedModel(string what);
    error NoSuchOp(uint256 index, uint256 count);
    error NoSuchWeight(uint256 kind, uint256 row);

    /* CONFIG */

    /// @dev Parses the config bytes of model/config.ts `configBytes` and checks the limits the
    /// one-step kernels rely on. v1: "verity/llama/v1", u32 vocab, dim, nLayers, nHeads,
    /// nKvHeads, headDim, ffn, context, ropeDim, u8 tied, f64 ropeTheta, f64 normEps
    /// (big-endian), 68 bytes. v2: "verity/model/v2", the same fields, then u8 arch (0 llama,
    /// 1 qwen2), u8 rope type (0 NORM, 2 NEOX), u8 attnBias (0 or 1), u32 n, n f32 rope
    /// frequency factors (n = 0 or ropeDim / 2; each a positive finite float32 whose 96-bit
    /// fixed-point value is not 0, as the runtime needs to divide by it): 75 + 4n bytes.
    /// Anything else is refused with a named error, never guessed at: the runtime writes no
    /// other value, and a v2 config that is plain llama is written as v1.
    function parseConfig(bytes calldata b) internal pure returns (ModelConfig memory c) {
        bool v2 = b.length >= 15 && bytes15(b[0:15]) == bytes15("verity/model/v2");
        if (!v2 && (b.length != V1_LENGTH || bytes15(b[0:15]) != bytes15("verity/llama/v1"))) {
            revert ConfigBytes(b.length);
        }
        if (v2) parseV2(b, c);
        c.vocab = uint32(bytes4(b[15:19]));
        c.dim = uint32(bytes4(b[19:23]));
        c.nLayers = uint32(bytes4(b[23:27]));
        c.nHeads = uint32(bytes4(b[27:31]));
        c.nKvHeads = uint32(bytes4(b[31:35]));
        c.headDim = uint32(bytes4(b[35:39]));
        c.ffn = uint32(bytes4(b[39:43]));
        c.context = uint32(bytes4(b[43:47]));
        c.ropeDim = uint32(bytes4(b[47:51]));
        c.tied = uint8(b[51]) != 0;
        c.thetaBits = uint64(bytes8(b[52:60]));
        c.epsQ = epsQ40(uint64(bytes8(b[60:68])));
        // The runtime's limits (config.ts validateConfig); a model outside them never loads.
        if (c.vocab == 0 || c.dim == 0 || c.nHeads == 0 || c.nKvHeads == 0 || c.ffn == 0) {
            revert UnsupportedModel("zero size");
        }
        if (c.nLayers == 0 || c.nLayers > MAX_LAYERS) revert UnsupportedModel("layers");
        if (c.dim > 8192 || c.ffn > 16384 || c.headDim > 256 || c.context > 1 << 20) {
            revert UnsupportedModel("limits");
        }
        if (c.nHeads % c.nKvHeads != 0 || c.headDim * c.nHeads != c.dim) revert UnsupportedModel("heads");
        if (c.ropeDim < 2 || c.ropeDim > c.headDim || c.ropeDim & 1 != 0) revert UnsupportedModel("rope");
        if (c.nFactors != 0 && c.nFactors != c.ropeDim >> 1) revert RopeFactorCount(c.nFactors, c.ropeDim >> 1);
    }

    /// @dev Config v2's fields after the v1 ones (lengths and values checked here; the factor
    /// count against ropeDim by the caller).
    function parseV2(bytes calldata b, ModelConfig memory c) private pure {
        if (b.length < V2_HEADER) revert ConfigTruncated(b.length, V2_HEADER);
        uint256 n = uint32(bytes4(b[71:75]));
        // n < 2^32: no overflow.
        if (b.length != V2_HEADER + 4 * n) revert ConfigTruncated(b.length, V2_HEADER + 4 * n);
        c.arch = uint8(b[68]);
        if (c.arch > ARCH_QWEN2) revert UnknownArchitecture(c.arch);
        uint256 rope = uint8(b[69]);
        if (rope != ROPE_NORM && rope != ROPE_NEOX) revert UnknownRopeType(rope);
        c.neox = rope == ROPE_NEOX;
        uint256 bias = uint8(b[70]);
        if (bias > 1) revert AttnBiasFlag(bias);
        c.attnBias = bias == 1;
        c.nFactors = n;
        if (c.arch == 0 && !c.neox && !c.attnBias && n == 0) revert NonCanonicalConfig();
        for (uint256 i = 0; i < n; i++) {
            uint256 f = uint32(bytes4(b[V2_HEADER + 4 * i:V2_HEADER + 4 * i + 4]));
            if (!factorSupported(f)) revert RopeFactorUnsupported(i, f);
        }
    }

    /// @dev Whether float32 bits are a positive finite value of at least 2^-96 (its 96-bit
    /// fixed-point value, RopeLib.fromFloat32, is then at least 1): exponent field 31 or more.
    function factorSupported(uint256 bits) internal pure returns (bool) {
        uint256 exponent = (bits >> 23) & 0xff;
        return bits >> 31 == 0 && exponent != 0xff && exponent >= 127 - 96;
    }

    /// @dev round(eps 2^40) (half up) from eps's double bits, eps in (0, 1].
    function epsQ40(uint64 bits) internal pure returns (int256) {
        if (bits >> 63 != 0) revert UnsupportedModel("epsilon");
        uint256 exp = (bits >> 52) & 0x7ff;
        uint256 m = bits & ((uint256(1) << 52) - 1);
        int256 e2;
        if (exp == 0) {
            e2 = -1074;
        } else {
            m |= uint256(1) << 52;
            e2 = int256(exp) - 1075;
        }
        int256 s = e2 + 40;
        if (s >= 0) return int256(m << uint256(s));
        if (s < -200) return 0;
        uint256 r = uint256(-s);
        return int256((m + (uint256(1) << (r - 1))) >> r);
    }

    /// @dev Packs a config into two storage words (every field fits its width).
    function pack(ModelConfig memory c) internal pure returns (uint256 a, uint256 b) {
        a = c.vocab | c.dim << 32 | c.nLayers << 64 | c.nHeads << 96 | c.nKvHeads << 128 | c.headDim << 160
            | c.ffn << 192 | c.ropeDim << 224 | (c.tied ? uint256(1) : 0) << 240;
        b = c.context | uint256(c.thetaBits) << 32 | uint256(c.epsQ) << 96 | c.arch << 160
            | (c.neox ? uint256(1) : 0) << 168 | (c.attnBias ? uint256(1) : 0) << 176 | c.nFactors << 184;
    }

    function unpack(uint256 a, uint256 b) internal pure returns (ModelConfig memory c) {
        c.vocab = uint32(a);
        c.dim = uint32(a >> 32);
        c.nLayers = uint32(a >> 64);
        c.nHeads = uint32(a >> 96);
        c.nKvHeads = uint32(a >> 128);
        c.headDim = uint32(a >> 160);
        c.ffn = uint32(a >> 192);
        c.ropeDim = uint16(a >> 224);
        c.tied = (a >> 240) & 1 == 1;
        c.context = uint32(b);
        c.thetaBits = uint64(b >> 32);
        c.epsQ = int256(uint256(uint64(b >> 96)));
        c.arch = uint8(b >> 160);
        c.neox = (b >> 168) & 1 == 1;
        c.attnBias = (b >> 176) & 1 == 1;
        c.nFactors = uint16(b >> 184);
    }

    /* POSITION TRACE */

    /// @dev Leaves of R_p: embed, 17 per layer, then final_norm, logits, sample where p samples.
    function opCount(ModelConfig memory c, uint256 promptLength, uint256 pos) internal pure returns (uint256) {
        return 1 + c.nLayers * LAYER_OPS + (pos + 1 >= promptLength ? 3 : 0);
    }

    /// @dev The (layer, kind) of leaf `index` of R_p.
    function opAt(ModelConfig memory c, uint256 promptLength, uint256 pos, uint256 index)
        internal
        pure
        returns (uint256 layer, uint256 kind)
    {
        uint256 count = opCount(c, promptLength, pos);
        if (index >= count) revert NoSuchOp(index, count);
        uint256 head = 1 + c.nLayers * LAYER_OPS;
        if (index == 0) return (NO_LAYER, EMBED);
        if (index < head) return ((index - 1) / LAYER_OPS, 1 + (index - 1) % LAYER_OPS);
        return (NO_LAYER, FINAL_NORM + index - head);
    }

    /// @dev The index in R_p of op (layer, kind); kind must exist at that layer.
    function indexOf(ModelConfig memory c, uint256 layer, uint256 kind) internal pure returns (uint256) {
        if (kind == EMBED) return 0;
        if (kind <= RESID_FFN) return layer * LAYER_OPS + kind;
        return 1 + c.nLayers * LAYER_OPS + kind - FINAL_NORM;
    }

    /// @dev The element count of op `kind` at position p.
    function opLength(ModelConfig memory c, uint256 pos, uint256 kind) internal pure returns (uint256) {
        if (kind == K || kind == V || kind == K_ROPE) return c.nKvHeads * c.headDim;
        if (kind == SCORES || kind == SOFTMAX) return c.nHeads * (pos + 1);
        if (kind == GATE || kind == UP || kind == SWIGLU) return c.ffn;
        if (kind == LOGITS) return c.vocab;
        if (kind == SAMPLE) return 5;
        return c.dim;
    }

    /// @dev The 32-byte op id: u32 position, u16 layer, u16 kind, u32 element count, 20 zero bytes.
    function opId(uint256 pos, uint256 layer, uint256 kind, uint256 length) internal pure returns (bytes32) {
        return bytes32(pos << 224 | layer << 208 | kind << 192 | length << 160);
    }

    /// @dev The op id of (layer, kind) at position p, with its scheduled length.
    function opIdAt(ModelConfig memory c, uint256 pos, uint256 layer, uint256 kind) internal pure returns (bytes32) {
        return opId(pos, layer, kind, opLength(c, pos, kind));
    }

    /// @dev The chunks of an n-element vector: max(1, ceil(n / 8)).
    function chunkCount(uint256 n) internal pure returns (uint256) {
        return n == 0 ? 1 : (n + 7) >> 3;
    }

    /* CHECKPOINTS */

    /// @dev The boundary leaves of p: k_rope and v per layer, then sample where p samples.
    function boundaryCount(ModelConfig memory c, uint256 promptLength, uint256 pos) internal pure returns (uint256) {
        return 2 * c.nLayers + (pos + 1 >= promptLength ? 1 : 0);
    }

    /// @dev The boundary index of op (layer, kind): 2l (k_rope), 2l + 1 (v), 2L (sample).
    function boundaryIndexOf(ModelConfig memory c, uint256 layer, uint256 kind) internal pure returns (uint256) {
        if (kind == SAMPLE) return 2 * c.nLayers;
        return 2 * layer + (kind == V ? 1 : 0);
    }

    /// @dev The (layer, kind) behind boundary leaf j.
    function boundaryOp(ModelConfig memory c, uint256 j) internal pure returns (uint256 layer, uint256 kind) {
        if (j == 2 * c.nLayers) return (NO_LAYER, SAMPLE);
        return (j >> 1, j & 1 == 0 ? K_ROPE : V);
    }

    /// @dev positionTag(p, n): an op id of layer 0xFFFF and kind 0x0100 (no op has it).
    function checkpoint(uint256 pos, uint256 boundaryLeaves, bytes32 boundaryRoot) internal view returns (bytes32 c) {
        bytes32 tag = opId(pos, NO_LAYER, CHECKPOINT_KIND, boundaryLeaves);
        assembly ("memory-safe") {
            mstore(0x00, tag)
            mstore(0x20, boundaryRoot)
            if iszero(staticcall(gas(), 0x02, 0x00, 0x40, 0x00, 0x20)) { revert(0, 0) }
            c := mload(0x00)
        }
    }

    /* WEIGHTS */

    function kvDim(ModelConfig memory c) internal pure returns (uint256) {
        return c.nKvHeads * c.headDim;
    }

    function perLayer(ModelConfig memory c) private pure returns (uint256) {
        return 2 + 2 * c.dim + 2 * kvDim(c) + 2 * c.ffn + c.dim;
    }

    /// @dev modelRoot leaves: config, embedding rows, per layer (attn_norm, q, k, v, o rows,
    /// ffn_norm, gate, up, down rows), output_norm, output rows unless tied.
    function weightLeafCount(ModelConfig memory c) internal pure returns (uint256) {
        return 1 + c.vocab + c.nLayers * perLayer(c) + 1 + (c.tied ? 0 : c.vocab);
    }

    function layerBase(ModelConfig memory c, uint256 layer) private pure returns (uint256) {
        return 1 + c.vocab + layer * perLayer(c);
    }

    function embedLeaf(ModelConfig memory c, uint256 token) internal pure returns (uint256) {
        if (token >= c.vocab) revert NoSuchWeight(EMBED, token);
        return 1 + token;
    }

    /// @dev The norm weight an rmsnorm op reads: attn_norm, ffn_norm of its layer or output_norm.
    function normLeaf(ModelConfig memory c, uint256 layer, uint256 kind) internal pure returns (uint256) {
        if (kind == ATTN_NORM) return layerBase(c, layer);
        if (kind == FFN_NORM) return layerBase(c, layer) + 1 + 2 * c.dim + 2 * kvDim(c);
        return 1 + c.vocab + c.nLayers * perLayer(c);
    }

    /// @dev The weight row a projection op's element `row` reads, and the row's length.
    function rowLeaf(ModelConfig memory c, uint256 layer, uint256 kind, uint256 row)
        internal
        pure
        returns (uint256 leaf, uint256 cols)
    {
        uint256 kv = kvDim(c);
        cols = c.dim;
        if (kind == LOGITS) {
            if (row >= c.vocab) revert NoSuchWeight(kind, row);
            return (c.tied ? 1 + row : 2 + c.vocab + c.nLayers * perLayer(c) + row, cols);
        }
        uint256 base = layerBase(c, layer);
        uint256 rows = (kind == K || kind == V) ? kv : (kind == GATE || kind == UP) ? c.ffn : c.dim;
        if (row >= rows) revert NoSuchWeight(kind, row);
        if (kind == Q) leaf = base + 1 + row;
        else if (kind == K) leaf = base + 1 + c.dim + row;
        else if (kind == V) leaf = base + 1 + c.dim + kv + row;
        else if (kind == ATTN_OUT) leaf = base + 1 + c.dim + 2 * kv + row;
        else if (kind == GATE) leaf = base + 2 + 2 * c.dim + 2 * kv + row;
        else if (kind == UP) leaf = base + 2 + 2 * c.dim + 2 * kv + c.ffn + row;
        else if (kind == DOWN) (leaf, cols) = (base + 2 + 2 * c.dim + 2 * kv + 2 * c.ffn + row, c.ffn);
        else revert NoSuchWeight(kind, row);
    }

    function isProjection(uint256 kind) internal pure returns (bool) {
        return kind == Q || kind == K || kind == V || kind == ATTN_OUT || kind == GATE || kind == UP || kind == DOWN
            || kind == LOGITS;
    }

    function isNorm(uint256 kind) internal pure returns (bool) {
        return kind == ATTN_NORM || kind == FFN_NORM || kind == FINAL_NORM;
    }
}
