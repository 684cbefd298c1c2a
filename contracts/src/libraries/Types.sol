// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @dev Hard limits of the on-chain epoch.
uint256 constant MAX_UIDS = 512;
uint256 constant MAX_VALIDATORS = 128;
uint256 constant WORDS = MAX_UIDS / 16; // u16 words per row
uint256 constant MAX_COMMITS = 10;

/// @dev Protocol bounds on what a subnet owner may set (u16 ratios are /65535).
uint256 constant MAX_OWNER_CUT = 11796; // 18%, subtensor's SubnetOwnerCut
uint256 constant MAX_TAKE = 11796; // 18%, subtensor's MaxDelegateTake (and the default take)
uint256 constant MAX_REGISTRATION_BURN = 100 ether; // subtensor's MaxBurn
uint256 constant MAX_STAKE_THRESHOLD = 1000 ether;
uint256 constant MIN_MAX_WEIGHT_LIMIT = 6554; // 10%: ten equal weights always pass
uint256 constant MAX_IMMUNITY_TEMPOS = 16; // immunity period <= 16 tempos
uint256 constant MAX_REVEAL_PERIOD = 10; // = MAX_COMMITS: one binding commit per epoch

/// @notice Subnet hyperparameters, named and scaled as in subtensor (u16 ratios are /65535).
struct Hyperparams {
    uint16 tempo;
    uint16 kappa;
    uint16 bondsPenalty;
    uint32 bondsMovingAverage; // per million
    bool yuma3;
    bool liquidAlpha;
    uint16 alphaLow;
    uint16 alphaHigh;
    int16 alphaSigmoidSteepness;
    uint16 maxUids;
    uint16 maxValidators;
    uint32 immunityPeriod;
    bool commitReveal;
    uint16 revealPeriodEpochs;
    uint32 activityCutoff;
    uint32 weightsRateLimit;
    uint16 minAllowedWeights;
    uint16 maxWeightLimit;
    uint64 weightsVersionKey;
    bool weightsNeedPermit;
    bool bondsResetOn;
    uint128 stakeThreshold;
    uint128 burn; // initial registration price
    uint128 minBurn;
    uint128 maxBurn;
    uint16 targetRegistrationsPerInterval;
    uint32 adjustmentInterval;
    uint64 adjustmentAlpha; // /2^64
    uint16 maxRegistrationsPerBlock;
    uint16 ownerCut; // /65535 of accrued emission
}

/// @dev One uid as stored. Slot 1: identity and blocks; slot 2, written once per epoch: the last
/// epoch's outputs and the emission credited to the uid and not yet swept to its hotkey's
/// claimable balance (token amounts fit 88 bits: the supply is capped at 21M VTY < 2^85 wei).
/// Permits and activity are bitmaps in EpochState.
struct Neuron {
    address hotkey;
    uint48 registrationBlock;
    uint48 lastUpdate;
    uint88 emission;
    uint88 unclaimed;
    uint16 stakeWeight;
    uint16 consensus;
    uint16 incentive;
    uint16 dividends;
    uint16 validatorTrust;
}

/// @notice A uid as the views return it.
struct NeuronInfo {
    address hotkey;
    uint48 registrationBlock;
    uint48 lastUpdate;
    uint96 emission;
    uint16 stakeWeight;
    uint16 consensus;
    uint16 incentive;
    uint16 dividends;
    uint16 validatorTrust;
    bool validatorPermit;
    bool active;
    uint96 unclaimed;
}

struct Commit {
    bytes32 hash;
    uint64 block;
    uint64 epoch;
}

struct NodeInfo {
    bytes peerId;
    string[] multiaddrs;
    uint64 block;
}

/// @dev Working state of an epoch that spans several transactions. Its first slot holds what every
/// stage reads: the emission it splits and the keeper share of it, so that paying a stage's caller
/// needs no extra slot.
struct EpochState {
    uint8 stage; // 0 idle, 1 consensus, 2 bonds, 3 finish
    uint48 block; // clock at begin
    uint16 n;
    uint16 rows;
    uint16 nextCol;
    bool anyConsensus;
    uint96 emission; // the epoch's emission before the keeper reward (< 2^85: the supply cap)
    uint16 keeperBps; // keeper reward, basis points of `emission`
    int64 minority;
    uint64 stakeSum;
    uint64 rankSum;
    uint64 activeSum;
    uint64 divSum;
    uint64 emissionSum;
    uint128 paid;
    uint48 maxReg; // newest registration block when the epoch began
    uint16[MAX_VALIDATORS] rowUid;
    uint32[MAX_VALIDATORS] rowSum;
    uint64[MAX_VALIDATORS] rowActive; // active stake A of the row's uid
    uint64[MAX_VALIDATORS] rowUse; // A renormalised over rows with A > 0 (the median's stake)
    uint64[MAX_VALIDATORS] rowTrust; // validator trust accumulator
    uint64[MAX_VALIDATORS] rowDiv; // dividend accumulator
    uint64[MAX_VALIDATORS] rowCommit; // earliest unexpired commit block (or max)
    uint48[MAX_VALIDATORS] rowUpdate;
    uint64[MAX_UIDS] stake; // S
    uint64[MAX_UIDS] consensus; // C
    uint64[MAX_UIDS] rank; // R (not normalised)
    uint256[2] newPermit; // bitmap of validator permits (the last epoch's between epochs)
    uint256[2] active; // bitmap
}

struct Subnet {
    address owner;
    uint16 n;
    bool exists;
    uint48 createdBlock;
    bool dissolved;
    uint48 lastEpochBlock;
    uint64 epochIndex;
    // an owner's change waits for the first epoch begun at epochIndex >= pendingEpoch
    uint64 pendingEpoch; // 0: nothing pending
    bytes32 modelRoot;
    Hyperparams params;
    // registration price control
    uint128 burn;
    uint48 intervalStart;
    uint16 regsThisInterval;
    uint48 lastRegBlock;
    uint16 regsThisBlock;
    // emission
    uint128 pendingEmission;
    uint16 emissionShare; // basis points of the block emission; all subnets' add up to <= 10,000
    uint256 emissionIndex; // the global index (emission per 100% share) at the last accrual
    uint128 locked; // the creation lock, returned to the owner when the subnet is dissolved
    mapping(address => uint256) uidPlusOne;
    Neuron[MAX_UIDS] neurons;
    uint256[WORDS][MAX_UIDS] weights; // row i: 16 u16 per word
    uint256[2][MAX_UIDS] weightMask; // presence bits (explicit zero vs omitted)
    uint32[MAX_UIDS] rowRawSum; // sum of the stored row without its diagonal
    uint256[WORDS][MAX_UIDS] bonds;
    Commit[MAX_COMMITS][MAX_UIDS] commits;
    uint8[MAX_UIDS] commitCount;
    mapping(address => NodeInfo) nodes;
    EpochState epoch;
    Hyperparams pendingParams;
    bytes32 pendingModel; // 0: none pending
    bool pendingHasParams;
}

/// @dev A hotkey's stake pool on one subnet: coldkeys hold shares of it. The first slot is all
/// epochBegin reads: the stake, and the part of it that arrived in epoch `warmEpoch` (it does not
/// count at that epoch's begin).
struct Pool {
    uint96 stake;
    uint96 warming;
    uint64 warmEpoch;
    uint128 shares;
    uint96 rewards; // emission credited to the stakers and not yet harvested
    uint32 generation; // bumped when a slash wipes the pool: older shares are worth nothing
    uint256 rewardPerShare; // cumulative, 2^64 scale
}

/// @dev A coldkey's shares of a pool and the rewards already accounted for.
struct Position {
    uint128 shares;
    uint32 generation;
    uint256 rewardDebt; // shares * rewardPerShare / 2^64 at the last update
}

/// @dev Unstaked tokens of one pool unlocking together (at bucket * width): coldkeys hold shares
/// of it, so a dispute slash reaches every pending withdrawal of the pool in one write.
struct Unbonding {
    uint128 amount;
    uint128 shares;
}

/// @dev One entry of a coldkey's withdrawal queue.
struct Tranche {
    address hotkey;
    uint16 netuid;
    uint48 bucket;
    uint128 shares;
}

/// @dev Protocol-wide token accounting. The contract's balance is exactly
/// staked + withdrawing + claimable + pending + locked.
struct Ledger {
    uint128 staked;
    uint128 withdrawing;
    uint128 claimable; // settled balances + uids' unclaimed + pools' rewards + keeper rewards in flight
    uint128 pending; // emission waiting for an epoch
    uint128 locked; // subnet creation locks
    uint128 entered;
}

/// @notice Protocol parameters, each bounded (see GovernanceLib.validate) and changed only
/// through the governance delay. Durations are in clock units (see IVerity.clock).
struct ProtocolParams {
    uint48 unstakeDelay; // [minUnstakeDelay, 4 * minUnstakeDelay]
    uint48 governanceDelay; // [minGovernanceDelay, 2^32)
    uint48 epochDeadline; // an epoch open this long may be aborted by anyone: [1, 2^32)
    uint16 keeperBps; // share of each epoch's emission paid to whoever runs its stages: <= 500
    uint16 maxSubnets; // live subnets: [1, 4096]
    uint128 minLock; // subnet creation lock floor: <= 1,000,000 VTY
    uint48 lockReductionInterval; // the lock decays from twice the last to the floor over this: >= 1
}

/// @dev A hotkey's take (u16 /65535 of its uids' emission). `set` false: MAX_TAKE, subtensor's default.
struct Take {
    uint16 take;
    uint16 pendingTake;
    uint48 pendingAt; // clock from which pendingTake applies (0: none)
    bool set;
}

/// @dev Everything StakingLib keeps, in one storage struct the core contract passes it.
struct Stakes {
    mapping(uint16 => mapping(address => Pool)) pools;
    mapping(uint16 => mapping(address => mapping(address => Position))) positions;
    // rewardPerShare of a wiped generation, for its positions' last harvest
    mapping(uint16 => mapping(address => mapping(uint32 => uint256))) generationReward;
    mapping(uint16 => mapping(address => mapping(uint48 => Unbonding))) unbonding;
    mapping(address => Tranche[]) queue;
    mapping(address => uint256) queueHead;
    mapping(address => uint256) settled; // claimable balances
    mapping(address => Take) takes;
}

/// @dev Governance state: the parameters in force, the two named roles, and queued changes.
struct Gov {
    ProtocolParams params;
    address guardian;
    address disputeGame;
    mapping(bytes32 => uint48) eta; // queued change id -> clock from which anyone may execute it
    uint256 nonce;
}
