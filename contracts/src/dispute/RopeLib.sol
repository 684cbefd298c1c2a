// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title RopeLib
/// @notice The RoPE rotation of one element, with cos and sin computed here from (pos, pair,
/// ropeDim, theta) by the BigInt fixed-point algorithms of src/runtime/fixed/bigmath.ts and
/// rope.ts, F = 96 fractional bits. bigmath.ts chose BigInt `/` (truncates toward zero) and `>>`
/// (floors) because they are exactly int256's `/` and `>>`, so each line below is a line there.
/// @dev bigmath.ts keeps every product of two values below 2^200 (|angle| <= pi after reduction,
/// series terms below 2^100), so checked int256 arithmetic never reverts on valid inputs.
library RopeLib {
    uint256 internal constant F = 96;
    int256 internal constant ONE = 1 << 96;
    /// @dev 2 atanh(1/3) at F = 96 (`ln2()` recomputes it; the tests compare both with bigmath.ts).
    int256 internal constant LN2 = 54916777467707473351141471098;
    /// @dev 16 atan(1/5) - 4 atan(1/239) at F = 96 (`pi()` recomputes it).
    int256 internal constant PI = 248902613312231085230521944632;
    int256 internal constant TWO_PI = 2 * PI;
    /// @dev cos and sin are rounded to Q20.
    uint256 internal constant ROPE_BITS = 20;

    error ThetaUnsupported(uint64 bits);
    error FactorUnsupported(uint32 bits);
    error ExpArgumentPositive();

    /// @dev atanh(z) = z + z^3/3 + z^5/5 + ... for 0 <= z <= 1/3 (fixed point), until a term is 0.
    function atanh(int256 z) internal pure returns (int256 sum) {
        int256 z2 = (z * z) >> F;
        int256 power = z;
        sum = z;
        for (int256 k = 3; power != 0; k += 2) {
            power = (power * z2) >> F;
            sum += power / k;
        }
    }

    /// @dev atan(1/n) by its alternating series, until a term is 0 (bigmath.ts `atanInverse`).
    function atanInverse(int256 n) internal pure returns (int256 sum) {
        int256 x = ONE / n;
        int256 x2 = (x * x) >> F;
        int256 power = x;
        sum = x;
        int256 sign = -1;
        for (int256 k = 3; power != 0; k += 2) {
            power = (power * x2) >> F;
            sum += (sign * power) / k;
            sign = -sign;
        }
    }

    /// @dev ln(2) = 2 atanh(1/3), as computed: equals LN2.
    function ln2() internal pure returns (int256) {
        return 2 * atanh(ONE / 3);
    }

    /// @dev pi by Machin's formula, as computed: equals PI.
    function pi() internal pure returns (int256) {
        return 16 * atanInverse(5) - 4 * atanInverse(239);
    }

    /// @dev ln(x), x > 0: x = 2^k m with m in [1, 2), ln x = k ln2 + 2 atanh((m - 1) / (m + 1)).
    function ln(int256 x) internal pure returns (int256) {
        if (x <= 0) revert ExpArgumentPositive();
        int256 k = 0;
        int256 m = x;
        while (m >= 2 * ONE) {
            m >>= 1;
            k++;
        }
        while (m < ONE) {
            m <<= 1;
            k--;
        }
        return k * LN2 + 2 * atanh(((m - ONE) * ONE) / (m + ONE));
    }

    /// @dev e^y for y <= 0: y = -k ln2 + r with r in [0, ln2), e^r by Taylor until a term is 0,
    /// then >> k (0 from k = 200).
    function expNonPositive(int256 y) internal pure returns (int256) {
        if (y > 0) revert ExpArgumentPositive();
        int256 k = (-y + LN2 - 1) / LN2; // ceil(-y / ln2)
        int256 r = y + k * LN2;
        int256 term = ONE;
        int256 sum = ONE;
        for (int256 n = 1; term != 0; n++) {
            term = (term * r) / (n * ONE);
            sum += term;
        }
        return k >= 200 ? int256(0) : sum >> uint256(k);
    }

    /// @dev cos and sin of an angle: reduced into [-pi, pi] (`%` keeps the dividend's sign, as
    /// BigInt's), then Taylor until both terms are 0.
    function cosSin(int256 angle) internal pure returns (int256 cos, int256 sin) {
        int256 a = angle % TWO_PI;
        if (a < 0) a += TWO_PI;
        if (a > PI) a -= TWO_PI;
        int256 a2 = (a * a) >> F;
        int256 cosTerm = ONE;
        int256 sinTerm = a;
        cos = ONE;
        sin = a;
        for (int256 n = 1; cosTerm != 0 || sinTerm != 0; n++) {
            cosTerm = -(cosTerm * a2) / ((2 * n - 1) * (2 * n) * ONE);
            sinTerm = -(sinTerm * a2) / (2 * n * (2 * n + 1) * ONE);
            cos += cosTerm;
            sin += sinTerm;
        }
    }

    /// @dev Rounds to `bits` fractional bits, ties toward +inf: (x + 2^(F-bits-1)) >> (F-bits).
    function toFixed(int256 x, uint256 bits) internal pure returns (int256) {
        return (x + int256(1 << (F - bits - 1))) >> (F - bits);
    }

    /// @dev A positive finite double (its IEEE 754 bits) in F-bit fixed point: exact down to
    /// 2^-96, truncated below (bigmath.ts `fromDouble`). Values from 2^150 up revert: they would
    /// overflow int256 products, and no model's rope base is near them.
    function fromDouble(uint64 bits) internal pure returns (int256) {
        uint256 exponent = (bits >> 52) & 0x7ff;
        uint256 fraction = bits & ((1 << 52) - 1);
        if (bits >> 63 != 0 || exponent == 0x7ff || (exponent == 0 && fraction == 0) || exponent > 1023 + 150) {
            revert ThetaUnsupported(bits);
        }
        uint256 mantissa = exponent == 0 ? fraction : fraction | (1 << 52);
        // value = mantissa * 2^(e - 1075); in fixed point, shifted by F more.
        int256 shift = int256(exponent == 0 ? 1 : exponent) - 1075 + int256(F);
        if (shift >= 0) return int256(mantissa << uint256(shift));
        return -shift >= 256 ? int256(0) : int256(mantissa >> uint256(-shift));
    }

    /// @dev A float32 rope frequency factor (its bits) in F-bit fixed point, as bigmath.ts
    /// `fromDouble` converts the (exactly widened) value: mantissa 2^(exponent - 150) shifted
    /// by F, truncated. Reverts unless positive, finite and at least 2^-96 (a value of 0 would
    /// be a division by zero, which the runtime refuses too).
    function fromFloat32(uint32 bits) internal pure returns (int256) {
        uint256 exponent = (bits >> 23) & 0xff;
        uint256 fraction = bits & 0x7fffff;
        if (bits >> 31 != 0 || exponent == 0xff || exponent < 127 - 96) revert FactorUnsupported(bits);
        // exponent >= 31: a normal number, mantissa 2^23 + fraction, shift exponent - 150 + 96.
        uint256 mantissa = fraction | (1 << 23);
        if (exponent >= 54) return int256(mantissa << (exponent - 54));
        return int256(mantissa >> (54 - exponent));
    }

    /// @dev invFreq_i = exp(-(2i ln theta) / ropeDim), the division truncating (rope.ts); with
    /// a rope frequency factor f_i (float32 bits, 0 for none): (invFreq_i 2^96) / F(f_i), the
    /// division truncating (llama.cpp's theta_i / f_i). invFreq_i <= 2^96 and F(f_i) >= 1, so
    /// the quotient is below 2^192 and pos times it below 2^212.
    function invFreq(uint64 thetaBits, uint256 i, uint256 ropeDim, uint32 factorBits) internal pure returns (int256) {
        int256 base = invFreqFromLn(ln(fromDouble(thetaBits)), i, ropeDim);
        if (factorBits == 0) return base;
        return (base * ONE) / fromFloat32(factorBits);
    }

    function invFreqFromLn(int256 lnTheta, uint256 i, uint256 ropeDim) internal pure returns (int256) {
        return expNonPositive(-(int256(2 * i) * lnTheta) / int256(ropeDim));
    }

    /// @dev cos and sin of pos * invFreq_i in Q20 (rope.ts `ropeRow`, one entry).
    function cosSinQ20(uint64 thetaBits, uint256 pos, uint256 i, uint256 ropeDim, uint32 factorBits)
        internal
        pure
        returns (int256 c, int256 s)
    {
        (int256 cb, int256 sb) = cosSin(int256(pos) * invFreq(thetaBits, i, ropeDim, factorBits));
        return (toFixed(cb, ROPE_BITS), toFixed(sb, ROPE_BITS));
    }

    /// @dev EXP2_TABLE[i] = round(2^(-i/256) 2^26) from the BigInt routines (exp.ts): the
    /// literal table of ExpLib can be checked entry by entry against this.
    function exp2TableEntry(uint256 i) internal pure returns (int256) {
        return toFixed(expNonPositive(-(int256(i) * LN2) / 256), 26);
    }
}
