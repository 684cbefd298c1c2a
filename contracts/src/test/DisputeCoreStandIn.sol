// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IDisputeCore} from "../dispute/IDisputeCore.sol";

/// @title DisputeCoreStandIn
/// @notice Test stand-in for the Verity core as the dispute game sees it (IDisputeCore), with
/// the semantics of the real core's hook (wip/contracts, Verity.slashForDispute): registration,
/// subnets with an owner and a model, stake pools held in a real ERC20, unstaking into
/// withdrawals that stay slashable until they unlock, and a slash that takes the same fraction of
/// the pool's active stake and of each locked withdrawal, pays `recipientBps` of it to the
/// recipient and burns the rest.
/// @dev Not part of the protocol. Token totals are kept so tests can check conservation.
contract DisputeCoreStandIn is IDisputeCore {
    using SafeERC20 for IERC20;

    error NotOwner(address caller);
    error NotDisputeGame(address caller);
    error NotRegistered(uint16 netuid, address hotkey);
    error AlreadyRegistered(uint16 netuid, address hotkey);
    error SubnetNotFound(uint16 netuid);
    error InvalidRecipientShare(uint16 bps);
    error ZeroAddress();
    error InsufficientShares(uint256 shares, uint256 requested);
    error StillLocked(uint256 unlock);
    error NotYours(uint256 withdrawal);

    event Slashed(uint16 indexed netuid, address indexed hotkey, uint256 slashed, address recipient, uint256 paid);

    struct Subnet {
        address owner;
        bytes32 modelRoot;
        uint16 n;
    }

    struct Pool {
        uint256 stake;
        uint256 shares;
        mapping(address => uint256) sharesOf;
        uint256[] withdrawals;
    }

    struct Withdrawal {
        address coldkey;
        uint256 amount;
        uint256 unlock;
        bool done;
    }

    IERC20 public immutable token;
    uint48 public immutable minUnstakeDelay;
    address public immutable owner;
    address public disputeGame;

    mapping(uint16 => Subnet) private subnets;
    mapping(uint16 => mapping(address => uint16)) private uidPlusOne;
    mapping(uint16 => mapping(address => Pool)) private pools;
    Withdrawal[] public withdrawals;

    uint256 public totalStaked;
    uint256 public totalWithdrawing;
    uint256 public totalPaid;
    uint256 public totalBurned;

    constructor(IERC20 token_, uint48 minUnstakeDelay_) {
        token = token_;
        minUnstakeDelay = minUnstakeDelay_;
        owner = msg.sender;
    }

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    /* SETUP */

    function setDisputeGame(address game) external onlyOwner {
        disputeGame = game;
    }

    function createSubnet(uint16 netuid, address subnetOwner, bytes32 modelRoot) external onlyOwner {
        subnets[netuid].owner = subnetOwner;
        subnets[netuid].modelRoot = modelRoot;
    }

    function setSubnetModel(uint16 netuid, bytes32 modelRoot) external onlyOwner {
        subnets[netuid].modelRoot = modelRoot;
    }

    /// @notice Registers the caller as a hotkey of `netuid`.
    function register(uint16 netuid) external returns (uint16 uid) {
        Subnet storage s = subnets[netuid];
        if (s.owner == address(0)) revert SubnetNotFound(netuid);
        if (uidPlusOne[netuid][msg.sender] != 0) revert AlreadyRegistered(netuid, msg.sender);
        uid = s.n++;
        uidPlusOne[netuid][msg.sender] = uid + 1;
    }

    /// @notice Drops a hotkey (as the real core does when a uid is replaced).
    function deregister(uint16 netuid, address hotkey) external onlyOwner {
        uidPlusOne[netuid][hotkey] = 0;
    }

    /* STAKE */

    function stake(uint16 netuid, address hotkey, uint256 amount) external {
        Pool storage p = pools[netuid][hotkey];
        uint256 shares = p.shares == 0 || p.stake == 0 ? amount : amount * p.shares / p.stake;
        p.stake += amount;
        p.shares += shares;
        p.sharesOf[msg.sender] += shares;
        totalStaked += amount;
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Unstakes `shares` of the caller's: a withdrawal unlocking after minUnstakeDelay.
    function unstake(uint16 netuid, address hotkey, uint256 shares) external returns (uint256 index) {
        Pool storage p = pools[netuid][hotkey];
        uint256 mine = p.sharesOf[msg.sender];
        if (shares > mine) revert InsufficientShares(mine, shares);
        uint256 amount = shares * p.stake / p.shares;
        p.sharesOf[msg.sender] = mine - shares;
        p.shares -= shares;
        p.stake -= amount;
        totalStaked -= amount;
        totalWithdrawing += amount;
        index = withdrawals.length;
        withdrawals.push(Withdrawal(msg.sender, amount, block.number + minUnstakeDelay, false));
        p.withdrawals.push(index);
    }

    function withdraw(uint256 index) external {
        Withdrawal storage w = withdrawals[index];
        if (w.coldkey != msg.sender || w.done) revert NotYours(index);
        if (block.number < w.unlock) revert StillLocked(w.unlock);
        w.done = true;
        totalWithdrawing -= w.amount;
        token.safeTransfer(msg.sender, w.amount);
    }

    function sharesOf(uint16 netuid, address hotkey, address coldkey) external view returns (uint256) {
        return pools[netuid][hotkey].sharesOf[coldkey];
    }

    /// @notice The pool's active stake and its withdrawals still locked (both slashable).
    function slashable(uint16 netuid, address hotkey) public view returns (uint256 active, uint256 locked) {
        Pool storage p = pools[netuid][hotkey];
        active = p.stake;
        for (uint256 i = 0; i < p.withdrawals.length; i++) {
            Withdrawal storage w = withdrawals[p.withdrawals[i]];
            if (!w.done && w.unlock > block.number) locked += w.amount;
        }
    }

    /* IDisputeCore */

    /// @inheritdoc IDisputeCore
    function slashForDispute(uint16 netuid, address hotkey, uint256 amount, address recipient, uint16 recipientBps)
        external
        returns (uint256 slashed, uint256 paid)
    {
        if (msg.sender != disputeGame || msg.sender == address(0)) revert NotDisputeGame(msg.sender);
        if (subnets[netuid].owner == address(0)) revert SubnetNotFound(netuid);
        if (recipientBps > 10_000) revert InvalidRecipientShare(recipientBps);
        if (recipient == address(0) && recipientBps != 0) revert ZeroAddress();
        (uint256 active, uint256 locked) = slashable(netuid, hotkey);
        uint256 total = active + locked;
        if (total == 0 || amount == 0) return (0, 0);
        if (amount > total) amount = total;
        Pool storage p = pools[netuid][hotkey];
        // The same fraction of the active stake and of every locked withdrawal (floors).
        uint256 take = active * amount / total;
        p.stake -= take;
        totalStaked -= take;
        slashed = take;
        for (uint256 i = 0; i < p.withdrawals.length; i++) {
            Withdrawal storage w = withdrawals[p.withdrawals[i]];
            if (w.done || w.unlock <= block.number) continue;
            uint256 t = w.amount * amount / total;
            w.amount -= t;
            totalWithdrawing -= t;
            slashed += t;
        }
        paid = slashed * recipientBps / 10_000;
        totalPaid += paid;
        totalBurned += slashed - paid;
        emit Slashed(netuid, hotkey, slashed, recipient, paid);
        if (paid != 0) token.safeTransfer(recipient, paid);
        if (slashed > paid) ERC20Burnable(address(token)).burn(slashed - paid);
    }

    /// @inheritdoc IDisputeCore
    function uidOf(uint16 netuid, address hotkey) external view returns (uint16) {
        uint16 u = uidPlusOne[netuid][hotkey];
        if (u == 0) revert NotRegistered(netuid, hotkey);
        return u - 1;
    }

    /// @inheritdoc IDisputeCore
    function subnetInfo(uint16 netuid)
        external
        view
        returns (address, uint16, bytes32, uint48, uint64, uint128, uint128)
    {
        Subnet storage s = subnets[netuid];
        if (s.owner == address(0)) revert SubnetNotFound(netuid);
        return (s.owner, s.n, s.modelRoot, 0, 0, 0, 0);
    }

    /// @inheritdoc IDisputeCore
    function stakeOf(uint16 netuid, address hotkey) external view returns (uint256) {
        return pools[netuid][hotkey].stake;
    }
}
