// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Attribute} from "./MarketTypes.sol";

/// @title The provider registry's events and errors
interface IProviderRegistry {
    event ProviderRegistered(address indexed provider, uint32 generation, string hostUri, Attribute[] attributes);
    event ProviderAttributesSet(address indexed provider, Attribute[] attributes);
    event ProviderHostUriSet(address indexed provider, string hostUri);
    event ProviderDeregistered(address indexed provider);
    /// @notice `auditor` vouches for these attributes of the provider's current registration.
    event AttributesSigned(address indexed provider, address indexed auditor, Attribute[] attributes);
    event AttributesRevoked(address indexed provider, address indexed auditor, bytes32[] keys);

    error ProviderAlreadyRegistered(address provider);
    error ProviderNotRegistered(address provider);
    /// @notice A provider with open bids or leases cannot leave: tenants depend on it.
    error ProviderBusy(address provider, uint256 openBids, uint256 openLeases);
    error TooManyAttributes(uint256 count, uint256 max);
    error EmptyAttribute(uint256 index);
    error DuplicateAttribute(bytes32 key);
    error HostUriLength(uint256 length, uint256 max);
}
