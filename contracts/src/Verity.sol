// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IVerity} from "./interfaces/IVerity.sol";
import {IVerityToken} from "./interfaces/IVerityToken.sol";
import {Hyperparams, Neuron, NeuronInfo, Subnet, Pool, NodeInfo} from "./libraries/Types.sol";
import {WeightsLib} from "./libraries/WeightsLib.sol";
import {RegistrationLib} from "./libraries/RegistrationLib.sol";
import {YumaLib} from "./libraries/YumaLib.sol";
import {BondsLib} from "./libraries/BondsLib.sol";
import {ConsensusLib} from "./libraries/ConsensusLib.sol";

/// @title Verity
/// @notice The incentive layer's core contract. Token movements come last in every function
/// (checks -> effects -> events -> calls); the heavy parts live in linked libraries.
contract Verity is IVerity, Ownable {
    struct Model {
        string name;
        bytes32 ggufHash;
        address owner;
    }

    struct Withdrawal {
        uint128 amount;
        uint64 unlockBlock;
    }

    IVerityToken public immutable token;

    uint16 public subnetCount;
    uint64 public unstakeCooldown;
    mapping(uint16 => Subnet) internal subnets;
    mapping(address => Pool) internal pools;
    mapping(address => mapping(address => uint256)) internal shares;
    mapping(address => Withdrawal) internal withdrawals;
    /// @dev Claimable emission already swept off the uids (owner cuts, replaced uids, claims in
    /// progress); what a registered uid earns waits in its neuron's `unclaimed`.
    mapping(address => uint256) internal settled;
    mapping(bytes32 => Model) internal models;
    mapping(address => bool) public slashers;

    uint256 internal totalStaked;
    uint256 internal totalWithdrawing;
    uint256 internal totalClaimable;
    uint256 internal totalPending;
    uint256 internal totalEntered;

    constructor(IVerityToken token_, address owner_, uint64 cooldown) Ownable(owner_) {
        token = token_;
        unstakeCooldown = cooldown;
    }

    /* MODIFIERS */

    function _subnet(uint16 netuid) internal view returns (Subnet storage s) {
        s = subnets[netuid];
        if (!s.exists) revert SubnetNotFound(netuid);
    }

    function _idle(uint16 netuid, Subnet storage s) internal view {
        if (s.epoch.stage != 0) revert EpochInProgress(netuid);
    }

    function _onlySubnetOwner(uint16 netuid, Subnet storage s) internal view {
        if (msg.sender != s.owner) revert NotSubnetOwner(netuid, msg.sender);
    }

    /* SUBNETS */

    /// @inheritdoc IVerity
    function createSubnet(Hyperparams calldata params) external returns (uint16 netuid) {
        RegistrationLib.validate(params);
        netuid = ++subnetCount;
        Subnet storage s = subnets[netuid];
        s.exists = true;
        s.owner = msg.sender;
        s.params = params;
        s.createdBlock = uint48(block.number);
        s.lastEpochBlock = uint48(block.number);
        s.lastAccrualBlock = uint48(block.number);
        s.burn = params.burn;
        s.intervalStart = uint48(block.number);
        emit SubnetCreated(netuid, msg.sender, params);
    }

    /// @inheritdoc IVerity
    function setHyperparams(uint16 netuid, Hyperparams calldata params) external {
        Subnet storage s = _subnet(netuid);
        _onlySubnetOwner(netuid, s);
        _idle(netuid, s);
        RegistrationLib.validate(params);
        if (params.maxUids < s.n) revert InvalidHyperparameter("maxUids");
        s.params = params;
        if (s.burn < params.minBurn) s.burn = params.minBurn;
        if (s.burn > params.maxBurn) s.burn = params.maxBurn;
        emit HyperparamsSet(netuid, params);
    }

    /// @inheritdoc IVerity
    function setSubnetModel(uint16 netuid, bytes32 modelRoot) external {
        Subnet storage s = _subnet(netuid);
        _onlySubnetOwner(netuid, s);
        if (models[modelRoot].owner == address(0)) revert ModelNotFound(modelRoot);
        s.modelRoot = modelRoot;
        emit SubnetModelSet(netuid, modelRoot);
    }

    /// @inheritdoc IVerity
    function setSubnetEmissionShare(uint16 netuid, uint16 shareBps) external onlyOwner {
        Subnet storage s = _subnet(netuid);
        if (shareBps > 10_000) revert InvalidHyperparameter("emissionShare");
        _accrue(netuid, s);
        s.emissionShare = shareBps;
        emit SubnetEmissionShareSet(netuid, shareBps);
    }

    /// @inheritdoc IVerity
    function fundEmission(uint16 netuid, uint256 amount) external {
        Subnet storage s = _subnet(netuid);
        if (amount == 0) revert ZeroAmount();
        s.pendingEmission += uint128(amount);
        totalPending += amount;
        totalEntered += amount;
        emit EmissionFunded(netuid, msg.sender, amount);
        _pull(msg.sender, amount);
    }

    /// @dev Mints the subnet's share of the block emission since the last accrual; the owner cut
    /// becomes claimable by the subnet owner.
    function _accrue(uint16 netuid, Subnet storage s) internal {
        uint256 blocks = block.number - s.lastAccrualBlock;
        s.lastAccrualBlock = uint48(block.number);
        if (blocks == 0 || s.emissionShare == 0) return;
        uint256 amount = token.blockEmission() * blocks * s.emissionShare / 10_000;
        uint256 room = 21_000_000 ether - token.totalSupply();
        if (amount > room) amount = room;
        if (amount == 0) return;
        uint256 cut = amount * s.params.ownerCut / 65535;
        s.pendingEmission += uint128(amount - cut);
        totalPending += amount - cut;
        if (cut != 0) {
            settled[s.owner] += cut;
            totalClaimable += cut;
        }
        totalEntered += amount;
        emit EmissionAccrued(netuid, amount, cut);
        token.mint(address(this), amount);
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

    /* NEURONS */

    /// @inheritdoc IVerity
    function register(uint16 netuid, uint256 maxBurn) external returns (uint16 uid) {
        Subnet storage s = _subnet(netuid);
        _idle(netuid, s);
        uint256 price;
        (uid, price) = RegistrationLib.register(s, settled, netuid, msg.sender, maxBurn);
        if (price != 0) token.burnFrom(msg.sender, price);
    }

    /// @inheritdoc IVerity
    function burnPrice(uint16 netuid) external view returns (uint256 price) {
        (price,,) = RegistrationLib.currentBurn(_subnet(netuid));
    }

    /// @inheritdoc IVerity
    function serveNode(uint16 netuid, bytes calldata peerId, string[] calldata multiaddrs) external {
        Subnet storage s = _subnet(netuid);
        if (s.uidPlusOne[msg.sender] == 0) revert NotRegistered(netuid, msg.sender);
        NodeInfo storage info = s.nodes[msg.sender];
        info.peerId = peerId;
        delete info.multiaddrs;
        for (uint256 i = 0; i < multiaddrs.length; i++) {
            info.multiaddrs.push(multiaddrs[i]);
        }
        info.block = uint64(block.number);
        emit NodeServed(netuid, msg.sender, peerId, multiaddrs);
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
        return uint16(p - 1);
    }

    /// @inheritdoc IVerity
    function neuron(uint16 netuid, uint16 uid) external view returns (NeuronInfo memory) {
        Subnet storage s = _subnet(netuid);
        if (uid >= s.n) revert UidOutOfRange(uid, s.n);
        return _info(s, uid);
    }

    /// @inheritdoc IVerity
    function metagraph(uint16 netuid) external view returns (NeuronInfo[] memory out) {
        Subnet storage s = _subnet(netuid);
        out = new NeuronInfo[](s.n);
        for (uint256 i = 0; i < out.length; i++) {
            out[i] = _info(s, i);
        }
    }

    function _info(Subnet storage s, uint256 uid) internal view returns (NeuronInfo memory info) {
        Neuron storage nr = s.neurons[uid];
        info.hotkey = nr.hotkey;
        info.registrationBlock = nr.registrationBlock;
        info.lastUpdate = nr.lastUpdate;
        info.emission = nr.emission;
        info.stakeWeight = nr.stakeWeight;
        info.consensus = nr.consensus;
        info.incentive = nr.incentive;
        info.dividends = nr.dividends;
        info.validatorTrust = nr.validatorTrust;
        info.validatorPermit = (s.epoch.newPermit[uid >> 8] >> (uid & 255)) & 1 == 1;
        info.active = (s.epoch.active[uid >> 8] >> (uid & 255)) & 1 == 1;
        info.unclaimed = nr.unclaimed;
    }

    /// @inheritdoc IVerity
    function bondWords(uint16 netuid) external view returns (uint256[] memory out) {
        Subnet storage s = _subnet(netuid);
        uint256 n = s.n;
        uint256 words = (n + 15) >> 4;
        out = new uint256[](n * words);
        for (uint256 i = 0; i < n; i++) {
            for (uint256 k = 0; k < words; k++) {
                out[i * words + k] = s.bonds[i][k];
            }
        }
    }

    /* STAKING */

    /// @inheritdoc IVerity
    function stake(address hotkey, uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        if (hotkey == address(0)) revert ZeroAddress();
        Pool storage p = pools[hotkey];
        // virtual offset of one share and one unit: a wiped-out pool stays priced
        uint256 minted = amount * (uint256(p.shares) + 1) / (uint256(p.stake) + 1);
        p.stake += uint128(amount);
        p.shares += uint128(minted);
        shares[hotkey][msg.sender] += minted;
        totalStaked += amount;
        totalEntered += amount;
        emit Staked(msg.sender, hotkey, amount, minted);
        _pull(msg.sender, amount);
    }

    /// @inheritdoc IVerity
    function unstake(address hotkey, uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        Pool storage p = pools[hotkey];
        uint256 held = shares[hotkey][msg.sender];
        uint256 value = _value(p, held);
        if (amount > value) revert InsufficientStake(value, amount);
        // shares to burn, rounded up (the pool keeps the rounding)
        uint256 burned = (amount * (uint256(p.shares) + 1) + p.stake) / (uint256(p.stake) + 1);
        if (burned > held) burned = held;
        p.stake -= uint128(amount);
        p.shares -= uint128(burned);
        shares[hotkey][msg.sender] = held - burned;
        Withdrawal storage w = withdrawals[msg.sender];
        w.amount += uint128(amount);
        w.unlockBlock = uint64(block.number) + unstakeCooldown;
        totalStaked -= amount;
        totalWithdrawing += amount;
        emit Unstaked(msg.sender, hotkey, amount, burned, w.unlockBlock);
    }

    /// @inheritdoc IVerity
    function withdraw(address to) external {
        if (to == address(0)) revert ZeroAddress();
        Withdrawal memory w = withdrawals[msg.sender];
        if (w.amount == 0) revert NothingToWithdraw(msg.sender);
        if (block.number < w.unlockBlock) revert StillLocked(w.unlockBlock);
        delete withdrawals[msg.sender];
        totalWithdrawing -= w.amount;
        emit Withdrawn(msg.sender, to, w.amount);
        _push(to, w.amount);
    }

    function _value(Pool storage p, uint256 held) internal view returns (uint256) {
        return held * (uint256(p.stake) + 1) / (uint256(p.shares) + 1);
    }

    /// @inheritdoc IVerity
    function stakeOf(address hotkey) external view returns (uint256) {
        return pools[hotkey].stake;
    }

    /// @inheritdoc IVerity
    function stakeOfColdkey(address hotkey, address coldkey) external view returns (uint256) {
        return _value(pools[hotkey], shares[hotkey][coldkey]);
    }

    /// @inheritdoc IVerity
    function pendingWithdrawal(address coldkey) external view returns (uint256, uint64) {
        Withdrawal memory w = withdrawals[coldkey];
        return (w.amount, w.unlockBlock);
    }

    /* WEIGHTS */

    /// @inheritdoc IVerity
    function setWeights(uint16 netuid, uint16[] calldata uids, uint16[] calldata values, uint64 versionKey) external {
        Subnet storage s = _subnet(netuid);
        _idle(netuid, s);
        WeightsLib.setWeights(s, netuid, msg.sender, uids, values, versionKey, pools[msg.sender].stake);
    }

    /// @inheritdoc IVerity
    function commitWeights(uint16 netuid, bytes32 hash) external {
        Subnet storage s = _subnet(netuid);
        _idle(netuid, s);
        WeightsLib.commitWeights(s, netuid, msg.sender, hash);
    }

    /// @inheritdoc IVerity
    function revealWeights(
        uint16 netuid,
        uint16[] calldata uids,
        uint16[] calldata values,
        bytes32 salt,
        uint64 versionKey
    ) external {
        Subnet storage s = _subnet(netuid);
        _idle(netuid, s);
        WeightsLib.revealWeights(s, netuid, msg.sender, uids, values, salt, versionKey, pools[msg.sender].stake);
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
        Subnet storage s = _subnet(netuid);
        _idle(netuid, s);
        uint256 p = s.uidPlusOne[msg.sender];
        if (p == 0) revert NotRegistered(netuid, msg.sender);
        RegistrationLib.resetBonds(s, netuid, uint16(p - 1));
    }

    /* EPOCH */

    /// @inheritdoc IVerity
    function epochBegin(uint16 netuid) external {
        Subnet storage s = _subnet(netuid);
        _idle(netuid, s);
        uint256 due = uint256(s.lastEpochBlock) + s.params.tempo;
        if (block.number < due && msg.sender != s.owner) revert EpochNotDue(netuid, due);
        _accrue(netuid, s);
        YumaLib.begin(s, pools, netuid, s.pendingEmission);
    }

    /// @inheritdoc IVerity
    function epochConsensus(uint16 netuid, uint64[] calldata medians) external {
        ConsensusLib.consensus(_subnet(netuid), netuid, medians);
    }

    /// @inheritdoc IVerity
    function epochBonds(uint16 netuid, uint16 count) external {
        BondsLib.bonds(_subnet(netuid), netuid, count);
    }

    /// @inheritdoc IVerity
    function epochFinish(uint16 netuid, uint16 count) external {
        Subnet storage s = _subnet(netuid);
        uint256 paid = YumaLib.finish(s, netuid, count);
        s.pendingEmission -= uint128(paid);
        totalPending -= paid;
        totalClaimable += paid;
    }

    /// @inheritdoc IVerity
    function epochStage(uint16 netuid) external view returns (uint8, uint16, uint16, uint16) {
        Subnet storage s = _subnet(netuid);
        return (s.epoch.stage, s.epoch.nextCol, s.epoch.n, s.epoch.rows);
    }

    /// @inheritdoc IVerity
    function consensusHints(uint16 netuid, uint16 from, uint16 count) external view returns (uint64[] memory) {
        return YumaLib.hints(_subnet(netuid), from, count);
    }

    /* EMISSIONS */

    /// @inheritdoc IVerity
    function claimable(address account) external view returns (uint256 amount) {
        amount = settled[account];
        for (uint16 netuid = 1; netuid <= subnetCount; netuid++) {
            uint256 p = subnets[netuid].uidPlusOne[account];
            if (p != 0) amount += subnets[netuid].neurons[p - 1].unclaimed;
        }
    }

    /// @inheritdoc IVerity
    function claim(address to) external returns (uint256 amount) {
        if (to == address(0)) revert ZeroAddress();
        amount = settled[msg.sender];
        settled[msg.sender] = 0;
        // sweep what the caller's uids earned
        for (uint16 netuid = 1; netuid <= subnetCount; netuid++) {
            uint256 p = subnets[netuid].uidPlusOne[msg.sender];
            if (p == 0) continue;
            Neuron storage nr = subnets[netuid].neurons[p - 1];
            amount += nr.unclaimed;
            nr.unclaimed = 0;
        }
        if (amount == 0) revert NothingToClaim(msg.sender);
        totalClaimable -= amount;
        emit Claimed(msg.sender, to, amount);
        _push(to, amount);
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

    /* SLASHING */

    /// @inheritdoc IVerity
    function setSlasher(address account, bool allowed) external onlyOwner {
        if (account == address(0)) revert ZeroAddress();
        slashers[account] = allowed;
        emit SlasherSet(account, allowed);
    }

    /// @inheritdoc IVerity
    function slash(address hotkey, uint256 amount, address recipient) external {
        if (!slashers[msg.sender]) revert NotSlasher(msg.sender);
        if (recipient == address(0)) revert ZeroAddress();
        if (amount == 0) revert ZeroAmount();
        Pool storage p = pools[hotkey];
        if (amount > p.stake) revert InsufficientStake(p.stake, amount);
        p.stake -= uint128(amount);
        totalStaked -= amount;
        emit Slashed(hotkey, amount, recipient, msg.sender);
        _push(recipient, amount);
    }

    /// @inheritdoc IVerity
    function setUnstakeCooldown(uint64 blocks) external onlyOwner {
        unstakeCooldown = blocks;
        emit UnstakeCooldownSet(blocks);
    }

    /* ACCOUNTING */

    /// @inheritdoc IVerity
    function totals() external view returns (uint256, uint256, uint256, uint256, uint256) {
        return (totalStaked, totalWithdrawing, totalClaimable, totalPending, totalEntered);
    }

    /* TOKEN MOVEMENTS */

    function _pull(address from, uint256 amount) internal {
        bool ok = token.transferFrom(from, address(this), amount);
        ok;
    }

    function _push(address to, uint256 amount) internal {
        bool ok = token.transfer(to, amount);
        ok;
    }
}
