// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {ERC20Capped} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Capped.sol";
import {IVerityToken} from "./interfaces/IVerityToken.sol";
import {EmissionLib} from "./libraries/EmissionLib.sol";

/// @title VerityToken (VTY)
/// @notice Capped at 21,000,000 VTY; 1 VTY per block before the first halving.
contract VerityToken is ERC20Capped, ERC20Burnable, IVerityToken {
    uint256 public constant CAP = 21_000_000 ether;
    uint256 public constant BASE_EMISSION = 1 ether;

    address private immutable deployer;
    address public minter;
    uint256 public totalMinted;
    uint256 public totalBurned;

    constructor(address treasury, uint256 genesis) ERC20("Verity", "VTY") ERC20Capped(CAP) {
        deployer = msg.sender;
        if (genesis > 0) _mint(treasury, genesis);
    }

    /// @inheritdoc IVerityToken
    function setMinter(address minter_) external {
        if (msg.sender != deployer) revert NotMinter(msg.sender);
        if (minter != address(0)) revert MinterAlreadySet(minter);
        minter = minter_;
        emit MinterSet(minter_);
    }

    /// @inheritdoc IVerityToken
    function mint(address to, uint256 amount) external {
        if (msg.sender != minter) revert NotMinter(msg.sender);
        _mint(to, amount);
    }

    /// @inheritdoc IVerityToken
    function burn(uint256 amount) public override(ERC20Burnable, IVerityToken) {
        super.burn(amount);
    }

    /// @inheritdoc IVerityToken
    function burnFrom(address account, uint256 amount) public override(ERC20Burnable, IVerityToken) {
        super.burnFrom(account, amount);
    }

    /// @inheritdoc IVerityToken
    function blockEmission() external view returns (uint256) {
        return EmissionLib.blockEmission(BASE_EMISSION, CAP, totalMinted);
    }

    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Capped) {
        super._update(from, to, value);
        if (from == address(0)) totalMinted += value;
        if (to == address(0)) totalBurned += value;
    }
}
