// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Hyperparams, NeuronInfo} from "../libraries/Types.sol";

/// @title IVerity
/// @notice The incentive layer of Verity: subnets, neurons, staking, weights (with commit-reveal),
/// the multi-transaction Yuma Consensus epoch, emissions, the model registry and slashing.
/// @dev Amounts are VTY base units. u16 ratios are value/65535. Fixed-point values are I32F32 bits
/// (value * 2^32), as in subtensor.
interface IVerity {
    /* EVENTS */

    event SubnetCreated(uint16 indexed netuid, address indexed owner, Hyperparams params);
    event HyperparamsSet(uint16 indexed netuid, Hyperparams params);
    event SubnetModelSet(uint16 indexed netuid, bytes32 indexed modelRoot);
    event SubnetEmissionShareSet(uint16 indexed netuid, uint16 shareBps);
    event EmissionFunded(uint16 indexed netuid, address indexed from, uint256 amount);
    event EmissionAccrued(uint16 indexed netuid, uint256 amount, uint256 ownerCut);
    event NeuronRegistered(uint16 indexed netuid, uint16 indexed uid, address indexed hotkey, uint256 burned);
    event NeuronReplaced(uint16 indexed netuid, uint16 indexed uid, address indexed oldHotkey);
    event BurnAdjusted(uint16 indexed netuid, uint256 burn);
    event NodeServed(uint16 indexed netuid, address indexed hotkey, bytes peerId, string[] multiaddrs);
    event Staked(address indexed coldkey, address indexed hotkey, uint256 amount, uint256 shares);
    event Unstaked(address indexed coldkey, address indexed hotkey, uint256 amount, uint256 shares, uint64 unlockBlock);
    event Withdrawn(address indexed coldkey, address indexed to, uint256 amount);
    event WeightsSet(uint16 indexed netuid, uint16 indexed uid, uint16[] uids, uint16[] values);
    event WeightsCommitted(uint16 indexed netuid, uint16 indexed uid, bytes32 hash, uint64 epoch);
    event WeightsRevealed(uint16 indexed netuid, uint16 indexed uid, bytes32 hash);
    event BondsReset(uint16 indexed netuid, uint16 indexed uid);
    event EpochStarted(uint16 indexed netuid, uint64 indexed epochIndex, uint256 blockNumber, uint256 emission);
    event EpochProgress(uint16 indexed netuid, uint8 stage, uint16 nextCol);
    event EpochFinished(uint16 indexed netuid, uint64 indexed epochIndex, uint256 distributed);
    /// @notice Per-uid server (incentive) and validator (dividend) emission of a finished epoch; the
    /// sum of the two is added to the uid's unclaimed emission, claimable by its hotkey (one event
    /// per finish chunk rather than one per uid).
    event EpochEmissions(uint16 indexed netuid, uint64 indexed epochIndex, uint16 fromUid, uint256[] server, uint256[] validator);
    event Claimed(address indexed account, address indexed to, uint256 amount);
    event ModelRegistered(bytes32 indexed modelRoot, string name, bytes32 ggufHash, address indexed owner);
    event Slashed(address indexed hotkey, uint256 amount, address indexed recipient, address indexed by);
    event SlasherSet(address indexed account, bool allowed);
    event UnstakeCooldownSet(uint64 blocks);

    /* ERRORS */

    error SubnetNotFound(uint16 netuid);
    error NotSubnetOwner(uint16 netuid, address caller);
    error InvalidHyperparameter(string name);
    error EpochInProgress(uint16 netuid);
    error EpochNotInProgress(uint16 netuid);
    error EpochNotDue(uint16 netuid, uint256 nextBlock);
    error WrongEpochStage(uint8 expected, uint8 actual);
    error ConsensusMismatch(uint16 col, uint64 claimed);
    error BadChunk(uint16 from, uint256 count);
    error AlreadyRegistered(uint16 netuid, address hotkey);
    error NotRegistered(uint16 netuid, address hotkey);
    error RegistrationLimit(uint16 netuid);
    error BurnTooHigh(uint256 price, uint256 maxBurn);
    error NoNeuronAvailable(uint16 netuid);
    error ZeroAmount();
    error InsufficientStake(uint256 available, uint256 requested);
    error NothingToWithdraw(address coldkey);
    error StillLocked(uint64 unlockBlock);
    error LengthMismatch(uint256 uids, uint256 values);
    error TooManyWeights(uint256 length, uint16 n);
    error StakeBelowThreshold(uint256 stake, uint256 threshold);
    error IncorrectVersionKey(uint64 given, uint64 required);
    error SettingWeightsTooFast(uint64 lastUpdate, uint256 blockNumber);
    error NoValidatorPermit(uint16 netuid, uint16 uid);
    error DuplicateUid(uint16 uid);
    error UidOutOfRange(uint16 uid, uint16 n);
    error TooFewWeights(uint256 length, uint256 minimum);
    error MaxWeightExceeded(uint16 limit);
    error CommitRevealDisabled(uint16 netuid);
    error CommitRevealEnabled(uint16 netuid);
    error TooManyCommits(uint16 netuid, uint16 uid);
    error CommitNotFound(bytes32 hash);
    error RevealTooEarly(uint64 epoch, uint64 revealEpoch);
    error RevealExpired(uint64 epoch, uint64 revealEpoch);
    error ModelExists(bytes32 modelRoot);
    error ModelNotFound(bytes32 modelRoot);
    error NotSlasher(address caller);
    error ZeroAddress();
    error NothingToClaim(address account);

    /* SUBNETS */

    /// @notice Creates a subnet owned by the caller.
    /// @param params Its hyperparameters (validated; see InvalidHyperparameter).
    /// @return netuid The new subnet's id (1, 2, ...).
    function createSubnet(Hyperparams calldata params) external returns (uint16 netuid);

    /// @notice Replaces a subnet's hyperparameters (owner only, not during an epoch; max uids cannot shrink below n).
    function setHyperparams(uint16 netuid, Hyperparams calldata params) external;

    /// @notice Names the model a subnet serves (owner only); the model must be registered.
    function setSubnetModel(uint16 netuid, bytes32 modelRoot) external;

    /// @notice Sets the subnet's share of the block emission in basis points (protocol owner only).
    function setSubnetEmissionShare(uint16 netuid, uint16 shareBps) external;

    /// @notice Adds tokens from the caller to the emission the next epoch distributes.
    function fundEmission(uint16 netuid, uint256 amount) external;

    /// @notice The subnet's hyperparameters.
    function hyperparams(uint16 netuid) external view returns (Hyperparams memory);

    /// @notice Summary of a subnet: owner, n, model, last epoch block, epoch index, pending emission, burn.
    function subnetInfo(uint16 netuid)
        external
        view
        returns (address owner, uint16 n, bytes32 modelRoot, uint48 lastEpochBlock, uint64 epochIndex, uint128 pendingEmission, uint128 burn);

    /* NEURONS */

    /// @notice Registers the caller as a hotkey on `netuid`, burning the current registration price.
    /// @dev Appends a uid while n < maxUids; otherwise replaces the non-immune uid with the lowest
    /// (emission, registration block, uid). The caller must have approved the price.
    /// @param maxBurn The most the caller agrees to burn.
    /// @return uid The assigned uid.
    function register(uint16 netuid, uint256 maxBurn) external returns (uint16 uid);

    /// @notice The current registration price (after the burn adjustment due at this block).
    function burnPrice(uint16 netuid) external view returns (uint256);

    /// @notice Publishes the caller's libp2p peer id and multiaddrs for `netuid` (the hotkey must be registered).
    function serveNode(uint16 netuid, bytes calldata peerId, string[] calldata multiaddrs) external;

    /// @notice A hotkey's published node.
    function node(uint16 netuid, address hotkey)
        external
        view
        returns (bytes memory peerId, string[] memory multiaddrs, uint64 blockNumber);

    /// @notice The uid of a hotkey; reverts with NotRegistered.
    function uidOf(uint16 netuid, address hotkey) external view returns (uint16);

    /// @notice A neuron's identity and last epoch outputs.
    function neuron(uint16 netuid, uint16 uid) external view returns (NeuronInfo memory);

    /// @notice Every neuron of a subnet (the metagraph), uid order.
    function metagraph(uint16 netuid) external view returns (NeuronInfo[] memory);

    /// @notice All stored bond rows, row-major: row i holds ceil(n/16) words of 16 u16 each (low bits first).
    function bondWords(uint16 netuid) external view returns (uint256[] memory);

    /* STAKING */

    /// @notice Stakes `amount` of the caller's tokens (coldkey) to `hotkey`.
    function stake(address hotkey, uint256 amount) external;

    /// @notice Removes `amount` of the caller's stake from `hotkey`; it can be withdrawn after the cooldown.
    function unstake(address hotkey, uint256 amount) external;

    /// @notice Sends the caller's unlocked unstaked tokens to `to`.
    function withdraw(address to) external;

    /// @notice Total stake of a hotkey (the amount the epoch uses).
    function stakeOf(address hotkey) external view returns (uint256);

    /// @notice The value of a coldkey's stake on a hotkey.
    function stakeOfColdkey(address hotkey, address coldkey) external view returns (uint256);

    /// @notice A coldkey's pending withdrawal and the block it unlocks at.
    function pendingWithdrawal(address coldkey) external view returns (uint256 amount, uint64 unlockBlock);

    /* WEIGHTS */

    /// @notice Sets the caller's weights on `netuid` with subtensor's checks (commit-reveal must be off).
    function setWeights(uint16 netuid, uint16[] calldata uids, uint16[] calldata values, uint64 versionKey) external;

    /// @notice Commits keccak256(abi.encode(hotkey, netuid, uids, values, salt, versionKey)).
    function commitWeights(uint16 netuid, bytes32 hash) external;

    /// @notice Reveals a commit in its reveal epoch (commit epoch + revealPeriodEpochs) and sets the weights.
    function revealWeights(uint16 netuid, uint16[] calldata uids, uint16[] calldata values, bytes32 salt, uint64 versionKey)
        external;

    /// @notice The stored weight row of `uid`: targets and u16 values (explicit zeros included).
    function weightsOf(uint16 netuid, uint16 uid) external view returns (uint16[] memory uids, uint16[] memory values);

    /// @notice The stored bond row of `uid` as u16 values for uids 0..n-1.
    function bondsOf(uint16 netuid, uint16 uid) external view returns (uint16[] memory);

    /// @notice Removes column uid(caller) from every bond row when bondsResetOn (else does nothing).
    function resetBonds(uint16 netuid) external;

    /* EPOCH */

    /// @notice Starts an epoch: stake, permits, active stake, weight masks and row sums.
    /// @dev Allowed once `tempo` blocks have passed since the last epoch, or any time for the subnet owner.
    function epochBegin(uint16 netuid) external;

    /// @notice Consensus for the next `medians.length` columns: checks each caller-supplied weighted
    /// median on chain (exactly subtensor's weighted_median), clips, and accumulates rank and trust.
    function epochConsensus(uint16 netuid, uint64[] calldata medians) external;

    /// @notice Bonds and dividends for the next `count` columns (a multiple of 16 unless it is the last chunk).
    function epochBonds(uint16 netuid, uint16 count) external;

    /// @notice Splits the emission for the next `count` uids, stores their outputs and adds each
    /// uid's amount to its unclaimed emission; the last chunk ends the epoch.
    function epochFinish(uint16 netuid, uint16 count) external;

    /// @notice The epoch's current stage (0 idle, 1 consensus, 2 bonds, 3 finish) and next column.
    function epochStage(uint16 netuid) external view returns (uint8 stage, uint16 nextCol, uint16 n, uint16 rows);

    /// @notice Computes the weighted medians of columns [from, from+count) for the running epoch (for callers; gas-heavy).
    function consensusHints(uint16 netuid, uint16 from, uint16 count) external view returns (uint64[] memory);

    /* EMISSIONS */

    /// @notice An account's claimable emission: its settled balance plus what its registered uids
    /// have earned and not yet swept (each uid's `unclaimed`).
    function claimable(address account) external view returns (uint256);

    /// @notice Sends the caller's claimable emission to `to`, sweeping its uids in every subnet.
    function claim(address to) external returns (uint256 amount);

    /* MODELS */

    /// @notice Registers a model by its modelRoot (Merkle root over weights and config).
    function registerModel(bytes32 modelRoot, string calldata name, bytes32 ggufHash) external;

    /// @notice A registered model.
    function model(bytes32 modelRoot) external view returns (string memory name, bytes32 ggufHash, address owner);

    /* SLASHING */

    /// @notice Grants or revokes the slasher role (protocol owner only).
    function setSlasher(address account, bool allowed) external;

    /// @notice Moves `amount` of `hotkey`'s stake to `recipient` (slasher only); every coldkey of
    /// the hotkey loses pro rata.
    function slash(address hotkey, uint256 amount, address recipient) external;

    /// @notice Sets the unstake cooldown in blocks (protocol owner only).
    function setUnstakeCooldown(uint64 blocks) external;

    /* ACCOUNTING */

    /// @notice Totals: staked, pending withdrawals, claimable, pending emission, and everything that entered.
    function totals()
        external
        view
        returns (uint256 staked, uint256 withdrawing, uint256 claimableTotal, uint256 pendingEmissionTotal, uint256 entered);
}
