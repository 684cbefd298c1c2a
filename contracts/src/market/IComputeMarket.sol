// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {BidState, CloseReason, OrderState} from "./MarketTypes.sol";

/// @title The compute market's events and errors
interface IComputeMarket {
    event OrderCreated(
        uint64 indexed orderId,
        address indexed tenant,
        bytes32 specHash,
        uint128 maxPricePerBlock,
        uint64 bidDeadline,
        uint256 deposit
    );
    /// @notice The order's deployment spec, whose keccak256 is its specHash.
    event SpecPublished(uint64 indexed orderId, bytes spec);
    event OrderClosed(uint64 indexed orderId, uint256 refund);
    event BidPlaced(
        uint64 indexed bidId, uint64 indexed orderId, address indexed provider, uint128 pricePerBlock, uint256 deposit
    );
    /// @notice The bid left the open state (Lost: another bid won; Closed: withdrawn or expired).
    event BidClosed(uint64 indexed bidId, uint64 indexed orderId, BidState state, uint256 depositReturned);
    event LeaseCreated(
        uint64 indexed leaseId, uint64 indexed orderId, address indexed provider, address tenant, uint128 pricePerBlock
    );
    event EscrowDeposited(uint64 indexed orderId, address indexed tenant, uint256 amount, uint256 escrow);
    /// @notice Blocks up to `settledBlock` were settled: `paid` moved from escrow to the provider.
    event LeaseSettled(uint64 indexed leaseId, uint256 paid, uint256 escrowLeft, uint64 settledBlock);
    event LeaseWithdrawn(uint64 indexed leaseId, address indexed provider, uint256 amount);
    event LeaseClosed(
        uint64 indexed leaseId, CloseReason reason, address closedBy, uint256 providerPaid, uint256 tenantRefund
    );

    error ZeroAmount();
    error SpecTooLong(uint256 length, uint256 max);
    error SpecHashMismatch(bytes32 expected, bytes32 actual);
    error ZeroPrice();
    error EscrowBelowMinimum(uint256 deposit, uint256 minimum);
    error BidWindowOutOfRange(uint64 window, uint64 max);
    error TooManyRequirements(uint256 count, uint256 max);
    error TooManyAuditors(uint256 count, uint256 max);
    error UnknownOrder(uint64 orderId);
    error UnknownBid(uint64 bidId);
    error UnknownLease(uint64 leaseId);
    error NotTenant(address caller, address tenant);
    error NotProvider(address caller, address provider);
    error OrderNotOpen(uint64 orderId, OrderState state);
    error BidNotOpen(uint64 bidId, BidState state);
    error LeaseNotActive(uint64 leaseId);
    error BidWindowClosed(uint64 orderId, uint64 deadline);
    /// @notice Only the bid's provider (or the order's tenant) may act before the window ends.
    error BidWindowStillOpen(uint64 orderId, uint64 deadline);
    error PriceAboveCeiling(uint128 price, uint128 ceiling);
    error TooManyBids(uint64 orderId, uint256 max);
    error AlreadyBid(uint64 orderId, address provider, uint64 bidId);
    /// @notice The provider's own attribute `key` is `actual`, the order requires `required`.
    error AttributeMismatch(bytes32 key, bytes32 required, bytes32 actual);
    /// @notice `auditor` (named in signedByAllOf) has not signed requirement `key`.
    error MissingAuditorSignature(address auditor, bytes32 key);
    /// @notice No auditor of signedByAnyOf has signed every requirement.
    error NoListedAuditorSigned();
    error CloseReasonNotAllowed(CloseReason reason, address caller);
    /// @notice Only a lease whose escrow cannot pay the blocks elapsed closes for lack of funds.
    error EscrowNotDepleted(uint64 leaseId);
    /// @notice The escrow already failed to pay; the lease can only be closed, not topped up.
    error EscrowDepleted(uint64 leaseId);
    error EscrowClosed(uint64 orderId);
    error WithdrawExceedsEarned(uint256 requested, uint256 earned);
}
