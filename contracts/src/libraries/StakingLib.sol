// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IVerity} from "../interfaces/IVerity.sol";
import {Stakes, Ledger, Pool, Position, Unbonding, Tranche, Take, Subnet, Neuron, MAX_TAKE} from "./Types.sol";

/// @title StakingLib
/// @notice Stake pools per (subnet, hotkey) with coldkey shares; delegation rewards (the hotkey's
/// take, the rest to its stakers pro rata through a reward-per-share accumulator); withdrawals that
/// unlock in buckets, each a small pool of its own so that a dispute slash reaches every pending
/// withdrawal of a pool without visiting coldkeys.
/// @dev Token amounts fit 96 bits (the supply is capped at 21M VTY < 2^85 wei). A pool or bucket
/// whose price would fall below 2^-32 token per share is wiped by the slash that gets it there,
/// so shares minted later stay below amount * 2^32 * 2 < 2^118: no overflow of the 128-bit fields.
library StakingLib {
    using SafeCast for uint256;

    uint256 private constant ACC = 1 << 64; // rewardPerShare scale
    uint256 private constant MIN_PRICE_SHIFT = 32;
    uint256 private constant WITHDRAW_BATCH = 32;

    /* STAKE */

    function stake(
        Stakes storage st,
        Ledger storage L,
        uint16 netuid,
        address hotkey,
        address coldkey,
        uint256 amount,
        uint64 epochIndex
    ) external {
        if (amount == 0) revert IVerity.ZeroAmount();
        if (hotkey == address(0)) revert IVerity.ZeroAddress();
        Pool storage p = st.pools[netuid][hotkey];
        Position storage pos = st.positions[netuid][hotkey][coldkey];
        _harvest(st, p, pos, netuid, hotkey, coldkey);
        // virtual offset of one share and one unit: the first stake is priced 1:1
        uint256 minted = amount * (uint256(p.shares) + 1) / (uint256(p.stake) + 1);
        if (minted == 0) revert IVerity.ZeroShares(amount);
        p.stake = (uint256(p.stake) + amount).toUint96();
        if (p.warmEpoch != epochIndex) {
            // what arrived in an earlier epoch counts from now on
            p.warming = 0;
            p.warmEpoch = epochIndex;
        }
        p.warming = (uint256(p.warming) + amount).toUint96();
        p.shares = (uint256(p.shares) + minted).toUint128();
        uint256 held = uint256(pos.shares) + minted;
        pos.shares = held.toUint128();
        pos.rewardDebt = Math.mulDiv(held, p.rewardPerShare, ACC);
        L.staked = (uint256(L.staked) + amount).toUint128();
        L.entered = (uint256(L.entered) + amount).toUint128();
        emit IVerity.Staked(netuid, coldkey, hotkey, amount, minted);
    }

    function unstake(
        Stakes storage st,
        Ledger storage L,
        uint16 netuid,
        address hotkey,
        address coldkey,
        uint256 amount,
        uint256 now_,
        uint256 delay,
        uint256 width
    ) external {
        if (amount == 0) revert IVerity.ZeroAmount();
        Pool storage p = st.pools[netuid][hotkey];
        Position storage pos = st.positions[netuid][hotkey][coldkey];
        _harvest(st, p, pos, netuid, hotkey, coldkey);
        uint256 held = pos.shares;
        uint256 value = held * (uint256(p.stake) + 1) / (uint256(p.shares) + 1);
        if (amount > value) revert IVerity.InsufficientStake(value, amount);
        // shares to burn, rounded up (the pool keeps the rounding)
        uint256 burned = Math.mulDiv(amount, uint256(p.shares) + 1, uint256(p.stake) + 1, Math.Rounding.Ceil);
        if (burned > held) burned = held;
        p.stake = (uint256(p.stake) - amount).toUint96();
        // leaving stake first leaves what is still warming (a flash stake and unstake nets out)
        p.warming = p.warming > amount ? (uint256(p.warming) - amount).toUint96() : 0;
        p.shares = (uint256(p.shares) - burned).toUint128();
        held -= burned;
        pos.shares = held.toUint128();
        pos.rewardDebt = Math.mulDiv(held, p.rewardPerShare, ACC);

        // the withdrawal unlocks at the first bucket boundary at or after now + delay; a bucket a
        // slash wiped (no tokens, old shares) is never refilled: the next one is used
        uint256 bucket = (now_ + delay + width - 1) / width;
        Unbonding storage u = st.unbonding[netuid][hotkey][bucket.toUint48()];
        while (u.amount == 0 && u.shares != 0) {
            bucket++;
            u = st.unbonding[netuid][hotkey][bucket.toUint48()];
        }
        uint256 minted = amount * (uint256(u.shares) + 1) / (uint256(u.amount) + 1);
        u.amount = (uint256(u.amount) + amount).toUint128();
        u.shares = (uint256(u.shares) + minted).toUint128();
        _enqueue(st, coldkey, netuid, hotkey, uint48(bucket), minted);
        L.staked = (uint256(L.staked) - amount).toUint128();
        L.withdrawing = (uint256(L.withdrawing) + amount).toUint128();
        emit IVerity.Unstaked(netuid, coldkey, hotkey, amount, burned, uint48(bucket * width));
    }

    /// @dev Appends a tranche, or adds to the last one when it is the same pool and bucket.
    function _enqueue(Stakes storage st, address coldkey, uint16 netuid, address hotkey, uint48 bucket, uint256 shares)
        private
    {
        Tranche[] storage q = st.queue[coldkey];
        uint256 len = q.length;
        if (len > st.queueHead[coldkey]) {
            Tranche storage last = q[len - 1];
            if (last.netuid == netuid && last.hotkey == hotkey && last.bucket == bucket) {
                last.shares = (uint256(last.shares) + shares).toUint128();
                return;
            }
        }
        q.push(Tranche(hotkey, netuid, bucket, shares.toUint128()));
    }

    /// @notice Pops the caller's unlocked tranches from the head of its queue (at most 32) and
    /// returns their value; the caller sends the tokens.
    function withdraw(Stakes storage st, Ledger storage L, address coldkey, address to, uint256 now_, uint256 width)
        external
        returns (uint256 total)
    {
        Tranche[] storage q = st.queue[coldkey];
        uint256 head = st.queueHead[coldkey];
        uint256 end = q.length;
        if (head == end) revert IVerity.NothingToWithdraw(coldkey);
        uint256 done;
        while (head < end && done < WITHDRAW_BATCH) {
            Tranche memory t = q[head];
            // oldest first: a later withdrawal never jumps an earlier one
            if (uint256(t.bucket) * width > now_) break;
            Unbonding storage u = st.unbonding[t.netuid][t.hotkey][t.bucket];
            uint256 value = uint256(t.shares) * (uint256(u.amount) + 1) / (uint256(u.shares) + 1);
            if (value > u.amount) value = u.amount;
            u.amount = (uint256(u.amount) - value).toUint128();
            u.shares = (uint256(u.shares) - t.shares).toUint128();
            total += value;
            delete q[head];
            head++;
            done++;
        }
        if (done == 0) revert IVerity.StillLocked(uint256(q[head].bucket) * width);
        if (head == end) {
            // every entry is deleted: reset the array's length so the queue does not grow forever
            assembly ("memory-safe") {
                sstore(q.slot, 0)
            }
            head = 0;
        }
        st.queueHead[coldkey] = head;
        L.withdrawing = (uint256(L.withdrawing) - total).toUint128();
        emit IVerity.Withdrawn(coldkey, to, total);
    }

    /* REWARDS */

    /// @notice Moves the unclaimed emission of `hotkey`'s uid on the subnet (none if unregistered)
    /// to the hotkey and its stakers.
    function sweep(Stakes storage st, Subnet storage s, uint16 netuid, address hotkey, uint256 now_)
        external
        returns (uint256 amount)
    {
        uint256 p = s.uidPlusOne[hotkey];
        if (p == 0) return 0;
        Neuron storage nr = s.neurons[p - 1];
        amount = nr.unclaimed;
        if (amount == 0) return 0;
        nr.unclaimed = 0;
        _distribute(st, netuid, hotkey, amount, now_);
    }

    /// @notice A uid's swept emission: the hotkey's take to its claimable balance, the rest to the
    /// pool's stakers (all of it to the hotkey when nobody stakes on it).
    function distribute(Stakes storage st, uint16 netuid, address hotkey, uint256 amount, uint256 now_) external {
        _distribute(st, netuid, hotkey, amount, now_);
    }

    function _distribute(Stakes storage st, uint16 netuid, address hotkey, uint256 amount, uint256 now_) private {
        if (amount == 0) return;
        Pool storage p = st.pools[netuid][hotkey];
        uint256 toHotkey = amount * takeOf(st, hotkey, now_) / 65535;
        uint256 rest = amount - toHotkey;
        uint256 shares = p.shares;
        if (shares == 0) {
            toHotkey = amount;
            rest = 0;
        } else {
            // the part rewardPerShare cannot express stays in `rewards` as dust
            p.rewardPerShare += Math.mulDiv(rest, ACC, shares);
            p.rewards = (uint256(p.rewards) + rest).toUint96();
        }
        st.settled[hotkey] += toHotkey;
        emit IVerity.EmissionSwept(netuid, hotkey, toHotkey, rest);
    }

    /// @notice Moves a coldkey's staking rewards on a pool to its claimable balance.
    function harvest(Stakes storage st, uint16 netuid, address hotkey, address coldkey) external {
        Pool storage p = st.pools[netuid][hotkey];
        Position storage pos = st.positions[netuid][hotkey][coldkey];
        _harvest(st, p, pos, netuid, hotkey, coldkey);
        pos.rewardDebt = Math.mulDiv(pos.shares, p.rewardPerShare, ACC);
    }

    /// @dev Credits the position's rewards since its last update; a position of a wiped generation
    /// gets what it earned up to the wipe and restarts empty in the current one. The caller sets
    /// rewardDebt after changing the shares.
    function _harvest(
        Stakes storage st,
        Pool storage p,
        Position storage pos,
        uint16 netuid,
        address hotkey,
        address coldkey
    ) private {
        uint256 shares = pos.shares;
        bool stale = pos.generation != p.generation;
        if (shares != 0) {
            uint256 acc = stale ? st.generationReward[netuid][hotkey][pos.generation] : p.rewardPerShare;
            uint256 owed = Math.mulDiv(shares, acc, ACC);
            uint256 debt = pos.rewardDebt;
            if (owed > debt) {
                uint256 r = owed - debt;
                // floors can add up one unit over the pool's balance: never pay more than it holds
                if (r > p.rewards) r = p.rewards;
                p.rewards = uint96(uint256(p.rewards) - r); // r <= rewards
                st.settled[coldkey] += r;
            }
        }
        if (stale) {
            pos.shares = 0;
            pos.generation = p.generation;
            pos.rewardDebt = 0;
        }
    }

    /// @notice A coldkey's position: its shares (0 for a wiped generation), their value, and its
    /// rewards not yet harvested, counting its part of the hotkey's unswept emission.
    function positionOf(Stakes storage st, Subnet storage s, uint16 netuid, address hotkey, address coldkey, uint256 now_)
        external
        view
        returns (uint256 shares, uint256 value, uint256 rewards)
    {
        Pool storage p = st.pools[netuid][hotkey];
        Position storage pos = st.positions[netuid][hotkey][coldkey];
        bool stale = pos.generation != p.generation;
        uint256 acc = stale ? st.generationReward[netuid][hotkey][pos.generation] : p.rewardPerShare;
        uint256 owed = Math.mulDiv(pos.shares, acc, ACC);
        if (owed > pos.rewardDebt) rewards = owed - pos.rewardDebt;
        if (stale) return (0, 0, rewards);
        shares = pos.shares;
        value = shares * (uint256(p.stake) + 1) / (uint256(p.shares) + 1);
        uint256 uid = s.uidPlusOne[hotkey];
        uint256 unswept = uid == 0 ? 0 : s.neurons[uid - 1].unclaimed;
        unswept -= unswept * takeOf(st, hotkey, now_) / 65535;
        if (p.shares != 0) rewards += Math.mulDiv(unswept, shares, p.shares);
        if (rewards > uint256(p.rewards) + unswept) rewards = uint256(p.rewards) + unswept;
    }

    /* TAKE */

    function takeOf(Stakes storage st, address hotkey, uint256 now_) public view returns (uint16) {
        Take storage t = st.takes[hotkey];
        if (!t.set) return uint16(MAX_TAKE);
        if (t.pendingAt != 0 && now_ >= t.pendingAt) return t.pendingTake;
        return t.take;
    }

    /// @notice A decrease applies at once; an increase after `delay`, so that stakers can sweep
    /// and leave under the old take.
    function setTake(Stakes storage st, address hotkey, uint16 take, uint256 now_, uint256 delay) external {
        if (take > MAX_TAKE) revert IVerity.TakeTooHigh(take, MAX_TAKE);
        uint16 current = takeOf(st, hotkey, now_);
        Take storage t = st.takes[hotkey];
        t.set = true;
        uint48 from;
        if (take <= current) {
            t.take = take;
            t.pendingAt = 0;
            from = uint48(now_);
        } else {
            t.take = current;
            t.pendingTake = take;
            from = (now_ + delay).toUint48();
            t.pendingAt = from;
        }
        emit IVerity.TakeSet(hotkey, take, from);
    }

    /* DISPUTE SLASH */

    /// @notice Takes up to `amount` from the pool's active stake and its buckets still locked at
    /// `now_` (unlock > now), the same fraction of each (floored: the total may fall short by a few
    /// units). A part left priced below 2^-32 per share is taken whole (the pool starts a new
    /// generation; the bucket is retired).
    function slash(
        Stakes storage st,
        Ledger storage L,
        uint16 netuid,
        address hotkey,
        uint256 amount,
        uint256 now_,
        uint256 width,
        uint256 maxDelay
    ) external returns (uint256 slashed) {
        Pool storage p = st.pools[netuid][hotkey];
        mapping(uint48 => Unbonding) storage ub = st.unbonding[netuid][hotkey];
        // a locked bucket b unlocks at b * width > now; none was created beyond now + maxDelay
        uint256 first = now_ / width + 1;
        uint256 last = (now_ + maxDelay + width - 1) / width;
        uint256 total = p.stake;
        for (uint256 b = first; b <= last; b++) {
            total += ub[uint48(b)].amount;
        }
        if (total == 0 || amount == 0) return 0;
        if (amount > total) amount = total;

        uint256 active = p.stake;
        if (active != 0) {
            uint256 take = Math.mulDiv(active, amount, total);
            uint256 left = active - take;
            if (left << MIN_PRICE_SHIFT < p.shares) {
                take = active;
                left = 0;
            }
            p.stake = uint96(left); // left <= stake
            if (p.warming > left) p.warming = uint96(left);
            if (left == 0 && p.shares != 0) {
                // the shares are worth nothing: a new generation starts at 1:1
                st.generationReward[netuid][hotkey][p.generation] = p.rewardPerShare;
                p.generation++;
                p.shares = 0;
            }
            slashed = take;
            L.staked = (uint256(L.staked) - take).toUint128();
        }
        uint256 fromBuckets;
        for (uint256 b = first; b <= last; b++) {
            Unbonding storage u = ub[uint48(b)];
            uint256 a = u.amount;
            if (a == 0) continue;
            uint256 take = Math.mulDiv(a, amount, total);
            uint256 left = a - take;
            if (left << MIN_PRICE_SHIFT < u.shares) {
                take = a;
                left = 0;
            }
            u.amount = uint128(left); // left <= amount
            fromBuckets += take;
        }
        L.withdrawing = (uint256(L.withdrawing) - fromBuckets).toUint128();
        slashed += fromBuckets;
    }

    /* VIEWS */

    function pendingOf(Stakes storage st, address coldkey, uint256 width, uint256 now_)
        external
        view
        returns (uint256 locked, uint256 unlocked, uint256 nextUnlock)
    {
        (, uint256[] memory values, uint256[] memory unlocks) = queueOf(st, coldkey, width);
        for (uint256 i = 0; i < values.length; i++) {
            if (unlocks[i] <= now_) {
                unlocked += values[i];
            } else {
                locked += values[i];
                if (nextUnlock == 0 || unlocks[i] < nextUnlock) nextUnlock = unlocks[i];
            }
        }
    }

    function queueOf(Stakes storage st, address coldkey, uint256 width)
        public
        view
        returns (Tranche[] memory entries, uint256[] memory values, uint256[] memory unlocks)
    {
        Tranche[] storage q = st.queue[coldkey];
        uint256 head = st.queueHead[coldkey];
        uint256 count = q.length - head;
        entries = new Tranche[](count);
        values = new uint256[](count);
        unlocks = new uint256[](count);
        for (uint256 i = 0; i < count; i++) {
            Tranche memory t = q[head + i];
            Unbonding storage u = st.unbonding[t.netuid][t.hotkey][t.bucket];
            uint256 v = uint256(t.shares) * (uint256(u.amount) + 1) / (uint256(u.shares) + 1);
            entries[i] = t;
            values[i] = v > u.amount ? u.amount : v;
            unlocks[i] = uint256(t.bucket) * width;
        }
    }
}
