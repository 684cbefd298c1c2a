// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title FixedLib
/// @notice I32F32 helpers with substrate-fixed rounding: products floor, quotients truncate
/// (all operands here are non-negative unless the name says signed).
library FixedLib {
    uint256 internal constant ONE = 1 << 32;

    /// @dev floor(a * b / 2^32)
    function mul(uint256 a, uint256 b) internal pure returns (uint256) {
        unchecked {
            return (a * b) >> 32;
        }
    }

    /// @dev floor(a * 2^32 / b); b must be non-zero.
    function div(uint256 a, uint256 b) internal pure returns (uint256) {
        unchecked {
            return (a << 32) / b;
        }
    }

    /// @dev signed product, arithmetic shift (floor toward -inf)
    function smul(int256 a, int256 b) internal pure returns (int256) {
        unchecked {
            return (a * b) >> 32;
        }
    }

    /// @dev signed quotient truncated toward zero
    function sdiv(int256 a, int256 b) internal pure returns (int256) {
        unchecked {
            return (a * int256(ONE)) / b;
        }
    }

    /// @dev fixed_proportion_to_u16: floor(x * 65535), saturating.
    function toU16(uint256 x) internal pure returns (uint16) {
        unchecked {
            uint256 v = (x * 65535) >> 32;
            return v > 65535 ? 65535 : uint16(v);
        }
    }

    /// @dev u16 / 65535 as I32F32 (truncated).
    function fromU16(uint256 x) internal pure returns (uint256) {
        unchecked {
            return (x << 32) / 65535;
        }
    }
}
