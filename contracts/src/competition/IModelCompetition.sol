// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @dev A subnet's competition rules, fixed once by its owner before the subnet's first epoch.
struct Competition {
    /// @dev sha256 of the evaluation spec validators run (corpus hash, passages, verses, tokens).
    bytes32 evalSpecHash;
    /// @dev Largest parameter count a commitment may declare.
    uint64 maxParams;
    /// @dev A later model must beat an earlier one by more than this, in ppm of its loss (< 10^6).
    uint32 epsilonPpm;
    /// @dev Blocks a commitment must be older than the block whose hash seeds an evaluation.
    uint32 minCommitAge;
    /// @dev Block of the declaration; 0: the subnet is not a competition.
    uint64 declaredAt;
}

/// @dev A hotkey's current model. `copyOf` is the hotkey that first committed the same
/// modelRoot or fileHash on the subnet (address(0): this commitment is the first).
struct ModelCommit {
    bytes32 modelRoot;
    bytes32 fileHash;
    uint64 size;
    uint64 params;
    uint64 commitBlock;
    /// @dev The subnet's commitment counter at this commit: transaction order, also within a block.
    uint64 seq;
    address copyOf;
}

/// @dev A hotkey's hidden announcement of the model it will commit, and the block it was made in.
struct Announcement {
    /// @dev modelCommitment(netuid, hotkey, modelRoot, fileHash, size, params, salt).
    bytes32 commitment;
    uint64 announcedBlock;
}

/// @title Model competition subnets: developers commit models, validators score them
/// @notice A subnet owner declares its subnet a model competition once, before the subnet's first
/// epoch (so no emission ever flowed under other rules) and before any commitment; the rules are
/// immutable after. Registered hotkeys commit a model (its modelRoot, the file's sha256, size and
/// parameter count); the commit block orders them (earlier wins ties). A commitment must be
/// announced first, as a hash bound to the hotkey and a salt, in an earlier block: a commitment
/// in the mempool shows its modelRoot, and without the announcement anyone could copy it into a
/// transaction of their own ahead of it and be recorded as the original. A later commitment of a
/// modelRoot or fileHash that another hotkey committed first is recorded with `copyOf` set, and
/// validators give it no weight. No account has any power over anything here: there are no funds,
/// no owner, no upgrade.
interface IModelCompetition {
    event CompetitionDeclared(
        uint16 indexed netuid, bytes32 evalSpecHash, uint64 maxParams, uint32 epsilonPpm, uint32 minCommitAge
    );
    event ModelCommitted(
        uint16 indexed netuid,
        address indexed hotkey,
        bytes32 indexed modelRoot,
        bytes32 fileHash,
        uint64 size,
        uint64 params,
        uint64 seq,
        address copyOf
    );

    error NotSubnetOwner(uint16 netuid, address caller, address owner);
    error SubnetDissolved(uint16 netuid);
    error SubnetAlreadyStarted(uint16 netuid, uint64 epochIndex);
    error AlreadyDeclared(uint16 netuid);
    error NotCompetition(uint16 netuid);
    error NotRegistered(uint16 netuid, address hotkey);
    error InvalidParam(string name);
    error ParamsOverLimit(uint64 params, uint64 maxParams);
    error SameModel(uint16 netuid, address hotkey, bytes32 modelRoot);
    error NotAnnounced(uint16 netuid, address hotkey);
    error AnnouncedThisBlock(uint16 netuid, uint64 announcedBlock);

    event ModelAnnounced(uint16 indexed netuid, address indexed hotkey, bytes32 commitment);

    /// @notice Makes `netuid` a model competition (its owner, once, before its first epoch).
    function declareCompetition(
        uint16 netuid,
        bytes32 evalSpecHash,
        uint64 maxParams,
        uint32 epsilonPpm,
        uint32 minCommitAge
    ) external;

    /// @notice Announces the model the caller (a registered hotkey) will commit on `netuid`, as
    /// `modelCommitment(...)`; replaces its previous announcement. Reveals nothing.
    function announceModel(uint16 netuid, bytes32 commitment) external;

    /// @notice Commits the caller's model on `netuid` (the caller must be a registered hotkey),
    /// revealing the announcement it made in an earlier block (which is then used up); replaces
    /// its previous commitment, which loses its block. Re-committing the same model reverts.
    function commitModel(uint16 netuid, bytes32 modelRoot, bytes32 fileHash, uint64 size, uint64 params, bytes32 salt)
        external;

    /// @notice What `announceModel` takes: keccak256(abi.encode(netuid, hotkey, modelRoot,
    /// fileHash, size, params, salt)). The hotkey is in it, so an announcement copied by another
    /// hotkey can never be revealed.
    function modelCommitment(
        uint16 netuid,
        address hotkey,
        bytes32 modelRoot,
        bytes32 fileHash,
        uint64 size,
        uint64 params,
        bytes32 salt
    ) external pure returns (bytes32);

    /// @notice A hotkey's pending announcement (announcedBlock 0: none).
    function announcementOf(uint16 netuid, address hotkey) external view returns (Announcement memory);

    /// @notice The competition rules of `netuid` (declaredAt 0: not a competition).
    function competition(uint16 netuid) external view returns (Competition memory);

    /// @notice A hotkey's current commitment (commitBlock 0: none).
    function commitOf(uint16 netuid, address hotkey) external view returns (ModelCommit memory);

    /// @notice The current commitments of `hotkeys`, in the same order (validators pass the metagraph's).
    function commitsOf(uint16 netuid, address[] calldata hotkeys) external view returns (ModelCommit[] memory);

    /// @notice The hotkey that first committed `key` (a modelRoot or a fileHash) on `netuid`.
    function firstCommitter(uint16 netuid, bytes32 key) external view returns (address);

    /// @notice Commitments made on `netuid` so far (the next one's seq).
    function commitCount(uint16 netuid) external view returns (uint64);
}
