// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IComputeMarket} from "./IComputeMarket.sol";
import {
    Attribute,
    Bid,
    BidState,
    CloseReason,
    Lease,
    LeaseState,
    Order,
    OrderParams,
    OrderState,
    Provider
} from "./MarketTypes.sol";
import {ProviderRegistry} from "./ProviderRegistry.sol";

/// @title ComputeMarket
/// @notice Akash's market on an EVM chain, paid in VTY: a tenant posts an order with an escrow,
/// registered providers whose attributes meet its placement bid under its price ceiling with a
/// deposit, the tenant accepts one bid and the lease pays the provider per block out of the
/// escrow. Settlement is lazy: nothing happens per block; every deposit, withdrawal and close
/// settles one lease in O(1) (price x blocks elapsed, capped by the escrow).
/// No account has powers over funds: the contract has no owner, and every token that enters
/// leaves only to the tenant who paid it (refunds), the provider who earned it, or the provider
/// whose deposit it is.
contract ComputeMarket is ProviderRegistry, IComputeMarket, ReentrancyGuard {
    using SafeERC20 for IERC20;

    uint256 public constant MAX_OPEN_BIDS = 20;
    uint256 public constant MAX_REQUIREMENTS = 16;
    uint256 public constant MAX_AUDITORS = 8;
    uint64 public constant MAX_BID_WINDOW = 100_000;
    /// @notice The longest deployment spec publishSpec takes (its bytes are logged, never stored).
    uint256 public constant MAX_SPEC_BYTES = 16_384;

    IERC20 public immutable token;
    /// @notice What every bid locks until it closes (or its lease closes).
    uint256 public immutable bidDeposit;
    /// @notice The least escrow an order opens with.
    uint256 public immutable minEscrow;

    /// A deposit owed back, paid after the effects of the call that owes it.
    struct Refund {
        address to;
        uint256 amount;
    }

    uint64 public orderCount;
    uint64 public bidCount;

    mapping(uint64 => Order) internal orders;
    mapping(uint64 => Bid) internal bids;
    mapping(uint64 => Lease) internal leases;
    /// the order's open bids, at most MAX_OPEN_BIDS (every loop over it is bounded by that)
    mapping(uint64 => uint64[]) internal openBids;
    /// orderId => provider => its open bid on the order (0: none)
    mapping(uint64 => mapping(address => uint64)) internal bidOf;

    constructor(IERC20 token_, uint256 bidDeposit_, uint256 minEscrow_) {
        token = token_;
        bidDeposit = SafeCast.toUint128(bidDeposit_);
        minEscrow = minEscrow_;
    }

    // ---------------------------------------------------------------- orders

    /// @notice Opens an order and its escrow with `deposit` VTY from the caller (approved first).
    /// @return orderId The new order's id (from 1).
    function createOrder(OrderParams calldata params, uint256 deposit) external nonReentrant returns (uint64 orderId) {
        if (params.maxPricePerBlock == 0) revert ZeroPrice();
        if (params.bidWindow == 0 || params.bidWindow > MAX_BID_WINDOW) {
            revert BidWindowOutOfRange(params.bidWindow, MAX_BID_WINDOW);
        }
        if (deposit < minEscrow || deposit == 0) revert EscrowBelowMinimum(deposit, minEscrow);
        uint256 n = params.requirements.length;
        if (n > MAX_REQUIREMENTS) revert TooManyRequirements(n, MAX_REQUIREMENTS);
        _checkAuditors(params.signedByAnyOf.length);
        _checkAuditors(params.signedByAllOf.length);

        orderId = ++orderCount;
        Order storage o = orders[orderId];
        o.tenant = msg.sender;
        o.state = OrderState.Open;
        o.createdBlock = uint64(block.number);
        o.bidDeadline = uint64(block.number) + params.bidWindow;
        o.maxPricePerBlock = params.maxPricePerBlock;
        o.escrow = SafeCast.toUint128(deposit);
        o.specHash = params.specHash;
        o.resources = params.resources;
        for (uint256 i; i < n; ++i) {
            Attribute calldata a = params.requirements[i];
            if (a.key == 0 || a.value == 0) revert EmptyAttribute(i);
            o.requirements.push(a);
        }
        o.signedByAnyOf = params.signedByAnyOf;
        o.signedByAllOf = params.signedByAllOf;
        emit OrderCreated(orderId, msg.sender, params.specHash, params.maxPricePerBlock, o.bidDeadline, deposit);
        token.safeTransferFrom(msg.sender, address(this), deposit);
    }

    /// @notice Publishes the order's deployment spec in a log, so every provider reads what it
    /// bids on from the chain alone: `keccak256(spec)` must be the order's specHash. Only the
    /// tenant, only while the order is open. A spec is public: it carries no secrets (the
    /// endpoint's API key is named by its hash).
    function publishSpec(uint64 orderId, bytes calldata spec) external {
        Order storage o = _order(orderId);
        if (msg.sender != o.tenant) revert NotTenant(msg.sender, o.tenant);
        if (o.state != OrderState.Open) revert OrderNotOpen(orderId, o.state);
        if (spec.length > MAX_SPEC_BYTES) revert SpecTooLong(spec.length, MAX_SPEC_BYTES);
        bytes32 actual = keccak256(spec);
        if (actual != o.specHash) revert SpecHashMismatch(o.specHash, actual);
        emit SpecPublished(orderId, spec);
    }

    /// @notice Closes an order that has no lease: its open bids close (deposits returned) and
    /// the escrow returns to the tenant. The tenant may close it at any time, anyone once its
    /// bid window has passed.
    function closeOrder(uint64 orderId) external nonReentrant {
        Order storage o = _order(orderId);
        if (o.state != OrderState.Open) revert OrderNotOpen(orderId, o.state);
        if (msg.sender != o.tenant && block.number <= o.bidDeadline) revert NotTenant(msg.sender, o.tenant);
        Refund[] memory deposits = _closeAllOpenBids(orderId, BidState.Closed);
        o.state = OrderState.Closed;
        uint256 refund = o.escrow;
        o.escrow = 0;
        emit OrderClosed(orderId, refund);
        _payAll(deposits);
        if (refund > 0) token.safeTransfer(o.tenant, refund);
    }

    /// @notice Adds `amount` VTY (approved first) to the order's escrow. Settles the lease first,
    /// if there is one; an escrow that already failed to pay is refused (close the lease).
    function depositEscrow(uint64 orderId, uint256 amount) external nonReentrant {
        Order storage o = _order(orderId);
        if (msg.sender != o.tenant) revert NotTenant(msg.sender, o.tenant);
        if (amount == 0) revert ZeroAmount();
        if (o.state == OrderState.Closed) revert EscrowClosed(orderId);
        if (o.state == OrderState.Active) {
            if (_settle(o.leaseId)) revert EscrowDepleted(o.leaseId);
        }
        o.escrow = SafeCast.toUint128(o.escrow + amount);
        emit EscrowDeposited(orderId, msg.sender, amount, o.escrow);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    // ---------------------------------------------------------------- bids

    /// @notice The caller, a registered provider whose attributes meet the order's placement,
    /// bids `pricePerBlock` (at most the ceiling) and locks `bidDeposit` VTY (approved first).
    /// @return bidId The new bid's id (from 1); its lease, if accepted, has the same id.
    function placeBid(uint64 orderId, uint128 pricePerBlock) external nonReentrant returns (uint64 bidId) {
        Order storage o = _order(orderId);
        Provider storage p = _registered(msg.sender);
        if (o.state != OrderState.Open) revert OrderNotOpen(orderId, o.state);
        if (block.number > o.bidDeadline) revert BidWindowClosed(orderId, o.bidDeadline);
        if (pricePerBlock == 0) revert ZeroPrice();
        if (pricePerBlock > o.maxPricePerBlock) revert PriceAboveCeiling(pricePerBlock, o.maxPricePerBlock);
        uint64 existing = bidOf[orderId][msg.sender];
        if (existing != 0) revert AlreadyBid(orderId, msg.sender, existing);
        uint64[] storage list = openBids[orderId];
        if (list.length >= MAX_OPEN_BIDS) revert TooManyBids(orderId, MAX_OPEN_BIDS);
        _checkPlacement(o, msg.sender, p.generation);

        bidId = ++bidCount;
        bids[bidId] = Bid({
            orderId: orderId,
            provider: msg.sender,
            state: BidState.Open,
            slot: uint8(list.length),
            createdBlock: uint64(block.number),
            pricePerBlock: pricePerBlock,
            deposit: uint128(bidDeposit)
        });
        list.push(bidId);
        bidOf[orderId][msg.sender] = bidId;
        p.openBids += 1;
        emit BidPlaced(bidId, orderId, msg.sender, pricePerBlock, bidDeposit);
        if (bidDeposit > 0) token.safeTransferFrom(msg.sender, address(this), bidDeposit);
    }

    /// @notice Closes an open bid and returns its deposit: its provider may at any time, anyone
    /// once the order's bid window has passed.
    function closeBid(uint64 bidId) external nonReentrant {
        Bid storage b = _bid(bidId);
        if (b.state != BidState.Open) revert BidNotOpen(bidId, b.state);
        if (msg.sender != b.provider) {
            uint64 deadline = orders[b.orderId].bidDeadline;
            if (block.number <= deadline) revert BidWindowStillOpen(b.orderId, deadline);
        }
        Refund memory r = _closeOpenBid(bidId, BidState.Closed);
        if (r.amount > 0) token.safeTransfer(r.to, r.amount);
    }

    /// @notice The tenant accepts an open bid within the bid window: the lease starts now at the
    /// bid's price, and every other open bid is lost (deposits returned).
    /// @return leaseId The lease's id (= bidId).
    function acceptBid(uint64 bidId) external nonReentrant returns (uint64 leaseId) {
        Bid storage b = _bid(bidId);
        uint64 orderId = b.orderId;
        Order storage o = orders[orderId];
        if (msg.sender != o.tenant) revert NotTenant(msg.sender, o.tenant);
        if (o.state != OrderState.Open) revert OrderNotOpen(orderId, o.state);
        if (b.state != BidState.Open) revert BidNotOpen(bidId, b.state);
        if (block.number > o.bidDeadline) revert BidWindowClosed(orderId, o.bidDeadline);

        _removeOpenBid(b);
        Refund[] memory deposits = _closeAllOpenBids(orderId, BidState.Lost);
        b.state = BidState.Active;
        o.state = OrderState.Active;
        o.leaseId = bidId;
        Provider storage p = providers[b.provider];
        p.openBids -= 1;
        p.openLeases += 1;
        leaseId = bidId;
        leases[leaseId] = Lease({
            orderId: orderId,
            provider: b.provider,
            state: LeaseState.Active,
            reason: CloseReason.None,
            tenant: o.tenant,
            startBlock: uint64(block.number),
            settledBlock: uint64(block.number),
            closedBlock: 0,
            pricePerBlock: b.pricePerBlock,
            earned: 0,
            paid: 0
        });
        emit LeaseCreated(leaseId, orderId, b.provider, o.tenant, b.pricePerBlock);
        _payAll(deposits);
    }

    // ---------------------------------------------------------------- leases

    /// @notice The provider withdraws `amount` of what the lease has earned (settled first). If
    /// the settlement finds the escrow depleted, the lease closes for insufficient funds and the
    /// rest of the earnings and the bid deposit are paid too.
    function withdrawLease(uint64 leaseId, uint256 amount) external nonReentrant {
        Lease storage l = _activeLease(leaseId);
        if (msg.sender != l.provider) revert NotProvider(msg.sender, l.provider);
        if (amount == 0) revert ZeroAmount();
        bool depleted = _settle(leaseId);
        if (amount > l.earned) revert WithdrawExceedsEarned(amount, l.earned);
        l.earned -= uint128(amount);
        emit LeaseWithdrawn(leaseId, msg.sender, amount);
        if (depleted) {
            _closeLease(leaseId, CloseReason.InsufficientFunds, amount);
        } else {
            token.safeTransfer(msg.sender, amount);
        }
    }

    /// @notice Closes an active lease after settling it. Reasons: Tenant or ProviderGone (the
    /// tenant), Provider (the provider), InsufficientFunds (anyone, only when the escrow cannot
    /// pay the blocks elapsed). A lease found depleted is recorded as InsufficientFunds whoever
    /// closes it. The provider gets its unwithdrawn earnings and bid deposit, the tenant what is
    /// left of the escrow.
    function closeLease(uint64 leaseId, CloseReason reason) external nonReentrant {
        Lease storage l = _activeLease(leaseId);
        bool allowed = reason == CloseReason.InsufficientFunds
            || ((reason == CloseReason.Tenant || reason == CloseReason.ProviderGone) && msg.sender == l.tenant)
            || (reason == CloseReason.Provider && msg.sender == l.provider);
        if (!allowed) revert CloseReasonNotAllowed(reason, msg.sender);
        bool depleted = _settle(leaseId);
        if (reason == CloseReason.InsufficientFunds && !depleted) revert EscrowNotDepleted(leaseId);
        _closeLease(leaseId, depleted ? CloseReason.InsufficientFunds : reason, 0);
    }

    // ---------------------------------------------------------------- views

    /// @notice An order as stored, with its placement requirements.
    function getOrder(uint64 orderId) external view returns (Order memory) {
        return orders[orderId];
    }

    /// @notice A bid as stored.
    function getBid(uint64 bidId) external view returns (Bid memory) {
        return bids[bidId];
    }

    /// @notice A lease as stored (settled up to `settledBlock`; see `pendingSettlement`).
    function getLease(uint64 leaseId) external view returns (Lease memory) {
        return leases[leaseId];
    }

    /// @notice The ids of an order's open bids (at most MAX_OPEN_BIDS).
    function openBidsOf(uint64 orderId) external view returns (uint64[] memory) {
        return openBids[orderId];
    }

    /// @notice What settling the lease now would pay the provider, and whether the escrow would
    /// fall short of the blocks elapsed (then anyone may close it for insufficient funds).
    function pendingSettlement(uint64 leaseId) external view returns (uint256 pay, bool depleted) {
        Lease storage l = leases[leaseId];
        if (l.state != LeaseState.Active) return (0, false);
        uint256 due = uint256(l.pricePerBlock) * (block.number - l.settledBlock);
        uint256 escrow = orders[l.orderId].escrow;
        return due > escrow ? (escrow, true) : (due, false);
    }

    // ---------------------------------------------------------------- internals

    function _checkAuditors(uint256 count) private pure {
        if (count > MAX_AUDITORS) revert TooManyAuditors(count, MAX_AUDITORS);
    }

    function _order(uint64 orderId) private view returns (Order storage o) {
        o = orders[orderId];
        if (o.state == OrderState.None) revert UnknownOrder(orderId);
    }

    function _bid(uint64 bidId) private view returns (Bid storage b) {
        b = bids[bidId];
        if (b.state == BidState.None) revert UnknownBid(bidId);
    }

    function _activeLease(uint64 leaseId) private view returns (Lease storage l) {
        l = leases[leaseId];
        if (l.state == LeaseState.None) revert UnknownLease(leaseId);
        if (l.state != LeaseState.Active) revert LeaseNotActive(leaseId);
    }

    /// Every requirement must be the provider's own attribute and be signed as the order asks.
    /// At most 16 requirements x 8 auditors per list: bounded.
    function _checkPlacement(Order storage o, address provider, uint32 generation) private view {
        Attribute[] storage reqs = o.requirements;
        mapping(bytes32 => bytes32) storage own = ownValue[provider];
        for (uint256 i; i < reqs.length; ++i) {
            Attribute storage r = reqs[i];
            bytes32 actual = own[r.key];
            if (actual != r.value) revert AttributeMismatch(r.key, r.value, actual);
            address[] storage allOf = o.signedByAllOf;
            for (uint256 j; j < allOf.length; ++j) {
                if (auditValue[_auditSlot(provider, generation, allOf[j], r.key)] != r.value) {
                    revert MissingAuditorSignature(allOf[j], r.key);
                }
            }
        }
        address[] storage anyOf = o.signedByAnyOf;
        if (anyOf.length == 0) return;
        for (uint256 j; j < anyOf.length; ++j) {
            if (_signedAll(reqs, provider, generation, anyOf[j])) return;
        }
        revert NoListedAuditorSigned();
    }

    function _signedAll(Attribute[] storage reqs, address provider, uint32 generation, address auditor)
        private
        view
        returns (bool)
    {
        for (uint256 i; i < reqs.length; ++i) {
            if (auditValue[_auditSlot(provider, generation, auditor, reqs[i].key)] != reqs[i].value) return false;
        }
        return true;
    }

    /// Pays the provider for the blocks since the last settlement, capped by the escrow.
    /// Returns true when the escrow fell short (depleted): the unpaid blocks are never owed again.
    function _settle(uint64 leaseId) private returns (bool depleted) {
        Lease storage l = leases[leaseId];
        uint64 elapsed = uint64(block.number) - l.settledBlock;
        if (elapsed == 0) return false;
        Order storage o = orders[l.orderId];
        uint256 due = uint256(l.pricePerBlock) * elapsed;
        uint256 escrow = o.escrow;
        uint256 pay = due;
        if (due > escrow) {
            pay = escrow;
            depleted = true;
        }
        o.escrow = uint128(escrow - pay);
        l.earned += uint128(pay);
        l.paid += uint128(pay);
        l.settledBlock = uint64(block.number);
        emit LeaseSettled(leaseId, pay, escrow - pay, uint64(block.number));
    }

    /// Closes a settled lease, its bid and its order; pays the provider its earnings, its bid
    /// deposit and `alsoPay` (a withdrawal in the same call), and the tenant what is left.
    function _closeLease(uint64 leaseId, CloseReason reason, uint256 alsoPay) private {
        Lease storage l = leases[leaseId];
        Order storage o = orders[l.orderId];
        Bid storage b = bids[leaseId];
        uint256 deposit = b.deposit;
        l.state = LeaseState.Closed;
        l.reason = reason;
        l.closedBlock = uint64(block.number);
        uint256 toProvider = alsoPay + l.earned + deposit;
        l.earned = 0;
        b.state = BidState.Closed;
        b.deposit = 0;
        emit BidClosed(leaseId, l.orderId, BidState.Closed, deposit);
        o.state = OrderState.Closed;
        uint256 refund = o.escrow;
        o.escrow = 0;
        providers[l.provider].openLeases -= 1;
        emit LeaseClosed(leaseId, reason, msg.sender, toProvider, refund);
        emit OrderClosed(l.orderId, refund);
        if (toProvider > 0) token.safeTransfer(l.provider, toProvider);
        if (refund > 0) token.safeTransfer(l.tenant, refund);
    }

    /// Takes an open bid off its order's list and sets its final state; returns the deposit
    /// owed back, which the caller pays once all its effects are done.
    function _closeOpenBid(uint64 bidId, BidState state) private returns (Refund memory r) {
        Bid storage b = bids[bidId];
        _removeOpenBid(b);
        b.state = state;
        r = Refund(b.provider, b.deposit);
        b.deposit = 0;
        providers[b.provider].openBids -= 1;
        emit BidClosed(bidId, b.orderId, state, r.amount);
    }

    /// Closes every open bid of the order (at most MAX_OPEN_BIDS).
    function _closeAllOpenBids(uint64 orderId, BidState state) private returns (Refund[] memory out) {
        uint64[] storage list = openBids[orderId];
        out = new Refund[](list.length);
        for (uint256 i; i < out.length; ++i) {
            out[i] = _closeOpenBid(list[list.length - 1], state);
        }
    }

    function _payAll(Refund[] memory refunds) private {
        for (uint256 i; i < refunds.length; ++i) {
            if (refunds[i].amount > 0) token.safeTransfer(refunds[i].to, refunds[i].amount);
        }
    }

    /// Swap-and-pop from the order's open list; clears the provider's open-bid marker.
    function _removeOpenBid(Bid storage b) private {
        uint64[] storage list = openBids[b.orderId];
        uint64 last = list[list.length - 1];
        list[b.slot] = last;
        bids[last].slot = b.slot;
        list.pop();
        delete bidOf[b.orderId][b.provider];
    }
}
