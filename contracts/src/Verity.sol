// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IVerity} from "./interfaces/IVerity.sol";
import {IVerityToken} from "./interfaces/IVerityToken.sol";
import {
    Hyperparams,
    Neuron,
    NeuronInfo,
    Subnet,
    EpochState,
    NodeInfo,
    Stakes,
    Ledger,
    Pool,
    Tranche,
    ProtocolParams,
    Gov
} from "./libraries/Types.sol";
import {WeightsLib} from "./libraries/WeightsLib.sol";
import {RegistrationLib} from "./libraries/RegistrationLib.sol";
import {YumaLib} from "./libraries/YumaLib.sol";
import {BondsLib} from "./libraries/BondsLib.sol";
import {ConsensusLib} from "./libraries/ConsensusLib.sol";
import {StakingLib} from "./libraries/StakingLib.sol";
import {ProtocolLib} from "./libraries/ProtocolLib.sol";
import {SubnetLib} from "./libraries/SubnetLib.sol";
import {GovernanceLib} from "./libraries/GovernanceLib.sol";

interface IArbSys {
    function arbBlockNumber() external view returns (uint256);
}

/// @title Verity
/// @notice The incentive layer's core contract. Token movements come last in every function
/// (checks -> effects -> events -> calls); the heavy parts live in linked libraries.
/// @dev Who can do what (docs/SECURITY.md): the owner (two-step, never renounced) only queues
/// bounded changes that anyone executes after a delay; the guardian pauses new entries and cancels
/// queued changes; the dispute game slashes; subnet owners propose bounded changes that apply an
/// epoch later. No role moves or freezes staked or claimable tokens: unstake, withdraw, claims and
/// epochs have no pause and no privileged caller.
contract Verity is IVerity, Ownable2Step, Pausable {
    using SafeCast for uint256;

    struct Model {
        string name;
        bytes32 ggufHash;
        address owner;
    }

    /// @notice Deployment settings. Clock modes: 0 block.number, 1 block.timestamp, 2 ArbSys's L2
    /// block number (on Arbitrum, block.number is the L1 block).
    struct Config {
        uint8 clockMode;
        uint48 minUnstakeDelay;
        uint48 minGovernanceDelay;
        ProtocolParams params;
        address guardian;
    }

    uint8 internal constant CLOCK_BLOCK = 0;
    uint8 internal constant CLOCK_TIMESTAMP = 1;
    uint8 internal constant CLOCK_ARBITRUM = 2;

    IVerityToken public immutable token;
    uint8 internal immutable clockMode;
    /// @inheritdoc IVerity
    uint48 public immutable minUnstakeDelay;
    uint48 public immutable minGovernanceDelay;
    /// @inheritdoc IVerity
    uint48 public immutable bucketWidth;

    uint16 public subnetCount;
    /// @inheritdoc IVerity
    uint16 public liveSubnets;
    /// @inheritdoc IVerity
    uint16 public totalEmissionShare;
    mapping(uint16 => Subnet) internal subnets;
    Stakes internal st;
    Ledger internal ledger;
    mapping(bytes32 => Model) internal models;

    Gov internal gov;

    // the global emission schedule (ProtocolLib.accrueGlobal) and the creation lock
    ProtocolLib.Emission internal emission;
    uint128 internal lastLock;
    uint48 internal lastLockClock;

    constructor(IVerityToken token_, address owner_, Config memory config) Ownable(owner_) {
        if (config.clockMode > CLOCK_ARBITRUM) revert InvalidClockMode(config.clockMode);
        if (config.minUnstakeDelay == 0) revert InvalidProtocolParameter("minUnstakeDelay");
        token = token_;
        clockMode = config.clockMode;
        minUnstakeDelay = config.minUnstakeDelay;
        minGovernanceDelay = config.minGovernanceDelay;
        // withdrawals unlock on bucket boundaries: a slash visits at most 4 * 8 + 3 buckets
        uint48 width = config.minUnstakeDelay / 8;
        bucketWidth = width == 0 ? 1 : width;
        ProtocolLib.validate(config.params, config.minUnstakeDelay, config.minGovernanceDelay);
        gov.params = config.params;
        gov.guardian = config.guardian;
        emission.lastClock = _now().toUint48();
        lastLockClock = emission.lastClock;
    }

    /* CLOCK */

    /// @inheritdoc IVerity
    function clock() external view returns (uint48) {
        return _now().toUint48();
    }

    /// @inheritdoc IVerity
    function CLOCK_MODE() external view returns (string memory) {
        if (clockMode == CLOCK_TIMESTAMP) return "mode=timestamp";
        if (clockMode == CLOCK_ARBITRUM) return "mode=blocknumber&from=arbitrum";
        return "mode=blocknumber&from=default";
    }

    function _now() internal view returns (uint256) {
        if (clockMode == CLOCK_BLOCK) return block.number;
        if (clockMode == CLOCK_TIMESTAMP) return block.timestamp;
        return IArbSys(address(100)).arbBlockNumber();
    }

    /* MODIFIERS */

    function _subnet(uint16 netuid) internal view returns (Subnet storage s) {
        s = subnets[netuid];
        if (!s.exists) revert SubnetNotFound(netuid);
    }

    function _live(uint16 netuid) internal view returns (Subnet storage s) {
        s = _subnet(netuid);
        if (s.dissolved) revert SubnetIsDissolved(netuid);
    }

    function _idle(uint16 netuid, Subnet storage s) internal view {
        if (s.epoch.stage != 0) revert EpochInProgress(netuid);
    }

    function _onlySubnetOwner(uint16 netuid, Subnet storage s) internal view {
        if (msg.sender != s.owner) revert NotSubnetOwner(netuid, msg.sender);
    }

    /// @dev When an epoch may begin: a full tempo after the last one began, for everyone.
    function _checkDue(uint16 netuid, Subnet storage s, uint256 now_) internal view virtual {
        uint256 due = uint256(s.lastEpochBlock) + s.params.tempo;
        if (now_ < due) revert EpochNotDue(netuid, due);
    }

    /// @dev The epoch index whose arrivals epochBegin leaves out: the current one.
    function _warmEpoch(Subnet storage s) internal view virtual returns (uint256) {
        return s.epochIndex;
    }

    /* SUBNETS */

    /// @inheritdoc IVerity
    function createSubnet(Hyperparams calldata p, uint256 maxLock) external whenNotPaused returns (uint16 netuid) {
        uint256 live = liveSubnets;
        if (live >= gov.params.maxSubnets) revert TooManySubnets(live, gov.params.maxSubnets);
        uint256 lock = lockCost();
        if (lock > maxLock) revert LockTooHigh(lock, maxLock);
        uint256 now_ = _now();
        netuid = (uint256(subnetCount) + 1).toUint16();
        subnetCount = netuid;
        liveSubnets = uint16(live + 1); // < maxSubnets <= 4096
        SubnetLib.create(subnets[netuid], netuid, msg.sender, p, now_, lock);
        ledger.locked = (uint256(ledger.locked) + lock).toUint128();
        lastLock = lock.toUint128();
        lastLockClock = uint48(now_);
        _pull(msg.sender, lock);
    }

    /// @inheritdoc IVerity
    function lockCost() public view returns (uint256) {
        return ProtocolLib.lockCost(lastLock, lastLockClock, _now(), gov.params.minLock, gov.params.lockReductionInterval);
    }

    /// @inheritdoc IVerity
    function setHyperparams(uint16 netuid, Hyperparams calldata p) external {
        Subnet storage s = _live(netuid);
        _onlySubnetOwner(netuid, s);
        SubnetLib.propose(s, netuid, p);
    }

    /// @inheritdoc IVerity
    function setSubnetModel(uint16 netuid, bytes32 modelRoot) external {
        Subnet storage s = _live(netuid);
        _onlySubnetOwner(netuid, s);
        if (models[modelRoot].owner == address(0)) revert ModelNotFound(modelRoot);
        SubnetLib.setModel(s, netuid, modelRoot);
    }

    /// @inheritdoc IVerity
    function pendingChanges(uint16 netuid) external view returns (bool, bytes32, uint64) {
        Subnet storage s = _subnet(netuid);
        return (s.pendingHasParams, s.pendingModel, s.pendingEpoch);
    }

    /// @inheritdoc IVerity
    function dissolveSubnet(uint16 netuid) external {
        Subnet storage s = _live(netuid);
        _onlySubnetOwner(netuid, s);
        _idle(netuid, s);
        _setShare(netuid, s, 0);
        liveSubnets--;
        uint256 pending = SubnetLib.dissolve(s, ledger, st.settled, netuid);
        if (pending != 0) token.burn(pending);
    }

    /// @inheritdoc IVerity
    function fundEmission(uint16 netuid, uint256 amount) external whenNotPaused {
        Subnet storage s = _live(netuid);
        if (amount == 0) revert ZeroAmount();
        s.pendingEmission = (uint256(s.pendingEmission) + amount).toUint128();
        ledger.pending = (uint256(ledger.pending) + amount).toUint128();
        emit EmissionFunded(netuid, msg.sender, amount);
        _pull(msg.sender, amount);
    }

    /// @dev Mints the subnet's share of the global emission index since its last accrual. The
    /// index is the same whichever subnet advances it, so accrual does not depend on call order
    /// (ProtocolLib.accrueGlobal).
    function _accrue(uint16 netuid, Subnet storage s) internal {
        // a subnet without a share owes nothing; its index is refreshed when it gets one
        if (s.emissionShare == 0) return;
        _accrueGlobal();
        uint256 amount = ProtocolLib.accrue(s, emission, ledger, st.settled, netuid, token.totalMinted(), token.totalSupply());
        if (amount != 0) token.mint(address(this), amount);
    }

    function _accrueGlobal() internal {
        ProtocolLib.accrueGlobal(emission, totalEmissionShare, token.totalMinted(), _now(), clockMode == CLOCK_TIMESTAMP);
    }

    /// @dev Settles the subnet under its old share, then changes it (the index must be advanced
    /// under the old total first).
    function _setShare(uint16 netuid, Subnet storage s, uint16 bps) internal {
        uint16 old = s.emissionShare;
        if (old == bps) return;
        _accrue(netuid, s);
        _accrueGlobal();
        totalEmissionShare = uint16(uint256(totalEmissionShare) - old + bps); // <= 10,000 (checked by the caller)
        s.emissionShare = bps;
        s.emissionIndex = emission.index;
        emit SubnetEmissionShareSet(netuid, bps);
    }

    /// @inheritdoc IVerity
    function hyperparams(uint16 netuid) external view returns (Hyperparams memory) {
        return _subnet(netuid).params;
    }

    /// @inheritdoc IVerity
    function subnetInfo(uint16 netuid)
        external
        view
        returns (address, uint16, bytes32, uint48, uint64, uint128, uint128)
    {
        Subnet storage s = _subnet(netuid);
        return (s.owner, s.n, s.modelRoot, s.lastEpochBlock, s.epochIndex, s.pendingEmission, s.burn);
    }

    /// @inheritdoc IVerity
    function subnetEconomics(uint16 netuid) external view returns (uint16, uint128, bool) {
        Subnet storage s = _subnet(netuid);
        return (s.emissionShare, s.locked, s.dissolved);
    }

    /* NEURONS */

    /// @inheritdoc IVerity
    function register(uint16 netuid, uint256 maxBurn) external whenNotPaused returns (uint16 uid) {
        Subnet storage s = _live(netuid);
        _idle(netuid, s);
        uint256 now_ = _now();
        uint256 price;
        address replaced;
        uint256 unclaimed;
        (uid, price, replaced, unclaimed) = RegistrationLib.register(s, netuid, msg.sender, maxBurn, now_);
        if (unclaimed != 0) StakingLib.distribute(st, netuid, replaced, unclaimed, now_);
        if (price != 0) token.burnFrom(msg.sender, price);
    }

    /// @inheritdoc IVerity
    function burnPrice(uint16 netuid) external view returns (uint256 price) {
        (price,,) = RegistrationLib.currentBurn(_subnet(netuid), _now());
    }

    /// @inheritdoc IVerity
    function serveNode(uint16 netuid, bytes calldata peerId, string[] calldata multiaddrs) external {
        SubnetLib.serve(_subnet(netuid), netuid, msg.sender, peerId, multiaddrs, _now());
    }

    /// @inheritdoc IVerity
    function node(uint16 netuid, address hotkey) external view returns (bytes memory, string[] memory, uint64) {
        NodeInfo storage info = _subnet(netuid).nodes[hotkey];
        return (info.peerId, info.multiaddrs, info.block);
    }

    /// @inheritdoc IVerity
    function uidOf(uint16 netuid, address hotkey) external view returns (uint16) {
        uint256 p = _subnet(netuid).uidPlusOne[hotkey];
        if (p == 0) revert NotRegistered(netuid, hotkey);
        return uint16(p - 1); // a uid < 512
    }

    /// @inheritdoc IVerity
    function neuron(uint16 netuid, uint16 uid) external view returns (NeuronInfo memory) {
        Subnet storage s = _subnet(netuid);
        if (uid >= s.n) revert UidOutOfRange(uid, s.n);
        return SubnetLib.info(s, uid);
    }

    /// @inheritdoc IVerity
    function metagraph(uint16 netuid) external view returns (NeuronInfo[] memory) {
        return SubnetLib.metagraph(_subnet(netuid));
    }

    /// @inheritdoc IVerity
    function bondWords(uint16 netuid) external view returns (uint256[] memory) {
        return SubnetLib.bondWords(_subnet(netuid));
    }

    /* STAKING AND DELEGATION */

    /// @inheritdoc IVerity
    function stake(uint16 netuid, address hotkey, uint256 amount) external whenNotPaused {
        Subnet storage s = _live(netuid);
        // between epochs only: stake tagged with this epoch index then counts from the next begin on
        _idle(netuid, s);
        // what the hotkey earned so far goes to the stakers so far
        _sweep(netuid, s, hotkey);
        StakingLib.stake(st, ledger, netuid, hotkey, msg.sender, amount, s.epochIndex);
        _pull(msg.sender, amount);
    }

    /// @inheritdoc IVerity
    function unstake(uint16 netuid, address hotkey, uint256 amount) external {
        Subnet storage s = _subnet(netuid);
        _sweep(netuid, s, hotkey);
        StakingLib.unstake(st, ledger, netuid, hotkey, msg.sender, amount, _now(), gov.params.unstakeDelay, bucketWidth);
    }

    /// @inheritdoc IVerity
    function withdraw(address to) external returns (uint256 amount) {
        if (to == address(0)) revert ZeroAddress();
        amount = StakingLib.withdraw(st, ledger, msg.sender, to, _now(), bucketWidth);
        if (amount != 0) _push(to, amount);
    }

    /// @inheritdoc IVerity
    function setTake(uint16 take) external {
        StakingLib.setTake(st, msg.sender, take, _now(), gov.params.unstakeDelay);
    }

    /// @inheritdoc IVerity
    function takeOf(address hotkey) external view returns (uint16) {
        return StakingLib.takeOf(st, hotkey, _now());
    }

    /// @inheritdoc IVerity
    function stakeOf(uint16 netuid, address hotkey) external view returns (uint256) {
        return st.pools[netuid][hotkey].stake;
    }

    /// @inheritdoc IVerity
    function pool(uint16 netuid, address hotkey) external view returns (uint256, uint256, uint256, uint256, uint32) {
        Pool storage p = st.pools[netuid][hotkey];
        uint256 counted = p.stake;
        if (p.warmEpoch == _warmEpoch(subnets[netuid])) counted -= p.warming > counted ? counted : p.warming;
        return (p.stake, counted, p.shares, p.rewards, p.generation);
    }

    /// @inheritdoc IVerity
    function position(uint16 netuid, address hotkey, address coldkey) external view returns (uint256, uint256, uint256) {
        return StakingLib.positionOf(st, _subnet(netuid), netuid, hotkey, coldkey, _now());
    }

    /// @inheritdoc IVerity
    function pendingWithdrawal(address coldkey) external view returns (uint256, uint256, uint256) {
        return StakingLib.pendingOf(st, coldkey, bucketWidth, _now());
    }

    /// @inheritdoc IVerity
    function unbonding(uint16 netuid, address hotkey, uint48 bucket) external view returns (uint256, uint256) {
        return (st.unbonding[netuid][hotkey][bucket].amount, st.unbonding[netuid][hotkey][bucket].shares);
    }

    /* WEIGHTS */

    /// @inheritdoc IVerity
    function setWeights(uint16 netuid, uint16[] calldata uids, uint16[] calldata values, uint64 versionKey) external {
        Subnet storage s = _live(netuid);
        _idle(netuid, s);
        WeightsLib.setWeights(s, netuid, msg.sender, uids, values, versionKey, st.pools[netuid][msg.sender].stake, _now());
    }

    /// @inheritdoc IVerity
    function commitWeights(uint16 netuid, bytes32 hash) external {
        Subnet storage s = _live(netuid);
        _idle(netuid, s);
        WeightsLib.commitWeights(s, netuid, msg.sender, hash, _now());
    }

    /// @inheritdoc IVerity
    function revealWeights(
        uint16 netuid,
        uint16[] calldata uids,
        uint16[] calldata values,
        bytes32 salt,
        uint64 versionKey
    ) external {
        Subnet storage s = _live(netuid);
        _idle(netuid, s);
        WeightsLib.revealWeights(s, netuid, msg.sender, uids, values, salt, versionKey, st.pools[netuid][msg.sender].stake);
    }

    /// @inheritdoc IVerity
    function weightsOf(uint16 netuid, uint16 uid) external view returns (uint16[] memory, uint16[] memory) {
        return WeightsLib.rowOf(_subnet(netuid), uid);
    }

    /// @inheritdoc IVerity
    function bondsOf(uint16 netuid, uint16 uid) external view returns (uint16[] memory) {
        return RegistrationLib.bondsOf(_subnet(netuid), uid);
    }

    /// @inheritdoc IVerity
    function resetBonds(uint16 netuid) external {
        Subnet storage s = _live(netuid);
        _idle(netuid, s);
        uint256 p = s.uidPlusOne[msg.sender];
        if (p == 0) revert NotRegistered(netuid, msg.sender);
        RegistrationLib.resetBonds(s, netuid, uint16(p - 1));
    }

    /* EPOCH */

    /// @inheritdoc IVerity
    function epochBegin(uint16 netuid) external {
        Subnet storage s = _live(netuid);
        _idle(netuid, s);
        uint256 now_ = _now();
        _checkDue(netuid, s, now_);
        _accrue(netuid, s);
        // the owner's changes proposed at least a full epoch ago apply from this epoch on
        uint64 at = s.pendingEpoch;
        if (at != 0 && s.epochIndex >= at) SubnetLib.applyPending(s, netuid);
        uint256 amount = s.pendingEmission;
        YumaLib.begin(s, st.pools[netuid], netuid, amount, gov.params.keeperBps, now_, _warmEpoch(s));
        // the keeper reward leaves the pending emission now; each stage pays its caller a part
        uint256 reward = amount * s.epoch.keeperBps / 10_000;
        if (reward != 0) {
            s.pendingEmission = uint128(amount - reward); // reward <= amount
            ledger.pending = (uint256(ledger.pending) - reward).toUint128();
            ledger.claimable = (uint256(ledger.claimable) + reward).toUint128();
            _payKeeper(reward - 3 * (reward / 4));
        }
    }

    /// @inheritdoc IVerity
    function epochConsensus(uint16 netuid, uint64[] calldata medians) external {
        Subnet storage s = _subnet(netuid);
        uint256 from = s.epoch.nextCol;
        ConsensusLib.consensus(s, netuid, medians);
        _payChunk(s.epoch, from, from + medians.length);
    }

    /// @inheritdoc IVerity
    function epochBonds(uint16 netuid, uint16 count) external {
        Subnet storage s = _subnet(netuid);
        EpochState storage e = s.epoch;
        uint256 from = e.nextCol;
        BondsLib.bonds(s, netuid, count);
        _payChunk(e, from, e.stage == 3 ? e.n : e.nextCol);
    }

    /// @inheritdoc IVerity
    function epochFinish(uint16 netuid, uint16 count) external {
        Subnet storage s = _subnet(netuid);
        EpochState storage e = s.epoch;
        uint256 from = e.nextCol;
        uint256 paid = YumaLib.finish(s, netuid, count);
        s.pendingEmission -= uint128(paid); // paid <= the epoch's emission <= pending
        ledger.pending = (uint256(ledger.pending) - paid).toUint128();
        ledger.claimable = (uint256(ledger.claimable) + paid).toUint128();
        _payChunk(e, from, e.stage == 0 ? e.n : e.nextCol);
    }

    /// @inheritdoc IVerity
    function epochAbort(uint16 netuid) external {
        Subnet storage s = _subnet(netuid);
        EpochState storage e = s.epoch;
        if (e.stage == 0) revert EpochNotInProgress(netuid);
        if (e.stage != 1) revert EpochNotAbortable(netuid, e.stage);
        uint256 at = uint256(e.block) + gov.params.epochDeadline;
        if (_now() < at) revert EpochNotStalled(netuid, at);
        (, uint256 unpaid) = _keeper(e);
        e.stage = 0;
        e.nextCol = 0;
        if (unpaid != 0) {
            s.pendingEmission = (uint256(s.pendingEmission) + unpaid).toUint128();
            ledger.pending = (uint256(ledger.pending) + unpaid).toUint128();
            ledger.claimable = (uint256(ledger.claimable) - unpaid).toUint128();
        }
        emit EpochAborted(netuid, s.epochIndex, msg.sender);
    }

    /// @dev Stage callers share the keeper reward R: begin R - 3 * floor(R / 4), each of the
    /// consensus, bonds and finish stages floor(R / 4) in proportion to the columns (uids) a chunk
    /// covers. A chunk [from, to) gets q * to / n - q * from / n, so a stage's chunks add up to q
    /// exactly, and what a stage paid so far follows from its progress: no state to keep.
    function _payChunk(EpochState storage e, uint256 from, uint256 to) internal {
        uint256 bps = e.keeperBps;
        if (bps == 0) return;
        uint256 n = e.n;
        uint256 q = uint256(e.emission) * bps / 10_000 / 4;
        _payKeeper(q * to / n - q * from / n);
    }

    function _payKeeper(uint256 amount) internal {
        if (amount != 0) st.settled[msg.sender] += amount;
    }

    /// @dev The running epoch's keeper reward and the part not paid yet.
    function _keeper(EpochState storage e) internal view returns (uint256 reward, uint256 unpaid) {
        uint256 stage = e.stage;
        if (stage == 0) return (0, 0);
        reward = uint256(e.emission) * e.keeperBps / 10_000;
        uint256 q = reward / 4;
        uint256 n = e.n;
        uint256 paid = reward - 3 * q + (stage - 1) * q + (n == 0 ? 0 : q * e.nextCol / n);
        unpaid = reward - paid;
    }

    /// @inheritdoc IVerity
    function epochStage(uint16 netuid) external view returns (uint8, uint16, uint16, uint16) {
        Subnet storage s = _subnet(netuid);
        return (s.epoch.stage, s.epoch.nextCol, s.epoch.n, s.epoch.rows);
    }

    /// @inheritdoc IVerity
    function epochInfo(uint16 netuid) external view returns (uint256, uint256, uint256) {
        Subnet storage s = _subnet(netuid);
        (uint256 reward, uint256 unpaid) = _keeper(s.epoch);
        return (uint256(s.lastEpochBlock) + s.params.tempo, reward, unpaid);
    }

    /// @inheritdoc IVerity
    function consensusHints(uint16 netuid, uint16 from, uint16 count) external view returns (uint64[] memory) {
        return YumaLib.hints(_subnet(netuid), from, count);
    }

    /* EMISSIONS AND CLAIMS */

    /// @inheritdoc IVerity
    function claimable(address account) external view returns (uint256) {
        return st.settled[account];
    }

    /// @inheritdoc IVerity
    function sweep(uint16 netuid, address hotkey) external returns (uint256) {
        return _sweep(netuid, _subnet(netuid), hotkey);
    }

    function _sweep(uint16 netuid, Subnet storage s, address hotkey) internal returns (uint256) {
        return StakingLib.sweep(st, s, netuid, hotkey, _now());
    }

    /// @inheritdoc IVerity
    function claim(address to) public returns (uint256 amount) {
        if (to == address(0)) revert ZeroAddress();
        amount = st.settled[msg.sender];
        if (amount == 0) revert NothingToClaim(msg.sender);
        st.settled[msg.sender] = 0;
        ledger.claimable = (uint256(ledger.claimable) - amount).toUint128();
        emit Claimed(msg.sender, to, amount);
        _push(to, amount);
    }

    /// @inheritdoc IVerity
    function claimFrom(uint16 netuid, address hotkey, address to) external returns (uint256) {
        _sweep(netuid, _subnet(netuid), hotkey);
        StakingLib.harvest(st, netuid, hotkey, msg.sender);
        return claim(to);
    }

    /* MODELS */

    /// @inheritdoc IVerity
    function registerModel(bytes32 modelRoot, string calldata name, bytes32 ggufHash) external {
        if (modelRoot == bytes32(0)) revert ModelNotFound(modelRoot);
        if (models[modelRoot].owner != address(0)) revert ModelExists(modelRoot);
        models[modelRoot] = Model(name, ggufHash, msg.sender);
        emit ModelRegistered(modelRoot, name, ggufHash, msg.sender);
    }

    /// @inheritdoc IVerity
    function model(bytes32 modelRoot) external view returns (string memory, bytes32, address) {
        Model storage m = models[modelRoot];
        if (m.owner == address(0)) revert ModelNotFound(modelRoot);
        return (m.name, m.ggufHash, m.owner);
    }

    /* DISPUTES */

    /// @inheritdoc IVerity
    function slashForDispute(uint16 netuid, address hotkey, uint256 amount, address recipient, uint16 recipientBps)
        external
        returns (uint256 slashed, uint256 paid)
    {
        if (msg.sender != gov.disputeGame || msg.sender == address(0)) revert NotDisputeGame(msg.sender);
        _subnet(netuid);
        if (recipientBps > 10_000) revert InvalidRecipientShare(recipientBps);
        if (recipient == address(0) && recipientBps != 0) revert ZeroAddress();
        // withdrawals reach as far as the longest delay, 4 * minUnstakeDelay (ProtocolLib.validate)
        slashed = StakingLib.slash(st, ledger, netuid, hotkey, amount, _now(), bucketWidth, 4 * uint256(minUnstakeDelay));
        paid = slashed * recipientBps / 10_000;
        emit SlashedForDispute(netuid, hotkey, slashed, recipient, paid);
        if (paid != 0) _push(recipient, paid);
        if (slashed > paid) token.burn(slashed - paid);
    }

    /* GOVERNANCE */

    /// @inheritdoc IVerity
    function queueChange(uint8 kind, bytes calldata data) external onlyOwner returns (bytes32, uint48) {
        _checkChange(kind, data);
        // a new game may slash only what could have left under any delay since it was announced
        uint256 exit = 4 * uint256(minUnstakeDelay) + 2 * uint256(bucketWidth);
        return GovernanceLib.queue(gov, kind, data, _now(), exit);
    }

    /// @inheritdoc IVerity
    function executeChange(uint8 kind, bytes calldata data, uint256 nonce) external {
        bytes32 id = GovernanceLib.consume(gov, kind, data, nonce, _now());
        _checkChange(kind, data);
        if (kind == GovernanceLib.SHARE) {
            (uint16 netuid, uint16 bps) = abi.decode(data, (uint16, uint16));
            _setShare(netuid, subnets[netuid], bps);
        } else {
            GovernanceLib.apply_(gov, kind, data);
        }
        emit ChangeExecuted(id, kind, data);
    }

    /// @dev Reverts unless the change fits its bounds now (at queueing, and again at execution).
    function _checkChange(uint8 kind, bytes calldata data) internal view {
        if (kind != GovernanceLib.SHARE) return GovernanceLib.check(kind, data, minUnstakeDelay, minGovernanceDelay);
        (uint16 netuid, uint16 bps) = abi.decode(data, (uint16, uint16));
        Subnet storage s = _live(netuid);
        uint256 total = uint256(totalEmissionShare) - s.emissionShare + bps;
        if (total > 10_000) revert EmissionSharesExceeded(total);
    }

    /// @inheritdoc IVerity
    function cancelChange(uint8 kind, bytes calldata data, uint256 nonce) external {
        bool byOwner = msg.sender == owner();
        if (!byOwner && msg.sender != gov.guardian) revert NotOwnerOrGuardian(msg.sender);
        GovernanceLib.cancel(gov, kind, data, nonce, byOwner);
    }

    /// @inheritdoc IVerity
    function changeEta(bytes32 id) external view returns (uint48) {
        return gov.eta[id];
    }

    /// @inheritdoc IVerity
    function guardian() external view returns (address) {
        return gov.guardian;
    }

    /// @inheritdoc IVerity
    function disputeGame() external view returns (address) {
        return gov.disputeGame;
    }

    /// @inheritdoc IVerity
    function protocolParams() external view returns (ProtocolParams memory) {
        return gov.params;
    }

    /// @inheritdoc IVerity
    function pause() external {
        if (msg.sender != gov.guardian) revert NotOwnerOrGuardian(msg.sender);
        _pause();
    }

    /// @inheritdoc IVerity
    function unpause() external {
        if (msg.sender != gov.guardian && msg.sender != owner()) revert NotOwnerOrGuardian(msg.sender);
        _unpause();
    }

    /// @notice Disabled: the protocol always has an owner able to queue bounded changes.
    function renounceOwnership() public view override onlyOwner {
        revert RenounceDisabled();
    }

    /* ACCOUNTING */

    /// @inheritdoc IVerity
    function totals() external view returns (uint256, uint256, uint256, uint256, uint256, uint256) {
        Ledger storage l = ledger;
        return (l.staked, l.withdrawing, l.claimable, l.pending, l.locked, l.entered);
    }

    /* TOKEN MOVEMENTS */

    function _pull(address from, uint256 amount) internal {
        if (amount == 0) return;
        bool ok = token.transferFrom(from, address(this), amount);
        ok; // VTY reverts on failure
    }

    function _push(address to, uint256 amount) internal {
        bool ok = token.transfer(to, amount);
        ok; // VTY reverts on failure
    }
}
