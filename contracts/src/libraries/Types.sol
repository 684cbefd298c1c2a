// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @dev Hard limits of the on-chain epoch.
uint256 constant MAX_UIDS = 512;
uint256 constant MAX_VALIDATORS = 128;
uint256 constant WORDS = MAX_UIDS / 16; // u16 words per row
uint256 constant MAX_COMMITS = 10;

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

/// @dev Working state of an epoch that spans several transactions.
struct EpochState {
    uint8 stage; // 0 idle, 1 consensus, 2 bonds, 3 finish
    uint48 block;
    uint16 n;
    uint16 rows;
    uint16 nextCol;
    bool anyConsensus;
    uint128 emission;
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
    uint48 lastEpochBlock;
    uint64 epochIndex;
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
    uint48 lastAccrualBlock;
    uint16 emissionShare; // basis points of the block emission
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
}

/// @dev A hotkey's stake pool: coldkeys hold shares of it.
struct Pool {
    uint128 stake;
    uint128 shares;
}
