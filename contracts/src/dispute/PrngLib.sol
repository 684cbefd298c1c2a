// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title PrngLib
/// @notice xoshiro128** on four uint32 words, seeded by splitmix32, exactly as
/// src/runtime/sampler/prng.ts (Math.imul, >>> and ^ are arithmetic mod 2^32 here).
library PrngLib {
    uint256 private constant M32 = 0xffffffff;

    /// @dev The state `new Prng(seed)` starts from, seed < 2^53: lo = seed mod 2^32,
    /// hi = floor(seed / 2^32), z = lo xor imul(hi, 0x9E3779B9), then four splitmix32 outputs.
    function seed(uint256 seed_) internal pure returns (uint32[4] memory s) {
        unchecked {
            uint256 z = (seed_ & M32) ^ (((seed_ >> 32) * 0x9e3779b9) & M32);
            for (uint256 i = 0; i < 4; i++) {
                z = (z + 0x9e3779b9) & M32;
                uint256 r = z;
                r = ((r ^ (r >> 16)) * 0x85ebca6b) & M32;
                r = ((r ^ (r >> 13)) * 0xc2b2ae35) & M32;
                s[i] = uint32(r ^ (r >> 16));
            }
            if (s[0] | s[1] | s[2] | s[3] == 0) s[0] = 1;
        }
    }

    /// @dev The next uint32; advances `s`.
    function next(uint32[4] memory s) internal pure returns (uint256 result) {
        unchecked {
            uint256 s0 = s[0];
            uint256 s1 = s[1];
            uint256 s2 = s[2];
            uint256 s3 = s[3];
            result = (rotl((s1 * 5) & M32, 7) * 9) & M32;
            uint256 t = (s1 << 9) & M32;
            s2 ^= s0;
            s3 ^= s1;
            s1 ^= s2;
            s0 ^= s3;
            s2 ^= t;
            s3 = rotl(s3, 11);
            s[0] = uint32(s0);
            s[1] = uint32(s1);
            s[2] = uint32(s2);
            s[3] = uint32(s3);
        }
    }

    /// @dev A uniform integer in [0, n), 1 <= n <= 2^53, by rejection over bitLength(n - 1)
    /// bits: the top bits of one draw up to 32 bits, of two draws (high word first) above.
    function below(uint32[4] memory s, uint256 n) internal pure returns (uint256 r) {
        if (n <= 1) return 0;
        uint256 bits = 0;
        for (uint256 m = n - 1; m > 0; m >>= 1) bits++;
        unchecked {
            while (true) {
                if (bits <= 32) {
                    r = next(s) >> (32 - bits);
                } else {
                    r = (next(s) >> (64 - bits)) << 32;
                    r |= next(s);
                }
                if (r < n) return r;
            }
        }
    }

    function rotl(uint256 x, uint256 k) private pure returns (uint256) {
        unchecked {
            return ((x << k) | (x >> (32 - k))) & M32;
        }
    }
}
