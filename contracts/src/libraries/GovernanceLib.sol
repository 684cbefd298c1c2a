// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IVerity} from "../interfaces/IVerity.sol";
import {Gov, ProtocolParams} from "./Types.sol";
import {ProtocolLib} from "./ProtocolLib.sol";

/// @title GovernanceLib
/// @notice The protocol's own timelock: the owner queues a typed change, anyone executes it once
/// its delay has passed, the owner or the guardian may cancel it. Every change is checked against
/// its bounds when queued and again when executed. Kinds: 0 protocol parameters, 1 a subnet's
/// emission share (checked and applied by the core contract, which holds the subnets), 2 the
/// dispute game, 3 the guardian.
library GovernanceLib {
    using SafeCast for uint256;

    uint8 internal constant PARAMS = 0;
    uint8 internal constant SHARE = 1;
    uint8 internal constant GAME = 2;
    uint8 internal constant GUARDIAN = 3;

    /// @notice Records a checked change; `exitDelay` is the longest time a withdrawal can take,
    /// the least a new dispute game waits so that stakers can leave before it can slash them.
    function queue(Gov storage g, uint8 kind, bytes calldata data, uint256 now_, uint256 exitDelay)
        external
        returns (bytes32 id, uint48 eta)
    {
        uint256 nonce = g.nonce++;
        id = keccak256(abi.encode(kind, data, nonce));
        uint256 delay = g.params.governanceDelay;
        if (kind == GAME && exitDelay > delay) delay = exitDelay;
        eta = (now_ + delay).toUint48();
        g.eta[id] = eta;
        emit IVerity.ChangeQueued(id, kind, data, nonce, eta);
    }

    /// @notice Removes a queued change whose time has come and returns its id.
    function consume(Gov storage g, uint8 kind, bytes calldata data, uint256 nonce, uint256 now_)
        external
        returns (bytes32 id)
    {
        id = keccak256(abi.encode(kind, data, nonce));
        uint48 eta = g.eta[id];
        if (eta == 0) revert IVerity.ChangeNotQueued(id);
        if (now_ < eta) revert IVerity.ChangeNotReady(id, eta);
        delete g.eta[id];
    }

    /// @notice Drops a queued change. The guardian may veto any change but its own replacement,
    /// so that a hostile guardian cannot block the governance that removes it.
    function cancel(Gov storage g, uint8 kind, bytes calldata data, uint256 nonce, bool byOwner) external {
        if (!byOwner && kind == GUARDIAN) revert IVerity.NotOwnerOrGuardian(msg.sender);
        bytes32 id = keccak256(abi.encode(kind, data, nonce));
        if (g.eta[id] == 0) revert IVerity.ChangeNotQueued(id);
        delete g.eta[id];
        emit IVerity.ChangeCancelled(id, msg.sender);
    }

    /// @notice Reverts unless a change of kind 0, 2 or 3 is well formed and within bounds.
    function check(uint8 kind, bytes calldata data, uint48 minUnstakeDelay, uint48 minGovernanceDelay)
        external
        pure
    {
        if (kind == PARAMS) {
            ProtocolLib.validate(abi.decode(data, (ProtocolParams)), minUnstakeDelay, minGovernanceDelay);
        } else if (kind == GAME || kind == GUARDIAN) {
            abi.decode(data, (address));
        } else {
            revert IVerity.UnknownChange(kind);
        }
    }

    /// @notice Applies a change of kind 0, 2 or 3 (checked by `check`).
    function apply_(Gov storage g, uint8 kind, bytes calldata data) external {
        if (kind == PARAMS) {
            ProtocolParams memory p = abi.decode(data, (ProtocolParams));
            g.params = p;
            emit IVerity.ProtocolParamsSet(p);
        } else if (kind == GAME) {
            address game = abi.decode(data, (address));
            g.disputeGame = game;
            emit IVerity.DisputeGameSet(game);
        } else {
            address guardian = abi.decode(data, (address));
            g.guardian = guardian;
            emit IVerity.GuardianSet(guardian);
        }
    }
}
