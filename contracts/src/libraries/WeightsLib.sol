// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IVerity} from "../interfaces/IVerity.sol";
import {Subnet, Neuron, Commit, MAX_COMMITS} from "./Types.sol";

/// @title WeightsLib
/// @notice set_weights with subtensor's checks, commit-reveal, and the u16 row storage.
/// A row is stored dense (16 u16 per word) plus a presence bitmap, so an explicit zero
/// stays distinct from an omitted uid. `now_` is the protocol clock (it fits 48 bits).
library WeightsLib {
    function _uid(Subnet storage s, uint16 netuid, address hotkey) private view returns (uint16) {
        uint256 p = s.uidPlusOne[hotkey];
        if (p == 0) revert IVerity.NotRegistered(netuid, hotkey);
        return uint16(p - 1);
    }

    /// @notice Checks and stores a weight row (subtensor set_weights, checks 2-11).
    function setWeights(
        Subnet storage s,
        uint16 netuid,
        address hotkey,
        uint16[] calldata uids,
        uint16[] calldata values,
        uint64 versionKey,
        uint256 hotkeyStake,
        uint256 now_
    ) external {
        if (s.params.commitReveal) revert IVerity.CommitRevealEnabled(netuid);
        uint16 uid = _check(s, netuid, hotkey, uids, values, versionKey, hotkeyStake, now_, true);
        _store(s, uid, uids, values);
        s.neurons[uid].lastUpdate = uint48(now_);
        emit IVerity.WeightsSet(netuid, uid, uids, values);
    }

    /// @notice One binding commit per validator per epoch: a second one in the same epoch reverts,
    /// so a validator cannot hold several and reveal whichever lands closest to the others'.
    function commitWeights(Subnet storage s, uint16 netuid, address hotkey, bytes32 hash, uint256 now_) external {
        if (!s.params.commitReveal) revert IVerity.CommitRevealDisabled(netuid);
        uint16 uid = _uid(s, netuid, hotkey);
        Neuron storage nr = s.neurons[uid];
        uint256 last = nr.lastUpdate;
        if (last != 0 && now_ - last < s.params.weightsRateLimit) {
            revert IVerity.SettingWeightsTooFast(uint64(last), now_);
        }
        _popExpired(s, uid);
        uint256 count = s.commitCount[uid];
        uint64 epoch = s.epochIndex;
        for (uint256 i = 0; i < count; i++) {
            if (s.commits[uid][i].epoch == epoch) revert IVerity.AlreadyCommitted(netuid, uid, epoch);
        }
        if (count >= MAX_COMMITS) revert IVerity.TooManyCommits(netuid, uid);
        s.commits[uid][count] = Commit(hash, uint64(now_), epoch);
        s.commitCount[uid] = uint8(count + 1); // <= MAX_COMMITS
        nr.lastUpdate = uint48(now_);
        emit IVerity.WeightsCommitted(netuid, uid, hash, epoch);
    }

    function revealWeights(
        Subnet storage s,
        uint16 netuid,
        address hotkey,
        uint16[] calldata uids,
        uint16[] calldata values,
        bytes32 salt,
        uint64 versionKey,
        uint256 hotkeyStake
    ) external {
        if (!s.params.commitReveal) revert IVerity.CommitRevealDisabled(netuid);
        uint16 uid = _uid(s, netuid, hotkey);
        bytes32 hash = keccak256(abi.encode(hotkey, netuid, uids, values, salt, versionKey));
        uint256 count = s.commitCount[uid];
        uint256 k = count;
        for (uint256 i = 0; i < count; i++) {
            if (s.commits[uid][i].hash == hash) {
                k = i;
                break;
            }
        }
        if (k == count) revert IVerity.CommitNotFound(hash);
        uint64 revealEpoch = s.commits[uid][k].epoch + s.params.revealPeriodEpochs;
        uint64 current = s.epochIndex;
        if (current < revealEpoch) revert IVerity.RevealTooEarly(current, revealEpoch);
        if (current > revealEpoch) revert IVerity.RevealExpired(current, revealEpoch);
        _check(s, netuid, hotkey, uids, values, versionKey, hotkeyStake, 0, false);
        // remove commit k (keep order)
        for (uint256 i = k; i + 1 < count; i++) {
            s.commits[uid][i] = s.commits[uid][i + 1];
        }
        delete s.commits[uid][count - 1];
        s.commitCount[uid] = uint8(count - 1); // count >= 1
        _store(s, uid, uids, values);
        emit IVerity.WeightsRevealed(netuid, uid, hash);
        emit IVerity.WeightsSet(netuid, uid, uids, values);
    }

    /// @dev Drops commits whose reveal epoch has passed (they can never be revealed).
    function _popExpired(Subnet storage s, uint16 uid) private {
        uint256 count = s.commitCount[uid];
        uint256 keep = 0;
        uint64 current = s.epochIndex;
        uint16 period = s.params.revealPeriodEpochs;
        for (uint256 i = 0; i < count; i++) {
            Commit memory c = s.commits[uid][i];
            if (current > c.epoch + period) continue;
            if (keep != i) s.commits[uid][keep] = c;
            keep++;
        }
        for (uint256 i = keep; i < count; i++) {
            delete s.commits[uid][i];
        }
        if (keep != count) s.commitCount[uid] = uint8(keep); // keep <= count
    }

    function _check(
        Subnet storage s,
        uint16 netuid,
        address hotkey,
        uint16[] calldata uids,
        uint16[] calldata values,
        uint64 versionKey,
        uint256 hotkeyStake,
        uint256 now_,
        bool rateLimited
    ) private view returns (uint16 uid) {
        uint16 n = s.n;
        if (uids.length != values.length) revert IVerity.LengthMismatch(uids.length, values.length);
        if (uids.length > n) revert IVerity.TooManyWeights(uids.length, n);
        uid = _uid(s, netuid, hotkey);
        if (hotkeyStake < s.params.stakeThreshold) {
            revert IVerity.StakeBelowThreshold(hotkeyStake, s.params.stakeThreshold);
        }
        uint64 required = s.params.weightsVersionKey;
        if (required != 0 && versionKey < required) revert IVerity.IncorrectVersionKey(versionKey, required);
        if (rateLimited) {
            uint256 last = s.neurons[uid].lastUpdate;
            if (last != 0 && now_ - last < s.params.weightsRateLimit) {
                revert IVerity.SettingWeightsTooFast(uint64(last), now_);
            }
        }
        bool selfWeight = uids.length == 1 && uids[0] == uid;
        if (s.params.weightsNeedPermit && !selfWeight && (s.epoch.newPermit[uid >> 8] >> (uid & 255)) & 1 == 0) {
            revert IVerity.NoValidatorPermit(netuid, uid);
        }
        uint256[2] memory seen;
        for (uint256 i = 0; i < uids.length; i++) {
            uint16 j = uids[i];
            if (j >= n) revert IVerity.UidOutOfRange(j, n);
            uint256 bit = uint256(1) << (j & 255);
            if (seen[j >> 8] & bit != 0) revert IVerity.DuplicateUid(j);
            seen[j >> 8] |= bit;
        }
        if (!selfWeight) {
            uint256 minimum = s.params.minAllowedWeights < n ? s.params.minAllowedWeights : n;
            if (uids.length < minimum) revert IVerity.TooFewWeights(uids.length, minimum);
        }
        uint16 limit = s.params.maxWeightLimit;
        if (limit != 65535 && !selfWeight && !_maxLimited(values, limit)) revert IVerity.MaxWeightExceeded(limit);
    }

    /// @dev check_vec_max_limited: max of the normalised values <= limit/65535 (I32F32).
    function _maxLimited(uint16[] calldata values, uint16 limit) private pure returns (bool) {
        uint256 sum = 0;
        uint256 max = 0;
        for (uint256 i = 0; i < values.length; i++) {
            sum += values[i];
            if (values[i] > max) max = values[i];
        }
        if (values.length == 0) return true;
        uint256 maxFixed = sum == 0 ? 0 : (max << 32) / sum;
        return maxFixed <= (uint256(limit) << 32) / 65535;
    }

    /// @dev vec_u16_max_upscale_to_u16 on I32F32, rounding half away from zero, saturating.
    function upscale(uint256 v, uint256 max) internal pure returns (uint16) {
        if (max == 0) return 0;
        uint256 bits;
        if (max > 32768) {
            uint256 q = (uint256(65535) << 32) / max;
            bits = v * q;
        } else {
            bits = (v * 65535 << 32) / max;
        }
        uint256 r = (bits + (1 << 31)) >> 32;
        return r > 65535 ? 65535 : uint16(r);
    }

    function _store(Subnet storage s, uint16 uid, uint16[] calldata uids, uint16[] calldata values) private {
        uint256 max = 0;
        for (uint256 i = 0; i < values.length; i++) {
            if (values[i] > max) max = values[i];
        }
        uint256 words = (uint256(s.n) + 15) >> 4;
        uint256[] memory row = new uint256[](words);
        uint256[2] memory mask;
        uint256 sum;
        for (uint256 i = 0; i < uids.length; i++) {
            uint256 j = uids[i];
            uint256 w = upscale(values[i], max);
            row[j >> 4] |= w << ((j & 15) << 4);
            mask[j >> 8] |= uint256(1) << (j & 255);
            if (j != uid) sum += w;
        }
        s.rowRawSum[uid] = uint32(sum); // <= 512 * 65535 < 2^26
        uint256[32] storage dst = s.weights[uid];
        for (uint256 k = 0; k < words; k++) {
            if (dst[k] != row[k]) dst[k] = row[k];
        }
        s.weightMask[uid][0] = mask[0];
        s.weightMask[uid][1] = mask[1];
    }

    /// @notice The stored row of `uid`: targets and values, explicit zeros included.
    function rowOf(Subnet storage s, uint16 uid) external view returns (uint16[] memory uids, uint16[] memory values) {
        uint256 n = s.n;
        uint256 count = 0;
        for (uint256 j = 0; j < n; j++) {
            if (s.weightMask[uid][j >> 8] >> (j & 255) & 1 == 1) count++;
        }
        uids = new uint16[](count);
        values = new uint16[](count);
        uint256 k = 0;
        for (uint256 j = 0; j < n; j++) {
            if (s.weightMask[uid][j >> 8] >> (j & 255) & 1 == 1) {
                uids[k] = uint16(j);
                values[k] = uint16(s.weights[uid][j >> 4] >> ((j & 15) << 4));
                k++;
            }
        }
    }
}
