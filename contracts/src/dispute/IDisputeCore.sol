// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title IDisputeCore
/// @notice What the dispute game needs of the Verity core contract, and nothing else: the
/// slashing hook, the unstake delay the game's longest dispute must fit in, registration, the
/// subnet's model and owner, and a miner's stake. Names and semantics are IVerity's (branch
/// wip/contracts, contracts/src/interfaces/IVerity.sol); point the game at the real core by
/// deploying it with the core's address. Every time is in the core's clock units, which the game
/// takes to be block numbers (the core's default CLOCK_MODE, "mode=blocknumber&from=default").
interface IDisputeCore {
    /// @notice Slashes up to `amount` from `hotkey`'s stake on `netuid` for a lost dispute: the
    /// active stake and every withdrawal of that pool still within its unstake delay lose the same
    /// fraction. `recipientBps` of what was slashed goes to `recipient`, the rest is burned. Only
    /// the dispute game named by governance may call it.
    /// @return slashed What was taken (at most `amount`).
    /// @return paid The part sent to `recipient`.
    function slashForDispute(uint16 netuid, address hotkey, uint256 amount, address recipient, uint16 recipientBps)
        external
        returns (uint256 slashed, uint256 paid);

    /// @notice The unstake delay's floor: stake stays slashable for at least this long after it
    /// last backed a receipt.
    function minUnstakeDelay() external view returns (uint48);

    /// @notice The uid of a registered hotkey; reverts when it is not registered.
    function uidOf(uint16 netuid, address hotkey) external view returns (uint16);

    /// @notice A subnet's summary; the game reads its owner (first) and model (third).
    function subnetInfo(uint16 netuid)
        external
        view
        returns (
            address owner,
            uint16 n,
            bytes32 modelRoot,
            uint48 lastEpochBlock,
            uint64 epochIndex,
            uint128 pendingEmission,
            uint128 burn
        );

    /// @notice Total stake of a hotkey on a subnet.
    function stakeOf(uint16 netuid, address hotkey) external view returns (uint256);
}
