// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IVerity} from "../interfaces/IVerity.sol";
import {
    Subnet,
    Neuron,
    Hyperparams,
    WORDS,
    MAX_OWNER_CUT,
    MAX_REGISTRATION_BURN,
    MAX_STAKE_THRESHOLD,
    MIN_MAX_WEIGHT_LIMIT,
    MAX_IMMUNITY_TEMPOS,
    MAX_REVEAL_PERIOD
} from "./Types.sol";

/// @title RegistrationLib
/// @notice Burned registration with subtensor's (legacy, burn-only) price control, immunity,
/// pruning of the lowest-emission non-immune uid, and replace_neuron. `now_` is the protocol clock.
library RegistrationLib {
    /// @dev Applies the adjustments due for every AdjustmentInterval that ended since the last one:
    /// new = a*cur + (1-a)*cur*(regs+target)/(2*target), a = adjustmentAlpha/2^64, clamped.
    function currentBurn(Subnet storage s, uint256 now_)
        public
        view
        returns (uint256 burn, uint48 intervalStart, uint16 regs)
    {
        Hyperparams storage p = s.params;
        burn = s.burn;
        intervalStart = s.intervalStart;
        regs = s.regsThisInterval;
        uint256 interval = p.adjustmentInterval;
        if (interval == 0) return (burn, intervalStart, regs);
        uint256 target = p.targetRegistrationsPerInterval;
        uint256 a = p.adjustmentAlpha;
        for (uint256 i = 0; i < 32 && now_ >= uint256(intervalStart) + interval; i++) {
            if (target > 0) {
                uint256 moved = burn * (regs + target) / (2 * target);
                burn = (a * burn + ((uint256(1) << 64) - a) * moved) >> 64;
            }
            if (burn < p.minBurn) burn = p.minBurn;
            if (burn > p.maxBurn) burn = p.maxBurn;
            // < now_, which fits 48 bits
            intervalStart = uint48(intervalStart + interval);
            regs = 0;
        }
        if (now_ >= uint256(intervalStart) + interval) {
            // more than 32 intervals idle: restart the interval now
            intervalStart = uint48(now_);
        }
    }

    /// @notice Registers `hotkey`; returns its uid and the price to burn (the caller burns it). When
    /// a uid is replaced, returns its old hotkey and the emission it had not swept (now zero on
    /// the uid): the caller distributes it.
    function register(Subnet storage s, uint16 netuid, address hotkey, uint256 maxBurn, uint256 now_)
        external
        returns (uint16 uid, uint256 price, address replaced, uint256 unclaimed)
    {
        if (s.uidPlusOne[hotkey] != 0) revert IVerity.AlreadyRegistered(netuid, hotkey);
        (uint256 burn, uint48 intervalStart, uint16 regs) = currentBurn(s, now_);
        if (burn != s.burn) emit IVerity.BurnAdjusted(netuid, burn);
        Hyperparams storage p = s.params;
        uint16 regsBlock = s.lastRegBlock == now_ ? s.regsThisBlock : 0;
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
            uid = _pruneCandidate(s, netuid, now_);
            (replaced, unclaimed) = _replace(s, netuid, uid);
        }
        Neuron storage nr = s.neurons[uid];
        nr.hotkey = hotkey;
        // the clock fits 48 bits (IVerity.clock)
        nr.registrationBlock = uint48(now_);
        nr.lastUpdate = uint48(now_);
        s.uidPlusOne[hotkey] = uint256(uid) + 1;

        s.burn = uint128(burn); // <= maxBurn <= MAX_REGISTRATION_BURN
        s.intervalStart = intervalStart;
        // both counts are checked against u16 limits above, or unlimited and saturating here
        s.regsThisInterval = regs == type(uint16).max ? regs : regs + 1;
        s.lastRegBlock = uint48(now_);
        s.regsThisBlock = regsBlock == type(uint16).max ? regsBlock : regsBlock + 1;
        emit IVerity.NeuronRegistered(netuid, uid, hotkey, price);
    }

    /// @dev Lowest (emission, registration block, uid) among non-immune uids; the owner's hotkey is never pruned.
    function _pruneCandidate(Subnet storage s, uint16 netuid, uint256 now_) private view returns (uint16) {
        uint256 n = s.n;
        uint256 immunity = s.params.immunityPeriod;
        address owner = s.owner;
        uint256 best = type(uint256).max;
        uint256 bestUid = type(uint256).max;
        for (uint256 i = 0; i < n; i++) {
            Neuron storage nr = s.neurons[i];
            uint256 reg = nr.registrationBlock;
            if (now_ - reg < immunity) continue;
            if (nr.hotkey == owner) continue;
            uint256 key = (uint256(nr.emission) << 64) | (reg << 16) | i;
            if (key < best) {
                best = key;
                bestUid = i;
            }
        }
        if (bestUid == type(uint256).max) revert IVerity.NoNeuronAvailable(netuid);
        return uint16(bestUid); // < n <= 512
    }

    /// @dev replace_neuron: the uid's weights, bonds, commits, node and outputs are cleared; other
    /// rows keep an entry on it but with value 0. Other rows' bonds on its column are cleared too:
    /// the epoch's recently-registered mask (last_tempo = block - tempo) misses a registration
    /// older than one tempo when the epoch is late, and the newcomer would inherit the column.
    function _replace(Subnet storage s, uint16 netuid, uint16 uid) private returns (address old, uint256 unclaimed) {
        Neuron storage nr = s.neurons[uid];
        old = nr.hotkey;
        // the old hotkey and its stakers keep what the uid earned: the caller distributes it
        unclaimed = nr.unclaimed;
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
        // only rows holding a permit carry bonds (a row losing its permit is emptied)
        for (uint256 h = 0; h < 2; h++) {
            uint256 bits = s.epoch.newPermit[h];
            while (bits != 0) {
                uint256 low = bits & (~bits + 1);
                uint256 i = (h << 8) | _log2(low);
                bits ^= low;
                uint256 b = s.bonds[i][word];
                if (b & ~clear != 0) s.bonds[i][word] = b & clear;
            }
        }
        emit IVerity.NeuronReplaced(netuid, uid, old);
    }

    function _log2(uint256 x) private pure returns (uint256 r) {
        // x is a power of two
        for (uint256 k = 128; k > 0; k >>= 1) {
            if (x >> k != 0) {
                x >>= k;
                r += k;
            }
        }
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

    /// @notice Bounds on what a subnet owner may set, beyond subtensor's own checks: the owner cut,
    /// and every knob that could freeze registration (immunity, burn) or weights (stake threshold,
    /// rate limit, max weight limit, reveal period).
    function validate(Hyperparams calldata p) external pure {
        if (p.tempo == 0) revert IVerity.InvalidHyperparameter("tempo");
        if (p.ownerCut > MAX_OWNER_CUT) revert IVerity.InvalidHyperparameter("ownerCut");
        if (p.maxBurn > MAX_REGISTRATION_BURN) revert IVerity.InvalidHyperparameter("maxBurn");
        if (p.stakeThreshold > MAX_STAKE_THRESHOLD) revert IVerity.InvalidHyperparameter("stakeThreshold");
        if (p.maxWeightLimit < MIN_MAX_WEIGHT_LIMIT) revert IVerity.InvalidHyperparameter("maxWeightLimit");
        if (p.immunityPeriod > MAX_IMMUNITY_TEMPOS * p.tempo) revert IVerity.InvalidHyperparameter("immunityPeriod");
        if (p.weightsRateLimit > p.tempo) revert IVerity.InvalidHyperparameter("weightsRateLimit");
        if (p.maxUids == 0 || p.maxUids > 512) revert IVerity.InvalidHyperparameter("maxUids");
        if (p.maxValidators == 0 || p.maxValidators > 128) revert IVerity.InvalidHyperparameter("maxValidators");
        if (p.bondsMovingAverage > 1_000_000) revert IVerity.InvalidHyperparameter("bondsMovingAverage");
        if (p.alphaHigh < 1638) revert IVerity.InvalidHyperparameter("alphaHigh");
        if (p.alphaLow < 1638 || p.alphaLow > p.alphaHigh) revert IVerity.InvalidHyperparameter("alphaLow");
        if (p.revealPeriodEpochs == 0 || p.revealPeriodEpochs > MAX_REVEAL_PERIOD) {
            revert IVerity.InvalidHyperparameter("revealPeriodEpochs");
        }
        if (p.minBurn > p.maxBurn || p.burn < p.minBurn || p.burn > p.maxBurn) {
            revert IVerity.InvalidHyperparameter("burn");
        }
    }
}
