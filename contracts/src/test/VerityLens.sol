// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IVerity} from "../interfaces/IVerity.sol";
import {IVerityToken} from "../interfaces/IVerityToken.sol";
import {NeuronInfo} from "../libraries/Types.sol";

/// @title VerityLens
/// @notice NOT FOR DEPLOYMENT: test tooling. Adds up, in one view call, everything the invariant
/// campaign compares with the protocol's totals, over the subnets, hotkeys, coldkeys, accounts and
/// withdrawal buckets the campaign has used.
contract VerityLens {
    struct Sums {
        uint256 balance; // the protocol's VTY balance
        uint256 staked;
        uint256 withdrawing;
        uint256 claimable;
        uint256 pending;
        uint256 locked;
        uint256 poolStake; // sum of pool stakes
        uint256 subnetPending; // sum of subnets' pending emission
        uint256 subnetLocked; // sum of subnets' locks
        uint256 buckets; // sum of withdrawal buckets
        uint256 settled; // sum of claimable balances
        uint256 unclaimed; // sum of uids' unclaimed emission
        uint256 rewards; // sum of pools' staker rewards
        uint256 keeper; // keeper rewards of running epochs not paid yet
        uint256 shareMismatches; // pools whose positions' shares do not add up to the pool's
        uint256 valueExcesses; // pools whose positions are worth more than the pool's stake
        uint256 supply;
        uint256 minted;
        uint256 burned;
        uint256 shareTotal; // sum of emission shares (bps)
    }

    struct Bucket {
        uint16 netuid;
        address hotkey;
        uint48 bucket;
    }

    function sums(
        IVerity v,
        IVerityToken t,
        uint16[] calldata nets,
        address[] calldata hotkeys,
        address[] calldata coldkeys,
        address[] calldata accounts,
        Bucket[] calldata buckets
    ) external view returns (Sums memory s) {
        s.balance = t.balanceOf(address(v));
        (s.staked, s.withdrawing, s.claimable, s.pending, s.locked,) = v.totals();
        s.supply = t.totalSupply();
        s.minted = t.totalMinted();
        s.burned = t.totalBurned();
        for (uint256 i = 0; i < nets.length; i++) {
            _subnet(v, s, nets[i]);
            for (uint256 h = 0; h < hotkeys.length; h++) {
                _pool(v, s, nets[i], hotkeys[h], coldkeys);
            }
        }
        for (uint256 a = 0; a < accounts.length; a++) {
            s.settled += v.claimable(accounts[a]);
        }
        for (uint256 b = 0; b < buckets.length; b++) {
            (uint256 amount,) = v.unbonding(buckets[b].netuid, buckets[b].hotkey, buckets[b].bucket);
            s.buckets += amount;
        }
    }

    function _subnet(IVerity v, Sums memory s, uint16 netuid) private view {
        (,,,,, uint128 pending,) = v.subnetInfo(netuid);
        s.subnetPending += pending;
        (uint16 share, uint128 locked,) = v.subnetEconomics(netuid);
        s.subnetLocked += locked;
        s.shareTotal += share;
        (,, uint256 unpaid) = v.epochInfo(netuid);
        s.keeper += unpaid;
        NeuronInfo[] memory m = v.metagraph(netuid);
        for (uint256 u = 0; u < m.length; u++) {
            s.unclaimed += m[u].unclaimed;
        }
    }

    function _pool(IVerity v, Sums memory s, uint16 netuid, address hotkey, address[] calldata coldkeys) private view {
        (uint256 amount,, uint256 shares, uint256 rewards,) = v.pool(netuid, hotkey);
        s.poolStake += amount;
        s.rewards += rewards;
        uint256 sharesSum;
        uint256 valueSum;
        for (uint256 c = 0; c < coldkeys.length; c++) {
            (uint256 held, uint256 value,) = v.position(netuid, hotkey, coldkeys[c]);
            sharesSum += held;
            valueSum += value;
        }
        if (sharesSum != shares) s.shareMismatches++;
        if (valueSum > amount) s.valueExcesses++;
    }
}
