// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Hyperparams, NeuronInfo, ProtocolParams} from "../libraries/Types.sol";

/// @title IVerity
/// @notice The incentive layer of Verity: subnets, neurons, staking and delegation, weights (with
/// commit-reveal), the multi-transaction Yuma Consensus epoch, emissions, the model registry, the
/// dispute game's slashing hook and bounded, delayed governance.
/// @dev Amounts are VTY base units. u16 ratios are value/65535. Fixed-point values are I32F32 bits
/// (value * 2^32), as in subtensor. Every time and duration ("block", "delay", "tempo") is in clock
/// units: see `clock` and `CLOCK_MODE` (EIP-6372).
interface IVerity {
    /* EVENTS */

    event SubnetCreated(uint16 indexed netuid, address indexed owner, Hyperparams params);
    event SubnetLocked(uint16 indexed netuid, uint256 lock);
    event SubnetDissolved(uint16 indexed netuid, uint256 lockReturned, uint256 pendingBurned);
    event HyperparamsProposed(uint16 indexed netuid, Hyperparams params, uint64 applyAtEpoch);
    event HyperparamsSet(uint16 indexed netuid, Hyperparams params);
    event HyperparamsDropped(uint16 indexed netuid);
    event SubnetModelProposed(uint16 indexed netuid, bytes32 indexed modelRoot, uint64 applyAtEpoch);
    event SubnetModelSet(uint16 indexed netuid, bytes32 indexed modelRoot);
    event SubnetEmissionShareSet(uint16 indexed netuid, uint16 shareBps);
    event EmissionFunded(uint16 indexed netuid, address indexed from, uint256 amount);
    event EmissionAccrued(uint16 indexed netuid, uint256 amount, uint256 ownerCut);
    event NeuronRegistered(uint16 indexed netuid, uint16 indexed uid, address indexed hotkey, uint256 burned);
    event NeuronReplaced(uint16 indexed netuid, uint16 indexed uid, address indexed oldHotkey);
    event BurnAdjusted(uint16 indexed netuid, uint256 burn);
    event NodeServed(uint16 indexed netuid, address indexed hotkey, bytes peerId, string[] multiaddrs);
    event Staked(uint16 indexed netuid, address indexed coldkey, address indexed hotkey, uint256 amount, uint256 shares);
    event Unstaked(
        uint16 indexed netuid, address indexed coldkey, address indexed hotkey, uint256 amount, uint256 shares, uint48 unlock
    );
    event Withdrawn(address indexed coldkey, address indexed to, uint256 amount);
    event TakeSet(address indexed hotkey, uint16 take, uint48 effectiveFrom);
    event EmissionSwept(uint16 indexed netuid, address indexed hotkey, uint256 take, uint256 toStakers);
    event WeightsSet(uint16 indexed netuid, uint16 indexed uid, uint16[] uids, uint16[] values);
    event WeightsCommitted(uint16 indexed netuid, uint16 indexed uid, bytes32 hash, uint64 epoch);
    event WeightsRevealed(uint16 indexed netuid, uint16 indexed uid, bytes32 hash);
    event BondsReset(uint16 indexed netuid, uint16 indexed uid);
    event EpochStarted(uint16 indexed netuid, uint64 indexed epochIndex, uint256 blockNumber, uint256 emission);
    event EpochProgress(uint16 indexed netuid, uint8 stage, uint16 nextCol);
    event EpochFinished(uint16 indexed netuid, uint64 indexed epochIndex, uint256 distributed);
    event EpochAborted(uint16 indexed netuid, uint64 indexed epochIndex, address by);
    /// @notice Per-uid emission of a finished epoch chunk, one word per uid from `fromUid`: the
    /// server (incentive) part in the high 128 bits, the validator (dividend) part in the low 128.
    /// Their sum is added to the uid's unclaimed emission.
    event EpochEmissions(uint16 indexed netuid, uint64 indexed epochIndex, uint16 fromUid, uint256[] emissions);
    event Claimed(address indexed account, address indexed to, uint256 amount);
    event ModelRegistered(bytes32 indexed modelRoot, string name, bytes32 ggufHash, address indexed owner);
    event SlashedForDispute(
        uint16 indexed netuid, address indexed hotkey, uint256 slashed, address indexed recipient, uint256 paid
    );
    event ChangeQueued(bytes32 indexed id, uint8 kind, bytes data, uint256 nonce, uint48 eta);
    event ChangeExecuted(bytes32 indexed id, uint8 kind, bytes data);
    event ChangeCancelled(bytes32 indexed id, address by);
    event ProtocolParamsSet(ProtocolParams params);
    event GuardianSet(address guardian);
    event DisputeGameSet(address game);

    /* ERRORS */

    error SubnetNotFound(uint16 netuid);
    error SubnetIsDissolved(uint16 netuid);
    error NotSubnetOwner(uint16 netuid, address caller);
    error InvalidHyperparameter(string name);
    error InvalidProtocolParameter(string name);
    error EpochInProgress(uint16 netuid);
    error EpochNotInProgress(uint16 netuid);
    error EpochNotDue(uint16 netuid, uint256 nextBlock);
    error EpochNotStalled(uint16 netuid, uint256 abortableAt);
    error EpochNotAbortable(uint16 netuid, uint8 stage);
    error WrongEpochStage(uint8 expected, uint8 actual);
    error ConsensusMismatch(uint16 col, uint64 claimed);
    error BadChunk(uint16 from, uint256 count);
    error AlreadyRegistered(uint16 netuid, address hotkey);
    error NotRegistered(uint16 netuid, address hotkey);
    error RegistrationLimit(uint16 netuid);
    error BurnTooHigh(uint256 price, uint256 maxBurn);
    error LockTooHigh(uint256 lock, uint256 maxLock);
    error TooManySubnets(uint256 live, uint256 max);
    error NoNeuronAvailable(uint16 netuid);
    error ZeroAmount();
    error ZeroShares(uint256 amount);
    error InsufficientStake(uint256 available, uint256 requested);
    error NothingToWithdraw(address coldkey);
    error StillLocked(uint256 unlock);
    error TakeTooHigh(uint16 take, uint256 max);
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
    error AlreadyCommitted(uint16 netuid, uint16 uid, uint64 epoch);
    error CommitNotFound(bytes32 hash);
    error RevealTooEarly(uint64 epoch, uint64 revealEpoch);
    error RevealExpired(uint64 epoch, uint64 revealEpoch);
    error ModelExists(bytes32 modelRoot);
    error ModelNotFound(bytes32 modelRoot);
    error NotDisputeGame(address caller);
    error InvalidRecipientShare(uint16 bps);
    error ZeroAddress();
    error NothingToClaim(address account);
    error EmissionSharesExceeded(uint256 total);
    error UnknownChange(uint8 kind);
    error ChangeNotQueued(bytes32 id);
    error ChangeNotReady(bytes32 id, uint48 eta);
    error NotOwnerOrGuardian(address caller);
    error RenounceDisabled();
    error InvalidClockMode(uint8 mode);

    /* CLOCK */

    /// @notice The protocol's clock (EIP-6372): `block.number`, `block.timestamp`, or ArbSys's L2
    /// block number, fixed at deployment.
    function clock() external view returns (uint48);

    /// @notice EIP-6372 description of `clock`: "mode=blocknumber&from=default",
    /// "mode=timestamp", or "mode=blocknumber&from=arbitrum".
    function CLOCK_MODE() external view returns (string memory);

    /* SUBNETS */

    /// @notice Creates a subnet owned by the caller, locking the current creation lock (see lockCost).
    /// @param params Its hyperparameters (validated; see InvalidHyperparameter).
    /// @param maxLock The most the caller agrees to lock (it must have approved it).
    /// @return netuid The new subnet's id (1, 2, ...).
    function createSubnet(Hyperparams calldata params, uint256 maxLock) external returns (uint16 netuid);

    /// @notice The lock a subnet created now costs: max(minLock, 2 * lastLock - lastLock * elapsed /
    /// lockReductionInterval), as subtensor's network lock cost (doubles with demand, decays over time).
    function lockCost() external view returns (uint256);

    /// @notice Subnets not dissolved.
    function liveSubnets() external view returns (uint16);

    /// @notice Proposes new hyperparameters (owner only). They apply at the first epoch begun at
    /// least one full epoch later (epochIndex + 1), so validators see them for a whole tempo.
    function setHyperparams(uint16 netuid, Hyperparams calldata params) external;

    /// @notice Names the model a subnet serves (owner only; the model must be registered). The first
    /// model applies at once; a change waits like setHyperparams.
    function setSubnetModel(uint16 netuid, bytes32 modelRoot) external;

    /// @notice What is pending for a subnet: whether hyperparameters are (HyperparamsProposed has
    /// them), the model (0 = none) and the epoch index at whose begin they apply.
    function pendingChanges(uint16 netuid) external view returns (bool hasParams, bytes32 modelRoot, uint64 applyAtEpoch);

    /// @notice Ends a subnet (owner only, idle): no more registrations, weights, epochs or stake;
    /// unstaking, withdrawals and claims go on. The lock is returned to the owner's claimable
    /// balance, the pending emission is burned and its emission share freed.
    function dissolveSubnet(uint16 netuid) external;

    /// @notice Adds tokens from the caller to the emission the next epoch distributes.
    function fundEmission(uint16 netuid, uint256 amount) external;

    /// @notice The subnet's hyperparameters.
    function hyperparams(uint16 netuid) external view returns (Hyperparams memory);

    /// @notice Summary of a subnet: owner, n, model, last epoch block, epoch index, pending emission, burn.
    function subnetInfo(uint16 netuid)
        external
        view
        returns (
            address owner,
            uint16 n,
            bytes32 modelRoot,
            uint48 lastEpochBlock,
            uint64 epochIndex,
            uint128 pendingEmission,
            uint128 burn
        );

    /// @notice A subnet's emission share (basis points), its lock and whether it was dissolved.
    function subnetEconomics(uint16 netuid) external view returns (uint16 shareBps, uint128 locked, bool dissolved);

    /// @notice Sum of every subnet's emission share, at most 10,000 basis points.
    function totalEmissionShare() external view returns (uint16);

    /* NEURONS */

    /// @notice Registers the caller as a hotkey on `netuid`, burning the current registration price.
    /// @dev Appends a uid while n < maxUids; otherwise replaces the non-immune uid with the lowest
    /// (emission, registration block, uid): its earnings are swept for its old hotkey and stakers,
    /// and its bond column is cleared. The caller must have approved the price.
    /// @param maxBurn The most the caller agrees to burn.
    /// @return uid The assigned uid.
    function register(uint16 netuid, uint256 maxBurn) external returns (uint16 uid);

    /// @notice The current registration price (after the burn adjustment due now).
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

    /* STAKING AND DELEGATION */

    /// @notice Stakes `amount` of the caller's (coldkey's) tokens to `hotkey` on `netuid`. Stake that
    /// arrives in epoch k counts from the epoch after (not at epoch k's begin).
    function stake(uint16 netuid, address hotkey, uint256 amount) external;

    /// @notice Removes `amount` of the caller's stake from `hotkey` on `netuid`. It becomes a new
    /// withdrawal that unlocks after the unstake delay; earlier withdrawals keep their own unlock.
    /// Until it unlocks it stays in reach of a dispute slash.
    function unstake(uint16 netuid, address hotkey, uint256 amount) external;

    /// @notice Sends the caller's unlocked withdrawals (oldest first, at most 32 per call) to `to`.
    function withdraw(address to) external returns (uint256 amount);

    /// @notice Sets the caller's (hotkey's) take of its emission on every subnet, at most MAX_TAKE
    /// (18%). A decrease applies at once, an increase after the unstake delay.
    function setTake(uint16 take) external;

    /// @notice A hotkey's take in force now (18% until it sets one).
    function takeOf(address hotkey) external view returns (uint16);

    /// @notice Total stake of a hotkey on a subnet.
    function stakeOf(uint16 netuid, address hotkey) external view returns (uint256);

    /// @notice A pool: its stake, the part of it the next epoch begun now would count (stake that
    /// arrived in the current epoch left out), shares, the rewards held for its stakers, generation.
    function pool(uint16 netuid, address hotkey)
        external
        view
        returns (uint256 stakeAmount, uint256 counted, uint256 shares, uint256 rewards, uint32 generation);

    /// @notice A coldkey's position on a pool: shares (0 for a wiped generation), their value, and
    /// the staking rewards it would harvest now (its part of the hotkey's unswept emission included).
    function position(uint16 netuid, address hotkey, address coldkey)
        external
        view
        returns (uint256 shares, uint256 value, uint256 rewards);

    /// @notice A coldkey's pending withdrawals: still locked, already unlocked, and the next unlock (0 if none locked).
    function pendingWithdrawal(address coldkey)
        external
        view
        returns (uint256 locked, uint256 unlocked, uint256 nextUnlock);

    /// @notice Unstaked tokens of a pool unlocking at `bucket * bucketWidth`.
    function unbonding(uint16 netuid, address hotkey, uint48 bucket) external view returns (uint256 amount, uint256 shares);

    /// @notice Withdrawals unlock at multiples of this many clock units (rounded up).
    function bucketWidth() external view returns (uint48);

    /* WEIGHTS */

    /// @notice Sets the caller's weights on `netuid` with subtensor's checks (commit-reveal must be off).
    function setWeights(uint16 netuid, uint16[] calldata uids, uint16[] calldata values, uint64 versionKey) external;

    /// @notice Commits keccak256(abi.encode(hotkey, netuid, uids, values, salt, versionKey)); at most
    /// one commit per epoch, binding: it cannot be replaced.
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

    /// @notice Starts an epoch: stake, permits, active stake, weight masks and row sums. Allowed
    /// once `tempo` has passed since the last epoch began, for anyone and only then. Applies the
    /// owner's pending changes that are due, and pays the caller its keeper share.
    function epochBegin(uint16 netuid) external;

    /// @notice Consensus for the next `medians.length` columns: checks each caller-supplied weighted
    /// median on chain (exactly subtensor's weighted_median), clips, and accumulates rank and trust.
    function epochConsensus(uint16 netuid, uint64[] calldata medians) external;

    /// @notice Bonds and dividends for the next `count` columns (a multiple of 16 unless it is the last chunk).
    function epochBonds(uint16 netuid, uint16 count) external;

    /// @notice Splits the emission for the next `count` uids, stores their outputs and adds each
    /// uid's amount to its unclaimed emission; the last chunk ends the epoch.
    function epochFinish(uint16 netuid, uint16 count) external;

    /// @notice Ends an epoch stuck in its consensus stage for epochDeadline clock units (anyone):
    /// no output, bond or emission of it is written (only the validator permits its begin computed
    /// from stake stand), the unpaid keeper reward returns to the pending emission, and the next
    /// epoch may begin at once. An epoch past consensus is finished instead (each stage is open to
    /// anyone and paid).
    function epochAbort(uint16 netuid) external;

    /// @notice The epoch's current stage (0 idle, 1 consensus, 2 bonds, 3 finish) and next column.
    function epochStage(uint16 netuid) external view returns (uint8 stage, uint16 nextCol, uint16 n, uint16 rows);

    /// @notice When the next epoch may begin (clock units), the running epoch's keeper reward and
    /// the part of it not paid out yet (0, 0 when idle).
    function epochInfo(uint16 netuid) external view returns (uint256 due, uint256 keeperReward, uint256 keeperUnpaid);

    /// @notice Computes the weighted medians of columns [from, from+count) for the running epoch (for callers; gas-heavy).
    function consensusHints(uint16 netuid, uint16 from, uint16 count) external view returns (uint64[] memory);

    /* EMISSIONS AND CLAIMS */

    /// @notice An account's claimable balance: its take, owner cuts, keeper rewards, harvested
    /// staking rewards, returned locks, and what its replaced uids earned.
    function claimable(address account) external view returns (uint256);

    /// @notice Moves the unclaimed emission of `hotkey`'s uid on `netuid` to the hotkey (its take)
    /// and the pool's stakers (the rest, pro rata). Anyone may call it; O(1).
    function sweep(uint16 netuid, address hotkey) external returns (uint256 amount);

    /// @notice Sends the caller's claimable balance to `to`. O(1).
    function claim(address to) external returns (uint256 amount);

    /// @notice Sweeps `hotkey`'s uid on `netuid`, harvests the caller's staking rewards on that pool,
    /// and sends the caller's whole claimable balance to `to`. O(1).
    function claimFrom(uint16 netuid, address hotkey, address to) external returns (uint256 amount);

    /* MODELS */

    /// @notice Registers a model by its modelRoot (Merkle root over weights and config).
    function registerModel(bytes32 modelRoot, string calldata name, bytes32 ggufHash) external;

    /// @notice A registered model.
    function model(bytes32 modelRoot) external view returns (string memory name, bytes32 ggufHash, address owner);

    /* DISPUTES */

    /// @notice Slashes up to `amount` from `hotkey`'s stake on `netuid` for a lost dispute: the
    /// active stake and every withdrawal of that pool still within its unstake delay lose the same
    /// fraction. `recipientBps` basis points of what was slashed go to `recipient`, the rest is
    /// burned. Only the dispute game named by governance may call it.
    /// @return slashed What was taken (at most `amount`; less when the pool holds less).
    /// @return paid The part sent to `recipient`.
    function slashForDispute(uint16 netuid, address hotkey, uint256 amount, address recipient, uint16 recipientBps)
        external
        returns (uint256 slashed, uint256 paid);

    /// @notice The dispute game allowed to slash (zero: none).
    function disputeGame() external view returns (address);

    /// @notice The unstake delay's floor, fixed at deployment: stake stays slashable for at least
    /// this many clock units after it last backed a receipt, so a dispute game's whole window
    /// (challenge period plus every round) must fit in it.
    function minUnstakeDelay() external view returns (uint48);

    /* GOVERNANCE */

    /// @notice Queues a change (protocol owner only). `kind`: 0 protocol parameters
    /// (abi.encode(ProtocolParams)), 1 a subnet's emission share (abi.encode(uint16 netuid, uint16
    /// bps)), 2 the dispute game (abi.encode(address)), 3 the guardian (abi.encode(address)). It
    /// can be executed by anyone from `eta`: the governance delay later, or for a new dispute game
    /// the longest unstake delay later, so stakers can leave first.
    function queueChange(uint8 kind, bytes calldata data) external returns (bytes32 id, uint48 eta);

    /// @notice Applies a queued change once its eta has passed (anyone); checked again against the bounds.
    function executeChange(uint8 kind, bytes calldata data, uint256 nonce) external;

    /// @notice Drops a queued change: the owner any, the guardian any but a change of guardian (so
    /// that a hostile guardian cannot keep itself in place).
    function cancelChange(uint8 kind, bytes calldata data, uint256 nonce) external;

    /// @notice When a queued change may be executed (0: not queued).
    function changeEta(bytes32 id) external view returns (uint48);

    /// @notice The protocol parameters in force.
    function protocolParams() external view returns (ProtocolParams memory);

    /// @notice The guardian: may pause and unpause new entries (stake, registration, subnet
    /// creation, emission funding), never withdrawals, claims or epochs, and may cancel queued
    /// changes other than its own replacement.
    function guardian() external view returns (address);

    /// @notice Pauses new entries (guardian only).
    function pause() external;

    /// @notice Lifts a pause (the guardian or the owner).
    function unpause() external;

    /* ACCOUNTING */

    /// @notice Totals: staked, pending withdrawals, claimable, pending emission, creation locks, and
    /// everything that ever entered as stake. The contract's balance is exactly the sum of the first five.
    function totals()
        external
        view
        returns (
            uint256 staked,
            uint256 withdrawing,
            uint256 claimableTotal,
            uint256 pendingEmissionTotal,
            uint256 lockedTotal,
            uint256 entered
        );
}
