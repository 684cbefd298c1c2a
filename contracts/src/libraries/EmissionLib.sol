// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title EmissionLib
/// @notice Bittensor's halving schedule: base / 2^k with k = floor(log2(cap / (cap - issuance))),
/// so halvings fall at issuance cap/2, 3cap/4, ...; zero once the cap is reached.
library EmissionLib {
    function blockEmission(uint256 base, uint256 cap, uint256 issuance) internal pure returns (uint256) {
        return base >> _level(cap, issuance);
    }

    /// @dev The issuance at which the rate halves next (cap once the rate is zero).
    function nextHalving(uint256 cap, uint256 issuance) internal pure returns (uint256) {
        uint256 k = _level(cap, issuance);
        return k >= 255 ? cap : cap - (cap >> (k + 1));
    }

    /// @dev Largest k with 2^k * (cap - issuance) <= cap (at most 64; 256 at the cap: rate zero).
    function _level(uint256 cap, uint256 issuance) private pure returns (uint256 k) {
        if (issuance >= cap) return 256;
        uint256 remaining = cap - issuance;
        while (k < 64 && (remaining << (k + 1)) <= cap) k++;
    }
}
