;; Verity's WebAssembly kernels: int8 matrix-vector products with exact int32 sums (SIMD) and
;; sha256 over 64-byte messages. Integer only, so every engine gives the same bits; the
;; TypeScript kernel (../typescript.ts) is the reference, and kernel.case.ts checks both.
;;
;; The memory is imported: the host creates it with exactly the pages it needs and never grows
;; it (scripts/build-wasm.ts also emits this module importing it shared, for worker threads;
;; those only call matvec and matmul_strided, which touch no reserved bytes). Bytes [0, 4096) are reserved for the kernels (the host writes the sha256 tables there):
;;     0  K[64]       sha256 round constants (i32, little-endian)
;;   256  KW_PAD[64]  K[t] + W[t] of the fixed padding block of a 64-byte message
;;   512  W[64]       message schedule scratch (holds K[t] + W[t] once expanded)
;;   768  IV[8]       sha256 initial hash value
;;   800  H[8]        running hash state
;;  1024  W4[64]      four-lane message schedule (v128 per t: K[t] + W[t] of four messages)
;;  2048  KW_PAD4[64] KW_PAD with each word splatted to four lanes
;;  3072  H4[8]       four-lane running hash state
;; Everything at or above 4096 belongs to the host's arena. Pointers are byte offsets.
(module
  (import "env" "memory" (memory 1 65536))

  ;; --- int8 dot products ---------------------------------------------------------------------

  ;; Four consecutive weight rows (w, w+cols, w+2cols, w+3cols) against the vector x: stores the
  ;; four int32 sums at out (4-aligned). 16 columns per step: x is widened to i16 once and shared
  ;; by the four rows; i32x4.dot_i16x8_s multiplies and adds pairs exactly (|sum| <= 2^30).
  (func $dot4 (param $w i32) (param $cols i32) (param $x i32) (param $out i32)
    (local $w1 i32) (local $w2 i32) (local $w3 i32) (local $px i32) (local $end i32) (local $tail i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $xl v128) (local $xh v128) (local $v v128)
    (local $s0 i32) (local $s1 i32) (local $s2 i32) (local $s3 i32) (local $xj i32)
    (local.set $w1 (i32.add (local.get $w) (local.get $cols)))
    (local.set $w2 (i32.add (local.get $w1) (local.get $cols)))
    (local.set $w3 (i32.add (local.get $w2) (local.get $cols)))
    (local.set $px (local.get $x))
    (local.set $end (i32.add (local.get $x) (i32.and (local.get $cols) (i32.const -16))))
    (block $done
      (loop $step
        (br_if $done (i32.ge_u (local.get $px) (local.get $end)))
        (local.set $v (v128.load (local.get $px)))
        (local.set $xl (i16x8.extend_low_i8x16_s (local.get $v)))
        (local.set $xh (i16x8.extend_high_i8x16_s (local.get $v)))
        (local.set $v (v128.load (local.get $w)))
        (local.set $a0 (i32x4.add (local.get $a0)
          (i32x4.add
            (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $v)) (local.get $xl))
            (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $v)) (local.get $xh)))))
        (local.set $v (v128.load (local.get $w1)))
        (local.set $a1 (i32x4.add (local.get $a1)
          (i32x4.add
            (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $v)) (local.get $xl))
            (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $v)) (local.get $xh)))))
        (local.set $v (v128.load (local.get $w2)))
        (local.set $a2 (i32x4.add (local.get $a2)
          (i32x4.add
            (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $v)) (local.get $xl))
            (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $v)) (local.get $xh)))))
        (local.set $v (v128.load (local.get $w3)))
        (local.set $a3 (i32x4.add (local.get $a3)
          (i32x4.add
            (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $v)) (local.get $xl))
            (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $v)) (local.get $xh)))))
        (local.set $px (i32.add (local.get $px) (i32.const 16)))
        (local.set $w (i32.add (local.get $w) (i32.const 16)))
        (local.set $w1 (i32.add (local.get $w1) (i32.const 16)))
        (local.set $w2 (i32.add (local.get $w2) (i32.const 16)))
        (local.set $w3 (i32.add (local.get $w3) (i32.const 16)))
        (br $step)))
    ;; Scalar tail: the last cols % 16 columns.
    (local.set $end (i32.add (local.get $x) (local.get $cols)))
    (block $done
      (loop $step
        (br_if $done (i32.ge_u (local.get $px) (local.get $end)))
        (local.set $xj (i32.load8_s (local.get $px)))
        (local.set $s0 (i32.add (local.get $s0) (i32.mul (i32.load8_s (local.get $w)) (local.get $xj))))
        (local.set $s1 (i32.add (local.get $s1) (i32.mul (i32.load8_s (local.get $w1)) (local.get $xj))))
        (local.set $s2 (i32.add (local.get $s2) (i32.mul (i32.load8_s (local.get $w2)) (local.get $xj))))
        (local.set $s3 (i32.add (local.get $s3) (i32.mul (i32.load8_s (local.get $w3)) (local.get $xj))))
        (local.set $px (i32.add (local.get $px) (i32.const 1)))
        (local.set $w (i32.add (local.get $w) (i32.const 1)))
        (local.set $w1 (i32.add (local.get $w1) (i32.const 1)))
        (local.set $w2 (i32.add (local.get $w2) (i32.const 1)))
        (local.set $w3 (i32.add (local.get $w3) (i32.const 1)))
        (br $step)))
    ;; Transpose-and-add the four accumulators into [sum a0, sum a1, sum a2, sum a3].
    (local.set $v
      (i32x4.add
        (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a0) (local.get $a1))
        (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a0) (local.get $a1))))
    (local.set $xl
      (i32x4.add
        (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a2) (local.get $a3))
        (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a2) (local.get $a3))))
    (v128.store (local.get $out)
      (i32x4.add
        (i32x4.add
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $v) (local.get $xl))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $v) (local.get $xl)))
        (i32x4.replace_lane 3
          (i32x4.replace_lane 2
            (i32x4.replace_lane 1 (i32x4.splat (local.get $s0)) (local.get $s1))
            (local.get $s2))
          (local.get $s3)))))

  ;; Four weight rows against two vectors (x and x + cols): the sums for x go to out, those for
  ;; x + cols to out2. Each widened weight chunk serves both vectors (prefill).
  (func $dot4x2 (param $w i32) (param $cols i32) (param $x i32) (param $out i32) (param $out2 i32)
    (local $w1 i32) (local $w2 i32) (local $w3 i32) (local $px i32) (local $end i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128)
    (local $xl v128) (local $xh v128) (local $yl v128) (local $yh v128)
    (local $wl v128) (local $wh v128) (local $v v128)
    (local $s0 i32) (local $s1 i32) (local $s2 i32) (local $s3 i32)
    (local $t0 i32) (local $t1 i32) (local $t2 i32) (local $t3 i32)
    (local $xj i32) (local $yj i32) (local $wj i32)
    (local.set $w1 (i32.add (local.get $w) (local.get $cols)))
    (local.set $w2 (i32.add (local.get $w1) (local.get $cols)))
    (local.set $w3 (i32.add (local.get $w2) (local.get $cols)))
    (local.set $px (local.get $x))
    (local.set $end (i32.add (local.get $x) (i32.and (local.get $cols) (i32.const -16))))
    (block $done
      (loop $step
        (br_if $done (i32.ge_u (local.get $px) (local.get $end)))
        (local.set $v (v128.load (local.get $px)))
        (local.set $xl (i16x8.extend_low_i8x16_s (local.get $v)))
        (local.set $xh (i16x8.extend_high_i8x16_s (local.get $v)))
        (local.set $v (v128.load (i32.add (local.get $px) (local.get $cols))))
        (local.set $yl (i16x8.extend_low_i8x16_s (local.get $v)))
        (local.set $yh (i16x8.extend_high_i8x16_s (local.get $v)))
        (local.set $v (v128.load (local.get $w)))
        (local.set $wl (i16x8.extend_low_i8x16_s (local.get $v)))
        (local.set $wh (i16x8.extend_high_i8x16_s (local.get $v)))
        (local.set $a0 (i32x4.add (local.get $a0)
          (i32x4.add (i32x4.dot_i16x8_s (local.get $wl) (local.get $xl)) (i32x4.dot_i16x8_s (local.get $wh) (local.get $xh)))))
        (local.set $b0 (i32x4.add (local.get $b0)
          (i32x4.add (i32x4.dot_i16x8_s (local.get $wl) (local.get $yl)) (i32x4.dot_i16x8_s (local.get $wh) (local.get $yh)))))
        (local.set $v (v128.load (local.get $w1)))
        (local.set $wl (i16x8.extend_low_i8x16_s (local.get $v)))
        (local.set $wh (i16x8.extend_high_i8x16_s (local.get $v)))
        (local.set $a1 (i32x4.add (local.get $a1)
          (i32x4.add (i32x4.dot_i16x8_s (local.get $wl) (local.get $xl)) (i32x4.dot_i16x8_s (local.get $wh) (local.get $xh)))))
        (local.set $b1 (i32x4.add (local.get $b1)
          (i32x4.add (i32x4.dot_i16x8_s (local.get $wl) (local.get $yl)) (i32x4.dot_i16x8_s (local.get $wh) (local.get $yh)))))
        (local.set $v (v128.load (local.get $w2)))
        (local.set $wl (i16x8.extend_low_i8x16_s (local.get $v)))
        (local.set $wh (i16x8.extend_high_i8x16_s (local.get $v)))
        (local.set $a2 (i32x4.add (local.get $a2)
          (i32x4.add (i32x4.dot_i16x8_s (local.get $wl) (local.get $xl)) (i32x4.dot_i16x8_s (local.get $wh) (local.get $xh)))))
        (local.set $b2 (i32x4.add (local.get $b2)
          (i32x4.add (i32x4.dot_i16x8_s (local.get $wl) (local.get $yl)) (i32x4.dot_i16x8_s (local.get $wh) (local.get $yh)))))
        (local.set $v (v128.load (local.get $w3)))
        (local.set $wl (i16x8.extend_low_i8x16_s (local.get $v)))
        (local.set $wh (i16x8.extend_high_i8x16_s (local.get $v)))
        (local.set $a3 (i32x4.add (local.get $a3)
          (i32x4.add (i32x4.dot_i16x8_s (local.get $wl) (local.get $xl)) (i32x4.dot_i16x8_s (local.get $wh) (local.get $xh)))))
        (local.set $b3 (i32x4.add (local.get $b3)
          (i32x4.add (i32x4.dot_i16x8_s (local.get $wl) (local.get $yl)) (i32x4.dot_i16x8_s (local.get $wh) (local.get $yh)))))
        (local.set $px (i32.add (local.get $px) (i32.const 16)))
        (local.set $w (i32.add (local.get $w) (i32.const 16)))
        (local.set $w1 (i32.add (local.get $w1) (i32.const 16)))
        (local.set $w2 (i32.add (local.get $w2) (i32.const 16)))
        (local.set $w3 (i32.add (local.get $w3) (i32.const 16)))
        (br $step)))
    ;; Scalar tail: the last cols % 16 columns.
    (local.set $end (i32.add (local.get $x) (local.get $cols)))
    (block $done
      (loop $step
        (br_if $done (i32.ge_u (local.get $px) (local.get $end)))
        (local.set $xj (i32.load8_s (local.get $px)))
        (local.set $yj (i32.load8_s (i32.add (local.get $px) (local.get $cols))))
        (local.set $wj (i32.load8_s (local.get $w)))
        (local.set $s0 (i32.add (local.get $s0) (i32.mul (local.get $wj) (local.get $xj))))
        (local.set $t0 (i32.add (local.get $t0) (i32.mul (local.get $wj) (local.get $yj))))
        (local.set $wj (i32.load8_s (local.get $w1)))
        (local.set $s1 (i32.add (local.get $s1) (i32.mul (local.get $wj) (local.get $xj))))
        (local.set $t1 (i32.add (local.get $t1) (i32.mul (local.get $wj) (local.get $yj))))
        (local.set $wj (i32.load8_s (local.get $w2)))
        (local.set $s2 (i32.add (local.get $s2) (i32.mul (local.get $wj) (local.get $xj))))
        (local.set $t2 (i32.add (local.get $t2) (i32.mul (local.get $wj) (local.get $yj))))
        (local.set $wj (i32.load8_s (local.get $w3)))
        (local.set $s3 (i32.add (local.get $s3) (i32.mul (local.get $wj) (local.get $xj))))
        (local.set $t3 (i32.add (local.get $t3) (i32.mul (local.get $wj) (local.get $yj))))
        (local.set $px (i32.add (local.get $px) (i32.const 1)))
        (local.set $w (i32.add (local.get $w) (i32.const 1)))
        (local.set $w1 (i32.add (local.get $w1) (i32.const 1)))
        (local.set $w2 (i32.add (local.get $w2) (i32.const 1)))
        (local.set $w3 (i32.add (local.get $w3) (i32.const 1)))
        (br $step)))
    (local.set $v (i32x4.add
        (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a0) (local.get $a1))
        (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a0) (local.get $a1))))
    (local.set $wl (i32x4.add
        (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a2) (local.get $a3))
        (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a2) (local.get $a3))))
    (v128.store (local.get $out)
      (i32x4.add
        (i32x4.add
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $v) (local.get $wl))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $v) (local.get $wl)))
        (i32x4.replace_lane 3
          (i32x4.replace_lane 2
            (i32x4.replace_lane 1 (i32x4.splat (local.get $s0)) (local.get $s1))
            (local.get $s2))
          (local.get $s3))))
    (local.set $v (i32x4.add
        (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $b0) (local.get $b1))
        (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $b0) (local.get $b1))))
    (local.set $wl (i32x4.add
        (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $b2) (local.get $b3))
        (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $b2) (local.get $b3))))
    (v128.store (local.get $out2)
      (i32x4.add
        (i32x4.add
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $v) (local.get $wl))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $v) (local.get $wl)))
        (i32x4.replace_lane 3
          (i32x4.replace_lane 2
            (i32x4.replace_lane 1 (i32x4.splat (local.get $t0)) (local.get $t1))
            (local.get $t2))
          (local.get $t3))))
  )

  ;; One weight row against x: returns the int32 sum.
  (func $dot1 (param $w i32) (param $cols i32) (param $x i32) (result i32)
    (local $px i32) (local $end i32) (local $a v128) (local $b v128) (local $u v128) (local $v v128) (local $s i32)
    (local.set $px (local.get $x))
    ;; 32 columns per step into two accumulators, then 16, then single bytes.
    (local.set $end (i32.add (local.get $x) (i32.and (local.get $cols) (i32.const -32))))
    (block $done
      (loop $step
        (br_if $done (i32.ge_u (local.get $px) (local.get $end)))
        (local.set $u (v128.load (local.get $px)))
        (local.set $v (v128.load (local.get $w)))
        (local.set $a (i32x4.add (local.get $a)
          (i32x4.add
            (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $v)) (i16x8.extend_low_i8x16_s (local.get $u)))
            (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $v)) (i16x8.extend_high_i8x16_s (local.get $u))))))
        (local.set $u (v128.load offset=16 (local.get $px)))
        (local.set $v (v128.load offset=16 (local.get $w)))
        (local.set $b (i32x4.add (local.get $b)
          (i32x4.add
            (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $v)) (i16x8.extend_low_i8x16_s (local.get $u)))
            (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $v)) (i16x8.extend_high_i8x16_s (local.get $u))))))
        (local.set $px (i32.add (local.get $px) (i32.const 32)))
        (local.set $w (i32.add (local.get $w) (i32.const 32)))
        (br $step)))
    (local.set $a (i32x4.add (local.get $a) (local.get $b)))
    (local.set $end (i32.add (local.get $x) (i32.and (local.get $cols) (i32.const -16))))
    (block $done
      (loop $step
        (br_if $done (i32.ge_u (local.get $px) (local.get $end)))
        (local.set $u (v128.load (local.get $px)))
        (local.set $v (v128.load (local.get $w)))
        (local.set $a (i32x4.add (local.get $a)
          (i32x4.add
            (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $v)) (i16x8.extend_low_i8x16_s (local.get $u)))
            (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $v)) (i16x8.extend_high_i8x16_s (local.get $u))))))
        (local.set $px (i32.add (local.get $px) (i32.const 16)))
        (local.set $w (i32.add (local.get $w) (i32.const 16)))
        (br $step)))
    (local.set $end (i32.add (local.get $x) (local.get $cols)))
    (block $done
      (loop $step
        (br_if $done (i32.ge_u (local.get $px) (local.get $end)))
        (local.set $s (i32.add (local.get $s)
          (i32.mul (i32.load8_s (local.get $w)) (i32.load8_s (local.get $px)))))
        (local.set $px (i32.add (local.get $px) (i32.const 1)))
        (local.set $w (i32.add (local.get $w) (i32.const 1)))
        (br $step)))
    (i32.add
      (i32.add
        (i32.add (i32x4.extract_lane 0 (local.get $a)) (i32x4.extract_lane 1 (local.get $a)))
        (i32.add (i32x4.extract_lane 2 (local.get $a)) (i32x4.extract_lane 3 (local.get $a))))
      (local.get $s)))

  ;; acc[r] = Σ_j w[r*cols + j] * x[j] for r < rows (int32 at acc). One row at a time: a single
  ;; sequential stream is what the hardware prefetcher follows, and a decode step streams every
  ;; weight from memory once (four interleaved rows, $dot4, ran at about 60% of this on 528 MiB).
  (func (export "matvec") (param $w i32) (param $rows i32) (param $cols i32) (param $x i32) (param $acc i32)
    (local $r i32)
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
        (i32.store (local.get $acc) (call $dot1 (local.get $w) (local.get $cols) (local.get $x)))
        (local.set $w (i32.add (local.get $w) (local.get $cols)))
        (local.set $acc (i32.add (local.get $acc) (i32.const 4)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))

  ;; acc[v*rows + r] = Σ_j w[r*cols + j] * x[v*cols + j] for v < n, r < rows.
  (func (export "matmul") (param $w i32) (param $rows i32) (param $cols i32) (param $x i32) (param $n i32) (param $acc i32)
    (call $matmul_strided (local.get $w) (local.get $rows) (local.get $cols) (local.get $x)
      (local.get $n) (local.get $acc) (local.get $rows)))

  ;; acc[v*stride + r] = Σ_j w[r*cols + j] * x[v*cols + j] for v < n, r < rows: a band of rows of
  ;; a larger output (threads each take a band). Groups of four weight rows are the outer loop,
  ;; so each group stays in L1 while all n vectors pass by, two vectors per step.
  (func $matmul_strided (export "matmul_strided") (param $w i32) (param $rows i32) (param $cols i32) (param $x i32) (param $n i32) (param $acc i32) (param $stride i32)
    (local $r i32) (local $v i32) (local $pw i32) (local $px i32) (local $pa i32) (local $accStride i32)
    (local.set $accStride (i32.shl (local.get $stride) (i32.const 2)))
    (block $done
      (loop $group
        (br_if $done (i32.gt_u (i32.add (local.get $r) (i32.const 4)) (local.get $rows)))
        (local.set $pw (i32.add (local.get $w) (i32.mul (local.get $r) (local.get $cols))))
        (local.set $px (local.get $x))
        (local.set $pa (i32.add (local.get $acc) (i32.shl (local.get $r) (i32.const 2))))
        (local.set $v (i32.const 0))
        (block $vdone
          (loop $vec
            (br_if $vdone (i32.gt_u (i32.add (local.get $v) (i32.const 2)) (local.get $n)))
            (call $dot4x2 (local.get $pw) (local.get $cols) (local.get $px) (local.get $pa)
              (i32.add (local.get $pa) (local.get $accStride)))
            (local.set $px (i32.add (local.get $px) (i32.shl (local.get $cols) (i32.const 1))))
            (local.set $pa (i32.add (local.get $pa) (i32.shl (local.get $accStride) (i32.const 1))))
            (local.set $v (i32.add (local.get $v) (i32.const 2)))
            (br $vec)))
        (if (i32.lt_u (local.get $v) (local.get $n))
          (then (call $dot4 (local.get $pw) (local.get $cols) (local.get $px) (local.get $pa))))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (br $group)))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $pw (i32.add (local.get $w) (i32.mul (local.get $r) (local.get $cols))))
        (local.set $px (local.get $x))
        (local.set $pa (i32.add (local.get $acc) (i32.shl (local.get $r) (i32.const 2))))
        (local.set $v (i32.const 0))
        (block $vdone
          (loop $vec
            (br_if $vdone (i32.ge_u (local.get $v) (local.get $n)))
            (i32.store (local.get $pa) (call $dot1 (local.get $pw) (local.get $cols) (local.get $px)))
            (local.set $px (i32.add (local.get $px) (local.get $cols)))
            (local.set $pa (i32.add (local.get $pa) (local.get $accStride)))
            (local.set $v (i32.add (local.get $v) (i32.const 1)))
            (br $vec)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))

  ;; --- sha256 of 64-byte messages ------------------------------------------------------------

  ;; 64 rounds on the state H (at 800) with the per-round words K[t] + W[t] at $kw; then
  ;; H += the working variables.
  (func $rounds (param $kw i32)
    (local $a i32) (local $b i32) (local $c i32) (local $d i32)
    (local $e i32) (local $f i32) (local $g i32) (local $h i32)
    (local $t1 i32) (local $t2 i32) (local $end i32)
    (local.set $a (i32.load offset=800 (i32.const 0)))
    (local.set $b (i32.load offset=804 (i32.const 0)))
    (local.set $c (i32.load offset=808 (i32.const 0)))
    (local.set $d (i32.load offset=812 (i32.const 0)))
    (local.set $e (i32.load offset=816 (i32.const 0)))
    (local.set $f (i32.load offset=820 (i32.const 0)))
    (local.set $g (i32.load offset=824 (i32.const 0)))
    (local.set $h (i32.load offset=828 (i32.const 0)))
    (local.set $end (i32.add (local.get $kw) (i32.const 256)))
    (loop $round
      ;; t1 = h + Σ1(e) + Ch(e, f, g) + K[t] + W[t]
      (local.set $t1
        (i32.add
          (i32.add (local.get $h) (i32.load (local.get $kw)))
          (i32.add
            (i32.xor
              (i32.xor (i32.rotr (local.get $e) (i32.const 6)) (i32.rotr (local.get $e) (i32.const 11)))
              (i32.rotr (local.get $e) (i32.const 25)))
            (i32.xor (local.get $g) (i32.and (local.get $e) (i32.xor (local.get $f) (local.get $g)))))))
      ;; t2 = Σ0(a) + Maj(a, b, c)
      (local.set $t2
        (i32.add
          (i32.xor
            (i32.xor (i32.rotr (local.get $a) (i32.const 2)) (i32.rotr (local.get $a) (i32.const 13)))
            (i32.rotr (local.get $a) (i32.const 22)))
          (i32.or
            (i32.and (local.get $a) (local.get $b))
            (i32.and (local.get $c) (i32.or (local.get $a) (local.get $b))))))
      (local.set $h (local.get $g))
      (local.set $g (local.get $f))
      (local.set $f (local.get $e))
      (local.set $e (i32.add (local.get $d) (local.get $t1)))
      (local.set $d (local.get $c))
      (local.set $c (local.get $b))
      (local.set $b (local.get $a))
      (local.set $a (i32.add (local.get $t1) (local.get $t2)))
      (local.set $kw (i32.add (local.get $kw) (i32.const 4)))
      (br_if $round (i32.lt_u (local.get $kw) (local.get $end))))
    (i32.store offset=800 (i32.const 0) (i32.add (i32.load offset=800 (i32.const 0)) (local.get $a)))
    (i32.store offset=804 (i32.const 0) (i32.add (i32.load offset=804 (i32.const 0)) (local.get $b)))
    (i32.store offset=808 (i32.const 0) (i32.add (i32.load offset=808 (i32.const 0)) (local.get $c)))
    (i32.store offset=812 (i32.const 0) (i32.add (i32.load offset=812 (i32.const 0)) (local.get $d)))
    (i32.store offset=816 (i32.const 0) (i32.add (i32.load offset=816 (i32.const 0)) (local.get $e)))
    (i32.store offset=820 (i32.const 0) (i32.add (i32.load offset=820 (i32.const 0)) (local.get $f)))
    (i32.store offset=824 (i32.const 0) (i32.add (i32.load offset=824 (i32.const 0)) (local.get $g)))
    (i32.store offset=828 (i32.const 0) (i32.add (i32.load offset=828 (i32.const 0)) (local.get $h))))


  ;; --- sha256, four messages at once ----------------------------------------------------------
  ;; The same computation with the four messages in the four i32 lanes. Scratch (see the header):
  ;; W4[64] at 1024 (v128 per t, K[t] + W[t]), KW_PAD4[64] at 2048 (KW_PAD splatted, written by
  ;; the host), H4[8] at 3072.

  ;; 64 rounds on H4 with the per-round words at $kw (v128 each); then H4 += the working variables.
  (func $rounds4 (param $kw i32)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128)
    (local $e v128) (local $f v128) (local $g v128) (local $h v128)
    (local $t1 v128) (local $t2 v128) (local $end i32)
    (local.set $a (v128.load offset=3072 (i32.const 0)))
    (local.set $b (v128.load offset=3088 (i32.const 0)))
    (local.set $c (v128.load offset=3104 (i32.const 0)))
    (local.set $d (v128.load offset=3120 (i32.const 0)))
    (local.set $e (v128.load offset=3136 (i32.const 0)))
    (local.set $f (v128.load offset=3152 (i32.const 0)))
    (local.set $g (v128.load offset=3168 (i32.const 0)))
    (local.set $h (v128.load offset=3184 (i32.const 0)))
    (local.set $end (i32.add (local.get $kw) (i32.const 1024)))
    (loop $round
      ;; t1 = h + Σ1(e) + Ch(e, f, g) + K[t] + W[t]; Ch(e, f, g) = bitselect(f, g, e)
      (local.set $t1
        (i32x4.add
          (i32x4.add (local.get $h) (v128.load (local.get $kw)))
          (i32x4.add
            (v128.xor (v128.xor (v128.or (i32x4.shr_u (local.get $e) (i32.const 6)) (i32x4.shl (local.get $e) (i32.const 26))) (v128.or (i32x4.shr_u (local.get $e) (i32.const 11)) (i32x4.shl (local.get $e) (i32.const 21)))) (v128.or (i32x4.shr_u (local.get $e) (i32.const 25)) (i32x4.shl (local.get $e) (i32.const 7))))
            (v128.bitselect (local.get $f) (local.get $g) (local.get $e)))))
      ;; t2 = Σ0(a) + Maj(a, b, c); Maj(a, b, c) = bitselect(b, a, a ^ c)
      (local.set $t2
        (i32x4.add
          (v128.xor (v128.xor (v128.or (i32x4.shr_u (local.get $a) (i32.const 2)) (i32x4.shl (local.get $a) (i32.const 30))) (v128.or (i32x4.shr_u (local.get $a) (i32.const 13)) (i32x4.shl (local.get $a) (i32.const 19)))) (v128.or (i32x4.shr_u (local.get $a) (i32.const 22)) (i32x4.shl (local.get $a) (i32.const 10))))
          (v128.bitselect (local.get $b) (local.get $a) (v128.xor (local.get $a) (local.get $c)))))
      (local.set $h (local.get $g))
      (local.set $g (local.get $f))
      (local.set $f (local.get $e))
      (local.set $e (i32x4.add (local.get $d) (local.get $t1)))
      (local.set $d (local.get $c))
      (local.set $c (local.get $b))
      (local.set $b (local.get $a))
      (local.set $a (i32x4.add (local.get $t1) (local.get $t2)))
      (local.set $kw (i32.add (local.get $kw) (i32.const 16)))
      (br_if $round (i32.lt_u (local.get $kw) (local.get $end))))
    (v128.store offset=3072 (i32.const 0) (i32x4.add (v128.load offset=3072 (i32.const 0)) (local.get $a)))
    (v128.store offset=3088 (i32.const 0) (i32x4.add (v128.load offset=3088 (i32.const 0)) (local.get $b)))
    (v128.store offset=3104 (i32.const 0) (i32x4.add (v128.load offset=3104 (i32.const 0)) (local.get $c)))
    (v128.store offset=3120 (i32.const 0) (i32x4.add (v128.load offset=3120 (i32.const 0)) (local.get $d)))
    (v128.store offset=3136 (i32.const 0) (i32x4.add (v128.load offset=3136 (i32.const 0)) (local.get $e)))
    (v128.store offset=3152 (i32.const 0) (i32x4.add (v128.load offset=3152 (i32.const 0)) (local.get $f)))
    (v128.store offset=3168 (i32.const 0) (i32x4.add (v128.load offset=3168 (i32.const 0)) (local.get $g)))
    (v128.store offset=3184 (i32.const 0) (i32x4.add (v128.load offset=3184 (i32.const 0)) (local.get $h))))

  ;; Messages four at a time while at least four are left; returns how many remain (< 4) for the
  ;; scalar loop. All four are read before any digest is written, so out may equal in.
  (func $sha256_pairs4 (param $in i32) (param $count i32) (param $out i32) (result i32)
    (local $p i32) (local $x v128) (local $y v128)
    (local $m0 v128) (local $m1 v128) (local $m2 v128) (local $m3 v128)
    (local $u0 v128) (local $u1 v128) (local $u2 v128) (local $u3 v128)
    (block $done
      (loop $group
        (br_if $done (i32.lt_u (local.get $count) (i32.const 4)))
        ;; words 0..3 of the four messages, byte-swapped and transposed to lanes
        (local.set $m0 (v128.load offset=0 (local.get $in)))
        (local.set $m1 (v128.load offset=64 (local.get $in)))
        (local.set $m2 (v128.load offset=128 (local.get $in)))
        (local.set $m3 (v128.load offset=192 (local.get $in)))
        (local.set $u0 (i8x16.shuffle 3 2 1 0 19 18 17 16 7 6 5 4 23 22 21 20 (local.get $m0) (local.get $m1)))
        (local.set $u1 (i8x16.shuffle 11 10 9 8 27 26 25 24 15 14 13 12 31 30 29 28 (local.get $m0) (local.get $m1)))
        (local.set $u2 (i8x16.shuffle 3 2 1 0 19 18 17 16 7 6 5 4 23 22 21 20 (local.get $m2) (local.get $m3)))
        (local.set $u3 (i8x16.shuffle 11 10 9 8 27 26 25 24 15 14 13 12 31 30 29 28 (local.get $m2) (local.get $m3)))
        (v128.store offset=1024 (i32.const 0) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $u0) (local.get $u2)))
        (v128.store offset=1040 (i32.const 0) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $u0) (local.get $u2)))
        (v128.store offset=1056 (i32.const 0) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $u1) (local.get $u3)))
        (v128.store offset=1072 (i32.const 0) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $u1) (local.get $u3)))
        ;; words 4..7 of the four messages, byte-swapped and transposed to lanes
        (local.set $m0 (v128.load offset=16 (local.get $in)))
        (local.set $m1 (v128.load offset=80 (local.get $in)))
        (local.set $m2 (v128.load offset=144 (local.get $in)))
        (local.set $m3 (v128.load offset=208 (local.get $in)))
        (local.set $u0 (i8x16.shuffle 3 2 1 0 19 18 17 16 7 6 5 4 23 22 21 20 (local.get $m0) (local.get $m1)))
        (local.set $u1 (i8x16.shuffle 11 10 9 8 27 26 25 24 15 14 13 12 31 30 29 28 (local.get $m0) (local.get $m1)))
        (local.set $u2 (i8x16.shuffle 3 2 1 0 19 18 17 16 7 6 5 4 23 22 21 20 (local.get $m2) (local.get $m3)))
        (local.set $u3 (i8x16.shuffle 11 10 9 8 27 26 25 24 15 14 13 12 31 30 29 28 (local.get $m2) (local.get $m3)))
        (v128.store offset=1088 (i32.const 0) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $u0) (local.get $u2)))
        (v128.store offset=1104 (i32.const 0) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $u0) (local.get $u2)))
        (v128.store offset=1120 (i32.const 0) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $u1) (local.get $u3)))
        (v128.store offset=1136 (i32.const 0) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $u1) (local.get $u3)))
        ;; words 8..11 of the four messages, byte-swapped and transposed to lanes
        (local.set $m0 (v128.load offset=32 (local.get $in)))
        (local.set $m1 (v128.load offset=96 (local.get $in)))
        (local.set $m2 (v128.load offset=160 (local.get $in)))
        (local.set $m3 (v128.load offset=224 (local.get $in)))
        (local.set $u0 (i8x16.shuffle 3 2 1 0 19 18 17 16 7 6 5 4 23 22 21 20 (local.get $m0) (local.get $m1)))
        (local.set $u1 (i8x16.shuffle 11 10 9 8 27 26 25 24 15 14 13 12 31 30 29 28 (local.get $m0) (local.get $m1)))
        (local.set $u2 (i8x16.shuffle 3 2 1 0 19 18 17 16 7 6 5 4 23 22 21 20 (local.get $m2) (local.get $m3)))
        (local.set $u3 (i8x16.shuffle 11 10 9 8 27 26 25 24 15 14 13 12 31 30 29 28 (local.get $m2) (local.get $m3)))
        (v128.store offset=1152 (i32.const 0) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $u0) (local.get $u2)))
        (v128.store offset=1168 (i32.const 0) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $u0) (local.get $u2)))
        (v128.store offset=1184 (i32.const 0) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $u1) (local.get $u3)))
        (v128.store offset=1200 (i32.const 0) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $u1) (local.get $u3)))
        ;; words 12..15 of the four messages, byte-swapped and transposed to lanes
        (local.set $m0 (v128.load offset=48 (local.get $in)))
        (local.set $m1 (v128.load offset=112 (local.get $in)))
        (local.set $m2 (v128.load offset=176 (local.get $in)))
        (local.set $m3 (v128.load offset=240 (local.get $in)))
        (local.set $u0 (i8x16.shuffle 3 2 1 0 19 18 17 16 7 6 5 4 23 22 21 20 (local.get $m0) (local.get $m1)))
        (local.set $u1 (i8x16.shuffle 11 10 9 8 27 26 25 24 15 14 13 12 31 30 29 28 (local.get $m0) (local.get $m1)))
        (local.set $u2 (i8x16.shuffle 3 2 1 0 19 18 17 16 7 6 5 4 23 22 21 20 (local.get $m2) (local.get $m3)))
        (local.set $u3 (i8x16.shuffle 11 10 9 8 27 26 25 24 15 14 13 12 31 30 29 28 (local.get $m2) (local.get $m3)))
        (v128.store offset=1216 (i32.const 0) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $u0) (local.get $u2)))
        (v128.store offset=1232 (i32.const 0) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $u0) (local.get $u2)))
        (v128.store offset=1248 (i32.const 0) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $u1) (local.get $u3)))
        (v128.store offset=1264 (i32.const 0) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $u1) (local.get $u3)))
        ;; W[t] = σ1(W[t-2]) + W[t-7] + σ0(W[t-15]) + W[t-16] for t in [16, 64); $p = 16t.
        (local.set $p (i32.const 256))
        (loop $expand
          (local.set $x (v128.load offset=784 (local.get $p)))  ;; W[t-15]
          (local.set $y (v128.load offset=992 (local.get $p)))  ;; W[t-2]
          (v128.store offset=1024 (local.get $p)
            (i32x4.add
              (i32x4.add (v128.load offset=768 (local.get $p)) (v128.load offset=912 (local.get $p)))
              (i32x4.add
                (v128.xor (v128.xor (v128.or (i32x4.shr_u (local.get $x) (i32.const 7)) (i32x4.shl (local.get $x) (i32.const 25))) (v128.or (i32x4.shr_u (local.get $x) (i32.const 18)) (i32x4.shl (local.get $x) (i32.const 14)))) (i32x4.shr_u (local.get $x) (i32.const 3)))
                (v128.xor (v128.xor (v128.or (i32x4.shr_u (local.get $y) (i32.const 17)) (i32x4.shl (local.get $y) (i32.const 15))) (v128.or (i32x4.shr_u (local.get $y) (i32.const 19)) (i32x4.shl (local.get $y) (i32.const 13)))) (i32x4.shr_u (local.get $y) (i32.const 10))))))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (br_if $expand (i32.lt_u (local.get $p) (i32.const 1024))))
        ;; W[t] += K[t]
        (local.set $p (i32.const 0))
        (loop $addk
          (v128.store offset=1024 (local.get $p)
            (i32x4.add (v128.load offset=1024 (local.get $p)) (v128.load32_splat (i32.shr_u (local.get $p) (i32.const 2)))))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (br_if $addk (i32.lt_u (local.get $p) (i32.const 1024))))
        ;; H4 = IV in every lane; the message block; the fixed padding block.
        (v128.store offset=3072 (i32.const 0) (v128.load32_splat offset=768 (i32.const 0)))
        (v128.store offset=3088 (i32.const 0) (v128.load32_splat offset=772 (i32.const 0)))
        (v128.store offset=3104 (i32.const 0) (v128.load32_splat offset=776 (i32.const 0)))
        (v128.store offset=3120 (i32.const 0) (v128.load32_splat offset=780 (i32.const 0)))
        (v128.store offset=3136 (i32.const 0) (v128.load32_splat offset=784 (i32.const 0)))
        (v128.store offset=3152 (i32.const 0) (v128.load32_splat offset=788 (i32.const 0)))
        (v128.store offset=3168 (i32.const 0) (v128.load32_splat offset=792 (i32.const 0)))
        (v128.store offset=3184 (i32.const 0) (v128.load32_splat offset=796 (i32.const 0)))
        (call $rounds4 (i32.const 1024))
        (call $rounds4 (i32.const 2048))
        ;; The digests: transpose H4 back to one message per vector, big-endian.
        (local.set $m0 (v128.load offset=3072 (i32.const 0)))
        (local.set $m1 (v128.load offset=3088 (i32.const 0)))
        (local.set $m2 (v128.load offset=3104 (i32.const 0)))
        (local.set $m3 (v128.load offset=3120 (i32.const 0)))
        (local.set $u0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $m0) (local.get $m1)))
        (local.set $u1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $m0) (local.get $m1)))
        (local.set $u2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $m2) (local.get $m3)))
        (local.set $u3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $m2) (local.get $m3)))
        (v128.store offset=0 (local.get $out) (i8x16.shuffle 3 2 1 0 7 6 5 4 19 18 17 16 23 22 21 20 (local.get $u0) (local.get $u2)))
        (v128.store offset=32 (local.get $out) (i8x16.shuffle 11 10 9 8 15 14 13 12 27 26 25 24 31 30 29 28 (local.get $u0) (local.get $u2)))
        (v128.store offset=64 (local.get $out) (i8x16.shuffle 3 2 1 0 7 6 5 4 19 18 17 16 23 22 21 20 (local.get $u1) (local.get $u3)))
        (v128.store offset=96 (local.get $out) (i8x16.shuffle 11 10 9 8 15 14 13 12 27 26 25 24 31 30 29 28 (local.get $u1) (local.get $u3)))
        (local.set $m0 (v128.load offset=3136 (i32.const 0)))
        (local.set $m1 (v128.load offset=3152 (i32.const 0)))
        (local.set $m2 (v128.load offset=3168 (i32.const 0)))
        (local.set $m3 (v128.load offset=3184 (i32.const 0)))
        (local.set $u0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $m0) (local.get $m1)))
        (local.set $u1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $m0) (local.get $m1)))
        (local.set $u2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $m2) (local.get $m3)))
        (local.set $u3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $m2) (local.get $m3)))
        (v128.store offset=16 (local.get $out) (i8x16.shuffle 3 2 1 0 7 6 5 4 19 18 17 16 23 22 21 20 (local.get $u0) (local.get $u2)))
        (v128.store offset=48 (local.get $out) (i8x16.shuffle 11 10 9 8 15 14 13 12 27 26 25 24 31 30 29 28 (local.get $u0) (local.get $u2)))
        (v128.store offset=80 (local.get $out) (i8x16.shuffle 3 2 1 0 7 6 5 4 19 18 17 16 23 22 21 20 (local.get $u1) (local.get $u3)))
        (v128.store offset=112 (local.get $out) (i8x16.shuffle 11 10 9 8 15 14 13 12 27 26 25 24 31 30 29 28 (local.get $u1) (local.get $u3)))
        (local.set $in (i32.add (local.get $in) (i32.const 256)))
        (local.set $out (i32.add (local.get $out) (i32.const 128)))
        (local.set $count (i32.sub (local.get $count) (i32.const 4)))
        (br $group)))
    (local.get $count))

  ;; For i < count: out + 32i = sha256(in + 64i). Each message is read whole before its digest is
  ;; written, so out may equal in (a Merkle level built in place).
  (func (export "sha256_pairs") (param $in i32) (param $count i32) (param $out i32)
    (local $end i32) (local $p i32) (local $x i32) (local $y i32) (local $done4 i32)
    (local.set $done4 (i32.and (local.get $count) (i32.const -4)))
    (local.set $count (call $sha256_pairs4 (local.get $in) (local.get $count) (local.get $out)))
    (local.set $in (i32.add (local.get $in) (i32.shl (local.get $done4) (i32.const 6))))
    (local.set $out (i32.add (local.get $out) (i32.shl (local.get $done4) (i32.const 5))))
    (local.set $end (i32.add (local.get $in) (i32.shl (local.get $count) (i32.const 6))))
    (block $done
      (loop $message
        (br_if $done (i32.ge_u (local.get $in) (local.get $end)))
        ;; W[0..16) = the message as big-endian words (byte-swap each 32-bit lane).
        (v128.store offset=512 (i32.const 0)
          (i8x16.swizzle (v128.load offset=0 (local.get $in))
            (v128.const i8x16 3 2 1 0 7 6 5 4 11 10 9 8 15 14 13 12)))
        (v128.store offset=528 (i32.const 0)
          (i8x16.swizzle (v128.load offset=16 (local.get $in))
            (v128.const i8x16 3 2 1 0 7 6 5 4 11 10 9 8 15 14 13 12)))
        (v128.store offset=544 (i32.const 0)
          (i8x16.swizzle (v128.load offset=32 (local.get $in))
            (v128.const i8x16 3 2 1 0 7 6 5 4 11 10 9 8 15 14 13 12)))
        (v128.store offset=560 (i32.const 0)
          (i8x16.swizzle (v128.load offset=48 (local.get $in))
            (v128.const i8x16 3 2 1 0 7 6 5 4 11 10 9 8 15 14 13 12)))
        ;; W[t] = σ1(W[t-2]) + W[t-7] + σ0(W[t-15]) + W[t-16] for t in [16, 64); $p = 4t.
        (local.set $p (i32.const 64))
        (loop $expand
          (local.set $x (i32.load offset=452 (local.get $p)))  ;; W[t-15]
          (local.set $y (i32.load offset=504 (local.get $p)))  ;; W[t-2]
          (i32.store offset=512 (local.get $p)
            (i32.add
              (i32.add (i32.load offset=448 (local.get $p)) (i32.load offset=484 (local.get $p)))
              (i32.add
                (i32.xor
                  (i32.xor (i32.rotr (local.get $x) (i32.const 7)) (i32.rotr (local.get $x) (i32.const 18)))
                  (i32.shr_u (local.get $x) (i32.const 3)))
                (i32.xor
                  (i32.xor (i32.rotr (local.get $y) (i32.const 17)) (i32.rotr (local.get $y) (i32.const 19)))
                  (i32.shr_u (local.get $y) (i32.const 10))))))
          (local.set $p (i32.add (local.get $p) (i32.const 4)))
          (br_if $expand (i32.lt_u (local.get $p) (i32.const 256))))
        ;; W[t] += K[t], so one round function serves both blocks.
        (local.set $p (i32.const 0))
        (loop $addk
          (v128.store offset=512 (local.get $p)
            (i32x4.add (v128.load offset=512 (local.get $p)) (v128.load offset=0 (local.get $p))))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (br_if $addk (i32.lt_u (local.get $p) (i32.const 256))))
        ;; H = IV; the message block; the fixed padding block.
        (v128.store offset=800 (i32.const 0) (v128.load offset=768 (i32.const 0)))
        (v128.store offset=816 (i32.const 0) (v128.load offset=784 (i32.const 0)))
        (call $rounds (i32.const 512))
        (call $rounds (i32.const 256))
        ;; The digest: H as big-endian words.
        (v128.store offset=0 (local.get $out)
          (i8x16.swizzle (v128.load offset=800 (i32.const 0))
            (v128.const i8x16 3 2 1 0 7 6 5 4 11 10 9 8 15 14 13 12)))
        (v128.store offset=16 (local.get $out)
          (i8x16.swizzle (v128.load offset=816 (i32.const 0))
            (v128.const i8x16 3 2 1 0 7 6 5 4 11 10 9 8 15 14 13 12)))
        (local.set $in (i32.add (local.get $in) (i32.const 64)))
        (local.set $out (i32.add (local.get $out) (i32.const 32)))
        (br $message))))
)
