// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Channel, ChannelState, IPaymentChannels} from "./IPaymentChannels.sol";

/// @dev The one view of the dispute game this contract reads: the dispute whose loss slashed a
/// receipt's miner (0: none). DisputeGame sets it in `decide` whenever the miner loses.
interface ISlashRecord {
    function slashedBy(bytes32 receiptDigest) external view returns (uint256);
}

/// @title PaymentChannels
/// @notice Unidirectional VTY channels from payers to miners, settled with cumulative EIP-712
/// vouchers. No account has powers over funds: the contract has no owner; a channel's tokens
/// leave only to its miner (settle, at most the deposit in all) or its payer (the rest, only once
/// the miner's settle deadline has passed).
contract PaymentChannels is IPaymentChannels, EIP712, ReentrancyGuard {
    using SafeERC20 for IERC20;

    bytes32 public constant VOUCHER_TYPEHASH =
        keccak256("Voucher(bytes32 channelId,uint256 cumulativeAmount,bytes32 receiptDigest)");

    IERC20 public immutable token;
    /// @notice The dispute game whose decided losses void vouchers (address(0): none, nothing voids).
    ISlashRecord public immutable disputeGame;
    /// @notice Blocks the miner keeps to settle after a close starts.
    uint64 public immutable challengePeriod;
    /// @notice Blocks the miner keeps to settle after the channel's expiry.
    uint64 public immutable settleGrace;

    /// @notice Channels each payer opened so far (the next channel's nonce).
    mapping(address => uint256) public nonces;
    mapping(bytes32 => Channel) internal channels;

    constructor(IERC20 token_, ISlashRecord disputeGame_, uint64 challengePeriod_, uint64 settleGrace_)
        EIP712("Verity PaymentChannels", "1")
    {
        if (address(token_) == address(0)) revert ZeroAddress();
        if (challengePeriod_ == 0) revert InvalidParam("challengePeriod");
        if (settleGrace_ == 0) revert InvalidParam("settleGrace");
        token = token_;
        disputeGame = disputeGame_;
        challengePeriod = challengePeriod_;
        settleGrace = settleGrace_;
    }

    /* PAYER */

    /// @inheritdoc IPaymentChannels
    function open(address miner, uint256 deposit, uint64 expiry) external nonReentrant returns (bytes32 channelId) {
        if (miner == address(0)) revert ZeroAddress();
        if (miner == msg.sender) revert SelfChannel(msg.sender);
        if (deposit == 0) revert ZeroAmount();
        if (expiry <= block.number) revert ExpiryNotInFuture(expiry, block.number);
        channelId = channelIdOf(msg.sender, miner, nonces[msg.sender]++);
        channels[channelId] = Channel({
            payer: msg.sender,
            state: ChannelState.Open,
            miner: miner,
            expiry: expiry,
            closesAt: 0,
            deposit: SafeCast.toUint128(deposit),
            paid: 0
        });
        emit ChannelOpened(channelId, msg.sender, miner, deposit, expiry);
        token.safeTransferFrom(msg.sender, address(this), deposit);
    }

    /// @inheritdoc IPaymentChannels
    function topUp(bytes32 channelId, uint256 amount, uint64 expiry) external nonReentrant {
        Channel storage c = _channel(channelId);
        if (msg.sender != c.payer) revert NotPayer(msg.sender, c.payer);
        if (c.state != ChannelState.Open) revert ChannelNotOpen(channelId, c.state);
        if (expiry < c.expiry) revert ExpiryShortened(expiry, c.expiry);
        if (amount == 0 && expiry == c.expiry) revert ZeroAmount();
        if (expiry != c.expiry && expiry <= block.number) revert ExpiryNotInFuture(expiry, block.number);
        c.deposit = SafeCast.toUint128(c.deposit + amount);
        c.expiry = expiry;
        emit ChannelToppedUp(channelId, amount, c.deposit, expiry);
        if (amount > 0) token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /* MINER */

    /// @inheritdoc IPaymentChannels
    function settle(bytes32 channelId, uint256 cumulativeAmount, bytes32 receiptDigest, bytes calldata signature)
        external
        nonReentrant
    {
        Channel storage c = _channel(channelId);
        if (msg.sender != c.miner) revert NotMiner(msg.sender, c.miner);
        if (c.state == ChannelState.Closed) revert ChannelNotOpen(channelId, c.state);
        uint256 deadline = _settleDeadline(c);
        if (block.number > deadline) revert SettleWindowClosed(channelId, deadline);
        uint256 paid = c.paid;
        if (cumulativeAmount <= paid) revert StaleVoucher(channelId, cumulativeAmount, paid);
        uint256 deposit = c.deposit;
        if (paid == deposit) revert DepositExhausted(channelId, cumulativeAmount, deposit);
        (address signer, ECDSA.RecoverError err,) =
            ECDSA.tryRecover(voucherDigest(channelId, cumulativeAmount, receiptDigest), signature);
        if (err != ECDSA.RecoverError.NoError || signer != c.payer) revert VoucherNotSignedByPayer(signer, c.payer);
        if (address(disputeGame) != address(0)) {
            uint256 lost = disputeGame.slashedBy(receiptDigest);
            if (lost != 0) revert VoucherVoided(channelId, receiptDigest, lost);
        }
        // a voucher above the deposit still pays what is there: the payer promised at least that
        uint256 total = cumulativeAmount < deposit ? cumulativeAmount : deposit;
        uint256 amount = total - paid;
        c.paid = uint128(total);
        emit ChannelSettled(channelId, receiptDigest, amount, total);
        token.safeTransfer(c.miner, amount);
    }

    /* CLOSE */

    /// @inheritdoc IPaymentChannels
    function startClose(bytes32 channelId) external {
        Channel storage c = _channel(channelId);
        if (msg.sender != c.payer && msg.sender != c.miner) revert NotParty(msg.sender, c.payer, c.miner);
        if (c.state != ChannelState.Open) revert ChannelNotOpen(channelId, c.state);
        uint64 closesAt = uint64(block.number) + challengePeriod;
        c.state = ChannelState.Closing;
        c.closesAt = closesAt;
        emit ChannelClosing(channelId, msg.sender, closesAt);
    }

    /// @inheritdoc IPaymentChannels
    function finishClose(bytes32 channelId) external nonReentrant {
        Channel storage c = _channel(channelId);
        if (c.state != ChannelState.Closing) revert ChannelNotOpen(channelId, c.state);
        if (block.number <= c.closesAt) revert SettleWindowOpen(channelId, c.closesAt);
        _close(channelId, c);
    }

    /// @inheritdoc IPaymentChannels
    function reclaim(bytes32 channelId) external nonReentrant {
        Channel storage c = _channel(channelId);
        if (c.state == ChannelState.Closed) revert ChannelNotOpen(channelId, c.state);
        uint256 end = uint256(c.expiry) + settleGrace;
        if (block.number <= end) revert SettleWindowOpen(channelId, end);
        _close(channelId, c);
    }

    /* VIEWS */

    /// @inheritdoc IPaymentChannels
    function getChannel(bytes32 channelId) external view returns (Channel memory) {
        return channels[channelId];
    }

    /// @inheritdoc IPaymentChannels
    function settleDeadline(bytes32 channelId) external view returns (uint256) {
        return _settleDeadline(_channel(channelId));
    }

    /// @inheritdoc IPaymentChannels
    function voucherDigest(bytes32 channelId, uint256 cumulativeAmount, bytes32 receiptDigest)
        public
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(keccak256(abi.encode(VOUCHER_TYPEHASH, channelId, cumulativeAmount, receiptDigest)));
    }

    /// @inheritdoc IPaymentChannels
    function channelIdOf(address payer, address miner, uint256 nonce) public pure returns (bytes32) {
        return keccak256(abi.encode(payer, miner, nonce));
    }

    /* INTERNALS */

    function _channel(bytes32 channelId) private view returns (Channel storage c) {
        c = channels[channelId];
        if (c.state == ChannelState.None) revert UnknownChannel(channelId);
    }

    /// Expiry + grace, or the close's end if one started and ends earlier.
    function _settleDeadline(Channel storage c) private view returns (uint256 deadline) {
        deadline = uint256(c.expiry) + settleGrace;
        if (c.state == ChannelState.Closing && c.closesAt < deadline) deadline = c.closesAt;
    }

    /// Closes a channel whose settle deadline has passed: the rest goes back to the payer.
    function _close(bytes32 channelId, Channel storage c) private {
        uint256 refund = uint256(c.deposit) - c.paid;
        c.state = ChannelState.Closed;
        emit ChannelClosed(channelId, c.paid, refund);
        if (refund > 0) token.safeTransfer(c.payer, refund);
    }
}
