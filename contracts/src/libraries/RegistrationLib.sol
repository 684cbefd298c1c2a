// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IVerity} from "../interfaces/IVerity.sol";
import {Subnet, Neuron, Hyperparams, WORDS} from "./Types.sol";

/// @title RegistrationLib
/// @notice Burned registration with subtensor's (legacy, burn-only) price control, immunity,
/// pruning of the lowest-emission non-immune uid, and replace_neuron.
library RegistrationLib {
    /// @dev Applies the adjustments due for every AdjustmentInterval that ended since the last one:
    /// new = a*cur + (1-a)*cur*(regs+target)/(2*target), a = adjustmentAlpha/2^64, clamped.
    function currentBurn(Subnet storage s) public view returns (uint256 burn, uint48 intervalStart, uint16 regs) {
        Hyperparams storage p = s.params;
        burn = s.burn;
        intervalStart = s.intervalStart;
        regs = s.regsThisInterval;
        uint256 interval = p.adjustmentInterval;
        if (interval == 0) return (burn, intervalStart, regs);
        uint256 target = p.targetRegistrationsPerInterval;
        uint256 a = p.adjustmentAlpha;
        for (uint256 i = 0; i < 32 && block.number >= uint256(intervalStart) + interval; i++) {
            if (target > 0) {
                uint256 moved = burn * (regs + target) / (2 * target);
                burn = (a * burn + ((uint256(1) << 64) - a) * moved) >> 64;
            }
            if (burn < p.minBurn) burn = p.minBurn;
            if (burn > p.maxBurn) burn = p.maxBurn;
            intervalStart = uint48(intervalStart + interval);
            regs = 0;
        }
        if (block.number >= uint256(intervalStart) + interval) {
            // more than 32 intervals idle: restart the interval at this block
            intervalStart = uint48(block.number);
        }
    }

    /// @notice Registers `hotkey`; returns its uid and the price to burn (the caller burns it).
    function register(
        Subnet storage s,
        mapping(address => uint256) storage settled,
        uint16 netuid,
        address hotkey,
        uint256 maxBurn
    ) external
        returns (uint16 uid, uint256 price)
    {
        if (s.uidPlusOne[hotkey] != 0) revert IVerity.AlreadyRegistered(netuid, hotkey);
        (uint256 burn, uint48 intervalStart, uint16 regs) = currentBurn(s);
        if (burn != s.burn) emit IVerity.BurnAdjusted(netuid, burn);
        Hyperparams storage p = s.params;
        uint16 regsBlock = s.lastRegBlock == block.number ? s.regsThisBlock : 0;
        if (
            (p.maxRegistrationsPerBlock != 0 && regsBlock >= p.maxRegistrationsPerBlock)
                || (p.targetRegistrationsPerInterval != 0 && regs >= 3 * uint256(p.targetRegistrationsPerInterval))
        ) revert IVerity.RegistrationLimit(netuid);
        if (burn > maxBurn) revert IVerity.BurnTooHigh(burn, maxBurn);
        price = burn;

        uint16 n = s.n;
        if (n < p.maxUids) {
            uid = n;
            s.n = n + 1;
        } else {
            uid = _pruneCandidate(s, netuid);
            _replace(s, settled, netuid, uid);
        }
        Neuron storage nr = s.neurons[uid];
        nr.hotkey = hotkey;
        nr.registrationBlock = uint48(block.number);
        nr.lastUpdate = uint48(block.number);
        s.uidPlusOne[hotkey] = uint256(uid) + 1;

        s.burn = uint128(burn);
        s.intervalStart = intervalStart;
        s.regsThisInterval = regs + 1;
        s.lastRegBlock = uint48(block.number);
        s.regsThisBlock = regsBlock + 1;
        emit IVerity.NeuronRegistered(netuid, uid, hotkey, price);
    }

    /// @dev Lowest (emission, registration block, uid) among non-immune uids; the owner's hotkey is never pruned.
    function _pruneCandidate(Subnet storage s, uint16 netuid) private view returns (uint16) {
        uint256 n = s.n;
        uint256 immunity = s.params.immunityPeriod;
        address owner = s.owner;
        uint256 best = type(uint256).max;
        uint256 bestUid = type(uint256).max;
        for (uint256 i = 0; i < n; i++) {
            Neuron storage nr = s.neurons[i];
            uint256 reg = nr.registrationBlock;
            if (block.number - reg < immunity) continue;
            if (nr.hotkey == owner) continue;
            uint256 key = (uint256(nr.emission) << 64) | (reg << 16) | i;
            if (key < best) {
                best = key;
                bestUid = i;
            }
        }
        if (bestUid == type(uint256).max) revert IVerity.NoNeuronAvailable(netuid);
        return uint16(bestUid);
    }

    /// @dev replace_neuron: the uid's weights, bonds, commits, node and outputs are cleared; other
    /// rows keep an entry on it but with value 0.
    function _replace(Subnet storage s, mapping(address => uint256) storage settled, uint16 netuid, uint16 uid)
        private
    {
        Neuron storage nr = s.neurons[uid];
        address old = nr.hotkey;
        // the old hotkey keeps what the uid earned
        settled[old] += nr.unclaimed;
        nr.unclaimed = 0;
        delete s.uidPlusOne[old];
        delete s.nodes[old];
        uint256 n = s.n;
        uint256 words = (n + 15) >> 4;
        for (uint256 k = 0; k < words; k++) {
            if (s.weights[uid][k] != 0) s.weights[uid][k] = 0;
            if (s.bonds[uid][k] != 0) s.bonds[uid][k] = 0;
        }
        delete s.weightMask[uid];
        for (uint256 c = 0; c < s.commitCount[uid]; c++) {
            delete s.commits[uid][c];
        }
        s.commitCount[uid] = 0;
        uint256 word = uid >> 4;
        uint256 shift = (uint256(uid) & 15) << 4;
        uint256 clear = ~(uint256(0xffff) << shift);
        s.rowRawSum[uid] = 0;
        for (uint256 i = 0; i < n; i++) {
            uint256 w = s.weights[i][word];
            uint256 v = (w >> shift) & 0xffff;
            if (v != 0) {
                s.weights[i][word] = w & clear;
                s.rowRawSum[i] -= uint32(v);
            }
        }
        nr.emission = 0;
        nr.stakeWeight = 0;
        nr.consensus = 0;
        nr.incentive = 0;
        nr.dividends = 0;
        nr.validatorTrust = 0;
        // the permit bitmap the next epoch begins from (registration waits for an idle epoch)
        s.epoch.newPermit[uid >> 8] &= ~(uint256(1) << (uid & 255));
        s.epoch.active[uid >> 8] &= ~(uint256(1) << (uid & 255));
        emit IVerity.NeuronReplaced(netuid, uid, old);
    }

    /// @notice do_reset_bonds: removes column `uid` from every bond row (when bondsResetOn).
    function resetBonds(Subnet storage s, uint16 netuid, uint16 uid) external {
        if (!s.params.bondsResetOn) return;
        uint256 n = s.n;
        uint256 word = uid >> 4;
        uint256 clear = ~(uint256(0xffff) << ((uint256(uid) & 15) << 4));
        for (uint256 i = 0; i < n; i++) {
            uint256 w = s.bonds[i][word];
            if (w & ~clear != 0) s.bonds[i][word] = w & clear;
        }
        emit IVerity.BondsReset(netuid, uid);
    }

    /// @notice The stored bond row of `uid` (u16 per column).
    function bondsOf(Subnet storage s, uint16 uid) external view returns (uint16[] memory row) {
        uint256 n = s.n;
        row = new uint16[](n);
        for (uint256 j = 0; j < n; j++) {
            row[j] = uint16(s.bonds[uid][j >> 4] >> ((j & 15) << 4));
        }
    }

    function validate(Hyperparams calldata p) external pure {
        if (p.tempo == 0) revert IVerity.InvalidHyperparameter("tempo");
        if (p.maxUids == 0 || p.maxUids > 512) revert IVerity.InvalidHyperparameter("maxUids");
        if (p.maxValidators == 0 || p.maxValidators > 128) revert IVerity.InvalidHyperparameter("maxValidators");
        if (p.bondsMovingAverage > 1_000_000) revert IVerity.InvalidHyperparameter("bondsMovingAverage");
        if (p.alphaHigh < 1638) revert IVerity.InvalidHyperparameter("alphaHigh");
        if (p.alphaLow < 1638 || p.alphaLow > p.alphaHigh) revert IVerity.InvalidHyperparameter("alphaLow");
        if (p.revealPeriodEpochs == 0 || p.revealPeriodEpochs > 100) {
            revert IVerity.InvalidHyperparameter("revealPeriodEpochs");
        }
        if (p.minBurn > p.maxBurn || p.burn < p.minBurn || p.burn > p.maxBurn) {
            revert IVerity.InvalidHyperparameter("burn");
        }
    }
}
