// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @dev The views of the Verity core this contract reads (IVerity): subnet owner, epoch, state.
interface IVisionSubnetsCore {
    function subnetInfo(uint16 netuid)
        external
        view
        returns (address, uint16, bytes32, uint48, uint64 epochIndex, uint128, uint128);
    function subnetEconomics(uint16 netuid) external view returns (uint16, uint128, bool dissolved);
}

/// @dev What this contract reads of a VisionAnswers: the model whose proofs it verifies.
interface IVisionAnswersModel {
    function modelId() external view returns (bytes32);
}

/// @title VisionSubnets
/// @notice Which subnets are proven-classification subnets (task type "vision"), and the
/// VisionAnswers contract, hence the model, each is bound to. The subnet owner declares it once,
/// before the subnet's first epoch, as for a model competition: the subnet never paid emission under
/// other rules. Ownership is the Verity core's; this contract has no owner and holds no funds.
contract VisionSubnets {
    struct VisionSubnet {
        /// @dev The VisionAnswers contract whose verifier checks this subnet's proofs.
        address answers;
        /// @dev The model's id (keccak of its verification key), read from `answers` at declaration.
        bytes32 modelId;
        /// @dev Block of the declaration; 0: not a vision subnet.
        uint64 declaredAt;
    }

    IVisionSubnetsCore public immutable core;

    mapping(uint16 => VisionSubnet) internal subnets;

    event VisionSubnetDeclared(uint16 indexed netuid, address indexed answers, bytes32 modelId);

    error NotSubnetOwner(uint16 netuid, address caller, address owner);
    error SubnetDissolved(uint16 netuid);
    error SubnetAlreadyStarted(uint16 netuid, uint64 epochIndex);
    error AlreadyDeclared(uint16 netuid);
    error InvalidParam(string name);

    constructor(IVisionSubnetsCore core_) {
        if (address(core_) == address(0)) revert InvalidParam("core");
        core = core_;
    }

    /// @notice Makes `netuid` a proven-classification subnet whose answers `answers` verifies.
    /// Only the subnet owner, once, while the subnet is live and before its first epoch.
    function declareVisionSubnet(uint16 netuid, address answers) external {
        // reverts SubnetNotFound (the core's error) for an unknown netuid
        (address owner,,,, uint64 epochIndex,,) = core.subnetInfo(netuid);
        if (msg.sender != owner) revert NotSubnetOwner(netuid, msg.sender, owner);
        (,, bool dissolved) = core.subnetEconomics(netuid);
        if (dissolved) revert SubnetDissolved(netuid);
        if (subnets[netuid].declaredAt != 0) revert AlreadyDeclared(netuid);
        if (epochIndex != 0) revert SubnetAlreadyStarted(netuid, epochIndex);
        if (answers.code.length == 0) revert InvalidParam("answers");
        bytes32 modelId = IVisionAnswersModel(answers).modelId();
        if (modelId == bytes32(0)) revert InvalidParam("modelId");
        subnets[netuid] = VisionSubnet({answers: answers, modelId: modelId, declaredAt: uint64(block.number)});
        emit VisionSubnetDeclared(netuid, answers, modelId);
    }

    /// @notice The subnet's binding; declaredAt 0 when it is not a vision subnet.
    function visionOf(uint16 netuid) external view returns (VisionSubnet memory) {
        return subnets[netuid];
    }
}
