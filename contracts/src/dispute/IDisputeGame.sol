// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {OpenParams, Receipt, StepProof} from "./DisputeTypes.sol";
import {SumOpenings} from "./SumLib.sol";

/// @dev A subnet's dispute parameters (bounds in DisputeGame; arithmetic in docs/SECURITY.md).
struct DisputeParams {
    /// @dev The challenger's bond (token units): lost to the miner when the challenger loses.
    uint128 bond;
    /// @dev The least a lost dispute slashes (token units), whatever the stake.
    uint128 slashMin;
    /// @dev The part of the miner's stake (basis points, snapshot at open) a lost dispute slashes.
    uint16 slashBps;
    /// @dev The challenger's share (basis points) of what is slashed; the rest is burned.
    uint16 rewardBps;
    /// @dev Blocks each party has to make its move.
    uint32 window;
    /// @dev Blocks after its issuedBlock a receipt stays disputable (also capped by validUntilBlock).
    uint32 maxValidity;
}

/// @dev A dispute as stored (DisputeGame's phases and fields; see `dispute`).
struct Dispute {
    address challenger;
    /// @dev The receipt's EIP-712 digest.
    bytes32 receipt;
    uint16 netuid;
    uint8 phase;
    uint8 outcome;
    uint8 sumKind;
    bool revealed;
    uint48 deadline;
    address miner;
    uint32 promptLength;
    uint32 positions;
    uint16 rewardBps;
    uint128 bond;
    uint128 slashAmount;
    uint32 window;
    /// @dev The disputed position p, op index in R_p, element (or binding index j).
    uint32 pos;
    uint32 op;
    uint32 element;
    uint32 sumCount;
    /// @dev The current bisection node: its height, index at that height, and the miner's hash.
    uint8 height;
    uint64 index;
    uint256 config;
    uint256 config2;
    /// @dev seed | temperatureMilli << 64 | topK << 96 | topPMilli << 128 | claimed output index
    /// << 160 | claimed output token << 192.
    uint256 sampling;
    bytes32 traceRoot;
    bytes32 modelRoot;
    bytes32 promptRoot;
    bytes32 node;
    bytes32 positionRoot;
    bytes32 boundaryRoot;
    bytes32 chunk;
    bytes32 accRoot;
    int256 sumParam;
}

/// @title IDisputeGame
/// @notice The dispute game of Verity receipts: anyone can challenge a receipt; bisection
/// narrows the disagreement to one element of one op output (or one partial sum of a long one),
/// the contract recomputes it, and the loser pays: a miner through the core's slashing hook, a
/// challenger with its bond. Every state has a deadline; the party to move that misses it loses.
///
/// Phases (who moves): BISECT over the checkpoints (miner reveals children, challenger chooses),
/// POSITION (miner posts R_p and the boundary leaves of the disputed checkpoint), BISECT2 over
/// R_p (at its root the challenger may instead name a boundary leaf for BINDING, which the miner
/// must prove), LEAF (miner reveals the disputed op's vecRoot), CHUNKS (descent over the op's
/// chunk tree, up to 2^8 nodes a reveal), STEP (the challenger proves the one step, or starts a
/// SUM), SUM_POST / SUM_BISECT / SUM_STEP (partial sums), OUTPUT (miner opens a claimed output
/// token), DONE.
interface IDisputeGame {
    /* EVENTS */

    event DisputeOpened(
        uint256 indexed id,
        uint16 indexed netuid,
        address indexed miner,
        address challenger,
        bytes32 receiptDigest,
        bytes32 traceRoot,
        bytes32 claimedRoot,
        uint256 positions
    );
    /// @notice The challenger's bond taken, and what the miner stands to lose.
    event BondTaken(uint256 indexed id, address indexed challenger, uint256 bond, uint256 slashAmount);
    event OutputClaimed(uint256 indexed id, uint256 index, uint256 token);
    /// @notice The miner's nodes at `height`, the first at index `firstIndex` of that height, in
    /// the tree of `phase` (the challenger and anyone resuming read them from here).
    event ChildrenRevealed(uint256 indexed id, uint8 phase, uint256 height, uint256 firstIndex, bytes32[] nodes);
    event ChildChosen(uint256 indexed id, uint8 phase, uint256 height, uint256 index, bytes32 node);
    event PositionPosted(
        uint256 indexed id, uint256 pos, bytes32 positionRoot, bytes32 boundaryRoot, bytes32[] boundaryLeaves
    );
    event BindingChallenged(uint256 indexed id, uint256 boundaryIndex);
    event LeafRevealed(uint256 indexed id, uint256 op, bytes32 vecRoot);
    event SumStarted(uint256 indexed id, uint256 element, uint8 sumKind, uint256 count);
    event SumPosted(uint256 indexed id, bytes32 accRoot, int256 last, int256 param);
    event DisputeDecided(uint256 indexed id, bool minerLost, uint8 reason);
    event MinerSlashed(uint256 indexed id, address indexed miner, uint256 slashed, uint256 paid);
    event BondPaid(uint256 indexed id, address indexed to, uint256 amount);
    event ParamsProposed(uint16 indexed netuid, DisputeParams params, uint256 effectiveBlock);
    /// @notice Proposed parameters became the subnet's (at the first open after their delay).
    event ParamsApplied(uint16 indexed netuid, DisputeParams params);

    /* ERRORS */

    error BadSignature(address recovered, address hotkey);
    error NotRegistered(uint16 netuid, address hotkey);
    error WrongModel(bytes32 receiptModel, bytes32 subnetModel);
    error ReceiptExpired(uint256 lastBlock);
    error ReceiptAlreadyDisputed(bytes32 receiptDigest, uint256 id);
    error ReceiptAlreadySlashed(bytes32 receiptDigest, uint256 id);
    error SameTraceRoot(bytes32 traceRoot);
    error UnknownDispute(uint256 id);
    error WrongPhase(uint256 id, uint8 phase);
    error NotYourTurn(address caller, address expected);
    error DeadlinePassed(uint256 deadline);
    error NotTimedOut(uint256 deadline);
    error ChildrenMismatch(bytes32 node);
    error WrongNodeCount(uint256 given, uint256 expected);
    error PaddingNotZero(uint256 index);
    error ChildNotInNode(uint256 index);
    error PaddingChosen(uint256 index);
    error CheckpointMismatch(bytes32 checkpoint);
    error BoundaryCount(uint256 given, uint256 expected);
    error BindingNotAtRoot();
    error BindingIndex(uint256 index, uint256 count);
    error BindingBroken();
    error LeafMismatch(bytes32 leaf);
    error LaneOutOfChunk(uint256 lane);
    error UseSumGame(uint256 kind);
    error NotASumElement(uint256 element);
    error SumLastNotInRoot();
    error SumFinalMismatch(int256 value, int256 claimed);
    error PreviousSumNotInRoot(uint256 s);
    error MaxNotBroken();
    error OutputNotInTrace();
    error OutputDiffers(uint256 sampled, uint256 claimed);
    error NotSubnetOwner(uint16 netuid, address caller);
    error InvalidParam(string name);

    /* OPEN */

    /// @notice Opens a dispute over a receipt and takes the challenger's bond (approved first).
    /// Each challenger may dispute a receipt once, several at the same time; none once a
    /// dispute on it has slashed the miner.
    /// A receipt that contradicts itself (traceLeaves != T + G - 1, a stop token before the last
    /// token, more tokens than maxTokens, no token, a request the runtime refuses, an output
    /// token outside the vocabulary, an issuedBlock still to come) is decided at once, without a
    /// bond: the miner loses.
    function open(OpenParams calldata o) external returns (uint256 id);

    /* MOVES (each names its dispute; see the phases above) */

    /// @notice Miner: the nodes below the current one (2 in BISECT and BISECT2, up to 2^8 in
    /// CHUNKS and SUM_BISECT), in order.
    function revealChildren(uint256 id, bytes32[] calldata nodes) external;

    /// @notice Challenger: the revealed node it disputes, with its compact proof to the current node.
    function chooseChild(uint256 id, uint256 index, bytes32 child, bytes32[] calldata proof) external;

    /// @notice Miner, at the disputed checkpoint c_p: R_p with its two children and the boundary
    /// leaves of p (c_p = sha256(positionTag(p, n_p) || root of the leaves)).
    function postPosition(
        uint256 id,
        bytes32 positionRoot,
        bytes32[] calldata boundaryLeaves,
        bytes32 left,
        bytes32 right
    ) external;

    /// @notice Challenger, at R_p's root: boundary leaf j of c_p differs from leaf binding(j) of R_p.
    function challengeBinding(uint256 id, uint256 j) external;

    /// @notice Miner: the one leaf that is both boundary leaf j (under boundaryRoot) and leaf
    /// binding(j) of R_p.
    function proveBinding(uint256 id, bytes32 leaf, bytes32[] calldata boundaryProof, bytes32[] calldata positionProof)
        external;

    /// @notice Miner, at the disputed op: its vecRoot (the op id is the scheduled one), and the
    /// first level of its chunk tree's descent (none for a one-chunk vector).
    function revealLeaf(uint256 id, bytes32 vecRoot, bytes32[] calldata nodes) external;

    /// @notice Challenger, at the disputed chunk: the one step of the element in lane `proof.lane`.
    function oneStep(uint256 id, StepProof calldata proof) external;

    /// @notice Challenger, at the disputed chunk: plays element `lane` as a sum (attn_mix, long
    /// projections, long softmax rows).
    function startSum(uint256 id, uint256 lane) external;

    /// @notice Miner: its partial sums' root, the last sum and its proof, the final check's
    /// openings, and the first level of the sums' descent.
    function postSum(
        uint256 id,
        bytes32 accRoot,
        int256 last,
        bytes32[] calldata lastProof,
        SumOpenings calldata openings,
        bytes32[] calldata nodes
    ) external;

    /// @notice Challenger, at the disputed partial sum s: acc_{s-1} under accRoot and term s's inputs.
    function sumStep(uint256 id, int256 previous, bytes32[] calldata previousProof, SumOpenings calldata openings)
        external;

    /// @notice Challenger, during a projection or softmax sum: an element above the posted maximum.
    function disputeSumMax(uint256 id, SumOpenings calldata openings) external;

    /// @notice Miner, on an output claim: element 0 of sample at position T - 1 + k under traceRoot.
    function proveOutput(
        uint256 id,
        bytes32 boundaryRoot,
        bytes32[] calldata checkpointProof,
        bytes32 sample,
        bytes32[] calldata boundaryProof
    ) external;

    /// @notice Anyone, once the deadline has passed: the party to move loses.
    function timeout(uint256 id) external;

    /* PARAMETERS */

    /// @notice Subnet owner: new parameters within the bounds, for disputes opened from
    /// `paramsDelay` blocks on.
    function setParams(uint16 netuid, DisputeParams calldata p) external;

    /// @notice The parameters a dispute opened now would take.
    function paramsOf(uint16 netuid) external view returns (DisputeParams memory);

    /* VIEWS */

    function dispute(uint256 id) external view returns (Dispute memory);

    /// @notice A challenger's dispute of a receipt (by its EIP-712 digest); 0 if none.
    function disputeOf(bytes32 receiptDigest, address challenger) external view returns (uint256);

    /// @notice The dispute that slashed the miner for a receipt; 0 if none.
    function slashedBy(bytes32 receiptDigest) external view returns (uint256);

    function receiptDigest(Receipt calldata r) external view returns (bytes32);

    function disputeCount() external view returns (uint256);

    /// @notice Blocks the longest dispute can last with this response window, decision included.
    function maxDisputeBlocks(uint256 window) external pure returns (uint256);
}
