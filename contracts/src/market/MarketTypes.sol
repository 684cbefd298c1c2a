// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @notice A provider attribute or a placement requirement: `key` = `value`, both short strings
/// right-padded to 32 bytes (e.g. "region" = "eu-west", "gpu" = "h100"). Neither may be zero.
struct Attribute {
    bytes32 key;
    bytes32 value;
}

/// @notice The resources an order asks for. The chain records them; the provider's inventory is
/// its own to check (a bid offers exactly these).
struct Resources {
    uint32 cpuMilli;
    uint32 gpuUnits;
    uint64 memoryBytes;
    uint64 storageBytes;
}

/// @notice What a tenant posts to open an order (one deployment, one group, one order).
struct OrderParams {
    /// keccak256 of the deployment spec, which the tenant publishes with publishSpec.
    bytes32 specHash;
    Resources resources;
    /// The most the tenant pays per block; every bid is at or below it.
    uint128 maxPricePerBlock;
    /// Blocks from creation during which providers bid and the tenant accepts.
    uint64 bidWindow;
    /// Attributes the provider must have (its own), each also signed as below.
    Attribute[] requirements;
    /// At least one of these auditors must have signed every requirement (empty: no such rule).
    address[] signedByAnyOf;
    /// Every one of these auditors must have signed every requirement (empty: no such rule).
    address[] signedByAllOf;
}

enum OrderState {
    None,
    Open,
    Active,
    Closed
}

enum BidState {
    None,
    Open,
    Active,
    Lost,
    Closed
}

enum LeaseState {
    None,
    Active,
    Closed
}

/// @notice Why a lease closed. Tenant-initiated: Tenant, ProviderGone; provider-initiated:
/// Provider; anyone: InsufficientFunds (the escrow could not pay the blocks elapsed).
enum CloseReason {
    None,
    Tenant,
    ProviderGone,
    Provider,
    InsufficientFunds
}

struct Order {
    address tenant;
    OrderState state;
    uint64 createdBlock;
    /// Last block at which a bid may be placed or accepted.
    uint64 bidDeadline;
    /// The accepted bid (= the lease id), 0 before acceptance.
    uint64 leaseId;
    uint128 maxPricePerBlock;
    /// The tenant's unspent escrow for this deployment.
    uint128 escrow;
    bytes32 specHash;
    Resources resources;
    Attribute[] requirements;
    address[] signedByAnyOf;
    address[] signedByAllOf;
}

struct Bid {
    uint64 orderId;
    address provider;
    BidState state;
    /// Position in the order's list of open bids (meaningful while open).
    uint8 slot;
    uint64 createdBlock;
    uint128 pricePerBlock;
    uint128 deposit;
}

/// @notice A lease has its bid's id. The escrow it draws on is its order's.
struct Lease {
    uint64 orderId;
    address provider;
    LeaseState state;
    CloseReason reason;
    address tenant;
    uint64 startBlock;
    /// Blocks before this one are paid for (or were unpayable: see InsufficientFunds).
    uint64 settledBlock;
    uint64 closedBlock;
    uint128 pricePerBlock;
    /// Settled to the provider and not yet withdrawn.
    uint128 earned;
    /// Settled to the provider over the lease's life (withdrawn or not).
    uint128 paid;
}

struct Provider {
    bool registered;
    /// Bumped on every registration, so audits of an earlier registration no longer count.
    uint32 generation;
    uint32 openBids;
    uint32 openLeases;
    string hostUri;
    Attribute[] attributes;
}
