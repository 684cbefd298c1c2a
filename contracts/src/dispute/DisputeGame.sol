// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {DisputeMerkleLib as Merkle} from "./DisputeMerkleLib.sol";
import {OpenParams, Receipt, StepContext, StepProof} from "./DisputeTypes.sol";
import {IDisputeCore} from "./IDisputeCore.sol";
import {Dispute, DisputeParams, IDisputeGame} from "./IDisputeGame.sol";
import {OpenLib} from "./OpenLib.sol";
import {ModelConfig, ScheduleLib as S} from "./ScheduleLib.sol";
import {StepLib} from "./StepLib.sol";
import {SumLib, SumOpenings} from "./SumLib.sol";
import {TraceProofLib} from "./TraceProofLib.sol";

/// @title DisputeGame
/// @notice Disputes over Verity receipts, played down the receipt's two-level trace commitment
/// (docs/DETERMINISM.md, "Trace"; the rules and parameter bounds in docs/SECURITY.md, "Dispute
/// game"). The miner must answer every challenge from the run it signed; the challenger must
/// name, at each level, the part it disputes; whoever cannot make a valid move before its
/// deadline loses. A lost miner is slashed through the core's hook (the challenger's share
/// paid to it, the rest burned) and the challenger's bond returned; a lost challenger's bond goes
/// to the miner.
/// @dev Checks, then state, then events, then the core's hook and token transfers last. The heavy
/// checks live in linked libraries (OpenLib, StepLib, SumLib) so this contract stays under 24 KB.
contract DisputeGame is IDisputeGame {
    using SafeERC20 for IERC20;

    /* PHASES (src/chain/dispute.ts DisputePhase mirrors them) */

    uint8 internal constant NONE = 0;
    uint8 internal constant BISECT = 1;
    uint8 internal constant POSITION = 2;
    uint8 internal constant BISECT2 = 3;
    uint8 internal constant BINDING = 4;
    uint8 internal constant LEAF = 5;
    uint8 internal constant CHUNKS = 6;
    uint8 internal constant STEP = 7;
    uint8 internal constant SUM_POST = 8;
    uint8 internal constant SUM_BISECT = 9;
    uint8 internal constant SUM_STEP = 10;
    uint8 internal constant OUTPUT = 11;
    uint8 internal constant DONE = 12;

    /* DECISION REASONS (1..7: OpenLib's one-shot checks; src/chain/dispute.ts DisputeReason) */

    uint8 internal constant TIMEOUT = 10;
    uint8 internal constant ONE_STEP = 11;
    uint8 internal constant BINDING_PROVEN = 12;
    uint8 internal constant OUTPUT_PROVEN = 13;
    uint8 internal constant SUM_STEP_CHECKED = 14;
    uint8 internal constant SUM_MAX_BROKEN = 15;

    /* BOUNDS */

    /// @dev Moves of the longest game: 40 over at most 2^20 checkpoints, 1 position, 23 over R_p
    /// (at most 2^12 leaves), 8 over a chunk tree of at most 2^29 chunks with 2^8-wide reveals,
    /// and 8 for a sum of at most 2^20 partial sums (start, post, 5 descent moves, step).
    uint256 public constant MAX_MOVES = 80;
    uint16 public constant MIN_SLASH_BPS = 1_000;
    uint16 public constant MIN_REWARD_BPS = 1_000;
    /// @dev At least 10% of a slash is burned: a cheater who disputes itself loses that much.
    uint16 public constant MAX_REWARD_BPS = 9_000;
    uint256 public constant NO_OUTPUT_CLAIM = type(uint64).max;
    /// @dev Fan-out of the chunk and sum descents: 2^8 nodes a reveal (8 KB of calldata).
    uint256 private constant WIDE = 8;

    IDisputeCore public immutable core;
    IERC20 public immutable token;
    /// @dev The receipts' EIP-712 verifying contract: the Verity core.
    address public immutable verity;
    uint128 public immutable minBond;
    uint128 public immutable maxBond;
    /// @dev Blocks before a subnet's new parameters apply (to disputes opened from then on).
    uint256 public immutable paramsDelay;
    /// @dev Elements per part of a projection or softmax sum played as a sub-game.
    uint256 public immutable partElements;

    uint256 public disputeCount;
    mapping(uint256 => Dispute) private disputes;
    /// @dev Receipt digest => challenger => its dispute. Several challengers may dispute one
    /// receipt at once: were one dispute per receipt the rule, a cheater's own sock puppet could
    /// open first, lose on purpose and shield the receipt from everyone else.
    mapping(bytes32 => mapping(address => uint256)) private disputeBy;
    /// @dev Receipt digest => the dispute whose loss slashed the miner for it (once per receipt).
    mapping(bytes32 => uint256) public slashedBy;

    DisputeParams private defaults;
    mapping(uint16 => DisputeParams) private subnetParams;
    mapping(uint16 => bool) private hasParams;
    mapping(uint16 => DisputeParams) private pendingParams;
    mapping(uint16 => uint256) private pendingFrom;

    constructor(
        IDisputeCore core_,
        IERC20 token_,
        uint128 minBond_,
        uint128 maxBond_,
        uint256 paramsDelay_,
        uint256 partElements_,
        DisputeParams memory defaults_
    ) {
        if (minBond_ == 0 || maxBond_ < minBond_) revert InvalidParam("bond bounds");
        if (partElements_ == 0 || partElements_ % 8 != 0) revert InvalidParam("partElements");
        core = core_;
        token = token_;
        verity = address(core_);
        minBond = minBond_;
        maxBond = maxBond_;
        paramsDelay = paramsDelay_;
        partElements = partElements_;
        checkParams(defaults_);
        defaults = defaults_;
    }

    /* OPEN */

    /// @inheritdoc IDisputeGame
    function open(OpenParams calldata o) external returns (uint256 id) {
        Receipt calldata rc = o.receipt;
        OpenLib.Opened memory r = OpenLib.check(o, verity, uint64(NO_OUTPUT_CLAIM));
        if (r.signer != rc.minerHotkey || r.signer == address(0)) revert BadSignature(r.signer, rc.minerHotkey);
        if (slashedBy[r.digest] != 0) revert ReceiptAlreadySlashed(r.digest, slashedBy[r.digest]);
        if (disputeBy[r.digest][msg.sender] != 0) {
            revert ReceiptAlreadyDisputed(r.digest, disputeBy[r.digest][msg.sender]);
        }
        try core.uidOf(rc.netuid, rc.minerHotkey) returns (uint16) {}
        catch {
            revert NotRegistered(rc.netuid, rc.minerHotkey);
        }
        (,, bytes32 subnetModel,,,,) = core.subnetInfo(rc.netuid);
        if (subnetModel != rc.modelRoot) revert WrongModel(rc.modelRoot, subnetModel);
        DisputeParams memory p = activeParams(rc.netuid);
        uint256 last = uint256(rc.issuedBlock) + p.maxValidity;
        if (rc.validUntilBlock < last) last = rc.validUntilBlock;
        if (block.number > last) revert ReceiptExpired(last);

        id = ++disputeCount;
        disputeBy[r.digest][msg.sender] = id;
        Dispute storage d = record(disputes[id], rc, r, p);
        emit DisputeOpened(
            id, rc.netuid, rc.minerHotkey, msg.sender, r.digest, rc.traceRoot, o.claimedRoot, rc.traceLeaves
        );
        if (r.oneShot != 0) {
            decide(id, d, true, r.oneShot);
            return id;
        }
        d.bond = p.bond;
        if (o.outputIndex != NO_OUTPUT_CLAIM) {
            d.sampling |= uint256(o.outputIndex) << 160 | r.outputToken << 192;
            d.phase = OUTPUT;
            emit OutputClaimed(id, o.outputIndex, r.outputToken);
        } else {
            if (o.claimedRoot == rc.traceRoot) revert SameTraceRoot(rc.traceRoot);
            d.node = rc.traceRoot;
            d.height = uint8(Merkle.height(rc.traceLeaves));
            d.phase = d.height == 0 ? POSITION : BISECT;
        }
        d.deadline = uint48(block.number + p.window);
        emit BondTaken(id, msg.sender, p.bond, d.slashAmount);
        token.safeTransferFrom(msg.sender, address(this), p.bond);
    }

    /// @dev Writes what a new dispute keeps of its receipt, request, model and parameters; the
    /// slash is the parameters' share of the miner's stake now, at least slashMin.
    function record(Dispute storage d, Receipt calldata rc, OpenLib.Opened memory r, DisputeParams memory p)
        private
        returns (Dispute storage)
    {
        uint256 slash = core.stakeOf(rc.netuid, rc.minerHotkey) * p.slashBps / 10_000;
        if (slash < p.slashMin) slash = p.slashMin;
        d.challenger = msg.sender;
        d.receipt = r.digest;
        d.netuid = rc.netuid;
        d.miner = rc.minerHotkey;
        d.promptLength = uint32(r.promptLength);
        d.positions = uint32(rc.traceLeaves);
        d.rewardBps = p.rewardBps;
        d.slashAmount = uint128(slash);
        d.window = p.window;
        d.config = r.config;
        d.config2 = r.config2;
        d.traceRoot = rc.traceRoot;
        d.modelRoot = rc.modelRoot;
        d.promptRoot = r.promptRoot;
        d.sampling = r.sampling;
        return d;
    }

    /* BISECTIONS */

    /// @inheritdoc IDisputeGame
    function revealChildren(uint256 id, bytes32[] calldata nodes) external {
        Dispute storage d = disputes[id];
        uint8 phase = d.phase;
        if (phase != BISECT && phase != BISECT2 && phase != CHUNKS && phase != SUM_BISECT) revert WrongPhase(id, phase);
        if (d.revealed) revert WrongPhase(id, phase);
        turn(d, true);
        reveal(id, d, nodes);
        d.deadline = uint48(block.number + d.window);
    }

    /// @inheritdoc IDisputeGame
    function chooseChild(uint256 id, uint256 index, bytes32 child, bytes32[] calldata proof) external {
        Dispute storage d = disputes[id];
        uint8 phase = d.phase;
        if (phase != BISECT && phase != BISECT2 && phase != CHUNKS && phase != SUM_BISECT) revert WrongPhase(id, phase);
        if (!d.revealed) revert WrongPhase(id, phase);
        turn(d, false);
        uint256 k = fanOut(phase, d.height);
        if (index >> k != 0 || proof.length != k) revert ChildNotInNode(index);
        if (rootOfChild(child, index, proof) != d.node) revert ChildNotInNode(index);
        uint256 h = d.height - k;
        uint256 at = (uint256(d.index) << k) + index;
        if (at << h >= leafCount(d)) revert PaddingChosen(at);
        d.node = child;
        d.height = uint8(h);
        d.index = uint64(at);
        d.revealed = false;
        if (h == 0) {
            if (phase == BISECT) {
                d.phase = POSITION;
                d.pos = uint32(at);
            } else if (phase == BISECT2) {
                d.phase = LEAF;
                d.op = uint32(at);
            } else if (phase == CHUNKS) {
                d.phase = STEP;
                d.chunk = child;
            } else {
                d.phase = SUM_STEP;
            }
        }
        d.deadline = uint48(block.number + d.window);
        emit ChildChosen(id, phase, h, at, child);
    }

    /// @inheritdoc IDisputeGame
    function postPosition(
        uint256 id,
        bytes32 positionRoot,
        bytes32[] calldata boundaryLeaves,
        bytes32 left,
        bytes32 right
    ) external {
        Dispute storage d = at(id, POSITION);
        turn(d, true);
        ModelConfig memory c = config(d);
        uint256 p = d.pos;
        uint256 nb = S.boundaryCount(c, d.promptLength, p);
        if (boundaryLeaves.length != nb) revert BoundaryCount(boundaryLeaves.length, nb);
        bytes32 boundaryRoot = Merkle.rootOfMemory(boundaryLeaves);
        bytes32 cp = S.checkpoint(p, nb, boundaryRoot);
        if (cp != d.node) revert CheckpointMismatch(cp);
        d.positionRoot = positionRoot;
        d.boundaryRoot = boundaryRoot;
        d.phase = BISECT2;
        d.node = positionRoot;
        d.height = uint8(Merkle.height(S.opCount(c, d.promptLength, p)));
        d.index = 0;
        emit PositionPosted(id, p, positionRoot, boundaryRoot, boundaryLeaves);
        bytes32[] memory pair = new bytes32[](2);
        pair[0] = left;
        pair[1] = right;
        revealMemory(id, d, pair);
        d.deadline = uint48(block.number + d.window);
    }

    /* BINDING */

    /// @inheritdoc IDisputeGame
    function challengeBinding(uint256 id, uint256 j) external {
        Dispute storage d = at(id, BISECT2);
        turn(d, false);
        ModelConfig memory c = config(d);
        if (!d.revealed || d.index != 0 || d.node != d.positionRoot || d.height != Merkle.height(S.opCount(c, d.promptLength, d.pos))) {
            revert BindingNotAtRoot();
        }
        uint256 nb = S.boundaryCount(c, d.promptLength, d.pos);
        if (j >= nb) revert BindingIndex(j, nb);
        d.phase = BINDING;
        d.element = uint32(j);
        d.deadline = uint48(block.number + d.window);
        emit BindingChallenged(id, j);
    }

    /// @inheritdoc IDisputeGame
    function proveBinding(uint256 id, bytes32 leaf, bytes32[] calldata boundaryProof, bytes32[] calldata positionProof)
        external
    {
        Dispute storage d = at(id, BINDING);
        turn(d, true);
        ModelConfig memory c = config(d);
        uint256 j = d.element;
        uint256 nb = S.boundaryCount(c, d.promptLength, d.pos);
        (uint256 layer, uint256 kind) = S.boundaryOp(c, j);
        uint256 index = S.indexOf(c, layer, kind);
        if (
            Merkle.root(leaf, j, nb, boundaryProof) != d.boundaryRoot
                || Merkle.root(leaf, index, S.opCount(c, d.promptLength, d.pos), positionProof) != d.positionRoot
        ) revert BindingBroken();
        decide(id, d, false, BINDING_PROVEN);
    }

    /* THE DISPUTED OP */

    /// @inheritdoc IDisputeGame
    function revealLeaf(uint256 id, bytes32 vecRoot, bytes32[] calldata nodes) external {
        Dispute storage d = at(id, LEAF);
        turn(d, true);
        ModelConfig memory c = config(d);
        (uint256 layer, uint256 kind) = S.opAt(c, d.promptLength, d.pos, d.op);
        uint256 length = S.opLength(c, d.pos, kind);
        bytes32 leaf = Merkle.hashPair(S.opId(d.pos, layer, kind, length), vecRoot);
        if (leaf != d.node) revert LeafMismatch(leaf);
        emit LeafRevealed(id, d.op, vecRoot);
        d.node = vecRoot;
        d.index = 0;
        d.height = uint8(Merkle.height(S.chunkCount(length)));
        if (d.height == 0) {
            // One chunk: the vecRoot is the chunk.
            if (nodes.length != 0) revert WrongNodeCount(nodes.length, 0);
            d.phase = STEP;
            d.chunk = vecRoot;
        } else {
            d.phase = CHUNKS;
            reveal(id, d, nodes);
        }
        d.deadline = uint48(block.number + d.window);
    }

    /// @inheritdoc IDisputeGame
    function oneStep(uint256 id, StepProof calldata proof) external {
        Dispute storage d = at(id, STEP);
        turn(d, false);
        StepContext memory ctx = context(d, proof.lane);
        if (ctx.element < S.opLength(ctx.config, ctx.pos, ctx.kind) && SumLib.kindOf(ctx) != SumLib.NONE) {
            revert UseSumGame(ctx.kind);
        }
        int256 value = StepLib.recompute(ctx, proof);
        decide(id, d, value != TraceProofLib.lane(d.chunk, proof.lane), ONE_STEP);
    }

    /* SUMS */

    /// @inheritdoc IDisputeGame
    function startSum(uint256 id, uint256 lane) external {
        Dispute storage d = at(id, STEP);
        turn(d, false);
        StepContext memory ctx = context(d, lane);
        uint8 sum = SumLib.kindOf(ctx);
        if (sum == SumLib.NONE || ctx.element >= S.opLength(ctx.config, ctx.pos, ctx.kind)) {
            revert NotASumElement(ctx.element);
        }
        uint256 n = SumLib.count(ctx, sum);
        d.sumKind = sum;
        d.element = uint32(ctx.element);
        d.sumCount = uint32(n);
        d.phase = SUM_POST;
        d.deadline = uint48(block.number + d.window);
        emit SumStarted(id, ctx.element, sum, n);
    }

    /// @inheritdoc IDisputeGame
    function postSum(
        uint256 id,
        bytes32 accRoot,
        int256 last,
        bytes32[] calldata lastProof,
        SumOpenings calldata openings,
        bytes32[] calldata nodes
    ) external {
        Dispute storage d = at(id, SUM_POST);
        turn(d, true);
        uint256 n = d.sumCount;
        if (Merkle.root(bytes32(uint256(last)), n - 1, n, lastProof) != accRoot) revert SumLastNotInRoot();
        StepContext memory ctx = context(d, d.element & 7);
        (int256 value, int256 param) = SumLib.final_(ctx, d.sumKind, last, openings);
        int256 claimed = TraceProofLib.lane(d.chunk, d.element & 7);
        if (value != claimed) revert SumFinalMismatch(value, claimed);
        d.accRoot = accRoot;
        d.sumParam = param;
        d.node = accRoot;
        d.index = 0;
        d.height = uint8(Merkle.height(n));
        emit SumPosted(id, accRoot, last, param);
        if (d.height == 0) {
            if (nodes.length != 0) revert WrongNodeCount(nodes.length, 0);
            d.phase = SUM_STEP;
        } else {
            d.phase = SUM_BISECT;
            reveal(id, d, nodes);
        }
        d.deadline = uint48(block.number + d.window);
    }

    /// @inheritdoc IDisputeGame
    function sumStep(uint256 id, int256 previous, bytes32[] calldata previousProof, SumOpenings calldata openings)
        external
    {
        Dispute storage d = at(id, SUM_STEP);
        turn(d, false);
        uint256 s = d.index;
        if (s == 0) {
            if (previous != 0 || previousProof.length != 0) revert PreviousSumNotInRoot(s);
        } else if (Merkle.root(bytes32(uint256(previous)), s - 1, d.sumCount, previousProof) != d.accRoot) {
            revert PreviousSumNotInRoot(s);
        }
        StepContext memory ctx = context(d, d.element & 7);
        int256 term = SumLib.term(ctx, d.sumKind, d.sumParam, s, openings);
        decide(id, d, previous + term != int256(uint256(d.node)), SUM_STEP_CHECKED);
    }

    /// @inheritdoc IDisputeGame
    function disputeSumMax(uint256 id, SumOpenings calldata openings) external {
        Dispute storage d = disputes[id];
        if (d.phase != SUM_STEP && !(d.phase == SUM_BISECT && d.revealed)) revert WrongPhase(id, d.phase);
        turn(d, false);
        StepContext memory ctx = context(d, d.element & 7);
        if (!SumLib.maxBroken(ctx, d.sumKind, d.sumParam, openings)) revert MaxNotBroken();
        decide(id, d, true, SUM_MAX_BROKEN);
    }

    /* OUTPUT */

    /// @inheritdoc IDisputeGame
    function proveOutput(
        uint256 id,
        bytes32 boundaryRoot,
        bytes32[] calldata checkpointProof,
        bytes32 sample,
        bytes32[] calldata boundaryProof
    ) external {
        Dispute storage d = at(id, OUTPUT);
        turn(d, true);
        ModelConfig memory c = config(d);
        uint256 pos = d.promptLength - 1 + uint32(d.sampling >> 160);
        uint256 nb = S.boundaryCount(c, d.promptLength, pos);
        // A sample entry is one chunk: its vecRoot is the chunk.
        bytes32 leaf = Merkle.hashPair(S.opId(pos, S.NO_LAYER, S.SAMPLE, 5), sample);
        if (
            Merkle.root(leaf, 2 * c.nLayers, nb, boundaryProof) != boundaryRoot
                || Merkle.root(S.checkpoint(pos, nb, boundaryRoot), pos, d.positions, checkpointProof) != d.traceRoot
        ) revert OutputNotInTrace();
        uint256 sampled = uint256(TraceProofLib.lane(sample, 0));
        uint256 claimed = uint32(d.sampling >> 192);
        if (sampled != claimed) revert OutputDiffers(sampled, claimed);
        decide(id, d, false, OUTPUT_PROVEN);
    }

    /* TIMEOUT */

    /// @inheritdoc IDisputeGame
    function timeout(uint256 id) external {
        Dispute storage d = disputes[id];
        uint8 phase = d.phase;
        if (phase == NONE || phase == DONE) revert WrongPhase(id, phase);
        if (block.number <= d.deadline) revert NotTimedOut(d.deadline);
        decide(id, d, minerToMove(d), TIMEOUT);
    }

    /* PARAMETERS */

    /// @inheritdoc IDisputeGame
    function setParams(uint16 netuid, DisputeParams calldata p) external {
        (address owner,,,,,,) = core.subnetInfo(netuid);
        if (msg.sender != owner) revert NotSubnetOwner(netuid, msg.sender);
        checkParams(p);
        pendingParams[netuid] = p;
        pendingFrom[netuid] = block.number + paramsDelay;
        emit ParamsProposed(netuid, p, block.number + paramsDelay);
    }

    /// @inheritdoc IDisputeGame
    function paramsOf(uint16 netuid) public view returns (DisputeParams memory) {
        uint256 from = pendingFrom[netuid];
        if (from != 0 && block.number >= from) return pendingParams[netuid];
        return hasParams[netuid] ? subnetParams[netuid] : defaults;
    }

    /// @dev The parameters a dispute opened now takes; a pending change that is due applies.
    function activeParams(uint16 netuid) private returns (DisputeParams memory p) {
        uint256 from = pendingFrom[netuid];
        if (from != 0 && block.number >= from) {
            subnetParams[netuid] = pendingParams[netuid];
            hasParams[netuid] = true;
            delete pendingParams[netuid];
            delete pendingFrom[netuid];
            emit ParamsApplied(netuid, subnetParams[netuid]);
        }
        return hasParams[netuid] ? subnetParams[netuid] : defaults;
    }

    /// @dev The bounds: a bond in [minBond, maxBond]; a slash of at least 10% of the stake; a
    /// challenger share of 10% to 90%; a window of at least a block, and the longest dispute on
    /// a receipt at the end of its validity still within the core's unstake delay.
    function checkParams(DisputeParams memory p) private view {
        if (p.bond < minBond || p.bond > maxBond) revert InvalidParam("bond");
        if (p.slashBps < MIN_SLASH_BPS || p.slashBps > 10_000) revert InvalidParam("slashBps");
        if (p.rewardBps < MIN_REWARD_BPS || p.rewardBps > MAX_REWARD_BPS) revert InvalidParam("rewardBps");
        if (p.window == 0 || p.maxValidity == 0) revert InvalidParam("window");
        if (uint256(p.maxValidity) + maxDisputeBlocks(p.window) > core.minUnstakeDelay()) {
            revert InvalidParam("longer than the unstake delay");
        }
    }

    /// @inheritdoc IDisputeGame
    function maxDisputeBlocks(uint256 window) public pure returns (uint256) {
        // every move may take its whole window; the timeout after the last one comes a block later
        return MAX_MOVES * window + 1;
    }

    /* VIEWS */

    /// @inheritdoc IDisputeGame
    function dispute(uint256 id) external view returns (Dispute memory) {
        return disputes[id];
    }

    /// @inheritdoc IDisputeGame
    function disputeOf(bytes32 digest, address challenger) external view returns (uint256) {
        return disputeBy[digest][challenger];
    }

    /// @inheritdoc IDisputeGame
    function receiptDigest(Receipt calldata r) external view returns (bytes32) {
        return OpenLib.digest(r, verity);
    }

    /* INTERNALS */

    function at(uint256 id, uint8 phase) private view returns (Dispute storage d) {
        d = disputes[id];
        if (d.phase != phase) {
            if (d.phase == NONE) revert UnknownDispute(id);
            revert WrongPhase(id, d.phase);
        }
    }

    /// @dev Reverts unless the caller is the party to move and its deadline has not passed.
    function turn(Dispute storage d, bool miner) private view {
        address expected = minerToMove(d) ? d.miner : d.challenger;
        if (minerToMove(d) != miner || msg.sender != expected) revert NotYourTurn(msg.sender, expected);
        if (block.number > d.deadline) revert DeadlinePassed(d.deadline);
    }

    function minerToMove(Dispute storage d) private view returns (bool) {
        uint8 phase = d.phase;
        if (phase == BISECT || phase == BISECT2 || phase == CHUNKS || phase == SUM_BISECT) return !d.revealed;
        return phase == POSITION || phase == BINDING || phase == LEAF || phase == SUM_POST || phase == OUTPUT;
    }

    function config(Dispute storage d) private view returns (ModelConfig memory) {
        return S.unpack(d.config, d.config2);
    }

    /// @dev The leaves of the tree the current phase descends.
    function leafCount(Dispute storage d) private view returns (uint256) {
        uint8 phase = d.phase;
        if (phase == BISECT) return d.positions;
        if (phase == SUM_BISECT) return d.sumCount;
        ModelConfig memory c = config(d);
        if (phase == BISECT2) return S.opCount(c, d.promptLength, d.pos);
        (, uint256 kind) = S.opAt(c, d.promptLength, d.pos, d.op);
        return S.chunkCount(S.opLength(c, d.pos, kind));
    }

    /// @dev Levels one reveal covers: 1 in the binary bisections, up to WIDE in the descents.
    function fanOut(uint8 phase, uint256 height) private pure returns (uint256) {
        uint256 k = (phase == CHUNKS || phase == SUM_BISECT) ? WIDE : 1;
        return height < k ? height : k;
    }

    function reveal(uint256 id, Dispute storage d, bytes32[] calldata nodes) private {
        revealMemory(id, d, nodes);
    }

    /// @dev Checks the 2^k nodes below the current node (k = fanOut) hash up to it, and that
    /// every node over padding alone is the zero subtree.
    function revealMemory(uint256 id, Dispute storage d, bytes32[] memory nodes) private {
        uint256 h = d.height;
        uint256 k = fanOut(d.phase, h);
        if (nodes.length != 1 << k) revert WrongNodeCount(nodes.length, 1 << k);
        uint256 first = uint256(d.index) << k;
        uint256 below = h - k;
        uint256 leaves = leafCount(d);
        bytes32 z = Merkle.zero(below);
        for (uint256 j = 0; j < nodes.length; j++) {
            if ((first + j) << below >= leaves && nodes[j] != z) revert PaddingNotZero(first + j);
        }
        if (levelRoot(nodes) != d.node) revert ChildrenMismatch(d.node);
        d.revealed = true;
        emit ChildrenRevealed(id, d.phase, below, first, nodes);
    }

    function levelRoot(bytes32[] memory nodes) private view returns (bytes32) {
        bytes32[] memory level = new bytes32[](nodes.length);
        for (uint256 i = 0; i < nodes.length; i++) {
            level[i] = nodes[i];
        }
        for (uint256 n = nodes.length >> 1; n > 0; n >>= 1) {
            for (uint256 i = 0; i < n; i++) {
                level[i] = Merkle.hashPair(level[2 * i], level[2 * i + 1]);
            }
        }
        return level[0];
    }

    /// @dev The node above `child` (index `index` among 2^k) through its k siblings.
    function rootOfChild(bytes32 child, uint256 index, bytes32[] calldata proof) private view returns (bytes32 node) {
        node = child;
        for (uint256 i = 0; i < proof.length; i++) {
            node = (index >> i) & 1 == 0 ? Merkle.hashPair(node, proof[i]) : Merkle.hashPair(proof[i], node);
        }
    }

    function context(Dispute storage d, uint256 lane) private view returns (StepContext memory ctx) {
        if (lane >= 8) revert LaneOutOfChunk(lane);
        ctx.config = config(d);
        ctx.promptLength = d.promptLength;
        ctx.positions = d.positions;
        ctx.pos = d.pos;
        ctx.index = d.op;
        (ctx.layer, ctx.kind) = S.opAt(ctx.config, ctx.promptLength, ctx.pos, ctx.index);
        ctx.element = (d.phase == STEP ? uint256(d.index) * 8 : d.element & ~uint256(7)) + lane;
        ctx.traceRoot = d.traceRoot;
        ctx.modelRoot = d.modelRoot;
        ctx.promptRoot = d.promptRoot;
        ctx.positionRoot = d.positionRoot;
        uint256 sampling = d.sampling;
        ctx.seed = uint64(sampling);
        ctx.temperatureMilli = uint32(sampling >> 64);
        ctx.topK = uint32(sampling >> 96);
        ctx.topPMilli = uint32(sampling >> 128);
        ctx.partElements = partElements;
    }

    /// @dev Ends a dispute: state first, then the core's hook, then the bond. A receipt slashes
    /// its miner once: a later win on the same receipt returns the bond and slashes nothing.
    function decide(uint256 id, Dispute storage d, bool minerLost, uint8 reason) private {
        d.phase = DONE;
        d.outcome = minerLost ? 1 : 2;
        uint256 bond = d.bond;
        address challenger = d.challenger;
        address miner = d.miner;
        bool slash = minerLost && slashedBy[d.receipt] == 0;
        if (slash) slashedBy[d.receipt] = id;
        emit DisputeDecided(id, minerLost, reason);
        if (minerLost) {
            (uint256 slashed, uint256 paid) =
                slash ? core.slashForDispute(d.netuid, miner, d.slashAmount, challenger, d.rewardBps) : (0, 0);
            emit MinerSlashed(id, miner, slashed, paid);
            if (bond != 0) {
                emit BondPaid(id, challenger, bond);
                token.safeTransfer(challenger, bond);
            }
        } else {
            emit BondPaid(id, miner, bond);
            token.safeTransfer(miner, bond);
        }
    }
}
