// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IVerity} from "../interfaces/IVerity.sol";
import {ProtocolParams, Subnet, Ledger} from "./Types.sol";
import {EmissionLib} from "./EmissionLib.sol";

/// @title ProtocolLib
/// @notice Protocol-wide rules: the bounds on every governance parameter, the global emission
/// schedule, and the subnet creation lock.
library ProtocolLib {
    using SafeCast for uint256;

    /// @dev VerityToken's cap and base emission (per block; per 12 s in timestamp mode).
    uint256 internal constant CAP = 21_000_000 ether;
    uint256 internal constant BASE = 1 ether;
    uint256 internal constant SECONDS_PER_BLOCK = 12;
    uint256 internal constant MAX_KEEPER_BPS = 500;
    uint256 internal constant MAX_SUBNETS = 4096;
    uint256 internal constant MAX_MIN_LOCK = 1_000_000 ether;
    uint256 internal constant MAX_DURATION = 1 << 32;

    /// @dev The global emission schedule: `index` is the emission a 100% share would have
    /// received so far; a subnet with share s is owed s * (index - its snapshot).
    struct Emission {
        uint256 index;
        uint48 lastClock;
        uint128 scheduled; // everything the index has handed to shares so far
        uint128 minted; // what subnets have minted of it
    }

    /// @notice Reverts with the name of the first parameter out of its bounds.
    function validate(ProtocolParams memory p, uint48 minUnstakeDelay, uint48 minGovernanceDelay) external pure {
        if (p.unstakeDelay < minUnstakeDelay || p.unstakeDelay > 4 * uint256(minUnstakeDelay)) {
            revert IVerity.InvalidProtocolParameter("unstakeDelay");
        }
        if (p.governanceDelay < minGovernanceDelay || p.governanceDelay >= MAX_DURATION) {
            revert IVerity.InvalidProtocolParameter("governanceDelay");
        }
        if (p.epochDeadline == 0 || p.epochDeadline >= MAX_DURATION) {
            revert IVerity.InvalidProtocolParameter("epochDeadline");
        }
        if (p.keeperBps > MAX_KEEPER_BPS) revert IVerity.InvalidProtocolParameter("keeperBps");
        if (p.maxSubnets == 0 || p.maxSubnets > MAX_SUBNETS) revert IVerity.InvalidProtocolParameter("maxSubnets");
        if (p.minLock == 0 || p.minLock > MAX_MIN_LOCK) revert IVerity.InvalidProtocolParameter("minLock");
        if (p.lockReductionInterval == 0 || p.lockReductionInterval >= MAX_DURATION) {
            revert IVerity.InvalidProtocolParameter("lockReductionInterval");
        }
    }

    /// @notice Advances the index to `now_`. Issuance for the halving schedule is the tokens minted
    /// outside the protocol (genesis) plus everything scheduled, minted by its subnet or not, so
    /// the rate depends only on time and shares, never on which subnet accrued when. An interval
    /// that crosses a halving is split at it. `totalShare` must not have changed since the last call.
    function accrueGlobal(Emission storage em, uint256 totalShare, uint256 totalMinted, uint256 now_, bool timestamps)
        external
    {
        uint256 last = em.lastClock;
        if (now_ <= last) return;
        uint256 div = timestamps ? SECONDS_PER_BLOCK : 1;
        uint256 units = (now_ - last) / div;
        if (units == 0) return;
        em.lastClock = (last + units * div).toUint48();
        // nothing is emitted while no subnet has a share
        if (totalShare == 0) return;
        uint256 scheduled = em.scheduled;
        uint256 issuance = totalMinted - em.minted + scheduled;
        uint256 index = em.index;
        while (units != 0) {
            uint256 rate = EmissionLib.blockEmission(BASE, CAP, issuance);
            if (rate == 0) break;
            uint256 perUnit = rate * totalShare / 10_000;
            uint256 step = units;
            if (perUnit != 0) {
                uint256 gap = EmissionLib.nextHalving(CAP, issuance) - issuance;
                uint256 need = (gap + perUnit - 1) / perUnit;
                if (need < step) step = need;
            }
            index += rate * step;
            uint256 grown = perUnit * step;
            issuance += grown;
            scheduled += grown;
            units -= step;
        }
        em.index = index;
        em.scheduled = scheduled.toUint128();
    }

    /// @notice Credits a subnet its share of the index since its last accrual (the owner cut to
    /// the owner's claimable balance) and returns the amount the caller must mint.
    function accrue(
        Subnet storage s,
        Emission storage em,
        Ledger storage L,
        mapping(address => uint256) storage settled,
        uint16 netuid,
        uint256 totalMinted,
        uint256 totalSupply
    ) external returns (uint256 amount) {
        uint256 index = em.index;
        amount = (index - s.emissionIndex) * s.emissionShare / 10_000;
        s.emissionIndex = index;
        uint256 room = CAP - totalSupply;
        if (amount > room) amount = room;
        if (amount == 0) return 0;
        uint256 cut = amount * s.params.ownerCut / 65535;
        s.pendingEmission = (uint256(s.pendingEmission) + amount - cut).toUint128();
        L.pending = (uint256(L.pending) + amount - cut).toUint128();
        if (cut != 0) {
            settled[s.owner] += cut;
            L.claimable = (uint256(L.claimable) + cut).toUint128();
        }
        em.minted = (uint256(em.minted) + amount).toUint128();
        emit IVerity.EmissionAccrued(netuid, amount, cut);
    }

    /// @notice subtensor's network lock cost: twice the last lock, decaying linearly by the last
    /// lock over `interval`, never below `minLock`.
    function lockCost(uint256 lastLock, uint256 lastClock, uint256 now_, uint256 minLock, uint256 interval)
        internal
        pure
        returns (uint256)
    {
        uint256 doubled = 2 * lastLock;
        uint256 decay = lastLock * (now_ - lastClock) / interval;
        uint256 cost = doubled > decay ? doubled - decay : 0;
        return cost < minLock ? minLock : cost;
    }
}
