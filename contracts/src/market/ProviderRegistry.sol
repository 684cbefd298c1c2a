// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Attribute, Provider} from "./MarketTypes.sol";
import {IProviderRegistry} from "./IProviderRegistry.sol";

/// @title ProviderRegistry
/// @notice Providers publish a host URI and attributes; anyone may act as an auditor and sign
/// some of a provider's attributes. Which auditors count is the tenant's choice, made per order
/// (signedByAnyOf / signedByAllOf), so the registry has no owner and no auditor list.
abstract contract ProviderRegistry is IProviderRegistry {
    uint256 public constant MAX_ATTRIBUTES = 32;
    uint256 public constant MAX_HOST_URI = 256;

    mapping(address => Provider) internal providers;
    /// provider => key => value of its own current attributes (zero: none)
    mapping(address => mapping(bytes32 => bytes32)) internal ownValue;
    /// keccak(provider, generation, auditor, key) => value the auditor signed (zero: none)
    mapping(bytes32 => bytes32) internal auditValue;

    /// @notice Registers the caller as a provider.
    /// @param hostUri Its gateway, where tenants send manifests (1..256 bytes).
    /// @param attributes Its own attributes (at most 32, distinct non-zero keys, non-zero values).
    function registerProvider(string calldata hostUri, Attribute[] calldata attributes) external {
        Provider storage p = providers[msg.sender];
        if (p.registered) revert ProviderAlreadyRegistered(msg.sender);
        _checkHostUri(hostUri);
        p.registered = true;
        p.generation += 1;
        p.hostUri = hostUri;
        _writeAttributes(p, attributes);
        emit ProviderRegistered(msg.sender, p.generation, hostUri, attributes);
    }

    /// @notice Replaces the caller's attributes. Audits stay, but one only counts while its value
    /// equals the provider's own.
    function setProviderAttributes(Attribute[] calldata attributes) external {
        Provider storage p = _registered(msg.sender);
        _clearAttributes(p);
        _writeAttributes(p, attributes);
        emit ProviderAttributesSet(msg.sender, attributes);
    }

    /// @notice Changes the caller's host URI.
    function setHostUri(string calldata hostUri) external {
        Provider storage p = _registered(msg.sender);
        _checkHostUri(hostUri);
        p.hostUri = hostUri;
        emit ProviderHostUriSet(msg.sender, hostUri);
    }

    /// @notice Leaves the registry; only without open bids or leases. Audits of this registration
    /// never count again (a new registration has a new generation).
    function deregisterProvider() external {
        Provider storage p = _registered(msg.sender);
        if (p.openBids != 0 || p.openLeases != 0) revert ProviderBusy(msg.sender, p.openBids, p.openLeases);
        _clearAttributes(p);
        p.registered = false;
        delete p.hostUri;
        emit ProviderDeregistered(msg.sender);
    }

    /// @notice The caller, as an auditor, signs these attributes of a registered provider.
    function signAttributes(address provider, Attribute[] calldata attributes) external {
        Provider storage p = _registered(provider);
        if (attributes.length > MAX_ATTRIBUTES) revert TooManyAttributes(attributes.length, MAX_ATTRIBUTES);
        for (uint256 i; i < attributes.length; ++i) {
            Attribute calldata a = attributes[i];
            if (a.key == 0 || a.value == 0) revert EmptyAttribute(i);
            auditValue[_auditSlot(provider, p.generation, msg.sender, a.key)] = a.value;
        }
        emit AttributesSigned(provider, msg.sender, attributes);
    }

    /// @notice The caller, as an auditor, withdraws its signature of these keys.
    function revokeAttributes(address provider, bytes32[] calldata keys) external {
        Provider storage p = _registered(provider);
        if (keys.length > MAX_ATTRIBUTES) revert TooManyAttributes(keys.length, MAX_ATTRIBUTES);
        for (uint256 i; i < keys.length; ++i) {
            delete auditValue[_auditSlot(provider, p.generation, msg.sender, keys[i])];
        }
        emit AttributesRevoked(provider, msg.sender, keys);
    }

    /// @notice A provider as stored: registration, generation, counts, host URI, attributes.
    function getProvider(address provider) external view returns (Provider memory) {
        return providers[provider];
    }

    /// @notice The value `auditor` signed for the provider's current registration (zero: none).
    function auditedValue(address provider, address auditor, bytes32 key) external view returns (bytes32) {
        return auditValue[_auditSlot(provider, providers[provider].generation, auditor, key)];
    }

    function _registered(address provider) internal view returns (Provider storage p) {
        p = providers[provider];
        if (!p.registered) revert ProviderNotRegistered(provider);
    }

    function _auditSlot(address provider, uint32 generation, address auditor, bytes32 key)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(provider, generation, auditor, key));
    }

    function _checkHostUri(string calldata hostUri) private pure {
        uint256 length = bytes(hostUri).length;
        if (length == 0 || length > MAX_HOST_URI) revert HostUriLength(length, MAX_HOST_URI);
    }

    function _writeAttributes(Provider storage p, Attribute[] calldata attributes) private {
        if (attributes.length > MAX_ATTRIBUTES) revert TooManyAttributes(attributes.length, MAX_ATTRIBUTES);
        mapping(bytes32 => bytes32) storage values = ownValue[msg.sender];
        for (uint256 i; i < attributes.length; ++i) {
            Attribute calldata a = attributes[i];
            if (a.key == 0 || a.value == 0) revert EmptyAttribute(i);
            // the old set was cleared, so a value already here came from this same list
            if (values[a.key] != 0) revert DuplicateAttribute(a.key);
            values[a.key] = a.value;
            p.attributes.push(a);
        }
    }

    function _clearAttributes(Provider storage p) private {
        mapping(bytes32 => bytes32) storage values = ownValue[msg.sender];
        Attribute[] storage list = p.attributes;
        for (uint256 i; i < list.length; ++i) {
            delete values[list[i].key];
        }
        delete p.attributes;
    }
}
