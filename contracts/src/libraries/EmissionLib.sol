// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title EmissionLib
/// @notice Bittensor's halving schedule: base / 2^k with k = floor(log2(cap / (cap - issuance))),
/// so halvings fall at issuance cap/2, 3cap/4, ...; zero once the cap is reached.
library EmissionLib {
    function blockEmission(uint256 base, uint256 cap, uint256 issuance) internal pure returns (uint256) {
        if (issuance >= cap) return 0;
        uint256 remaining = cap - issuance;
        uint256 k = 0;
        // largest k with 2^k * remaining <= cap
        while (k < 64 && (remaining << (k + 1)) <= cap) k++;
        return base >> k;
    }
}
