// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title IVerityToken
/// @notice VTY: capped ERC-20 with a halving emission schedule. Only the protocol (minter) mints.
interface IVerityToken is IERC20 {
    /// @notice Emitted once, when the protocol address is fixed.
    event MinterSet(address indexed minter);

    /// @notice The caller is not the minter.
    error NotMinter(address caller);
    /// @notice The minter was already set.
    error MinterAlreadySet(address minter);

    /// @notice Mints `amount` to `to` (minter only; the cap applies).
    function mint(address to, uint256 amount) external;

    /// @notice Burns `amount` of the caller's tokens.
    function burn(uint256 amount) external;

    /// @notice Burns `amount` from `account` using the caller's allowance.
    function burnFrom(address account, uint256 amount) external;

    /// @notice Sets the minter once (deployer only).
    function setMinter(address minter) external;

    /// @notice The minter (the protocol contract).
    function minter() external view returns (address);

    /// @notice Everything ever minted, genesis included.
    function totalMinted() external view returns (uint256);

    /// @notice Everything ever burned.
    function totalBurned() external view returns (uint256);

    /// @notice Emission per block at the current issuance: 1 VTY halved at 50%, 75%, ... of the cap.
    function blockEmission() external view returns (uint256);
}
