// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IVerity} from "../interfaces/IVerity.sol";
import {Subnet, Neuron, NeuronInfo, NodeInfo, Hyperparams, Ledger} from "./Types.sol";
import {RegistrationLib} from "./RegistrationLib.sol";

/// @title SubnetLib
/// @notice A subnet's lifecycle (creation, the owner's delayed changes) and the views that copy
/// its storage out, kept out of the core contract's code.
library SubnetLib {
    function create(Subnet storage s, uint16 netuid, address owner, Hyperparams calldata p, uint256 now_, uint256 lock)
        external
    {
        RegistrationLib.validate(p);
        s.exists = true;
        s.owner = owner;
        s.params = p;
        // the clock fits 48 bits (IVerity.clock); lock < 2^85 (the supply cap)
        s.createdBlock = uint48(now_);
        s.lastEpochBlock = uint48(now_);
        s.burn = p.burn;
        s.intervalStart = uint48(now_);
        s.locked = uint128(lock);
        emit IVerity.SubnetCreated(netuid, owner, p);
        emit IVerity.SubnetLocked(netuid, lock);
    }

    /// @notice The owner's new hyperparameters wait for the epoch after next to begin (one full
    /// tempo in view of everyone); a new proposal replaces the pending one.
    function propose(Subnet storage s, uint16 netuid, Hyperparams calldata p) external {
        RegistrationLib.validate(p);
        if (p.maxUids < s.n) revert IVerity.InvalidHyperparameter("maxUids");
        s.pendingParams = p;
        s.pendingHasParams = true;
        s.pendingEpoch = s.epochIndex + 1;
        emit IVerity.HyperparamsProposed(netuid, p, s.pendingEpoch);
    }

    /// @notice The first model applies at once, a change waits like propose.
    function setModel(Subnet storage s, uint16 netuid, bytes32 modelRoot) external {
        if (s.modelRoot == bytes32(0)) {
            s.modelRoot = modelRoot;
            emit IVerity.SubnetModelSet(netuid, modelRoot);
        } else {
            s.pendingModel = modelRoot;
            s.pendingEpoch = s.epochIndex + 1;
            emit IVerity.SubnetModelProposed(netuid, modelRoot, s.pendingEpoch);
        }
    }

    /// @notice Applies the owner's changes due at this epoch's begin. Never reverts: a change that
    /// no longer fits (max uids below n) is dropped.
    function applyPending(Subnet storage s, uint16 netuid) external {
        if (s.pendingHasParams) {
            Hyperparams storage p = s.pendingParams;
            if (p.maxUids >= s.n) {
                s.params = p;
                if (s.burn < p.minBurn) s.burn = p.minBurn;
                if (s.burn > p.maxBurn) s.burn = p.maxBurn;
                emit IVerity.HyperparamsSet(netuid, p);
            } else {
                emit IVerity.HyperparamsDropped(netuid);
            }
            delete s.pendingParams;
            s.pendingHasParams = false;
        }
        bytes32 m = s.pendingModel;
        if (m != bytes32(0)) {
            s.modelRoot = m;
            s.pendingModel = bytes32(0);
            emit IVerity.SubnetModelSet(netuid, m);
        }
        s.pendingEpoch = 0;
    }

    /// @notice Marks the subnet dissolved, returns its lock to the owner's claimable balance and
    /// returns its pending emission, which the caller burns. Its emission share is already zero.
    function dissolve(Subnet storage s, Ledger storage L, mapping(address => uint256) storage settled, uint16 netuid)
        external
        returns (uint256 pending)
    {
        s.dissolved = true;
        uint256 lock = s.locked;
        s.locked = 0;
        settled[s.owner] += lock;
        pending = s.pendingEmission;
        s.pendingEmission = 0;
        // lock and pending are parts of the locked and pending totals
        L.locked = uint128(uint256(L.locked) - lock);
        L.pending = uint128(uint256(L.pending) - pending);
        L.claimable = uint128(uint256(L.claimable) + lock);
        emit IVerity.SubnetDissolved(netuid, lock, pending);
    }

    /// @notice Publishes a registered hotkey's libp2p peer id and multiaddrs.
    function serve(
        Subnet storage s,
        uint16 netuid,
        address hotkey,
        bytes calldata peerId,
        string[] calldata multiaddrs,
        uint256 now_
    ) external {
        if (s.uidPlusOne[hotkey] == 0) revert IVerity.NotRegistered(netuid, hotkey);
        NodeInfo storage node = s.nodes[hotkey];
        node.peerId = peerId;
        delete node.multiaddrs;
        for (uint256 i = 0; i < multiaddrs.length; i++) {
            node.multiaddrs.push(multiaddrs[i]);
        }
        node.block = uint64(now_);
        emit IVerity.NodeServed(netuid, hotkey, peerId, multiaddrs);
    }

    /* VIEWS */

    function info(Subnet storage s, uint256 uid) public view returns (NeuronInfo memory out) {
        Neuron storage nr = s.neurons[uid];
        out.hotkey = nr.hotkey;
        out.registrationBlock = nr.registrationBlock;
        out.lastUpdate = nr.lastUpdate;
        out.emission = nr.emission;
        out.stakeWeight = nr.stakeWeight;
        out.consensus = nr.consensus;
        out.incentive = nr.incentive;
        out.dividends = nr.dividends;
        out.validatorTrust = nr.validatorTrust;
        out.validatorPermit = (s.epoch.newPermit[uid >> 8] >> (uid & 255)) & 1 == 1;
        out.active = (s.epoch.active[uid >> 8] >> (uid & 255)) & 1 == 1;
        out.unclaimed = nr.unclaimed;
    }

    function metagraph(Subnet storage s) external view returns (NeuronInfo[] memory out) {
        out = new NeuronInfo[](s.n);
        for (uint256 i = 0; i < out.length; i++) {
            out[i] = info(s, i);
        }
    }

    function bondWords(Subnet storage s) external view returns (uint256[] memory out) {
        uint256 n = s.n;
        uint256 words = (n + 15) >> 4;
        out = new uint256[](n * words);
        for (uint256 i = 0; i < n; i++) {
            for (uint256 k = 0; k < words; k++) {
                out[i * words + k] = s.bonds[i][k];
            }
        }
    }
}
