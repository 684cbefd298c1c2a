// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title ReentrantToken
/// @notice Test token that, once armed, calls back into a contract while that contract is
/// sending it tokens: what a hostile token (or an ERC777-style hook) would do mid-transfer.
/// The reentrant call's result is recorded instead of bubbling up, so a test can assert that
/// the guard refused it and that the outer call still paid exactly once.
/// @dev Not part of the protocol.
contract ReentrantToken is ERC20 {
    address public target;
    bytes public payload;
    bool public attempted;
    bool public reentered;
    bytes public reentryRevert;

    constructor(uint256 supply) ERC20("Reentrant", "RE") {
        _mint(msg.sender, supply);
    }

    /// @notice The next transfer out of `target_` makes this token call `target_` with `payload_`.
    function arm(address target_, bytes calldata payload_) external {
        target = target_;
        payload = payload_;
        attempted = false;
        reentered = false;
        delete reentryRevert;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        address t = target;
        if (t == address(0) || from != t) return;
        target = address(0);
        attempted = true;
        (bool ok, bytes memory ret) = t.call(payload);
        reentered = ok;
        if (!ok) reentryRevert = ret;
    }
}
