// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Announcement, Competition, IModelCompetition, ModelCommit} from "./IModelCompetition.sol";

/// @dev The views of the Verity core this contract reads (IVerity): subnet owner and state,
/// hotkey registration.
interface ICompetitionCore {
    function subnetInfo(uint16 netuid)
        external
        view
        returns (address, uint16, bytes32, uint48, uint64 epochIndex, uint128, uint128);
    function subnetEconomics(uint16 netuid) external view returns (uint16, uint128, bool dissolved);
    function uidOf(uint16 netuid, address hotkey) external view returns (uint16);
}

/// @title ModelCompetition
/// @notice Commitments of models to competition subnets (see IModelCompetition). Ownership and
/// registration are the Verity core's: this contract keeps no list of its own and has no owner.
contract ModelCompetition is IModelCompetition {
    uint32 internal constant PPM = 1_000_000;

    ICompetitionCore public immutable core;

    mapping(uint16 => Competition) internal competitions;
    mapping(uint16 => mapping(address => ModelCommit)) internal commits;
    /// @dev netuid => modelRoot or fileHash => the hotkey that committed it first.
    mapping(uint16 => mapping(bytes32 => address)) internal firstBy;
    mapping(uint16 => uint64) internal counts;
    mapping(uint16 => mapping(address => Announcement)) internal announcements;

    constructor(ICompetitionCore core_) {
        if (address(core_) == address(0)) revert InvalidParam("core");
        core = core_;
    }

    /// @inheritdoc IModelCompetition
    function declareCompetition(
        uint16 netuid,
        bytes32 evalSpecHash,
        uint64 maxParams,
        uint32 epsilonPpm,
        uint32 minCommitAge
    ) external {
        // reverts SubnetNotFound (the core's error) for an unknown netuid
        (address owner,,,, uint64 epochIndex,,) = core.subnetInfo(netuid);
        if (msg.sender != owner) revert NotSubnetOwner(netuid, msg.sender, owner);
        _live(netuid);
        if (competitions[netuid].declaredAt != 0) revert AlreadyDeclared(netuid);
        // Before the first epoch: the subnet never paid emission under other rules, which makes
        // the declaration equivalent to a choice at creation (and commitments need it, so none exist).
        if (epochIndex != 0) revert SubnetAlreadyStarted(netuid, epochIndex);
        if (evalSpecHash == bytes32(0)) revert InvalidParam("evalSpecHash");
        if (maxParams == 0) revert InvalidParam("maxParams");
        if (epsilonPpm >= PPM) revert InvalidParam("epsilonPpm");
        competitions[netuid] = Competition({
            evalSpecHash: evalSpecHash,
            maxParams: maxParams,
            epsilonPpm: epsilonPpm,
            minCommitAge: minCommitAge,
            declaredAt: uint64(block.number)
        });
        emit CompetitionDeclared(netuid, evalSpecHash, maxParams, epsilonPpm, minCommitAge);
    }

    /// @inheritdoc IModelCompetition
    function announceModel(uint16 netuid, bytes32 commitment) external {
        if (competitions[netuid].declaredAt == 0) revert NotCompetition(netuid);
        _live(netuid);
        _registered(netuid);
        if (commitment == bytes32(0)) revert InvalidParam("commitment");
        announcements[netuid][msg.sender] = Announcement(commitment, uint64(block.number));
        emit ModelAnnounced(netuid, msg.sender, commitment);
    }

    /// @inheritdoc IModelCompetition
    function commitModel(uint16 netuid, bytes32 modelRoot, bytes32 fileHash, uint64 size, uint64 params, bytes32 salt)
        external
    {
        Competition storage c = competitions[netuid];
        if (c.declaredAt == 0) revert NotCompetition(netuid);
        _live(netuid);
        _registered(netuid);
        if (modelRoot == bytes32(0)) revert InvalidParam("modelRoot");
        if (fileHash == bytes32(0)) revert InvalidParam("fileHash");
        if (size == 0) revert InvalidParam("size");
        if (params == 0) revert InvalidParam("params");
        if (params > c.maxParams) revert ParamsOverLimit(params, c.maxParams);
        ModelCommit storage old = commits[netuid][msg.sender];
        if (old.modelRoot == modelRoot && old.fileHash == fileHash) revert SameModel(netuid, msg.sender, modelRoot);
        Announcement memory a = announcements[netuid][msg.sender];
        if (a.commitment != modelCommitment(netuid, msg.sender, modelRoot, fileHash, size, params, salt)) {
            revert NotAnnounced(netuid, msg.sender);
        }
        // Announced in this block, it could have been copied from a commitment in the mempool.
        if (a.announcedBlock >= block.number) revert AnnouncedThisBlock(netuid, a.announcedBlock);
        delete announcements[netuid][msg.sender];

        address copyOf = _claim(netuid, modelRoot);
        address fileCopyOf = _claim(netuid, fileHash);
        if (copyOf == address(0)) copyOf = fileCopyOf;
        uint64 seq = counts[netuid]++;
        commits[netuid][msg.sender] = ModelCommit({
            modelRoot: modelRoot,
            fileHash: fileHash,
            size: size,
            params: params,
            commitBlock: uint64(block.number),
            seq: seq,
            copyOf: copyOf
        });
        emit ModelCommitted(netuid, msg.sender, modelRoot, fileHash, size, params, seq, copyOf);
    }

    /* VIEWS */

    /// @inheritdoc IModelCompetition
    function modelCommitment(
        uint16 netuid,
        address hotkey,
        bytes32 modelRoot,
        bytes32 fileHash,
        uint64 size,
        uint64 params,
        bytes32 salt
    ) public pure returns (bytes32) {
        return keccak256(abi.encode(netuid, hotkey, modelRoot, fileHash, size, params, salt));
    }

    /// @inheritdoc IModelCompetition
    function announcementOf(uint16 netuid, address hotkey) external view returns (Announcement memory) {
        return announcements[netuid][hotkey];
    }

    /// @inheritdoc IModelCompetition
    function competition(uint16 netuid) external view returns (Competition memory) {
        return competitions[netuid];
    }

    /// @inheritdoc IModelCompetition
    function commitOf(uint16 netuid, address hotkey) external view returns (ModelCommit memory) {
        return commits[netuid][hotkey];
    }

    /// @inheritdoc IModelCompetition
    function commitsOf(uint16 netuid, address[] calldata hotkeys) external view returns (ModelCommit[] memory out) {
        out = new ModelCommit[](hotkeys.length);
        for (uint256 i = 0; i < hotkeys.length; i++) {
            out[i] = commits[netuid][hotkeys[i]];
        }
    }

    /// @inheritdoc IModelCompetition
    function firstCommitter(uint16 netuid, bytes32 key) external view returns (address) {
        return firstBy[netuid][key];
    }

    /// @inheritdoc IModelCompetition
    function commitCount(uint16 netuid) external view returns (uint64) {
        return counts[netuid];
    }

    /* INTERNALS */

    function _registered(uint16 netuid) private view {
        try core.uidOf(netuid, msg.sender) returns (uint16) {}
        catch {
            revert NotRegistered(netuid, msg.sender);
        }
    }

    function _live(uint16 netuid) private view {
        (,, bool dissolved) = core.subnetEconomics(netuid);
        if (dissolved) revert SubnetDissolved(netuid);
    }

    /// Records the caller as the first committer of `key` if nobody is; returns the first
    /// committer when it is another hotkey (the caller's commitment is then a copy).
    function _claim(uint16 netuid, bytes32 key) private returns (address other) {
        address first = firstBy[netuid][key];
        if (first == address(0)) {
            firstBy[netuid][key] = msg.sender;
            return address(0);
        }
        return first == msg.sender ? address(0) : first;
    }
}
