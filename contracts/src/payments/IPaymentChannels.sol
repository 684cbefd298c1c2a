// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @dev A channel's life: Open (settle, top up) -> Closing (settle until closesAt) -> Closed.
enum ChannelState {
    None,
    Open,
    Closing,
    Closed
}

/// @dev One payer -> miner channel. `paid` only grows and never exceeds `deposit`.
struct Channel {
    address payer;
    ChannelState state;
    address miner;
    /// @dev The block after which the payer may reclaim (settles stay open `settleGrace` more).
    uint64 expiry;
    /// @dev While Closing: the last block the miner may settle in; 0 while Open.
    uint64 closesAt;
    uint128 deposit;
    uint128 paid;
}

/// @title Unidirectional payment channels from a payer (a user or a gateway) to a miner
/// @notice The payer locks VTY and signs EIP-712 vouchers `Voucher(channelId, cumulativeAmount,
/// receiptDigest)`: "I owe the miner `cumulativeAmount` in all, the latest for the answer whose
/// receipt has this digest". The miner settles the latest voucher it holds (the difference from
/// what was already paid). A voucher bound to a receipt whose miner lost a dispute is void.
/// Deadlines (blocks): the miner may settle while block.number <= settleDeadline(id), i.e. up to
/// `expiry + settleGrace`, and, once someone started a close, up to `closesAt` (start block +
/// challengePeriod) if that is earlier. The payer gets the rest back only after that deadline:
/// finishClose after closesAt, reclaim after expiry + settleGrace.
interface IPaymentChannels {
    event ChannelOpened(
        bytes32 indexed channelId, address indexed payer, address indexed miner, uint256 deposit, uint64 expiry
    );
    event ChannelToppedUp(bytes32 indexed channelId, uint256 amount, uint256 deposit, uint64 expiry);
    /// @notice The miner was paid `amount`; `paid` is the channel's total so far.
    event ChannelSettled(bytes32 indexed channelId, bytes32 indexed receiptDigest, uint256 amount, uint256 paid);
    event ChannelClosing(bytes32 indexed channelId, address indexed by, uint64 closesAt);
    /// @notice The channel closed and `refund` went back to the payer.
    event ChannelClosed(bytes32 indexed channelId, uint256 paid, uint256 refund);

    error ZeroAmount();
    error ZeroAddress();
    error SelfChannel(address payer);
    error InvalidParam(string what);
    error ExpiryNotInFuture(uint64 expiry, uint256 blockNumber);
    error ExpiryShortened(uint64 expiry, uint64 current);
    error UnknownChannel(bytes32 channelId);
    error ChannelNotOpen(bytes32 channelId, ChannelState state);
    error NotPayer(address caller, address payer);
    error NotMiner(address caller, address miner);
    error NotParty(address caller, address payer, address miner);
    /// @notice The voucher's signer is not the channel's payer (forged, another key, another
    /// channel, chain or contract: all of these recover to another address).
    error VoucherNotSignedByPayer(address recovered, address payer);
    /// @notice The voucher does not add to what was paid (an old or replayed one).
    error StaleVoucher(bytes32 channelId, uint256 cumulativeAmount, uint256 paid);
    /// @notice Everything deposited is paid; the voucher promises more than was ever locked.
    error DepositExhausted(bytes32 channelId, uint256 cumulativeAmount, uint256 deposit);
    /// @notice The voucher's receipt lost a dispute (`disputeId`): the voucher pays nothing.
    error VoucherVoided(bytes32 channelId, bytes32 receiptDigest, uint256 disputeId);
    error SettleWindowClosed(bytes32 channelId, uint256 deadline);
    error SettleWindowOpen(bytes32 channelId, uint256 deadline);

    /// @notice Opens a channel to `miner` with `deposit` VTY (approved first) that the payer may
    /// reclaim after `expiry` (+ settleGrace). The id is keccak256(abi.encode(payer, miner, nonce))
    /// with the payer's next nonce (see channelIdOf).
    function open(address miner, uint256 deposit, uint64 expiry) external returns (bytes32 channelId);

    /// @notice The payer adds `amount` VTY (approved first) and may push `expiry` later (pass the
    /// current one to keep it). Only while Open: a closing channel's refund is fixed.
    function topUp(bytes32 channelId, uint256 amount, uint64 expiry) external;

    /// @notice The miner redeems a voucher: pays min(cumulativeAmount, deposit) - paid. Reverts
    /// with StaleVoucher, DepositExhausted, VoucherVoided, VoucherNotSignedByPayer or
    /// SettleWindowClosed.
    function settle(bytes32 channelId, uint256 cumulativeAmount, bytes32 receiptDigest, bytes calldata signature)
        external;

    /// @notice The payer or the miner starts the close: the miner may still settle for
    /// challengePeriod blocks (never past expiry + settleGrace).
    function startClose(bytes32 channelId) external;

    /// @notice After closesAt, anyone ends a closing channel: the rest goes to the payer.
    function finishClose(bytes32 channelId) external;

    /// @notice After expiry + settleGrace, anyone ends an open or closing channel: the rest goes
    /// to the payer.
    function reclaim(bytes32 channelId) external;

    /// @notice A channel as stored.
    function getChannel(bytes32 channelId) external view returns (Channel memory);

    /// @notice The last block in which the miner may settle.
    function settleDeadline(bytes32 channelId) external view returns (uint256);

    /// @notice The EIP-712 digest the payer signs for a voucher.
    function voucherDigest(bytes32 channelId, uint256 cumulativeAmount, bytes32 receiptDigest)
        external
        view
        returns (bytes32);

    /// @notice The id the payer's `nonce`-th channel to `miner` gets.
    function channelIdOf(address payer, address miner, uint256 nonce) external pure returns (bytes32);
}
