// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Verity} from "../Verity.sol";
import {IVerityToken} from "../interfaces/IVerityToken.sol";
import {Subnet} from "../libraries/Types.sol";

/// @title VerityScenarioHarness
/// @notice NOT FOR DEPLOYMENT. The production contract with two epoch guards lifted, so that
/// `verity yuma run --onchain` can replay subtensor's test scenarios (several epochs in one block,
/// stake set in the block of the epoch that uses it) on the same epoch libraries and compare them
/// bit for bit with src/consensus: an epoch may begin before its tempo, and stake counts at once.
contract VerityScenarioHarness is Verity {
    constructor(IVerityToken token_, address owner_, Config memory config) Verity(token_, owner_, config) {}

    function _checkDue(uint16, Subnet storage, uint256) internal pure override {}

    function _warmEpoch(Subnet storage) internal pure override returns (uint256) {
        return type(uint256).max;
    }
}
