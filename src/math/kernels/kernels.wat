;; cinerec's numeric kernels with WebAssembly SIMD (f32x4 / f64x2).
;;
;; Source of src/math/kernels/kernels.wasm.ts: edit this file, then run `npm run build:wasm`
;; (scripts/build-wasm.ts assembles it with `wabt` and writes the bytes as base64); test/math/kernels.test.ts
;; fails when the committed bytes and this source drift apart. Every kernel has a TypeScript twin in
;; reference.ts with the same arguments, and the tests hold the two against each other.
;;
;; Memory: imported and shared, so that worker threads instantiate this module on the same memory and see the
;; same matrices (src/math/kernels/memory.ts owns it). All pointers are byte offsets into it. Matrices are
;; row-major. v128 loads and stores use align=4 (a hint only): callers keep the vector-wide data 16-byte
;; aligned where they can, but nothing breaks when they do not.
;;
;; Conventions: "f4" is a row length that is a multiple of 4 floats (the ALS factor rows are padded to it
;; with zeros, which stay zero through every kernel). Functions named $..._ are internal helpers.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; ---------------------------------------------------------------------------------------------------
  ;; Small helpers.

  ;; [Σa0, Σa1, Σa2, Σa3]: the four horizontal sums of four f32x4 accumulators (a 4×4 transpose-reduce).
  (func $hsum4_ (param $a0 v128) (param $a1 v128) (param $a2 v128) (param $a3 v128) (result v128)
    (local.set $a0 (f32x4.add
      (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a0) (local.get $a1))
      (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a0) (local.get $a1))))
    (local.set $a2 (f32x4.add
      (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a2) (local.get $a3))
      (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a2) (local.get $a3))))
    (f32x4.add
      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $a0) (local.get $a2))
      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $a0) (local.get $a2))))

  ;; Σ of the four lanes, in float64 ((l0 + l1) + (l2 + l3)).
  (func $hsum_f64_ (param $a v128) (result f64)
    (f64.add
      (f64.add (f64.promote_f32 (f32x4.extract_lane 0 (local.get $a)))
               (f64.promote_f32 (f32x4.extract_lane 1 (local.get $a))))
      (f64.add (f64.promote_f32 (f32x4.extract_lane 2 (local.get $a)))
               (f64.promote_f32 (f32x4.extract_lane 3 (local.get $a))))))

  ;; Σ_i a[i]·b[i] over n4 floats (a multiple of 4), float32 lanes summed in float64.
  (func $dot_ (param $a i32) (param $b i32) (param $bytes i32) (result f64)
    (local $k i32) (local $s v128)
    (block $done
      (br_if $done (i32.eqz (local.get $bytes)))
      (loop $l
        (local.set $s (f32x4.add (local.get $s)
          (f32x4.mul (v128.load align=4 (i32.add (local.get $a) (local.get $k)))
                     (v128.load align=4 (i32.add (local.get $b) (local.get $k))))))
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (br_if $l (i32.lt_u (local.get $k) (local.get $bytes)))))
    (call $hsum_f64_ (local.get $s)))

  ;; ---------------------------------------------------------------------------------------------------
  ;; Dense symmetric matrix × vector, f4×f4 float32: out = sign·G·v (sign: 1 or -1).
  ;;
  ;; Column form: out[i..i+15] += G[j][i..i+15]·v[j] (G symmetric, so row j holds column j), sixteen outputs in
  ;; four accumulators per pass over j, then the f4 % 16 rest four at a time. Measured ~15% faster than
  ;; four or eight dot products per pass (fewer shuffles; the loop is bound by the multiplies and adds).
  ;; G must be the full symmetric matrix (both triangles).
  (func $symv (export "symv") (param $g i32) (param $v i32) (param $out i32) (param $f4 i32) (param $sign f32)
    (local $rb i32) (local $i i32) (local $j i32) (local $gp i32) (local $sv v128) (local $vj v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (if (i32.eqz (local.get $f4)) (then (return)))
    (local.set $rb (i32.shl (local.get $f4) (i32.const 2)))
    (local.set $sv (f32x4.splat (local.get $sign)))
    ;; Blocks of 16 outputs.
    (block $wideDone
      (loop $wide
        (br_if $wideDone (i32.gt_u (i32.add (local.get $i) (i32.const 64)) (local.get $rb)))
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $a1 (v128.const i32x4 0 0 0 0))
        (local.set $a2 (v128.const i32x4 0 0 0 0))
        (local.set $a3 (v128.const i32x4 0 0 0 0))
        (local.set $gp (i32.add (local.get $g) (local.get $i)))
        (local.set $j (i32.const 0))
        (loop $cols
          (local.set $vj (v128.load32_splat (i32.add (local.get $v) (local.get $j))))
          (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load align=4 (local.get $gp)) (local.get $vj))))
          (local.set $a1 (f32x4.add (local.get $a1)
            (f32x4.mul (v128.load offset=16 align=4 (local.get $gp)) (local.get $vj))))
          (local.set $a2 (f32x4.add (local.get $a2)
            (f32x4.mul (v128.load offset=32 align=4 (local.get $gp)) (local.get $vj))))
          (local.set $a3 (f32x4.add (local.get $a3)
            (f32x4.mul (v128.load offset=48 align=4 (local.get $gp)) (local.get $vj))))
          (local.set $gp (i32.add (local.get $gp) (local.get $rb)))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br_if $cols (i32.lt_u (local.get $j) (local.get $rb))))
        (v128.store align=4 (i32.add (local.get $out) (local.get $i)) (f32x4.mul (local.get $a0) (local.get $sv)))
        (v128.store offset=16 align=4 (i32.add (local.get $out) (local.get $i))
          (f32x4.mul (local.get $a1) (local.get $sv)))
        (v128.store offset=32 align=4 (i32.add (local.get $out) (local.get $i))
          (f32x4.mul (local.get $a2) (local.get $sv)))
        (v128.store offset=48 align=4 (i32.add (local.get $out) (local.get $i))
          (f32x4.mul (local.get $a3) (local.get $sv)))
        (local.set $i (i32.add (local.get $i) (i32.const 64)))
        (br $wide)))
    ;; The rest, four outputs at a time.
    (block $narrowDone
      (loop $narrow
        (br_if $narrowDone (i32.ge_u (local.get $i) (local.get $rb)))
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $gp (i32.add (local.get $g) (local.get $i)))
        (local.set $j (i32.const 0))
        (loop $cols1
          (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load align=4 (local.get $gp))
            (v128.load32_splat (i32.add (local.get $v) (local.get $j))))))
          (local.set $gp (i32.add (local.get $gp) (local.get $rb)))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br_if $cols1 (i32.lt_u (local.get $j) (local.get $rb))))
        (v128.store align=4 (i32.add (local.get $out) (local.get $i)) (f32x4.mul (local.get $a0) (local.get $sv)))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $narrow))))

  ;; ---------------------------------------------------------------------------------------------------
  ;; The sparse half of an ALS conjugate-gradient product, over the entries of one row:
  ;;   out += Σ_k coef_k · y_k,  coef_k = sa·cp[k] + sb·cm1[k]·d_k,  d_k = y_k · v,  y_k = row idx[k] of `fixed`,
  ;; and, when dout ≠ 0, dout[k] = d_k (the loss needs them; padded to a multiple of 4 entries); when gather ≠ 0,
  ;; a copy of y_k goes to gather + k·4·f4 (rows past n included up to the next multiple of 4), so that the
  ;; next passes over a long row read it sequentially (see als_cg).
  ;; (residual: sa = 1, sb = -1, v = x; A·p: sa = 0, sb = 1, v = p.)
  ;;
  ;; Entries go four at a time: the four dot products share every v chunk, and the four axpys share every
  ;; load and store of out, with the four fixed rows still in L1. n need not be a multiple of 4: the weight
  ;; arrays are zero-padded to one (so padded lanes get coef 0) and padded rows repeat the last real row.
  (func $spmv_ (param $fixed i32) (param $idx i32) (param $n i32) (param $v i32) (param $out i32)
    (param $cm1 i32) (param $cp i32) (param $sa f32) (param $sb f32) (param $f4 i32) (param $dout i32)
    (param $gather i32)
    (local $rb i32) (local $rb8 i32) (local $k i32) (local $j i32)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128)
    (local $y0 i32) (local $y1 i32) (local $y2 i32) (local $y3 i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $vj v128)
    (local $c v128) (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local.set $rb (i32.shl (local.get $f4) (i32.const 2)))
    (local.set $rb8 (i32.and (local.get $rb) (i32.const -32)))
    (block $done
      (br_if $done (i32.le_s (local.get $n) (i32.const 0)))
      (loop $entries
        (local.set $y0 (i32.add (local.get $fixed)
          (i32.mul (i32.load (local.get $idx)) (local.get $rb))))
        (local.set $y1 (local.get $y0))
        (local.set $y2 (local.get $y0))
        (local.set $y3 (local.get $y0))
        (if (i32.gt_s (local.get $n) (i32.add (local.get $k) (i32.const 1)))
          (then
            (local.set $y1 (i32.add (local.get $fixed)
              (i32.mul (i32.load offset=4 (local.get $idx)) (local.get $rb))))
            (local.set $y2 (local.get $y1))
            (local.set $y3 (local.get $y1))
            (if (i32.gt_s (local.get $n) (i32.add (local.get $k) (i32.const 2)))
              (then
                (local.set $y2 (i32.add (local.get $fixed)
                  (i32.mul (i32.load offset=8 (local.get $idx)) (local.get $rb))))
                (local.set $y3 (local.get $y2))
                (if (i32.gt_s (local.get $n) (i32.add (local.get $k) (i32.const 3)))
                  (then
                    (local.set $y3 (i32.add (local.get $fixed)
                      (i32.mul (i32.load offset=12 (local.get $idx)) (local.get $rb))))))))))
        ;; d_t = y_t · v, two accumulators per entry (even and odd chunks) so eight add chains run at once.
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $a1 (v128.const i32x4 0 0 0 0))
        (local.set $a2 (v128.const i32x4 0 0 0 0))
        (local.set $a3 (v128.const i32x4 0 0 0 0))
        (local.set $b0 (v128.const i32x4 0 0 0 0))
        (local.set $b1 (v128.const i32x4 0 0 0 0))
        (local.set $b2 (v128.const i32x4 0 0 0 0))
        (local.set $b3 (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $dotDone
        (br_if $dotDone (i32.eqz (local.get $rb8)))
        (loop $dot
          (local.set $vj (v128.load align=4 (i32.add (local.get $v) (local.get $j))))
          (local.set $a0 (f32x4.add (local.get $a0)
            (f32x4.mul (v128.load align=4 (i32.add (local.get $y0) (local.get $j))) (local.get $vj))))
          (local.set $a1 (f32x4.add (local.get $a1)
            (f32x4.mul (v128.load align=4 (i32.add (local.get $y1) (local.get $j))) (local.get $vj))))
          (local.set $a2 (f32x4.add (local.get $a2)
            (f32x4.mul (v128.load align=4 (i32.add (local.get $y2) (local.get $j))) (local.get $vj))))
          (local.set $a3 (f32x4.add (local.get $a3)
            (f32x4.mul (v128.load align=4 (i32.add (local.get $y3) (local.get $j))) (local.get $vj))))
          (local.set $vj (v128.load offset=16 align=4 (i32.add (local.get $v) (local.get $j))))
          (local.set $b0 (f32x4.add (local.get $b0)
            (f32x4.mul (v128.load offset=16 align=4 (i32.add (local.get $y0) (local.get $j))) (local.get $vj))))
          (local.set $b1 (f32x4.add (local.get $b1)
            (f32x4.mul (v128.load offset=16 align=4 (i32.add (local.get $y1) (local.get $j))) (local.get $vj))))
          (local.set $b2 (f32x4.add (local.get $b2)
            (f32x4.mul (v128.load offset=16 align=4 (i32.add (local.get $y2) (local.get $j))) (local.get $vj))))
          (local.set $b3 (f32x4.add (local.get $b3)
            (f32x4.mul (v128.load offset=16 align=4 (i32.add (local.get $y3) (local.get $j))) (local.get $vj))))
          (local.set $j (i32.add (local.get $j) (i32.const 32)))
          (br_if $dot (i32.lt_u (local.get $j) (local.get $rb8)))))
        ;; f4 % 8 = 4: one last chunk.
        (if (i32.lt_u (local.get $j) (local.get $rb))
          (then
            (local.set $vj (v128.load align=4 (i32.add (local.get $v) (local.get $j))))
            (local.set $a0 (f32x4.add (local.get $a0)
              (f32x4.mul (v128.load align=4 (i32.add (local.get $y0) (local.get $j))) (local.get $vj))))
            (local.set $a1 (f32x4.add (local.get $a1)
              (f32x4.mul (v128.load align=4 (i32.add (local.get $y1) (local.get $j))) (local.get $vj))))
            (local.set $a2 (f32x4.add (local.get $a2)
              (f32x4.mul (v128.load align=4 (i32.add (local.get $y2) (local.get $j))) (local.get $vj))))
            (local.set $a3 (f32x4.add (local.get $a3)
              (f32x4.mul (v128.load align=4 (i32.add (local.get $y3) (local.get $j))) (local.get $vj))))))
        (local.set $a0 (f32x4.add (local.get $a0) (local.get $b0)))
        (local.set $a1 (f32x4.add (local.get $a1) (local.get $b1)))
        (local.set $a2 (f32x4.add (local.get $a2) (local.get $b2)))
        (local.set $a3 (f32x4.add (local.get $a3) (local.get $b3)))
        ;; d = [Σa0, Σa1, Σa2, Σa3] (a 4×4 transpose-reduce, inline: V8 does not inline wasm calls, and a
        ;; call here spilled the live vectors).
        (local.set $a0 (f32x4.add
          (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a0) (local.get $a1))
          (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a0) (local.get $a1))))
        (local.set $a2 (f32x4.add
          (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a2) (local.get $a3))
          (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a2) (local.get $a3))))
        (local.set $a0 (f32x4.add
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $a0) (local.get $a2))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $a0) (local.get $a2))))
        (if (local.get $dout)
          (then
            (v128.store align=4 (local.get $dout) (local.get $a0))
            (local.set $dout (i32.add (local.get $dout) (i32.const 16)))))
        ;; coef = sa·cp + sb·cm1·d
        (local.set $c (f32x4.add
          (f32x4.mul (f32x4.splat (local.get $sa)) (v128.load align=4 (local.get $cp)))
          (f32x4.mul (f32x4.splat (local.get $sb))
            (f32x4.mul (v128.load align=4 (local.get $cm1)) (local.get $a0)))))
        (local.set $c0 (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3 (local.get $c) (local.get $c)))
        (local.set $c1 (i8x16.shuffle 4 5 6 7 4 5 6 7 4 5 6 7 4 5 6 7 (local.get $c) (local.get $c)))
        (local.set $c2 (i8x16.shuffle 8 9 10 11 8 9 10 11 8 9 10 11 8 9 10 11 (local.get $c) (local.get $c)))
        (local.set $c3 (i8x16.shuffle 12 13 14 15 12 13 14 15 12 13 14 15 12 13 14 15 (local.get $c) (local.get $c)))
        ;; out += Σ_t c_t · y_t (the gathering variant also copies the rows out)
        (local.set $j (i32.const 0))
        (if (local.get $gather)
          (then
            (loop $axpyGather
              (local.set $b0 (v128.load align=4 (i32.add (local.get $y0) (local.get $j))))
              (local.set $b1 (v128.load align=4 (i32.add (local.get $y1) (local.get $j))))
              (local.set $b2 (v128.load align=4 (i32.add (local.get $y2) (local.get $j))))
              (local.set $b3 (v128.load align=4 (i32.add (local.get $y3) (local.get $j))))
              (v128.store align=4 (i32.add (local.get $gather) (local.get $j)) (local.get $b0))
              (v128.store align=4 (i32.add (i32.add (local.get $gather) (local.get $rb)) (local.get $j)) (local.get $b1))
              (v128.store align=4 (i32.add (i32.add (local.get $gather) (i32.shl (local.get $rb) (i32.const 1))) (local.get $j))
                (local.get $b2))
              (v128.store align=4 (i32.add (i32.add (local.get $gather) (i32.mul (local.get $rb) (i32.const 3))) (local.get $j))
                (local.get $b3))
              (v128.store align=4 (i32.add (local.get $out) (local.get $j))
                (f32x4.add (v128.load align=4 (i32.add (local.get $out) (local.get $j)))
                  (f32x4.add
                    (f32x4.add (f32x4.mul (local.get $b0) (local.get $c0)) (f32x4.mul (local.get $b1) (local.get $c1)))
                    (f32x4.add (f32x4.mul (local.get $b2) (local.get $c2)) (f32x4.mul (local.get $b3) (local.get $c3))))))
              (local.set $j (i32.add (local.get $j) (i32.const 16)))
              (br_if $axpyGather (i32.lt_u (local.get $j) (local.get $rb))))
            (local.set $gather (i32.add (local.get $gather) (i32.shl (local.get $rb) (i32.const 2)))))
          (else
        (loop $axpy
          (v128.store align=4 (i32.add (local.get $out) (local.get $j))
            (f32x4.add (v128.load align=4 (i32.add (local.get $out) (local.get $j)))
              (f32x4.add
                (f32x4.add
                  (f32x4.mul (v128.load align=4 (i32.add (local.get $y0) (local.get $j))) (local.get $c0))
                  (f32x4.mul (v128.load align=4 (i32.add (local.get $y1) (local.get $j))) (local.get $c1)))
                (f32x4.add
                  (f32x4.mul (v128.load align=4 (i32.add (local.get $y2) (local.get $j))) (local.get $c2))
                  (f32x4.mul (v128.load align=4 (i32.add (local.get $y3) (local.get $j))) (local.get $c3))))))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br_if $axpy (i32.lt_u (local.get $j) (local.get $rb))))))
        (local.set $idx (i32.add (local.get $idx) (i32.const 16)))
        (local.set $cm1 (i32.add (local.get $cm1) (i32.const 16)))
        (local.set $cp (i32.add (local.get $cp) (i32.const 16)))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (br_if $entries (i32.lt_s (local.get $k) (local.get $n))))))

  ;; ---------------------------------------------------------------------------------------------------
  ;; ALS row kernels. A half-step solves, for every row u of the side being updated,
  ;;   (G + λI + Σ_k (c_k − 1) y_k y_kᵀ) x_u = Σ_k c_k p_k y_k
  ;; over the row's observed entries k (G = YᵀY of the fixed side). The job is a block of i32/f32 slots at
  ;; `job` (written by src/models/als-kernels.ts, field names there):
  ;;   0 f4, 1 from, 2 to, 3 indptr, 4 index, 5 ratings, 6 fixed, 7 target, 8 gram32 (f4×f4 f32, G + λI),
  ;;   9 cgSteps, 10 scratch, 11 rowLoss (f64 per row, 0: none), 12 confidence kind, 13 alpha (f32),
  ;;   14 rating scale (f32: 0 binary, 1 rating, 1/r_max linear), 15 negativeBelow (f32, -inf: off),
  ;;   16 weight capacity (floats, multiple of 4), 17 gram64 (f4×f4 f64, G without λ), 18 gather capacity
  ;;   (entries, multiple of 4; 0: never gather), 19 gather buffer (capacity rows of f4 floats, then capacity
  ;;   i32), bytes 80..87 λ (f64).
  ;; Scratch (per thread): r, p, ap (f4 floats each), cm1 and cp (capacity floats each), then, for the exact
  ;; solver, the f64 system (f4×f4) and right-hand side (f4).

  ;; Per entry of a row: cm1 = c − 1 and cp = c·p (float32), then zeros up to the next multiple of 4.
  (func $weigh_ (param $ratings i32) (param $n i32) (param $cm1 i32) (param $cp i32)
    (param $kind i32) (param $alpha f32) (param $scale f32) (param $nb f32)
    (local $k i32) (local $r f32) (local $w f32) (local $n4 i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_s (local.get $k) (local.get $n)))
        (local.set $r (f32.load (i32.add (local.get $ratings) (i32.shl (local.get $k) (i32.const 2)))))
        (if (f32.lt (local.get $r) (local.get $nb))
          (then
            (local.set $w (f32.mul (local.get $alpha) (f32.sub (local.get $nb) (local.get $r))))
            (f32.store (i32.add (local.get $cm1) (i32.shl (local.get $k) (i32.const 2))) (local.get $w))
            (f32.store (i32.add (local.get $cp) (i32.shl (local.get $k) (i32.const 2))) (f32.const 0)))
          (else
            (local.set $w (f32.mul (local.get $alpha)
              (select (f32.const 1) (f32.mul (local.get $r) (local.get $scale)) (i32.eqz (local.get $kind)))))
            (f32.store (i32.add (local.get $cm1) (i32.shl (local.get $k) (i32.const 2))) (local.get $w))
            (f32.store (i32.add (local.get $cp) (i32.shl (local.get $k) (i32.const 2)))
              (f32.add (f32.const 1) (local.get $w)))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $l)))
    (local.set $n4 (i32.and (i32.add (local.get $n) (i32.const 3)) (i32.const -4)))
    (memory.fill (i32.add (local.get $cm1) (i32.shl (local.get $n) (i32.const 2))) (i32.const 0)
      (i32.shl (i32.sub (local.get $n4) (local.get $n)) (i32.const 2)))
    (memory.fill (i32.add (local.get $cp) (i32.shl (local.get $n) (i32.const 2))) (i32.const 0)
      (i32.shl (i32.sub (local.get $n4) (local.get $n)) (i32.const 2))))

  ;; x += a·p; r −= a·ap; returns r·r (float32 lanes summed in float64).
  (func $cg_step_ (param $x i32) (param $p i32) (param $r i32) (param $ap i32) (param $a f32) (param $rb i32)
    (result f64)
    (local $k i32) (local $av v128) (local $ri v128) (local $s v128)
    (local.set $av (f32x4.splat (local.get $a)))
    (loop $l
      (v128.store align=4 (i32.add (local.get $x) (local.get $k))
        (f32x4.add (v128.load align=4 (i32.add (local.get $x) (local.get $k)))
          (f32x4.mul (local.get $av) (v128.load align=4 (i32.add (local.get $p) (local.get $k))))))
      (local.set $ri (f32x4.sub (v128.load align=4 (i32.add (local.get $r) (local.get $k)))
        (f32x4.mul (local.get $av) (v128.load align=4 (i32.add (local.get $ap) (local.get $k))))))
      (v128.store align=4 (i32.add (local.get $r) (local.get $k)) (local.get $ri))
      (local.set $s (f32x4.add (local.get $s) (f32x4.mul (local.get $ri) (local.get $ri))))
      (local.set $k (i32.add (local.get $k) (i32.const 16)))
      (br_if $l (i32.lt_u (local.get $k) (local.get $rb))))
    (call $hsum_f64_ (local.get $s)))

  ;; p = r + b·p.
  (func $xpby_ (param $p i32) (param $r i32) (param $b f32) (param $rb i32)
    (local $k i32) (local $bv v128)
    (local.set $bv (f32x4.splat (local.get $b)))
    (loop $l
      (v128.store align=4 (i32.add (local.get $p) (local.get $k))
        (f32x4.add (v128.load align=4 (i32.add (local.get $r) (local.get $k)))
          (f32x4.mul (local.get $bv) (v128.load align=4 (i32.add (local.get $p) (local.get $k))))))
      (local.set $k (i32.add (local.get $k) (i32.const 16)))
      (br_if $l (i32.lt_u (local.get $k) (local.get $rb)))))

  ;; Σ_k [c_k (p_k − s_k)² − s_k²], s_k = y_k · x: the row's observed share of the loss (float64 sums).
  (func $row_loss_ (param $fixed i32) (param $idx i32) (param $n i32) (param $x i32)
    (param $cm1 i32) (param $cp i32) (param $f4 i32) (result f64)
    (local $rb i32) (local $k i32) (local $j i32) (local $t i32) (local $y i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $xj v128) (local $d v128)
    (local $y0 i32) (local $y1 i32) (local $y2 i32) (local $y3 i32)
    (local $s f64) (local $e f64) (local $c f64) (local $loss f64)
    (local.set $rb (i32.shl (local.get $f4) (i32.const 2)))
    (block $done
      (br_if $done (i32.le_s (local.get $n) (i32.const 0)))
      (loop $entries
        (local.set $y0 (i32.add (local.get $fixed) (i32.mul (i32.load (local.get $idx)) (local.get $rb))))
        (local.set $y1 (local.get $y0))
        (local.set $y2 (local.get $y0))
        (local.set $y3 (local.get $y0))
        (if (i32.gt_s (local.get $n) (i32.add (local.get $k) (i32.const 1)))
          (then (local.set $y1 (i32.add (local.get $fixed)
            (i32.mul (i32.load offset=4 (local.get $idx)) (local.get $rb))))))
        (if (i32.gt_s (local.get $n) (i32.add (local.get $k) (i32.const 2)))
          (then (local.set $y2 (i32.add (local.get $fixed)
            (i32.mul (i32.load offset=8 (local.get $idx)) (local.get $rb))))))
        (if (i32.gt_s (local.get $n) (i32.add (local.get $k) (i32.const 3)))
          (then (local.set $y3 (i32.add (local.get $fixed)
            (i32.mul (i32.load offset=12 (local.get $idx)) (local.get $rb))))))
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $a1 (v128.const i32x4 0 0 0 0))
        (local.set $a2 (v128.const i32x4 0 0 0 0))
        (local.set $a3 (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (loop $dot
          (local.set $xj (v128.load align=4 (i32.add (local.get $x) (local.get $j))))
          (local.set $a0 (f32x4.add (local.get $a0)
            (f32x4.mul (v128.load align=4 (i32.add (local.get $y0) (local.get $j))) (local.get $xj))))
          (local.set $a1 (f32x4.add (local.get $a1)
            (f32x4.mul (v128.load align=4 (i32.add (local.get $y1) (local.get $j))) (local.get $xj))))
          (local.set $a2 (f32x4.add (local.get $a2)
            (f32x4.mul (v128.load align=4 (i32.add (local.get $y2) (local.get $j))) (local.get $xj))))
          (local.set $a3 (f32x4.add (local.get $a3)
            (f32x4.mul (v128.load align=4 (i32.add (local.get $y3) (local.get $j))) (local.get $xj))))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br_if $dot (i32.lt_u (local.get $j) (local.get $rb))))
        ;; d = [Σa0, Σa1, Σa2, Σa3], inline as in $spmv_.
        (local.set $a0 (f32x4.add
          (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a0) (local.get $a1))
          (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a0) (local.get $a1))))
        (local.set $a2 (f32x4.add
          (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a2) (local.get $a3))
          (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a2) (local.get $a3))))
        (local.set $a0 (f32x4.add
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $a0) (local.get $a2))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $a0) (local.get $a2))))
        (local.set $d (local.get $a0))
        ;; Lanes one at a time, real entries only.
        (local.set $t (i32.const 0))
        (loop $lanes
          ;; Lane t of d is in lane 0 (d rotates by one lane per entry).
          (local.set $s (f64.promote_f32 (f32x4.extract_lane 0 (local.get $d))))
          (local.set $d (i8x16.shuffle 4 5 6 7 8 9 10 11 12 13 14 15 0 1 2 3 (local.get $d) (local.get $d)))
          (local.set $y (i32.shl (local.get $t) (i32.const 2)))
          (local.set $c (f64.add (f64.const 1)
            (f64.promote_f32 (f32.load (i32.add (local.get $cm1) (local.get $y))))))
          (local.set $e (f64.sub
            (select (f64.const 0) (f64.const 1)
              (f32.eq (f32.load (i32.add (local.get $cp) (local.get $y))) (f32.const 0)))
            (local.get $s)))
          (local.set $loss (f64.add (local.get $loss)
            (f64.sub (f64.mul (local.get $c) (f64.mul (local.get $e) (local.get $e)))
                     (f64.mul (local.get $s) (local.get $s)))))
          (local.set $t (i32.add (local.get $t) (i32.const 1)))
          (br_if $lanes (i32.and (i32.lt_s (local.get $t) (i32.const 4))
            (i32.lt_s (i32.add (local.get $k) (local.get $t)) (local.get $n)))))
        (local.set $idx (i32.add (local.get $idx) (i32.const 16)))
        (local.set $cm1 (i32.add (local.get $cm1) (i32.const 16)))
        (local.set $cp (i32.add (local.get $cp) (i32.const 16)))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (br_if $entries (i32.lt_s (local.get $k) (local.get $n)))))
    (local.get $loss))

  ;; Conjugate gradient for rows [from, to) of a half-step: `cgSteps` steps per row warm-started from the
  ;; stored row (the `implicit` library's least_squares_cg), stopping early when r·r < 1e-20. A row with no
  ;; entries solves to zero. With a rowLoss pointer, also writes each row's observed share of the loss,
  ;; without another pass over the row: s_k = y_k·x is kept up to date through the steps (y_k·x₀ from the
  ;; residual pass, + α·y_k·p from each step's pass), since x = x₀ + Σ α p.
  (func $axpy_n_ (param $s i32) (param $d i32) (param $a f32) (param $n i32)
    ;; s[k] += a·d[k] for k < n rounded up to 4.
    (local $k i32) (local $end i32) (local $av v128)
    (local.set $av (f32x4.splat (local.get $a)))
    (local.set $end (i32.shl (i32.and (i32.add (local.get $n) (i32.const 3)) (i32.const -4)) (i32.const 2)))
    (block $d0 (loop $l
      (br_if $d0 (i32.ge_u (local.get $k) (local.get $end)))
      (v128.store align=4 (i32.add (local.get $s) (local.get $k))
        (f32x4.add (v128.load align=4 (i32.add (local.get $s) (local.get $k)))
          (f32x4.mul (local.get $av) (v128.load align=4 (i32.add (local.get $d) (local.get $k))))))
      (local.set $k (i32.add (local.get $k) (i32.const 16)))
      (br $l))))

  ;; Σ_k [c_k (p_k − s_k)² − s_k²] from the scores s (float64 sums).
  (func $loss_of_ (param $s i32) (param $cm1 i32) (param $cp i32) (param $n i32) (result f64)
    (local $k i32) (local $end i32) (local $sk f64) (local $e f64) (local $loss f64)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $d0 (loop $l
      (br_if $d0 (i32.ge_u (local.get $k) (local.get $end)))
      (local.set $sk (f64.promote_f32 (f32.load (i32.add (local.get $s) (local.get $k)))))
      (local.set $e (f64.sub
        (select (f64.const 0) (f64.const 1) (f32.eq (f32.load (i32.add (local.get $cp) (local.get $k))) (f32.const 0)))
        (local.get $sk)))
      (local.set $loss (f64.add (local.get $loss)
        (f64.sub
          (f64.mul (f64.add (f64.const 1) (f64.promote_f32 (f32.load (i32.add (local.get $cm1) (local.get $k)))))
            (f64.mul (local.get $e) (local.get $e)))
          (f64.mul (local.get $sk) (local.get $sk)))))
      (local.set $k (i32.add (local.get $k) (i32.const 4)))
      (br $l)))
    (local.get $loss))

  (func $als_cg (export "als_cg") (param $job i32)
    (local $f4 i32) (local $rb i32) (local $u i32) (local $to i32) (local $indptr i32) (local $index i32)
    (local $ratings i32) (local $fixed i32) (local $target i32) (local $g i32) (local $steps i32)
    (local $rowLoss i32) (local $kind i32) (local $alpha f32) (local $scale f32) (local $nb f32)
    (local $r i32) (local $p i32) (local $ap i32) (local $cm1 i32) (local $cp i32)
    (local $start i32) (local $n i32) (local $x i32) (local $idx i32) (local $step i32)
    (local $rs f64) (local $rsNew f64) (local $a f64) (local $sv i32) (local $dv i32) (local $sOut i32) (local $dOut i32)
    (local $gcap i32) (local $gptr i32) (local $iota i32) (local $gbuf i32) (local $yrows i32) (local $yidx i32) (local $k i32)
    (local.set $f4 (i32.load offset=0 (local.get $job)))
    (local.set $u (i32.load offset=4 (local.get $job)))
    (local.set $to (i32.load offset=8 (local.get $job)))
    (local.set $indptr (i32.load offset=12 (local.get $job)))
    (local.set $index (i32.load offset=16 (local.get $job)))
    (local.set $ratings (i32.load offset=20 (local.get $job)))
    (local.set $fixed (i32.load offset=24 (local.get $job)))
    (local.set $target (i32.load offset=28 (local.get $job)))
    (local.set $g (i32.load offset=32 (local.get $job)))
    (local.set $steps (i32.load offset=36 (local.get $job)))
    (local.set $r (i32.load offset=40 (local.get $job)))
    (local.set $rowLoss (i32.load offset=44 (local.get $job)))
    (local.set $kind (i32.load offset=48 (local.get $job)))
    (local.set $alpha (f32.load offset=52 (local.get $job)))
    (local.set $scale (f32.load offset=56 (local.get $job)))
    (local.set $nb (f32.load offset=60 (local.get $job)))
    (local.set $rb (i32.shl (local.get $f4) (i32.const 2)))
    (local.set $p (i32.add (local.get $r) (local.get $rb)))
    (local.set $ap (i32.add (local.get $p) (local.get $rb)))
    (local.set $cm1 (i32.add (local.get $ap) (local.get $rb)))
    (local.set $cp (i32.add (local.get $cm1) (i32.shl (i32.load offset=64 (local.get $job)) (i32.const 2))))
    ;; s and d (loss only) follow the exact solver's region, which CG does not use.
    (local.set $sv (i32.add (local.get $cp) (i32.shl (i32.load offset=64 (local.get $job)) (i32.const 2))))
    (local.set $dv (i32.add (local.get $sv) (i32.shl (i32.load offset=64 (local.get $job)) (i32.const 2))))
    (local.set $gcap (i32.load offset=72 (local.get $job)))
    (local.set $gptr (i32.load offset=76 (local.get $job)))
    (local.set $iota (i32.add (local.get $gptr) (i32.mul (local.get $gcap) (local.get $rb))))
    (local.set $sOut (select (i32.const 0) (local.get $sv) (i32.eqz (local.get $rowLoss))))
    (local.set $dOut (select (i32.const 0) (local.get $dv) (i32.eqz (local.get $rowLoss))))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_s (local.get $u) (local.get $to)))
        (local.set $start (i32.load (i32.add (local.get $indptr) (i32.shl (local.get $u) (i32.const 2)))))
        (local.set $n (i32.sub
          (i32.load offset=4 (i32.add (local.get $indptr) (i32.shl (local.get $u) (i32.const 2))))
          (local.get $start)))
        (local.set $x (i32.add (local.get $target) (i32.mul (local.get $u) (local.get $rb))))
        (block $solved
          (if (i32.eqz (local.get $n))
            (then
              (memory.fill (local.get $x) (i32.const 0) (local.get $rb))
              (br $solved)))
          (local.set $idx (i32.add (local.get $index) (i32.shl (local.get $start) (i32.const 2))))
          (call $weigh_ (i32.add (local.get $ratings) (i32.shl (local.get $start) (i32.const 2))) (local.get $n)
            (local.get $cm1) (local.get $cp) (local.get $kind) (local.get $alpha) (local.get $scale) (local.get $nb))
          ;; A long row's fixed rows are gathered during the first pass (when they fit the buffer): the later
          ;; passes then stream them in order instead of fetching scattered rows from memory again. Only rows
          ;; whose fixed rows take 512 KiB or more: smaller sets stay in L2 between passes anyway, and there the
          ;; copy only costs.
          (local.set $gbuf (i32.const 0))
          (local.set $yrows (local.get $fixed))
          (local.set $yidx (local.get $idx))
          (if (i32.and (i32.ge_s (i32.mul (local.get $n) (local.get $rb)) (i32.const 524288))
                       (i32.le_s (i32.and (i32.add (local.get $n) (i32.const 3)) (i32.const -4)) (local.get $gcap)))
            (then
              (local.set $gbuf (local.get $gptr))
              (local.set $yrows (local.get $gptr))
              (local.set $yidx (local.get $iota))
              (local.set $k (i32.const 0))
              (loop $fillIota
                (i32.store (i32.add (local.get $iota) (i32.shl (local.get $k) (i32.const 2))) (local.get $k))
                (local.set $k (i32.add (local.get $k) (i32.const 1)))
                (br_if $fillIota (i32.lt_s (local.get $k) (local.get $n))))))
          ;; r = b − A x = −(G + λI) x + Σ_k (c_k p_k − (c_k − 1) y_k·x) y_k
          (call $symv (local.get $g) (local.get $x) (local.get $r) (local.get $f4) (f32.const -1))
          (call $spmv_ (local.get $fixed) (local.get $idx) (local.get $n) (local.get $x) (local.get $r)
            (local.get $cm1) (local.get $cp) (f32.const 1) (f32.const -1) (local.get $f4) (local.get $sOut)
            (local.get $gbuf))
          (memory.copy (local.get $p) (local.get $r) (local.get $rb))
          (local.set $rs (call $dot_ (local.get $r) (local.get $r) (local.get $rb)))
          (br_if $solved (f64.lt (local.get $rs) (f64.const 1e-20)))
          (local.set $step (i32.const 0))
          (block $cgDone
            (loop $cg
              (br_if $cgDone (i32.ge_s (local.get $step) (local.get $steps)))
              ;; ap = (G + λI) p + Σ_k (c_k − 1)(y_k·p) y_k
              (call $symv (local.get $g) (local.get $p) (local.get $ap) (local.get $f4) (f32.const 1))
              (call $spmv_ (local.get $yrows) (local.get $yidx) (local.get $n) (local.get $p) (local.get $ap)
                (local.get $cm1) (local.get $cp) (f32.const 0) (f32.const 1) (local.get $f4) (local.get $dOut) (i32.const 0))
              (local.set $a (f64.div (local.get $rs) (call $dot_ (local.get $p) (local.get $ap) (local.get $rb))))
              (if (local.get $dOut)
                (then (call $axpy_n_ (local.get $sOut) (local.get $dOut) (f32.demote_f64 (local.get $a)) (local.get $n))))
              (local.set $rsNew (call $cg_step_ (local.get $x) (local.get $p) (local.get $r) (local.get $ap)
                (f32.demote_f64 (local.get $a)) (local.get $rb)))
              (br_if $cgDone (f64.lt (local.get $rsNew) (f64.const 1e-20)))
              (call $xpby_ (local.get $p) (local.get $r) (f32.demote_f64 (f64.div (local.get $rsNew) (local.get $rs)))
                (local.get $rb))
              (local.set $rs (local.get $rsNew))
              (local.set $step (i32.add (local.get $step) (i32.const 1)))
              (br $cg))))
        (if (local.get $rowLoss)
          (then
            (f64.store (i32.add (local.get $rowLoss) (i32.shl (local.get $u) (i32.const 3)))
              (call $loss_of_ (local.get $sOut) (local.get $cm1) (local.get $cp) (local.get $n)))))
        (local.set $u (i32.add (local.get $u) (i32.const 1)))
        (br $rows))))

  ;; ---------------------------------------------------------------------------------------------------
  ;; Gram product in float64 from float32 rows: out (+)= Σ_r w_r a_r a_rᵀ over rows a_r = row idx[r] of `a`
  ;; (or row r when idx = 0), w_r = w[r] (float64; all 1 when w = 0). out is f×f with row stride ldo
  ;; (float64), full symmetric on return (the lower triangle is computed, then mirrored). accumulate = 0
  ;; overwrites out.
  ;;
  ;; Rows go through in panels of 32, converted to float64 in scratch (2·32·f4 float64, f4 = f rounded up to
  ;; 4, zero-padded); every 4×4 tile of the lower triangle then sums the panel with eight f64x2 accumulators.
  ;; float32 products are exact in float64, so the only rounding is the float64 sum.
  (func $syrk (export "syrk") (param $out i32) (param $ldo i32) (param $a i32) (param $lda i32) (param $idx i32)
    (param $w i32) (param $n i32) (param $f i32) (param $scratch i32) (param $accumulate i32)
    (local $f4 i32) (local $rb i32) (local $wy i32) (local $p0 i32) (local $m i32) (local $r i32) (local $j i32)
    (local $src i32) (local $dst i32) (local $wr f64) (local $y f64) (local $ib i32) (local $jb i32)
    (local $yp i32) (local $wp i32) (local $end i32) (local $o i32) (local $t i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128)
    (local $y0 v128) (local $y1 v128) (local $s v128)
    (local.set $f4 (i32.and (i32.add (local.get $f) (i32.const 3)) (i32.const -4)))
    (local.set $rb (i32.shl (local.get $f4) (i32.const 3)))
    (local.set $wy (i32.add (local.get $scratch) (i32.shl (local.get $rb) (i32.const 5))))
    (if (i32.eqz (local.get $accumulate))
      (then
        (local.set $r (i32.const 0))
        (block $zd (loop $zl
          (br_if $zd (i32.ge_s (local.get $r) (local.get $f)))
          (memory.fill (i32.add (local.get $out) (i32.shl (i32.mul (local.get $r) (local.get $ldo)) (i32.const 3)))
            (i32.const 0) (i32.shl (local.get $f) (i32.const 3)))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (br $zl)))))
    (block $panelsDone
      (loop $panels
        (br_if $panelsDone (i32.ge_s (local.get $p0) (local.get $n)))
        (local.set $m (i32.sub (local.get $n) (local.get $p0)))
        (if (i32.gt_s (local.get $m) (i32.const 32)) (then (local.set $m (i32.const 32))))
        ;; Convert the panel: Y[r] = a_r, WY[r] = w_r·a_r (float64, zero-padded to f4).
        (local.set $r (i32.const 0))
        (loop $conv
          (local.set $src (i32.add (local.get $a) (i32.shl (i32.mul
            (if (result i32) (local.get $idx)
              (then (i32.load (i32.add (local.get $idx) (i32.shl (i32.add (local.get $p0) (local.get $r)) (i32.const 2)))))
              (else (i32.add (local.get $p0) (local.get $r))))
            (local.get $lda)) (i32.const 2))))
          (local.set $wr (if (result f64) (local.get $w)
            (then (f64.load (i32.add (local.get $w) (i32.shl (i32.add (local.get $p0) (local.get $r)) (i32.const 3)))))
            (else (f64.const 1))))
          (local.set $dst (i32.add (local.get $scratch) (i32.mul (local.get $r) (local.get $rb))))
          (local.set $j (i32.const 0))
          (block $cd (loop $cl
            (br_if $cd (i32.ge_s (local.get $j) (local.get $f)))
            (local.set $y (f64.promote_f32 (f32.load (i32.add (local.get $src) (i32.shl (local.get $j) (i32.const 2))))))
            (f64.store (i32.add (local.get $dst) (i32.shl (local.get $j) (i32.const 3))) (local.get $y))
            (f64.store (i32.add (i32.sub (local.get $dst) (local.get $scratch)) (i32.add (local.get $wy)
              (i32.shl (local.get $j) (i32.const 3)))) (f64.mul (local.get $wr) (local.get $y)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $cl)))
          (block $pd (loop $pl
            (br_if $pd (i32.ge_s (local.get $j) (local.get $f4)))
            (f64.store (i32.add (local.get $dst) (i32.shl (local.get $j) (i32.const 3))) (f64.const 0))
            (f64.store (i32.add (i32.sub (local.get $dst) (local.get $scratch)) (i32.add (local.get $wy)
              (i32.shl (local.get $j) (i32.const 3)))) (f64.const 0))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $pl)))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (br_if $conv (i32.lt_s (local.get $r) (local.get $m))))
        ;; Tiles of the lower triangle: rows ib..ib+3 (weighted side) × columns jb..jb+3, jb ≤ ib.
        (local.set $end (i32.mul (local.get $m) (local.get $rb)))
        (local.set $ib (i32.const 0))
        (loop $tileRows
          (local.set $jb (i32.const 0))
          (loop $tileCols
            (local.set $a0 (v128.const i32x4 0 0 0 0))
            (local.set $a1 (v128.const i32x4 0 0 0 0))
            (local.set $a2 (v128.const i32x4 0 0 0 0))
            (local.set $a3 (v128.const i32x4 0 0 0 0))
            (local.set $a4 (v128.const i32x4 0 0 0 0))
            (local.set $a5 (v128.const i32x4 0 0 0 0))
            (local.set $a6 (v128.const i32x4 0 0 0 0))
            (local.set $a7 (v128.const i32x4 0 0 0 0))
            (local.set $yp (i32.add (local.get $scratch) (i32.shl (local.get $jb) (i32.const 3))))
            (local.set $wp (i32.add (local.get $wy) (i32.shl (local.get $ib) (i32.const 3))))
            (local.set $r (i32.const 0))
            (loop $sum
              (local.set $y0 (v128.load align=8 (i32.add (local.get $yp) (local.get $r))))
              (local.set $y1 (v128.load offset=16 align=8 (i32.add (local.get $yp) (local.get $r))))
              (local.set $s (v128.load64_splat (i32.add (local.get $wp) (local.get $r))))
              (local.set $a0 (f64x2.add (local.get $a0) (f64x2.mul (local.get $s) (local.get $y0))))
              (local.set $a1 (f64x2.add (local.get $a1) (f64x2.mul (local.get $s) (local.get $y1))))
              (local.set $s (v128.load64_splat offset=8 (i32.add (local.get $wp) (local.get $r))))
              (local.set $a2 (f64x2.add (local.get $a2) (f64x2.mul (local.get $s) (local.get $y0))))
              (local.set $a3 (f64x2.add (local.get $a3) (f64x2.mul (local.get $s) (local.get $y1))))
              (local.set $s (v128.load64_splat offset=16 (i32.add (local.get $wp) (local.get $r))))
              (local.set $a4 (f64x2.add (local.get $a4) (f64x2.mul (local.get $s) (local.get $y0))))
              (local.set $a5 (f64x2.add (local.get $a5) (f64x2.mul (local.get $s) (local.get $y1))))
              (local.set $s (v128.load64_splat offset=24 (i32.add (local.get $wp) (local.get $r))))
              (local.set $a6 (f64x2.add (local.get $a6) (f64x2.mul (local.get $s) (local.get $y0))))
              (local.set $a7 (f64x2.add (local.get $a7) (f64x2.mul (local.get $s) (local.get $y1))))
              (local.set $r (i32.add (local.get $r) (local.get $rb)))
              (br_if $sum (i32.lt_u (local.get $r) (local.get $end))))
            ;; out[ib + t][jb .. jb + 3] += tile row t, for the rows and columns inside f.
            (if (i32.and (i32.le_s (i32.add (local.get $ib) (i32.const 4)) (local.get $f))
                         (i32.le_s (i32.add (local.get $jb) (i32.const 4)) (local.get $f)))
              (then
                (local.set $o (i32.add (local.get $out)
                  (i32.shl (i32.add (i32.mul (local.get $ib) (local.get $ldo)) (local.get $jb)) (i32.const 3))))
                (local.set $t (i32.shl (local.get $ldo) (i32.const 3)))
                (v128.store align=8 (local.get $o) (f64x2.add (v128.load align=8 (local.get $o)) (local.get $a0)))
                (v128.store offset=16 align=8 (local.get $o)
                  (f64x2.add (v128.load offset=16 align=8 (local.get $o)) (local.get $a1)))
                (local.set $o (i32.add (local.get $o) (local.get $t)))
                (v128.store align=8 (local.get $o) (f64x2.add (v128.load align=8 (local.get $o)) (local.get $a2)))
                (v128.store offset=16 align=8 (local.get $o)
                  (f64x2.add (v128.load offset=16 align=8 (local.get $o)) (local.get $a3)))
                (local.set $o (i32.add (local.get $o) (local.get $t)))
                (v128.store align=8 (local.get $o) (f64x2.add (v128.load align=8 (local.get $o)) (local.get $a4)))
                (v128.store offset=16 align=8 (local.get $o)
                  (f64x2.add (v128.load offset=16 align=8 (local.get $o)) (local.get $a5)))
                (local.set $o (i32.add (local.get $o) (local.get $t)))
                (v128.store align=8 (local.get $o) (f64x2.add (v128.load align=8 (local.get $o)) (local.get $a6)))
                (v128.store offset=16 align=8 (local.get $o)
                  (f64x2.add (v128.load offset=16 align=8 (local.get $o)) (local.get $a7))))
              (else
                (call $tile_edge_ (local.get $out) (local.get $ldo) (local.get $ib) (local.get $jb) (local.get $f)
                  (local.get $a0) (local.get $a1) (i32.const 0))
                (call $tile_edge_ (local.get $out) (local.get $ldo) (local.get $ib) (local.get $jb) (local.get $f)
                  (local.get $a2) (local.get $a3) (i32.const 1))
                (call $tile_edge_ (local.get $out) (local.get $ldo) (local.get $ib) (local.get $jb) (local.get $f)
                  (local.get $a4) (local.get $a5) (i32.const 2))
                (call $tile_edge_ (local.get $out) (local.get $ldo) (local.get $ib) (local.get $jb) (local.get $f)
                  (local.get $a6) (local.get $a7) (i32.const 3))))
            (local.set $jb (i32.add (local.get $jb) (i32.const 4)))
            (br_if $tileCols (i32.le_s (local.get $jb) (local.get $ib))))
          (local.set $ib (i32.add (local.get $ib) (i32.const 4)))
          (br_if $tileRows (i32.lt_s (local.get $ib) (local.get $f4))))
        (local.set $p0 (i32.add (local.get $p0) (i32.const 32)))
        (br $panels)))
    ;; Mirror the lower triangle onto the upper.
    (local.set $r (i32.const 0))
    (block $md (loop $ml
      (br_if $md (i32.ge_s (local.get $r) (local.get $f)))
      (local.set $j (i32.add (local.get $r) (i32.const 1)))
      (block $mcd (loop $mcl
        (br_if $mcd (i32.ge_s (local.get $j) (local.get $f)))
        (f64.store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $r) (local.get $ldo)) (local.get $j))
          (i32.const 3)))
          (f64.load (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $j) (local.get $ldo)) (local.get $r))
            (i32.const 3)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $mcl)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $ml))))

  ;; out[ib + t][jb + c] += [lo, hi][c] for the c < 4 with ib + t < f and jb + c < f (an edge tile's row t).
  (func $tile_edge_ (param $out i32) (param $ldo i32) (param $ib i32) (param $jb i32) (param $f i32)
    (param $lo v128) (param $hi v128) (param $t i32)
    (local $row i32) (local $o i32)
    (local.set $row (i32.add (local.get $ib) (local.get $t)))
    (if (i32.ge_s (local.get $row) (local.get $f)) (then (return)))
    (local.set $o (i32.add (local.get $out)
      (i32.shl (i32.add (i32.mul (local.get $row) (local.get $ldo)) (local.get $jb)) (i32.const 3))))
    (if (i32.lt_s (local.get $jb) (local.get $f))
      (then (f64.store (local.get $o) (f64.add (f64.load (local.get $o)) (f64x2.extract_lane 0 (local.get $lo))))))
    (if (i32.lt_s (i32.add (local.get $jb) (i32.const 1)) (local.get $f))
      (then (f64.store offset=8 (local.get $o)
        (f64.add (f64.load offset=8 (local.get $o)) (f64x2.extract_lane 1 (local.get $lo))))))
    (if (i32.lt_s (i32.add (local.get $jb) (i32.const 2)) (local.get $f))
      (then (f64.store offset=16 (local.get $o)
        (f64.add (f64.load offset=16 (local.get $o)) (f64x2.extract_lane 0 (local.get $hi))))))
    (if (i32.lt_s (i32.add (local.get $jb) (i32.const 3)) (local.get $f))
      (then (f64.store offset=24 (local.get $o)
        (f64.add (f64.load offset=24 (local.get $o)) (f64x2.extract_lane 1 (local.get $hi)))))))

  ;; ---------------------------------------------------------------------------------------------------
  ;; Cholesky factorisation and solves, float64, row-major with row stride lda (float64 elements).

  ;; Σ_{k < len} p[k]·q[k], float64 (two f64x2 accumulators, then the odd element).
  (func $dot64_ (param $p i32) (param $q i32) (param $len i32) (result f64)
    (local $k i32) (local $end i32) (local $s0 v128) (local $s1 v128) (local $s f64)
    (local.set $end (i32.shl (i32.and (local.get $len) (i32.const -4)) (i32.const 3)))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $k) (local.get $end)))
      (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul
        (v128.load align=8 (i32.add (local.get $p) (local.get $k))) (v128.load align=8 (i32.add (local.get $q) (local.get $k))))))
      (local.set $s1 (f64x2.add (local.get $s1) (f64x2.mul
        (v128.load offset=16 align=8 (i32.add (local.get $p) (local.get $k)))
        (v128.load offset=16 align=8 (i32.add (local.get $q) (local.get $k))))))
      (local.set $k (i32.add (local.get $k) (i32.const 32)))
      (br $l)))
    (local.set $s0 (f64x2.add (local.get $s0) (local.get $s1)))
    (local.set $s (f64.add (f64x2.extract_lane 0 (local.get $s0)) (f64x2.extract_lane 1 (local.get $s0))))
    (local.set $end (i32.shl (local.get $len) (i32.const 3)))
    (block $d2 (loop $l2
      (br_if $d2 (i32.ge_u (local.get $k) (local.get $end)))
      (local.set $s (f64.add (local.get $s) (f64.mul (f64.load (i32.add (local.get $p) (local.get $k)))
        (f64.load (i32.add (local.get $q) (local.get $k))))))
      (local.set $k (i32.add (local.get $k) (i32.const 8)))
      (br $l2)))
    (local.get $s))

  ;; Overwrites the lower triangle of the n×n matrix at a with L, A = L·Lᵀ (the upper triangle is not read
  ;; or written). Returns 0, or j + 1 when pivot j is not positive (A not positive definite).
  (func $potrf (export "potrf") (param $a i32) (param $n i32) (param $lda i32) (result i32)
    (local $j i32) (local $i i32) (local $rj i32) (local $ri i32) (local $rs i32) (local $d f64) (local $inv f64)
    (local.set $rs (i32.shl (local.get $lda) (i32.const 3)))
    (block $done (loop $cols
      (br_if $done (i32.ge_s (local.get $j) (local.get $n)))
      (local.set $rj (i32.add (local.get $a) (i32.mul (local.get $j) (local.get $rs))))
      (local.set $d (f64.sub (f64.load (i32.add (local.get $rj) (i32.shl (local.get $j) (i32.const 3))))
        (call $dot64_ (local.get $rj) (local.get $rj) (local.get $j))))
      (if (i32.eqz (f64.gt (local.get $d) (f64.const 0))) (then (return (i32.add (local.get $j) (i32.const 1)))))
      (local.set $d (f64.sqrt (local.get $d)))
      (f64.store (i32.add (local.get $rj) (i32.shl (local.get $j) (i32.const 3))) (local.get $d))
      (local.set $inv (f64.div (f64.const 1) (local.get $d)))
      (local.set $i (i32.add (local.get $j) (i32.const 1)))
      (local.set $ri (i32.add (local.get $rj) (local.get $rs)))
      (block $rd (loop $rows
        (br_if $rd (i32.ge_s (local.get $i) (local.get $n)))
        (f64.store (i32.add (local.get $ri) (i32.shl (local.get $j) (i32.const 3)))
          (f64.mul (local.get $inv) (f64.sub (f64.load (i32.add (local.get $ri) (i32.shl (local.get $j) (i32.const 3))))
            (call $dot64_ (local.get $ri) (local.get $rj) (local.get $j)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (local.set $ri (i32.add (local.get $ri) (local.get $rs)))
        (br $rows)))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br $cols)))
    (i32.const 0))

  ;; Solves L·Lᵀ·x = b in place (b becomes x), L from potrf. Forward substitution by rows (dot products);
  ;; back substitution by columns of L (axpys along rows of L), both on contiguous memory.
  (func $potrs (export "potrs") (param $l i32) (param $n i32) (param $lda i32) (param $b i32)
    (local $i i32) (local $ri i32) (local $rs i32) (local $xi f64) (local $k i32) (local $end i32) (local $xv v128)
    (local.set $rs (i32.shl (local.get $lda) (i32.const 3)))
    (block $fd (loop $fl
      (br_if $fd (i32.ge_s (local.get $i) (local.get $n)))
      (local.set $ri (i32.add (local.get $l) (i32.mul (local.get $i) (local.get $rs))))
      (f64.store (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 3)))
        (f64.div
          (f64.sub (f64.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 3))))
            (call $dot64_ (local.get $ri) (local.get $b) (local.get $i)))
          (f64.load (i32.add (local.get $ri) (i32.shl (local.get $i) (i32.const 3))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $fl)))
    (local.set $i (local.get $n))
    (block $bd (loop $bl
      (br_if $bd (i32.le_s (local.get $i) (i32.const 0)))
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (local.set $ri (i32.add (local.get $l) (i32.mul (local.get $i) (local.get $rs))))
      (local.set $xi (f64.div (f64.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 3))))
        (f64.load (i32.add (local.get $ri) (i32.shl (local.get $i) (i32.const 3))))))
      (f64.store (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 3))) (local.get $xi))
      ;; b[k] −= L[i][k]·x_i for k < i
      (local.set $xv (f64x2.splat (local.get $xi)))
      (local.set $end (i32.shl (i32.and (local.get $i) (i32.const -2)) (i32.const 3)))
      (local.set $k (i32.const 0))
      (block $ad (loop $al
        (br_if $ad (i32.ge_u (local.get $k) (local.get $end)))
        (v128.store align=8 (i32.add (local.get $b) (local.get $k))
          (f64x2.sub (v128.load align=8 (i32.add (local.get $b) (local.get $k)))
            (f64x2.mul (local.get $xv) (v128.load align=8 (i32.add (local.get $ri) (local.get $k))))))
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (br $al)))
      (if (i32.and (local.get $i) (i32.const 1))
        (then
          (f64.store (i32.add (local.get $b) (local.get $k))
            (f64.sub (f64.load (i32.add (local.get $b) (local.get $k)))
              (f64.mul (local.get $xi) (f64.load (i32.add (local.get $ri) (local.get $k))))))))
      (br $bl))))

  ;; count matrices n×n at a (contiguous, n² float64 each): potrf on each. Returns 0, or m + 1 for the first
  ;; matrix m that is not positive definite (the ones after it are left as they were).
  (func (export "potrf_batch") (param $a i32) (param $n i32) (param $count i32) (result i32)
    (local $m i32)
    (block $d (loop $l
      (br_if $d (i32.ge_s (local.get $m) (local.get $count)))
      (if (call $potrf (i32.add (local.get $a) (i32.shl (i32.mul (i32.mul (local.get $m) (local.get $n)) (local.get $n))
        (i32.const 3))) (local.get $n) (local.get $n))
        (then (return (i32.add (local.get $m) (i32.const 1)))))
      (local.set $m (i32.add (local.get $m) (i32.const 1)))
      (br $l)))
    (i32.const 0))

  ;; potrs on count factors (n² float64 each, contiguous) and right-hand sides (n float64 each, contiguous).
  (func (export "potrs_batch") (param $l i32) (param $n i32) (param $b i32) (param $count i32)
    (local $m i32)
    (block $d (loop $lp
      (br_if $d (i32.ge_s (local.get $m) (local.get $count)))
      (call $potrs (i32.add (local.get $l) (i32.shl (i32.mul (i32.mul (local.get $m) (local.get $n)) (local.get $n))
        (i32.const 3))) (local.get $n) (local.get $n)
        (i32.add (local.get $b) (i32.shl (i32.mul (local.get $m) (local.get $n)) (i32.const 3))))
      (local.set $m (i32.add (local.get $m) (i32.const 1)))
      (br $lp))))

  ;; ---------------------------------------------------------------------------------------------------
  ;; Exact ALS rows (the `cholesky` solver): for each row, A = G + λI + Σ_k (c_k − 1) y_k y_kᵀ (syrk over the
  ;; row's fixed rows, float64), b = Σ_k c_k p_k y_k, x = A⁻¹b by potrf/potrs, stored as float32. Job slots
  ;; as for als_cg, plus float64 α (byte 88), rating scale (96) and negativeBelow (104), and the exact
  ;; scratch: at slot 10's scratch + 3·4·f4 + 8·capacity bytes come A (f4² f64), b (f4 f64), c − 1 and c·p
  ;; (capacity f64 each), then syrk's panel (64·f4 f64). Returns 0, or u + 1 for a row whose system is not
  ;; positive definite (rows after it are not solved).
  (func $als_exact (export "als_exact") (param $job i32) (result i32)
    (local $f4 i32) (local $rb i32) (local $u i32) (local $to i32) (local $indptr i32) (local $index i32)
    (local $ratings i32) (local $fixed i32) (local $target i32) (local $g64 i32) (local $rowLoss i32)
    (local $cm1 i32) (local $cp i32) (local $am i32) (local $bv i32) (local $w64 i32) (local $c64 i32)
    (local $panel i32) (local $cap i32) (local $start i32) (local $n i32) (local $x i32) (local $idx i32)
    (local $k i32) (local $j i32) (local $y i32) (local $r f64) (local $cpk f64) (local $lambda f64)
    (local $alpha f64) (local $scale f64) (local $nb f64) (local $kind i32) (local $wv f64)
    (local.set $f4 (i32.load offset=0 (local.get $job)))
    (local.set $u (i32.load offset=4 (local.get $job)))
    (local.set $to (i32.load offset=8 (local.get $job)))
    (local.set $indptr (i32.load offset=12 (local.get $job)))
    (local.set $index (i32.load offset=16 (local.get $job)))
    (local.set $ratings (i32.load offset=20 (local.get $job)))
    (local.set $fixed (i32.load offset=24 (local.get $job)))
    (local.set $target (i32.load offset=28 (local.get $job)))
    (local.set $rowLoss (i32.load offset=44 (local.get $job)))
    (local.set $kind (i32.load offset=48 (local.get $job)))
    (local.set $cap (i32.load offset=64 (local.get $job)))
    (local.set $g64 (i32.load offset=68 (local.get $job)))
    (local.set $lambda (f64.load offset=80 (local.get $job)))
    (local.set $alpha (f64.load offset=88 (local.get $job)))
    (local.set $scale (f64.load offset=96 (local.get $job)))
    (local.set $nb (f64.load offset=104 (local.get $job)))
    (local.set $rb (i32.shl (local.get $f4) (i32.const 2)))
    (local.set $cm1 (i32.add (i32.load offset=40 (local.get $job)) (i32.mul (local.get $rb) (i32.const 3))))
    (local.set $cp (i32.add (local.get $cm1) (i32.shl (local.get $cap) (i32.const 2))))
    (local.set $am (i32.add (local.get $cp) (i32.shl (local.get $cap) (i32.const 2))))
    (local.set $bv (i32.add (local.get $am) (i32.shl (i32.mul (local.get $f4) (local.get $f4)) (i32.const 3))))
    (local.set $w64 (i32.add (local.get $bv) (i32.shl (local.get $f4) (i32.const 3))))
    (local.set $c64 (i32.add (local.get $w64) (i32.shl (local.get $cap) (i32.const 3))))
    (local.set $panel (i32.add (local.get $c64) (i32.shl (local.get $cap) (i32.const 3))))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_s (local.get $u) (local.get $to)))
        (local.set $start (i32.load (i32.add (local.get $indptr) (i32.shl (local.get $u) (i32.const 2)))))
        (local.set $n (i32.sub
          (i32.load offset=4 (i32.add (local.get $indptr) (i32.shl (local.get $u) (i32.const 2))))
          (local.get $start)))
        (local.set $x (i32.add (local.get $target) (i32.mul (local.get $u) (local.get $rb))))
        (local.set $idx (i32.add (local.get $index) (i32.shl (local.get $start) (i32.const 2))))
        (if (i32.eqz (local.get $n))
          (then (memory.fill (local.get $x) (i32.const 0) (local.get $rb)))
          (else
            ;; Weights in float64: w64 = c − 1, c64 = c·p.
            (local.set $k (i32.const 0))
            (loop $weigh
              (local.set $r (f64.promote_f32 (f32.load (i32.add (local.get $ratings)
                (i32.shl (i32.add (local.get $start) (local.get $k)) (i32.const 2))))))
              (if (f64.lt (local.get $r) (local.get $nb))
                (then
                  (local.set $wv (f64.mul (local.get $alpha) (f64.sub (local.get $nb) (local.get $r))))
                  (local.set $cpk (f64.const 0)))
                (else
                  (local.set $wv (f64.mul (local.get $alpha)
                    (select (f64.const 1) (f64.mul (local.get $r) (local.get $scale)) (i32.eqz (local.get $kind)))))
                  (local.set $cpk (f64.add (f64.const 1) (local.get $wv)))))
              (f64.store (i32.add (local.get $w64) (i32.shl (local.get $k) (i32.const 3))) (local.get $wv))
              (f64.store (i32.add (local.get $c64) (i32.shl (local.get $k) (i32.const 3))) (local.get $cpk))
              (local.set $k (i32.add (local.get $k) (i32.const 1)))
              (br_if $weigh (i32.lt_s (local.get $k) (local.get $n))))
            ;; A = G + λI + Σ (c − 1) y yᵀ
            (memory.copy (local.get $am) (local.get $g64) (i32.shl (i32.mul (local.get $f4) (local.get $f4)) (i32.const 3)))
            (local.set $j (i32.const 0))
            (loop $diag
              (local.set $y (i32.add (local.get $am) (i32.shl (i32.mul (local.get $j) (i32.add (local.get $f4) (i32.const 1)))
                (i32.const 3))))
              (f64.store (local.get $y) (f64.add (f64.load (local.get $y)) (local.get $lambda)))
              (local.set $j (i32.add (local.get $j) (i32.const 1)))
              (br_if $diag (i32.lt_s (local.get $j) (local.get $f4))))
            (call $syrk (local.get $am) (local.get $f4) (local.get $fixed) (local.get $f4) (local.get $idx)
              (local.get $w64) (local.get $n) (local.get $f4) (local.get $panel) (i32.const 1))
            ;; b = Σ c p y
            (memory.fill (local.get $bv) (i32.const 0) (i32.shl (local.get $f4) (i32.const 3)))
            (local.set $k (i32.const 0))
            (loop $rhs
              (local.set $cpk (f64.load (i32.add (local.get $c64) (i32.shl (local.get $k) (i32.const 3)))))
              (if (f64.ne (local.get $cpk) (f64.const 0))
                (then
                  (local.set $y (i32.add (local.get $fixed) (i32.mul (i32.load (i32.add (local.get $idx)
                    (i32.shl (local.get $k) (i32.const 2)))) (local.get $rb))))
                  (local.set $j (i32.const 0))
                  (loop $ax
                    (f64.store (i32.add (local.get $bv) (i32.shl (local.get $j) (i32.const 3)))
                      (f64.add (f64.load (i32.add (local.get $bv) (i32.shl (local.get $j) (i32.const 3))))
                        (f64.mul (local.get $cpk)
                          (f64.promote_f32 (f32.load (i32.add (local.get $y) (i32.shl (local.get $j) (i32.const 2))))))))
                    (local.set $j (i32.add (local.get $j) (i32.const 1)))
                    (br_if $ax (i32.lt_s (local.get $j) (local.get $f4))))))
              (local.set $k (i32.add (local.get $k) (i32.const 1)))
              (br_if $rhs (i32.lt_s (local.get $k) (local.get $n))))
            (if (call $potrf (local.get $am) (local.get $f4) (local.get $f4))
              (then (return (i32.add (local.get $u) (i32.const 1)))))
            (call $potrs (local.get $am) (local.get $f4) (local.get $f4) (local.get $bv))
            (local.set $j (i32.const 0))
            (loop $st
              (f32.store (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 2)))
                (f32.demote_f64 (f64.load (i32.add (local.get $bv) (i32.shl (local.get $j) (i32.const 3))))))
              (local.set $j (i32.add (local.get $j) (i32.const 1)))
              (br_if $st (i32.lt_s (local.get $j) (local.get $f4))))))
        (if (local.get $rowLoss)
          (then
            (if (local.get $n)
              (then
                (call $weigh_ (i32.add (local.get $ratings) (i32.shl (local.get $start) (i32.const 2))) (local.get $n)
                  (local.get $cm1) (local.get $cp) (local.get $kind) (f32.load offset=52 (local.get $job))
                  (f32.load offset=56 (local.get $job)) (f32.load offset=60 (local.get $job)))))
            (f64.store (i32.add (local.get $rowLoss) (i32.shl (local.get $u) (i32.const 3)))
              (if (result f64) (i32.eqz (local.get $n))
                (then (f64.const 0))
                (else (call $row_loss_ (local.get $fixed) (local.get $idx) (local.get $n) (local.get $x)
                  (local.get $cm1) (local.get $cp) (local.get $f4)))))))
        (local.set $u (i32.add (local.get $u) (i32.const 1)))
        (br $rows)))
    (i32.const 0))

  ;; ---------------------------------------------------------------------------------------------------
  ;; GEMM, float32: C (+)= A·B, A m×k (row stride lda), B k×n (ldb), C m×n (ldc), strides in floats.
  ;; accumulate = 0 overwrites C. `pack` is scratch of 128 + 4·256·512 bytes (gemmScratchBytes).
  ;;
  ;; Blocked as in BLIS/GotoBLAS: B is cut into panels of at most 256 rows × 512 columns, each packed into
  ;; column strips of 8 (zero-padded past n) so the micro-kernel streams it contiguously from L2; the
  ;; micro-kernel computes a 4×8 tile of C in eight f32x4 accumulators (A's elements splatted, B's strip
  ;; loaded), each tile sum running over the panel's 256 rows. Rows past m repeat row m − 1 and are not
  ;; stored; partial tiles go through a scratch tile. Each C element sums its k products in order within a
  ;; panel, panels in order: the result does not depend on how rows are split between threads.
  (func $gemm (export "gemm") (param $m i32) (param $n i32) (param $k i32) (param $a i32) (param $lda i32)
    (param $b i32) (param $ldb i32) (param $c i32) (param $ldc i32) (param $accumulate i32) (param $pack i32)
    (call $gemm_s (local.get $m) (local.get $n) (local.get $k)
      (local.get $a) (i32.shl (local.get $lda) (i32.const 2)) (i32.const 4)
      (local.get $b) (i32.shl (local.get $ldb) (i32.const 2)) (i32.const 4)
      (local.get $c) (local.get $ldc) (local.get $accumulate) (local.get $pack)))

  ;; The same GEMM with op(A) and op(B) given by byte strides, so either may be a transpose without a copy:
  ;; op(A)[i][q] at a + i·rsa + q·csa, op(B)[q][j] at b + q·rsb + j·csb. A = Xᵀ for a row-major X (ld floats)
  ;; is rsa = 4, csa = 4·ld; B = Wᵀ is rsb = 4, csb = 4·ld. A transposed B is gathered while it is packed (the
  ;; packing is O(k·n) against the product's O(m·n·k)); a transposed A is read in place by the micro-kernel
  ;; (its four splatted values are then adjacent). Summation order as gemm: the result does not depend on the
  ;; strides.
  (func $gemm_s (export "gemm_strided") (param $m i32) (param $n i32) (param $k i32) (param $a i32) (param $rsa i32)
    (param $csa i32) (param $b i32) (param $rsb i32) (param $csb i32) (param $c i32) (param $ldc i32)
    (param $accumulate i32) (param $pack i32)
    (local $jc i32) (local $nc i32) (local $pc i32) (local $kc i32) (local $i i32) (local $jj i32) (local $kk i32)
    (local $strip i32) (local $src i32) (local $dst i32) (local $q i32) (local $cols i32)
    (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32) (local $bp i32) (local $kend i32)
    (local $first i32) (local $t i32) (local $ct i32) (local $ldcb i32) (local $tile i32) (local $rows i32)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local $c4 v128) (local $c5 v128) (local $c6 v128) (local $c7 v128)
    (local $b0 v128) (local $b1 v128) (local $av v128)
    (local.set $tile (local.get $pack))
    (local.set $pack (i32.add (local.get $pack) (i32.const 128)))
    (local.set $ldcb (i32.shl (local.get $ldc) (i32.const 2)))
    (if (i32.or (i32.le_s (local.get $m) (i32.const 0)) (i32.le_s (local.get $n) (i32.const 0))) (then (return)))
    ;; k = 0: C = 0 (or unchanged when accumulating).
    (if (i32.le_s (local.get $k) (i32.const 0))
      (then
        (if (i32.eqz (local.get $accumulate))
          (then
            (local.set $i (i32.const 0))
            (loop $z
              (memory.fill (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $ldcb))) (i32.const 0)
                (i32.shl (local.get $n) (i32.const 2)))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $z (i32.lt_s (local.get $i) (local.get $m))))))
        (return)))
    (loop $jcLoop
      (local.set $nc (i32.sub (local.get $n) (local.get $jc)))
      (if (i32.gt_s (local.get $nc) (i32.const 512)) (then (local.set $nc (i32.const 512))))
      (local.set $pc (i32.const 0))
      (loop $pcLoop
        (local.set $kc (i32.sub (local.get $k) (local.get $pc)))
        (if (i32.gt_s (local.get $kc) (i32.const 256)) (then (local.set $kc (i32.const 256))))
        (local.set $first (i32.and (i32.eqz (local.get $pc)) (i32.eqz (local.get $accumulate))))
        ;; Pack B[pc .. pc+kc][jc .. jc+nc] into strips of 8 columns: pack[strip][kk][0..7].
        (local.set $strip (i32.const 0))
        (loop $packStrips
          (local.set $cols (i32.sub (local.get $nc) (i32.shl (local.get $strip) (i32.const 3))))
          (if (i32.gt_s (local.get $cols) (i32.const 8)) (then (local.set $cols (i32.const 8))))
          (local.set $dst (i32.add (local.get $pack) (i32.shl (i32.mul (local.get $strip) (local.get $kc)) (i32.const 5))))
          (local.set $src (i32.add (local.get $b) (i32.add (i32.mul (local.get $pc) (local.get $rsb))
            (i32.mul (i32.add (local.get $jc) (i32.shl (local.get $strip) (i32.const 3))) (local.get $csb)))))
          (local.set $kk (i32.const 0))
          (loop $packRows
            (if (i32.and (i32.eq (local.get $cols) (i32.const 8)) (i32.eq (local.get $csb) (i32.const 4)))
              (then
                (v128.store align=4 (local.get $dst) (v128.load align=4 (local.get $src)))
                (v128.store offset=16 align=4 (local.get $dst) (v128.load offset=16 align=4 (local.get $src))))
              (else
                (v128.store align=4 (local.get $dst) (v128.const i32x4 0 0 0 0))
                (v128.store offset=16 align=4 (local.get $dst) (v128.const i32x4 0 0 0 0))
                (if (i32.eq (local.get $csb) (i32.const 4))
                  (then (memory.copy (local.get $dst) (local.get $src) (i32.shl (local.get $cols) (i32.const 2))))
                  (else
                    ;; A transposed B: gather the strip's row with stride csb.
                    (local.set $q (i32.const 0))
                    (loop $gatherB
                      (f32.store (i32.add (local.get $dst) (i32.shl (local.get $q) (i32.const 2)))
                        (f32.load (i32.add (local.get $src) (i32.mul (local.get $q) (local.get $csb)))))
                      (local.set $q (i32.add (local.get $q) (i32.const 1)))
                      (br_if $gatherB (i32.lt_s (local.get $q) (local.get $cols))))))))
            (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
            (local.set $src (i32.add (local.get $src) (local.get $rsb)))
            (local.set $kk (i32.add (local.get $kk) (i32.const 1)))
            (br_if $packRows (i32.lt_s (local.get $kk) (local.get $kc))))
          (local.set $strip (i32.add (local.get $strip) (i32.const 1)))
          (br_if $packStrips (i32.lt_s (i32.shl (local.get $strip) (i32.const 3)) (local.get $nc))))
        ;; Tiles.
        (local.set $kend (i32.mul (local.get $kc) (local.get $csa)))
        (local.set $i (i32.const 0))
        (loop $iLoop
          (local.set $rows (i32.sub (local.get $m) (local.get $i)))
          (if (i32.gt_s (local.get $rows) (i32.const 4)) (then (local.set $rows (i32.const 4))))
          (local.set $p0 (i32.add (local.get $a) (i32.add (i32.mul (local.get $i) (local.get $rsa))
            (i32.mul (local.get $pc) (local.get $csa)))))
          (local.set $p1 (select (i32.add (local.get $p0) (local.get $rsa)) (local.get $p0)
            (i32.gt_s (local.get $rows) (i32.const 1))))
          (local.set $p2 (select (i32.add (local.get $p1) (local.get $rsa)) (local.get $p1)
            (i32.gt_s (local.get $rows) (i32.const 2))))
          (local.set $p3 (select (i32.add (local.get $p2) (local.get $rsa)) (local.get $p2)
            (i32.gt_s (local.get $rows) (i32.const 3))))
          (local.set $strip (i32.const 0))
          (loop $jLoop
            (local.set $cols (i32.sub (local.get $nc) (i32.shl (local.get $strip) (i32.const 3))))
            (if (i32.gt_s (local.get $cols) (i32.const 8)) (then (local.set $cols (i32.const 8))))
            (local.set $bp (i32.add (local.get $pack) (i32.shl (i32.mul (local.get $strip) (local.get $kc)) (i32.const 5))))
            (local.set $c0 (v128.const i32x4 0 0 0 0))
            (local.set $c1 (v128.const i32x4 0 0 0 0))
            (local.set $c2 (v128.const i32x4 0 0 0 0))
            (local.set $c3 (v128.const i32x4 0 0 0 0))
            (local.set $c4 (v128.const i32x4 0 0 0 0))
            (local.set $c5 (v128.const i32x4 0 0 0 0))
            (local.set $c6 (v128.const i32x4 0 0 0 0))
            (local.set $c7 (v128.const i32x4 0 0 0 0))
            (local.set $kk (i32.const 0))
            (loop $micro
              (local.set $b0 (v128.load align=16 (local.get $bp)))
              (local.set $b1 (v128.load offset=16 align=16 (local.get $bp)))
              (local.set $av (v128.load32_splat (i32.add (local.get $p0) (local.get $kk))))
              (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $av) (local.get $b0))))
              (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $av) (local.get $b1))))
              (local.set $av (v128.load32_splat (i32.add (local.get $p1) (local.get $kk))))
              (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $av) (local.get $b0))))
              (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $av) (local.get $b1))))
              (local.set $av (v128.load32_splat (i32.add (local.get $p2) (local.get $kk))))
              (local.set $c4 (f32x4.add (local.get $c4) (f32x4.mul (local.get $av) (local.get $b0))))
              (local.set $c5 (f32x4.add (local.get $c5) (f32x4.mul (local.get $av) (local.get $b1))))
              (local.set $av (v128.load32_splat (i32.add (local.get $p3) (local.get $kk))))
              (local.set $c6 (f32x4.add (local.get $c6) (f32x4.mul (local.get $av) (local.get $b0))))
              (local.set $c7 (f32x4.add (local.get $c7) (f32x4.mul (local.get $av) (local.get $b1))))
              (local.set $bp (i32.add (local.get $bp) (i32.const 32)))
              (local.set $kk (i32.add (local.get $kk) (local.get $csa)))
              (br_if $micro (i32.lt_u (local.get $kk) (local.get $kend))))
            (local.set $ct (i32.add (local.get $c)
              (i32.add (i32.mul (local.get $i) (local.get $ldcb))
                (i32.shl (i32.add (local.get $jc) (i32.shl (local.get $strip) (i32.const 3))) (i32.const 2)))))
            (if (i32.and (i32.eq (local.get $rows) (i32.const 4)) (i32.eq (local.get $cols) (i32.const 8)))
              (then
                (if (i32.eqz (local.get $first))
                  (then
                    (local.set $c0 (f32x4.add (local.get $c0) (v128.load align=4 (local.get $ct))))
                    (local.set $c1 (f32x4.add (local.get $c1) (v128.load offset=16 align=4 (local.get $ct))))
                    (local.set $c2 (f32x4.add (local.get $c2) (v128.load align=4 (i32.add (local.get $ct) (local.get $ldcb)))))
                    (local.set $c3 (f32x4.add (local.get $c3) (v128.load offset=16 align=4 (i32.add (local.get $ct) (local.get $ldcb)))))
                    (local.set $t (i32.add (local.get $ct) (i32.shl (local.get $ldcb) (i32.const 1))))
                    (local.set $c4 (f32x4.add (local.get $c4) (v128.load align=4 (local.get $t))))
                    (local.set $c5 (f32x4.add (local.get $c5) (v128.load offset=16 align=4 (local.get $t))))
                    (local.set $t (i32.add (local.get $t) (local.get $ldcb)))
                    (local.set $c6 (f32x4.add (local.get $c6) (v128.load align=4 (local.get $t))))
                    (local.set $c7 (f32x4.add (local.get $c7) (v128.load offset=16 align=4 (local.get $t))))))
                (v128.store align=4 (local.get $ct) (local.get $c0))
                (v128.store offset=16 align=4 (local.get $ct) (local.get $c1))
                (local.set $t (i32.add (local.get $ct) (local.get $ldcb)))
                (v128.store align=4 (local.get $t) (local.get $c2))
                (v128.store offset=16 align=4 (local.get $t) (local.get $c3))
                (local.set $t (i32.add (local.get $t) (local.get $ldcb)))
                (v128.store align=4 (local.get $t) (local.get $c4))
                (v128.store offset=16 align=4 (local.get $t) (local.get $c5))
                (local.set $t (i32.add (local.get $t) (local.get $ldcb)))
                (v128.store align=4 (local.get $t) (local.get $c6))
                (v128.store offset=16 align=4 (local.get $t) (local.get $c7)))
              (else
                ;; Partial tile: through the scratch tile, element by element.
                (v128.store (local.get $tile) (local.get $c0))
                (v128.store offset=16 (local.get $tile) (local.get $c1))
                (v128.store offset=32 (local.get $tile) (local.get $c2))
                (v128.store offset=48 (local.get $tile) (local.get $c3))
                (v128.store offset=64 (local.get $tile) (local.get $c4))
                (v128.store offset=80 (local.get $tile) (local.get $c5))
                (v128.store offset=96 (local.get $tile) (local.get $c6))
                (v128.store offset=112 (local.get $tile) (local.get $c7))
                (local.set $t (i32.const 0))
                (loop $tr
                  (local.set $q (i32.const 0))
                  (loop $tc
                    (local.set $dst (i32.add (i32.add (local.get $ct) (i32.mul (local.get $t) (local.get $ldcb)))
                      (i32.shl (local.get $q) (i32.const 2))))
                    (f32.store (local.get $dst)
                      (f32.add
                        (f32.load (i32.add (local.get $tile) (i32.shl (i32.add (i32.shl (local.get $t) (i32.const 3)) (local.get $q))
                          (i32.const 2))))
                        (select (f32.const 0) (f32.load (local.get $dst)) (local.get $first))))
                    (local.set $q (i32.add (local.get $q) (i32.const 1)))
                    (br_if $tc (i32.lt_s (local.get $q) (local.get $cols))))
                  (local.set $t (i32.add (local.get $t) (i32.const 1)))
                  (br_if $tr (i32.lt_s (local.get $t) (local.get $rows))))))
            (local.set $strip (i32.add (local.get $strip) (i32.const 1)))
            (br_if $jLoop (i32.lt_s (i32.shl (local.get $strip) (i32.const 3)) (local.get $nc))))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br_if $iLoop (i32.lt_s (local.get $i) (local.get $m))))
        (local.set $pc (i32.add (local.get $pc) (local.get $kc)))
        (br_if $pcLoop (i32.lt_s (local.get $pc) (local.get $k))))
      (local.set $jc (i32.add (local.get $jc) (local.get $nc)))
      (br_if $jcLoop (i32.lt_s (local.get $jc) (local.get $n)))))

  ;; ---------------------------------------------------------------------------------------------------
  ;; GEMV, float32. trans = 0: y (+)= A·x (y has m entries); trans = 1: y (+)= Aᵀ·x (y has n entries).
  ;; A is m×n with row stride lda (floats); accumulate = 0 overwrites y.
  ;;
  ;; A·x: four rows per pass share each x chunk (four independent sums, one transpose-reduce); the n % 4
  ;; tail columns are added one by one. Aᵀ·x: four rows per pass are added into y together, so y is loaded
  ;; and stored once per four rows; tail columns and rows one by one.
  (func $gemv (export "gemv") (param $trans i32) (param $m i32) (param $n i32) (param $a i32) (param $lda i32)
    (param $x i32) (param $y i32) (param $accumulate i32)
    (local $rb i32) (local $body i32) (local $i i32) (local $k i32) (local $rows i32)
    (local $r0 i32) (local $r1 i32) (local $r2 i32) (local $r3 i32) (local $s f32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $xk v128) (local $sum v128)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
    (if (i32.or (i32.le_s (local.get $m) (i32.const 0)) (i32.le_s (local.get $n) (i32.const 0)))
      (then
        (if (i32.eqz (local.get $accumulate))
          (then (memory.fill (local.get $y) (i32.const 0)
            (i32.shl (select (local.get $n) (local.get $m) (local.get $trans)) (i32.const 2)))))
        (return)))
    (local.set $rb (i32.shl (local.get $lda) (i32.const 2)))
    (local.set $body (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (if (i32.eqz (local.get $trans))
      (then
        (loop $rowsLoop
          (local.set $rows (i32.sub (local.get $m) (local.get $i)))
          (local.set $r0 (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $rb))))
          (if (i32.ge_s (local.get $rows) (i32.const 4))
            (then
              (local.set $r1 (i32.add (local.get $r0) (local.get $rb)))
              (local.set $r2 (i32.add (local.get $r1) (local.get $rb)))
              (local.set $r3 (i32.add (local.get $r2) (local.get $rb)))
              (local.set $a0 (v128.const i32x4 0 0 0 0))
              (local.set $a1 (v128.const i32x4 0 0 0 0))
              (local.set $a2 (v128.const i32x4 0 0 0 0))
              (local.set $a3 (v128.const i32x4 0 0 0 0))
              (local.set $k (i32.const 0))
              (block $bd (loop $bl
                (br_if $bd (i32.ge_u (local.get $k) (local.get $body)))
                (local.set $xk (v128.load align=4 (i32.add (local.get $x) (local.get $k))))
                (local.set $a0 (f32x4.add (local.get $a0)
                  (f32x4.mul (v128.load align=4 (i32.add (local.get $r0) (local.get $k))) (local.get $xk))))
                (local.set $a1 (f32x4.add (local.get $a1)
                  (f32x4.mul (v128.load align=4 (i32.add (local.get $r1) (local.get $k))) (local.get $xk))))
                (local.set $a2 (f32x4.add (local.get $a2)
                  (f32x4.mul (v128.load align=4 (i32.add (local.get $r2) (local.get $k))) (local.get $xk))))
                (local.set $a3 (f32x4.add (local.get $a3)
                  (f32x4.mul (v128.load align=4 (i32.add (local.get $r3) (local.get $k))) (local.get $xk))))
                (local.set $k (i32.add (local.get $k) (i32.const 16)))
                (br $bl)))
              (local.set $sum (call $hsum4_ (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3)))
              (block $td (loop $tl
                (br_if $td (i32.ge_u (local.get $k) (i32.shl (local.get $n) (i32.const 2))))
                (local.set $sum (f32x4.add (local.get $sum)
                  (f32x4.mul
                    (f32x4.replace_lane 3
                      (f32x4.replace_lane 2
                        (f32x4.replace_lane 1
                          (f32x4.splat (f32.load (i32.add (local.get $r0) (local.get $k))))
                          (f32.load (i32.add (local.get $r1) (local.get $k))))
                        (f32.load (i32.add (local.get $r2) (local.get $k))))
                      (f32.load (i32.add (local.get $r3) (local.get $k))))
                    (v128.load32_splat (i32.add (local.get $x) (local.get $k))))))
                (local.set $k (i32.add (local.get $k) (i32.const 4)))
                (br $tl)))
              (if (local.get $accumulate)
                (then (local.set $sum (f32x4.add (local.get $sum)
                  (v128.load align=4 (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 2))))))))
              (v128.store align=4 (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 2))) (local.get $sum))
              (local.set $i (i32.add (local.get $i) (i32.const 4))))
            (else
              ;; One row.
              (local.set $a0 (v128.const i32x4 0 0 0 0))
              (local.set $k (i32.const 0))
              (block $bd1 (loop $bl1
                (br_if $bd1 (i32.ge_u (local.get $k) (local.get $body)))
                (local.set $a0 (f32x4.add (local.get $a0)
                  (f32x4.mul (v128.load align=4 (i32.add (local.get $r0) (local.get $k)))
                    (v128.load align=4 (i32.add (local.get $x) (local.get $k))))))
                (local.set $k (i32.add (local.get $k) (i32.const 16)))
                (br $bl1)))
              (local.set $s (f32.add
                (f32.add (f32x4.extract_lane 0 (local.get $a0)) (f32x4.extract_lane 1 (local.get $a0)))
                (f32.add (f32x4.extract_lane 2 (local.get $a0)) (f32x4.extract_lane 3 (local.get $a0)))))
              (block $td1 (loop $tl1
                (br_if $td1 (i32.ge_u (local.get $k) (i32.shl (local.get $n) (i32.const 2))))
                (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (i32.add (local.get $r0) (local.get $k)))
                  (f32.load (i32.add (local.get $x) (local.get $k))))))
                (local.set $k (i32.add (local.get $k) (i32.const 4)))
                (br $tl1)))
              (if (local.get $accumulate)
                (then (local.set $s (f32.add (local.get $s)
                  (f32.load (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 2))))))))
              (f32.store (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 2))) (local.get $s))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))))
          (br_if $rowsLoop (i32.lt_s (local.get $i) (local.get $m)))))
      (else
        (if (i32.eqz (local.get $accumulate))
          (then (memory.fill (local.get $y) (i32.const 0) (i32.shl (local.get $n) (i32.const 2)))))
        (loop $rowsT
          (local.set $rows (i32.sub (local.get $m) (local.get $i)))
          (local.set $r0 (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $rb))))
          (if (i32.ge_s (local.get $rows) (i32.const 4))
            (then
              (local.set $r1 (i32.add (local.get $r0) (local.get $rb)))
              (local.set $r2 (i32.add (local.get $r1) (local.get $rb)))
              (local.set $r3 (i32.add (local.get $r2) (local.get $rb)))
              (local.set $x0 (v128.load32_splat (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))))
              (local.set $x1 (v128.load32_splat offset=4 (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))))
              (local.set $x2 (v128.load32_splat offset=8 (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))))
              (local.set $x3 (v128.load32_splat offset=12 (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))))
              (local.set $k (i32.const 0))
              (block $bdT (loop $blT
                (br_if $bdT (i32.ge_u (local.get $k) (local.get $body)))
                (v128.store align=4 (i32.add (local.get $y) (local.get $k))
                  (f32x4.add (v128.load align=4 (i32.add (local.get $y) (local.get $k)))
                    (f32x4.add
                      (f32x4.add
                        (f32x4.mul (v128.load align=4 (i32.add (local.get $r0) (local.get $k))) (local.get $x0))
                        (f32x4.mul (v128.load align=4 (i32.add (local.get $r1) (local.get $k))) (local.get $x1)))
                      (f32x4.add
                        (f32x4.mul (v128.load align=4 (i32.add (local.get $r2) (local.get $k))) (local.get $x2))
                        (f32x4.mul (v128.load align=4 (i32.add (local.get $r3) (local.get $k))) (local.get $x3))))))
                (local.set $k (i32.add (local.get $k) (i32.const 16)))
                (br $blT)))
              (block $tdT (loop $tlT
                (br_if $tdT (i32.ge_u (local.get $k) (i32.shl (local.get $n) (i32.const 2))))
                (f32.store (i32.add (local.get $y) (local.get $k))
                  (f32.add (f32.load (i32.add (local.get $y) (local.get $k)))
                    (f32.add
                      (f32.add
                        (f32.mul (f32.load (i32.add (local.get $r0) (local.get $k))) (f32x4.extract_lane 0 (local.get $x0)))
                        (f32.mul (f32.load (i32.add (local.get $r1) (local.get $k))) (f32x4.extract_lane 0 (local.get $x1))))
                      (f32.add
                        (f32.mul (f32.load (i32.add (local.get $r2) (local.get $k))) (f32x4.extract_lane 0 (local.get $x2)))
                        (f32.mul (f32.load (i32.add (local.get $r3) (local.get $k))) (f32x4.extract_lane 0 (local.get $x3)))))))
                (local.set $k (i32.add (local.get $k) (i32.const 4)))
                (br $tlT)))
              (local.set $i (i32.add (local.get $i) (i32.const 4))))
            (else
              (local.set $x0 (v128.load32_splat (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2)))))
              (local.set $k (i32.const 0))
              (block $bdT1 (loop $blT1
                (br_if $bdT1 (i32.ge_u (local.get $k) (local.get $body)))
                (v128.store align=4 (i32.add (local.get $y) (local.get $k))
                  (f32x4.add (v128.load align=4 (i32.add (local.get $y) (local.get $k)))
                    (f32x4.mul (v128.load align=4 (i32.add (local.get $r0) (local.get $k))) (local.get $x0))))
                (local.set $k (i32.add (local.get $k) (i32.const 16)))
                (br $blT1)))
              (block $tdT1 (loop $tlT1
                (br_if $tdT1 (i32.ge_u (local.get $k) (i32.shl (local.get $n) (i32.const 2))))
                (f32.store (i32.add (local.get $y) (local.get $k))
                  (f32.add (f32.load (i32.add (local.get $y) (local.get $k)))
                    (f32.mul (f32.load (i32.add (local.get $r0) (local.get $k))) (f32x4.extract_lane 0 (local.get $x0)))))
                (local.set $k (i32.add (local.get $k) (i32.const 4)))
                (br $tlT1)))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))))
          (br_if $rowsT (i32.lt_s (local.get $i) (local.get $m)))))))

  ;; ---------------------------------------------------------------------------------------------------
  ;; Squared Euclidean distances for k-means, float64: out[i·ldo + c] = Σ_j (x[i][j] − C[c][j])² for points
  ;; i < n (float32 rows of d) and centroids c < k, given the centroids transposed: ct[j·kp + c] (float64,
  ;; kp = k rounded up to 8, padding arbitrary).
  ;;
  ;; Eight centroids per pass over the point, two per f64x2 lane pair: each lane sums its centroid's terms
  ;; in the order j = 0, 1, ..., exactly as a scalar float64 loop would, so the distances are bit-identical to
  ;; the reference (k-means keeps its exact assignment and inertia).
  (func $sqdist (export "sqdist") (param $x i32) (param $n i32) (param $d i32) (param $ct i32) (param $k i32)
    (param $kp i32) (param $out i32) (param $ldo i32)
    (local $i i32) (local $cb i32) (local $j i32) (local $xp i32) (local $cp i32) (local $o i32) (local $rs i32)
    (local $p v128) (local $t v128) (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local $c i32)
    (if (i32.or (i32.le_s (local.get $n) (i32.const 0)) (i32.le_s (local.get $k) (i32.const 0))) (then (return)))
    (local.set $rs (i32.shl (local.get $kp) (i32.const 3)))
    (loop $points
      (local.set $xp (i32.add (local.get $x) (i32.shl (i32.mul (local.get $i) (local.get $d)) (i32.const 2))))
      (local.set $cb (i32.const 0))
      (loop $blocks
        (local.set $s0 (v128.const i32x4 0 0 0 0))
        (local.set $s1 (v128.const i32x4 0 0 0 0))
        (local.set $s2 (v128.const i32x4 0 0 0 0))
        (local.set $s3 (v128.const i32x4 0 0 0 0))
        (local.set $cp (i32.add (local.get $ct) (i32.shl (local.get $cb) (i32.const 3))))
        (local.set $j (i32.const 0))
        (block $dimsDone
          (br_if $dimsDone (i32.le_s (local.get $d) (i32.const 0)))
          (loop $dims
            (local.set $p (f64x2.splat (f64.promote_f32 (f32.load (i32.add (local.get $xp) (i32.shl (local.get $j) (i32.const 2)))))))
            (local.set $t (f64x2.sub (local.get $p) (v128.load align=8 (local.get $cp))))
            (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul (local.get $t) (local.get $t))))
            (local.set $t (f64x2.sub (local.get $p) (v128.load offset=16 align=8 (local.get $cp))))
            (local.set $s1 (f64x2.add (local.get $s1) (f64x2.mul (local.get $t) (local.get $t))))
            (local.set $t (f64x2.sub (local.get $p) (v128.load offset=32 align=8 (local.get $cp))))
            (local.set $s2 (f64x2.add (local.get $s2) (f64x2.mul (local.get $t) (local.get $t))))
            (local.set $t (f64x2.sub (local.get $p) (v128.load offset=48 align=8 (local.get $cp))))
            (local.set $s3 (f64x2.add (local.get $s3) (f64x2.mul (local.get $t) (local.get $t))))
            (local.set $cp (i32.add (local.get $cp) (local.get $rs)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br_if $dims (i32.lt_s (local.get $j) (local.get $d)))))
        (local.set $o (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $ldo)) (local.get $cb))
          (i32.const 3))))
        (if (i32.le_s (i32.add (local.get $cb) (i32.const 8)) (local.get $k))
          (then
            (v128.store align=8 (local.get $o) (local.get $s0))
            (v128.store offset=16 align=8 (local.get $o) (local.get $s1))
            (v128.store offset=32 align=8 (local.get $o) (local.get $s2))
            (v128.store offset=48 align=8 (local.get $o) (local.get $s3)))
          (else
            (local.set $c (i32.sub (local.get $k) (local.get $cb)))
            (f64.store (local.get $o) (f64x2.extract_lane 0 (local.get $s0)))
            (if (i32.gt_s (local.get $c) (i32.const 1)) (then (f64.store offset=8 (local.get $o) (f64x2.extract_lane 1 (local.get $s0)))))
            (if (i32.gt_s (local.get $c) (i32.const 2)) (then (f64.store offset=16 (local.get $o) (f64x2.extract_lane 0 (local.get $s1)))))
            (if (i32.gt_s (local.get $c) (i32.const 3)) (then (f64.store offset=24 (local.get $o) (f64x2.extract_lane 1 (local.get $s1)))))
            (if (i32.gt_s (local.get $c) (i32.const 4)) (then (f64.store offset=32 (local.get $o) (f64x2.extract_lane 0 (local.get $s2)))))
            (if (i32.gt_s (local.get $c) (i32.const 5)) (then (f64.store offset=40 (local.get $o) (f64x2.extract_lane 1 (local.get $s2)))))
            (if (i32.gt_s (local.get $c) (i32.const 6)) (then (f64.store offset=48 (local.get $o) (f64x2.extract_lane 0 (local.get $s3)))))))
        (local.set $cb (i32.add (local.get $cb) (i32.const 8)))
        (br_if $blocks (i32.lt_s (local.get $cb) (local.get $k))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $points (i32.lt_s (local.get $i) (local.get $n)))))

  ;; For each point i < n: the nearest of the k centroids (lowest index on ties), written to near[i] (i32),
  ;; with its squared distance in best[2i] and the runner-up's in best[2i + 1] (float64). `dist` is scratch
  ;; for one row of k distances (8·kp bytes). Same distances as sqdist.
  (func (export "nearest") (param $x i32) (param $n i32) (param $d i32) (param $ct i32) (param $k i32) (param $kp i32)
    (param $near i32) (param $best i32) (param $dist i32)
    (local $i i32) (local $c i32) (local $v f64) (local $b1 f64) (local $b2 f64) (local $bi i32)
    (block $done
      (br_if $done (i32.le_s (local.get $n) (i32.const 0)))
      (loop $points
        (call $sqdist (i32.add (local.get $x) (i32.shl (i32.mul (local.get $i) (local.get $d)) (i32.const 2)))
          (i32.const 1) (local.get $d) (local.get $ct) (local.get $k) (local.get $kp) (local.get $dist) (local.get $k))
        (local.set $b1 (f64.const inf))
        (local.set $b2 (f64.const inf))
        (local.set $bi (i32.const 0))
        (local.set $c (i32.const 0))
        (loop $scan
          (local.set $v (f64.load (i32.add (local.get $dist) (i32.shl (local.get $c) (i32.const 3)))))
          (if (f64.lt (local.get $v) (local.get $b1))
            (then
              (local.set $b2 (local.get $b1))
              (local.set $b1 (local.get $v))
              (local.set $bi (local.get $c)))
            (else (if (f64.lt (local.get $v) (local.get $b2)) (then (local.set $b2 (local.get $v))))))
          (local.set $c (i32.add (local.get $c) (i32.const 1)))
          (br_if $scan (i32.lt_s (local.get $c) (local.get $k))))
        (i32.store (i32.add (local.get $near) (i32.shl (local.get $i) (i32.const 2))) (local.get $bi))
        (f64.store (i32.add (local.get $best) (i32.shl (local.get $i) (i32.const 4))) (local.get $b1))
        (f64.store offset=8 (i32.add (local.get $best) (i32.shl (local.get $i) (i32.const 4))) (local.get $b2))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $points (i32.lt_s (local.get $i) (local.get $n))))))

  ;; ---------------------------------------------------------------------------------------------------
  ;; Top-k of float32 scores: the indices of the k highest scores[i], i < n, best first, ties broken by the
  ;; lower index; NaN and -Infinity never qualify. Returns the count (≤ k); the indices go to heapIdx[0 ..]
  ;; and their scores to heapScore[0 ..] (scratch of k entries each).
  ;;
  ;; A binary min-heap keeps the current best k with the weakest at the root. Once it is full, sixteen scores
  ;; at a time are compared with the root's score in four f32x4 compares and skipped when none is greater
  ;; (a later index with an equal score ranks below the root), so most of a long array costs a few vector
  ;; instructions per 16 scores.
  (func $worse_ (param $hs i32) (param $hi i32) (param $a i32) (param $b i32) (result i32)
    (local $sa f32) (local $sb f32)
    (local.set $sa (f32.load (i32.add (local.get $hs) (i32.shl (local.get $a) (i32.const 2)))))
    (local.set $sb (f32.load (i32.add (local.get $hs) (i32.shl (local.get $b) (i32.const 2)))))
    (i32.or (f32.lt (local.get $sa) (local.get $sb))
      (i32.and (f32.eq (local.get $sa) (local.get $sb))
        (i32.gt_s (i32.load (i32.add (local.get $hi) (i32.shl (local.get $a) (i32.const 2))))
                  (i32.load (i32.add (local.get $hi) (i32.shl (local.get $b) (i32.const 2))))))))

  (func $swap_ (param $hs i32) (param $hi i32) (param $a i32) (param $b i32)
    (local $s f32) (local $t i32) (local $pa i32) (local $pb i32)
    (local.set $pa (i32.shl (local.get $a) (i32.const 2)))
    (local.set $pb (i32.shl (local.get $b) (i32.const 2)))
    (local.set $s (f32.load (i32.add (local.get $hs) (local.get $pa))))
    (f32.store (i32.add (local.get $hs) (local.get $pa)) (f32.load (i32.add (local.get $hs) (local.get $pb))))
    (f32.store (i32.add (local.get $hs) (local.get $pb)) (local.get $s))
    (local.set $t (i32.load (i32.add (local.get $hi) (local.get $pa))))
    (i32.store (i32.add (local.get $hi) (local.get $pa)) (i32.load (i32.add (local.get $hi) (local.get $pb))))
    (i32.store (i32.add (local.get $hi) (local.get $pb)) (local.get $t)))

  (func $sift_down_ (param $hs i32) (param $hi i32) (param $i i32) (param $size i32)
    (local $l i32) (local $w i32)
    (loop $l1
      (local.set $l (i32.add (i32.shl (local.get $i) (i32.const 1)) (i32.const 1)))
      (local.set $w (local.get $i))
      (if (i32.lt_s (local.get $l) (local.get $size))
        (then (if (call $worse_ (local.get $hs) (local.get $hi) (local.get $l) (local.get $w))
          (then (local.set $w (local.get $l))))))
      (if (i32.lt_s (i32.add (local.get $l) (i32.const 1)) (local.get $size))
        (then (if (call $worse_ (local.get $hs) (local.get $hi) (i32.add (local.get $l) (i32.const 1)) (local.get $w))
          (then (local.set $w (i32.add (local.get $l) (i32.const 1)))))))
      (if (i32.ne (local.get $w) (local.get $i))
        (then
          (call $swap_ (local.get $hs) (local.get $hi) (local.get $i) (local.get $w))
          (local.set $i (local.get $w))
          (br $l1)))))

  (func (export "topk") (param $scores i32) (param $n i32) (param $k i32) (param $heapScore i32) (param $heapIdx i32)
    (result i32)
    (local $i i32) (local $size i32) (local $s f32) (local $c i32) (local $p i32) (local $t v128) (local $q i32)
    (local $end i32)
    (if (i32.or (i32.le_s (local.get $k) (i32.const 0)) (i32.le_s (local.get $n) (i32.const 0))) (then (return (i32.const 0))))
    ;; Fill.
    (block $filled
      (loop $fill
        (br_if $filled (i32.or (i32.ge_s (local.get $i) (local.get $n)) (i32.ge_s (local.get $size) (local.get $k))))
        (local.set $s (f32.load (i32.add (local.get $scores) (i32.shl (local.get $i) (i32.const 2)))))
        (if (i32.and (f32.eq (local.get $s) (local.get $s)) (f32.ne (local.get $s) (f32.const -inf)))
          (then
            (f32.store (i32.add (local.get $heapScore) (i32.shl (local.get $size) (i32.const 2))) (local.get $s))
            (i32.store (i32.add (local.get $heapIdx) (i32.shl (local.get $size) (i32.const 2))) (local.get $i))
            (local.set $c (local.get $size))
            (local.set $size (i32.add (local.get $size) (i32.const 1)))
            (block $up (loop $upl
              (br_if $up (i32.le_s (local.get $c) (i32.const 0)))
              (local.set $p (i32.shr_s (i32.sub (local.get $c) (i32.const 1)) (i32.const 1)))
              (br_if $up (i32.eqz (call $worse_ (local.get $heapScore) (local.get $heapIdx) (local.get $c) (local.get $p))))
              (call $swap_ (local.get $heapScore) (local.get $heapIdx) (local.get $c) (local.get $p))
              (local.set $c (local.get $p))
              (br $upl)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $fill)))
    ;; Scan the rest against the root.
    (if (i32.eq (local.get $size) (local.get $k))
      (then
        (local.set $t (f32x4.splat (f32.load (local.get $heapScore))))
        (local.set $end (i32.sub (local.get $n) (i32.const 16)))
        (loop $scan
          (if (i32.le_s (local.get $i) (local.get $end))
            (then
              (local.set $p (i32.add (local.get $scores) (i32.shl (local.get $i) (i32.const 2))))
              (if (v128.any_true (v128.or
                    (v128.or (f32x4.gt (v128.load align=4 (local.get $p)) (local.get $t))
                             (f32x4.gt (v128.load offset=16 align=4 (local.get $p)) (local.get $t)))
                    (v128.or (f32x4.gt (v128.load offset=32 align=4 (local.get $p)) (local.get $t))
                             (f32x4.gt (v128.load offset=48 align=4 (local.get $p)) (local.get $t)))))
                (then (local.set $q (i32.add (local.get $i) (i32.const 16))))
                (else (local.set $q (local.get $i))
                      (local.set $i (i32.add (local.get $i) (i32.const 16))))))
            (else (local.set $q (local.get $n))))
          ;; Scalar over [i, q).
          (block $sd (loop $sl
            (br_if $sd (i32.ge_s (local.get $i) (local.get $q)))
            (local.set $s (f32.load (i32.add (local.get $scores) (i32.shl (local.get $i) (i32.const 2)))))
            (if (f32.gt (local.get $s) (f32.load (local.get $heapScore)))
              (then
                (f32.store (local.get $heapScore) (local.get $s))
                (i32.store (local.get $heapIdx) (local.get $i))
                (call $sift_down_ (local.get $heapScore) (local.get $heapIdx) (i32.const 0) (local.get $size))
                (local.set $t (f32x4.splat (f32.load (local.get $heapScore))))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $sl)))
          (br_if $scan (i32.lt_s (local.get $i) (local.get $n))))))
    ;; Heap sort: the weakest goes to the end each time, leaving the best first.
    (local.set $c (local.get $size))
    (block $sorted (loop $sort
      (br_if $sorted (i32.le_s (local.get $c) (i32.const 1)))
      (local.set $c (i32.sub (local.get $c) (i32.const 1)))
      (call $swap_ (local.get $heapScore) (local.get $heapIdx) (i32.const 0) (local.get $c))
      (call $sift_down_ (local.get $heapScore) (local.get $heapIdx) (i32.const 0) (local.get $c))
      (br $sort)))
    (local.get $size))

  ;; ---------------------------------------------------------------------------------------------------
  ;; One block of a Gram product split across threads: the job's i32 slots are 0 f4, 1 from, 2 to, 3 a
  ;; (rows of f4 float32), 4 out (partial Gram matrices, f4² float64 each), 5 block rows, 6 syrk scratch.
  ;; Rows [from, to) must be one block (from a multiple of the block rows); its Gram matrix goes to partial
  ;; from / blockRows, so the caller can add the partials in a fixed order whatever thread made them.
  (func (export "gram_range") (param $job i32) (result i32)
    (local $f4 i32) (local $from i32)
    (local.set $f4 (i32.load (local.get $job)))
    (local.set $from (i32.load offset=4 (local.get $job)))
    (call $syrk
      (i32.add (i32.load offset=16 (local.get $job))
        (i32.shl (i32.mul (i32.div_u (local.get $from) (i32.load offset=20 (local.get $job)))
          (i32.mul (local.get $f4) (local.get $f4))) (i32.const 3)))
      (local.get $f4)
      (i32.add (i32.load offset=12 (local.get $job)) (i32.shl (i32.mul (local.get $from) (local.get $f4)) (i32.const 2)))
      (local.get $f4) (i32.const 0) (i32.const 0)
      (i32.sub (i32.load offset=8 (local.get $job)) (local.get $from))
      (local.get $f4) (i32.load offset=24 (local.get $job)) (i32.const 0))
    (i32.const 0))

  ;; Rows [from, to) of a GEMM split across threads: the job's i32 slots are 1 from, 2 to, 3 n, 4 k, 5 a,
  ;; 6 lda, 7 b, 8 ldb, 9 c, 10 ldc, 11 accumulate, 12 pack (this thread's gemm scratch). A row of C does not
  ;; depend on how the rows are split.
  (func (export "gemm_range") (param $job i32) (result i32)
    (local $from i32)
    (local.set $from (i32.load offset=4 (local.get $job)))
    (call $gemm
      (i32.sub (i32.load offset=8 (local.get $job)) (local.get $from))
      (i32.load offset=12 (local.get $job))
      (i32.load offset=16 (local.get $job))
      (i32.add (i32.load offset=20 (local.get $job))
        (i32.shl (i32.mul (local.get $from) (i32.load offset=24 (local.get $job))) (i32.const 2)))
      (i32.load offset=24 (local.get $job))
      (i32.load offset=28 (local.get $job))
      (i32.load offset=32 (local.get $job))
      (i32.add (i32.load offset=36 (local.get $job))
        (i32.shl (i32.mul (local.get $from) (i32.load offset=40 (local.get $job))) (i32.const 2)))
      (i32.load offset=40 (local.get $job))
      (i32.load offset=44 (local.get $job))
      (i32.load offset=48 (local.get $job)))
    (i32.const 0))

  ;; ---------------------------------------------------------------------------------------------------
  ;; Neural-network helpers (src/nn/kernel-net.ts), float32.

  ;; y[r][j] = y[r][j] + bias[j] (bias = 0: none), then max(·, 0) when relu ≠ 0; rows × cols, row stride ldy
  ;; floats. Four columns at a time, the cols % 4 rest one by one.
  (func (export "bias_act") (param $y i32) (param $rows i32) (param $cols i32) (param $ldy i32) (param $bias i32)
    (param $relu i32)
    (local $r i32) (local $j i32) (local $p i32) (local $body i32) (local $end i32) (local $v v128) (local $s f32)
    (local.set $body (i32.shl (i32.and (local.get $cols) (i32.const -4)) (i32.const 2)))
    (local.set $end (i32.shl (local.get $cols) (i32.const 2)))
    (block $done (loop $rowsLoop
      (br_if $done (i32.ge_s (local.get $r) (local.get $rows)))
      (local.set $p (i32.add (local.get $y) (i32.shl (i32.mul (local.get $r) (local.get $ldy)) (i32.const 2))))
      (local.set $j (i32.const 0))
      (block $bd (loop $bl
        (br_if $bd (i32.ge_u (local.get $j) (local.get $body)))
        (local.set $v (v128.load align=4 (i32.add (local.get $p) (local.get $j))))
        (if (local.get $bias)
          (then (local.set $v (f32x4.add (local.get $v) (v128.load align=4 (i32.add (local.get $bias) (local.get $j)))))))
        (if (local.get $relu) (then (local.set $v (f32x4.max (local.get $v) (v128.const i32x4 0 0 0 0)))))
        (v128.store align=4 (i32.add (local.get $p) (local.get $j)) (local.get $v))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $bl)))
      (block $td (loop $tl
        (br_if $td (i32.ge_u (local.get $j) (local.get $end)))
        (local.set $s (f32.load (i32.add (local.get $p) (local.get $j))))
        (if (local.get $bias)
          (then (local.set $s (f32.add (local.get $s) (f32.load (i32.add (local.get $bias) (local.get $j)))))))
        (if (local.get $relu) (then (local.set $s (select (local.get $s) (f32.const 0) (f32.gt (local.get $s) (f32.const 0))))))
        (f32.store (i32.add (local.get $p) (local.get $j)) (local.get $s))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $tl)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rowsLoop))))

  ;; g[i] = y[i] > 0 ? g[i] : 0 for n floats (ReLU's backward from its output y).
  (func (export "relu_back") (param $g i32) (param $y i32) (param $n i32)
    (local $i i32) (local $body i32) (local $end i32)
    (local.set $body (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $bd (loop $bl
      (br_if $bd (i32.ge_u (local.get $i) (local.get $body)))
      (v128.store align=4 (i32.add (local.get $g) (local.get $i))
        (v128.and (v128.load align=4 (i32.add (local.get $g) (local.get $i)))
          (f32x4.gt (v128.load align=4 (i32.add (local.get $y) (local.get $i))) (v128.const i32x4 0 0 0 0))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $bl)))
    (block $td (loop $tl
      (br_if $td (i32.ge_u (local.get $i) (local.get $end)))
      (if (i32.eqz (f32.gt (f32.load (i32.add (local.get $y) (local.get $i))) (f32.const 0)))
        (then (f32.store (i32.add (local.get $g) (local.get $i)) (f32.const 0))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $tl))))

  ;; out[j] (+)= Σ_r g[r][j] over rows × cols (row stride ldg floats), rows added in order.
  (func (export "colsum") (param $g i32) (param $rows i32) (param $cols i32) (param $ldg i32) (param $out i32)
    (param $accumulate i32)
    (local $r i32) (local $j i32) (local $p i32) (local $body i32) (local $end i32)
    (local.set $body (i32.shl (i32.and (local.get $cols) (i32.const -4)) (i32.const 2)))
    (local.set $end (i32.shl (local.get $cols) (i32.const 2)))
    (if (i32.eqz (local.get $accumulate)) (then (memory.fill (local.get $out) (i32.const 0) (local.get $end))))
    (block $done (loop $rowsLoop
      (br_if $done (i32.ge_s (local.get $r) (local.get $rows)))
      (local.set $p (i32.add (local.get $g) (i32.shl (i32.mul (local.get $r) (local.get $ldg)) (i32.const 2))))
      (local.set $j (i32.const 0))
      (block $bd (loop $bl
        (br_if $bd (i32.ge_u (local.get $j) (local.get $body)))
        (v128.store align=4 (i32.add (local.get $out) (local.get $j))
          (f32x4.add (v128.load align=4 (i32.add (local.get $out) (local.get $j)))
            (v128.load align=4 (i32.add (local.get $p) (local.get $j)))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $bl)))
      (block $td (loop $tl
        (br_if $td (i32.ge_u (local.get $j) (local.get $end)))
        (f32.store (i32.add (local.get $out) (local.get $j))
          (f32.add (f32.load (i32.add (local.get $out) (local.get $j))) (f32.load (i32.add (local.get $p) (local.get $j)))))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $tl)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rowsLoop))))

  ;; Adam over n floats (Kingma & Ba, with decoupled weight decay and an optional coupled L2), float32:
  ;;   g' = g + l2·w;  m = b1·m + (1 − b1)·g';  v = b2·v + (1 − b2)·g'²;
  ;;   w = w·shrink − step·m / (sqrt(v·invc2) + eps)
  ;; with step = lr / (1 − b1^t), invc2 = 1 / (1 − b2^t), shrink = 1 − lr·weightDecay (1 for none).
  (func $adam_ (export "adam") (param $w i32) (param $g i32) (param $m i32) (param $v i32) (param $n i32)
    (param $b1 f32) (param $b2 f32) (param $step f32) (param $invc2 f32) (param $eps f32) (param $shrink f32)
    (param $l2 f32)
    (local $i i32) (local $body i32) (local $end i32)
    (local $vb1 v128) (local $vb1c v128) (local $vb2 v128) (local $vb2c v128) (local $vstep v128) (local $vinv v128)
    (local $veps v128) (local $vshrink v128) (local $vl2 v128) (local $gi v128) (local $mi v128) (local $vi v128)
    (local $wi v128) (local $sg f32) (local $sm f32) (local $sv f32) (local $sw f32)
    (local.set $vb1 (f32x4.splat (local.get $b1)))
    (local.set $vb1c (f32x4.splat (f32.sub (f32.const 1) (local.get $b1))))
    (local.set $vb2 (f32x4.splat (local.get $b2)))
    (local.set $vb2c (f32x4.splat (f32.sub (f32.const 1) (local.get $b2))))
    (local.set $vstep (f32x4.splat (local.get $step)))
    (local.set $vinv (f32x4.splat (local.get $invc2)))
    (local.set $veps (f32x4.splat (local.get $eps)))
    (local.set $vshrink (f32x4.splat (local.get $shrink)))
    (local.set $vl2 (f32x4.splat (local.get $l2)))
    (local.set $body (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $bd (loop $bl
      (br_if $bd (i32.ge_u (local.get $i) (local.get $body)))
      (local.set $wi (v128.load align=4 (i32.add (local.get $w) (local.get $i))))
      (local.set $gi (f32x4.add (v128.load align=4 (i32.add (local.get $g) (local.get $i)))
        (f32x4.mul (local.get $vl2) (local.get $wi))))
      (local.set $mi (f32x4.add (f32x4.mul (local.get $vb1) (v128.load align=4 (i32.add (local.get $m) (local.get $i))))
        (f32x4.mul (local.get $vb1c) (local.get $gi))))
      (local.set $vi (f32x4.add (f32x4.mul (local.get $vb2) (v128.load align=4 (i32.add (local.get $v) (local.get $i))))
        (f32x4.mul (local.get $vb2c) (f32x4.mul (local.get $gi) (local.get $gi)))))
      (v128.store align=4 (i32.add (local.get $m) (local.get $i)) (local.get $mi))
      (v128.store align=4 (i32.add (local.get $v) (local.get $i)) (local.get $vi))
      (v128.store align=4 (i32.add (local.get $w) (local.get $i))
        (f32x4.sub (f32x4.mul (local.get $wi) (local.get $vshrink))
          (f32x4.div (f32x4.mul (local.get $vstep) (local.get $mi))
            (f32x4.add (f32x4.sqrt (f32x4.mul (local.get $vi) (local.get $vinv))) (local.get $veps)))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $bl)))
    (block $td (loop $tl
      (br_if $td (i32.ge_u (local.get $i) (local.get $end)))
      (local.set $sw (f32.load (i32.add (local.get $w) (local.get $i))))
      (local.set $sg (f32.add (f32.load (i32.add (local.get $g) (local.get $i))) (f32.mul (local.get $l2) (local.get $sw))))
      (local.set $sm (f32.add (f32.mul (local.get $b1) (f32.load (i32.add (local.get $m) (local.get $i))))
        (f32.mul (f32.sub (f32.const 1) (local.get $b1)) (local.get $sg))))
      (local.set $sv (f32.add (f32.mul (local.get $b2) (f32.load (i32.add (local.get $v) (local.get $i))))
        (f32.mul (f32.sub (f32.const 1) (local.get $b2)) (f32.mul (local.get $sg) (local.get $sg)))))
      (f32.store (i32.add (local.get $m) (local.get $i)) (local.get $sm))
      (f32.store (i32.add (local.get $v) (local.get $i)) (local.get $sv))
      (f32.store (i32.add (local.get $w) (local.get $i))
        (f32.sub (f32.mul (local.get $sw) (local.get $shrink))
          (f32.div (f32.mul (local.get $step) (local.get $sm))
            (f32.add (f32.sqrt (f32.mul (local.get $sv) (local.get $invc2))) (local.get $eps)))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $tl))))

  ;; Adam on the listed rows only (lazy Adam): rows[t] (i32, count of them) of `width` floats each.
  (func (export "adam_rows") (param $w i32) (param $g i32) (param $m i32) (param $v i32) (param $width i32)
    (param $rows i32) (param $count i32) (param $b1 f32) (param $b2 f32) (param $step f32) (param $invc2 f32)
    (param $eps f32) (param $shrink f32) (param $l2 f32)
    (local $t i32) (local $o i32)
    (block $done (loop $l
      (br_if $done (i32.ge_s (local.get $t) (local.get $count)))
      (local.set $o (i32.shl (i32.mul (i32.load (i32.add (local.get $rows) (i32.shl (local.get $t) (i32.const 2))))
        (local.get $width)) (i32.const 2)))
      (call $adam_ (i32.add (local.get $w) (local.get $o)) (i32.add (local.get $g) (local.get $o))
        (i32.add (local.get $m) (local.get $o)) (i32.add (local.get $v) (local.get $o)) (local.get $width)
        (local.get $b1) (local.get $b2) (local.get $step) (local.get $invc2) (local.get $eps) (local.get $shrink)
        (local.get $l2))
      (local.set $t (i32.add (local.get $t) (i32.const 1)))
      (br $l))))

  ;; dst row t = src row idx[t]: count rows of rowBytes, src rows srcStride bytes apart, dst rows dstStride apart
  ;; (so that several gathers can fill the parts of one row).
  (func (export "gather_rows") (param $src i32) (param $srcStride i32) (param $idx i32) (param $count i32)
    (param $dst i32) (param $dstStride i32) (param $rowBytes i32)
    (local $t i32)
    (block $done (loop $l
      (br_if $done (i32.ge_s (local.get $t) (local.get $count)))
      (memory.copy (i32.add (local.get $dst) (i32.mul (local.get $t) (local.get $dstStride)))
        (i32.add (local.get $src) (i32.mul (i32.load (i32.add (local.get $idx) (i32.shl (local.get $t) (i32.const 2))))
          (local.get $srcStride)))
        (local.get $rowBytes))
      (local.set $t (i32.add (local.get $t) (i32.const 1)))
      (br $l))))

  ;; ---------------------------------------------------------------------------------------------------
  ;; k-means through GEMM (src/math/kmeans.ts): squared distances in the expanded form ‖x‖² + ‖c‖² − 2·x·c, the
  ;; dot products x·c coming from gemm_strided. Float32: the caller bounds the rounding error and re-checks a
  ;; point exactly (sqdist / nearest) when its two best distances are closer than that bound.

  ;; out[i] = Σ_j x[i][j]² (float32 lanes, float64 total) for n rows of d floats, row stride ldx floats.
  (func (export "sqnorms") (param $x i32) (param $n i32) (param $d i32) (param $ldx i32) (param $out i32)
    (local $i i32) (local $j i32) (local $p i32) (local $body i32) (local $end i32) (local $acc v128) (local $s f64)
    (local $t f32)
    (local.set $body (i32.shl (i32.and (local.get $d) (i32.const -4)) (i32.const 2)))
    (local.set $end (i32.shl (local.get $d) (i32.const 2)))
    (block $done (loop $rowsLoop
      (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
      (local.set $p (i32.add (local.get $x) (i32.shl (i32.mul (local.get $i) (local.get $ldx)) (i32.const 2))))
      (local.set $acc (v128.const i32x4 0 0 0 0))
      (local.set $j (i32.const 0))
      (block $bd (loop $bl
        (br_if $bd (i32.ge_u (local.get $j) (local.get $body)))
        (local.set $acc (f32x4.add (local.get $acc)
          (f32x4.mul (v128.load align=4 (i32.add (local.get $p) (local.get $j)))
            (v128.load align=4 (i32.add (local.get $p) (local.get $j))))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $bl)))
      (local.set $s (call $hsum_f64_ (local.get $acc)))
      (block $td (loop $tl
        (br_if $td (i32.ge_u (local.get $j) (local.get $end)))
        (local.set $t (f32.load (i32.add (local.get $p) (local.get $j))))
        (local.set $s (f64.add (local.get $s) (f64.promote_f32 (f32.mul (local.get $t) (local.get $t)))))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $tl)))
      (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (f32.demote_f64 (local.get $s)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $rowsLoop))))

  ;; For every row i of dots (n rows, row stride ldd floats, kp = ldd's first k rounded up to 4 columns used):
  ;; e_c = xn[i] + cn[c] − 2·dots[i][c]; near[i] = the c of the smallest e_c (lowest c on ties), best[2i] that
  ;; value, best[2i + 1] the second smallest (equal to the smallest when two centroids tie). cn holds kp
  ;; floats, +∞ past k (so padding columns never win; their dots must be finite, e.g. zero).
  (func (export "argmin2") (param $dots i32) (param $ldd i32) (param $xn i32) (param $cn i32) (param $n i32)
    (param $kp i32) (param $near i32) (param $best i32)
    (local $i i32) (local $c i32) (local $p i32) (local $end i32) (local $xi v128) (local $v v128) (local $lt v128)
    (local $b1 v128) (local $b2 v128) (local $i1 v128) (local $ci v128) (local $bl i32)
    (local $bv f32) (local $bi i32) (local $sv f32) (local $lv f32) (local $li i32)
    (local.set $end (i32.shl (local.get $kp) (i32.const 2)))
    (block $done (loop $rowsLoop
      (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
      (local.set $p (i32.add (local.get $dots) (i32.shl (i32.mul (local.get $i) (local.get $ldd)) (i32.const 2))))
      (local.set $xi (v128.load32_splat (i32.add (local.get $xn) (i32.shl (local.get $i) (i32.const 2)))))
      (local.set $b1 (v128.const f32x4 inf inf inf inf))
      (local.set $b2 (v128.const f32x4 inf inf inf inf))
      (local.set $i1 (v128.const i32x4 0 0 0 0))
      (local.set $ci (v128.const i32x4 0 1 2 3))
      (local.set $c (i32.const 0))
      (block $cd (loop $cl
        (br_if $cd (i32.ge_u (local.get $c) (local.get $end)))
        (local.set $v (f32x4.sub (f32x4.add (local.get $xi) (v128.load align=4 (i32.add (local.get $cn) (local.get $c))))
          (f32x4.mul (v128.const f32x4 2 2 2 2) (v128.load align=4 (i32.add (local.get $p) (local.get $c))))))
        (local.set $lt (f32x4.lt (local.get $v) (local.get $b1)))
        (local.set $b2 (v128.bitselect (local.get $b1) (f32x4.min (local.get $b2) (local.get $v)) (local.get $lt)))
        (local.set $b1 (v128.bitselect (local.get $v) (local.get $b1) (local.get $lt)))
        (local.set $i1 (v128.bitselect (local.get $ci) (local.get $i1) (local.get $lt)))
        (local.set $ci (i32x4.add (local.get $ci) (v128.const i32x4 4 4 4 4)))
        (local.set $c (i32.add (local.get $c) (i32.const 16)))
        (br $cl)))
      ;; Across lanes: the smallest (lowest index on ties), then the runner-up among everything else.
      (local.set $bv (f32x4.extract_lane 0 (local.get $b1)))
      (local.set $bi (i32x4.extract_lane 0 (local.get $i1)))
      (local.set $bl (i32.const 0))
      (local.set $lv (f32x4.extract_lane 1 (local.get $b1)))
      (local.set $li (i32x4.extract_lane 1 (local.get $i1)))
      (if (i32.or (f32.lt (local.get $lv) (local.get $bv))
            (i32.and (f32.eq (local.get $lv) (local.get $bv)) (i32.lt_s (local.get $li) (local.get $bi))))
        (then (local.set $bv (local.get $lv)) (local.set $bi (local.get $li)) (local.set $bl (i32.const 1))))
      (local.set $lv (f32x4.extract_lane 2 (local.get $b1)))
      (local.set $li (i32x4.extract_lane 2 (local.get $i1)))
      (if (i32.or (f32.lt (local.get $lv) (local.get $bv))
            (i32.and (f32.eq (local.get $lv) (local.get $bv)) (i32.lt_s (local.get $li) (local.get $bi))))
        (then (local.set $bv (local.get $lv)) (local.set $bi (local.get $li)) (local.set $bl (i32.const 2))))
      (local.set $lv (f32x4.extract_lane 3 (local.get $b1)))
      (local.set $li (i32x4.extract_lane 3 (local.get $i1)))
      (if (i32.or (f32.lt (local.get $lv) (local.get $bv))
            (i32.and (f32.eq (local.get $lv) (local.get $bv)) (i32.lt_s (local.get $li) (local.get $bi))))
        (then (local.set $bv (local.get $lv)) (local.set $bi (local.get $li)) (local.set $bl (i32.const 3))))
      ;; Runner-up: the best lane's second, or another lane's best.
      (local.set $sv (f32.min (f32.min (f32x4.extract_lane 0 (local.get $b2)) (f32x4.extract_lane 1 (local.get $b2)))
        (f32.min (f32x4.extract_lane 2 (local.get $b2)) (f32x4.extract_lane 3 (local.get $b2)))))
      (if (i32.ne (local.get $bl) (i32.const 0)) (then (local.set $sv (f32.min (local.get $sv) (f32x4.extract_lane 0 (local.get $b1))))))
      (if (i32.ne (local.get $bl) (i32.const 1)) (then (local.set $sv (f32.min (local.get $sv) (f32x4.extract_lane 1 (local.get $b1))))))
      (if (i32.ne (local.get $bl) (i32.const 2)) (then (local.set $sv (f32.min (local.get $sv) (f32x4.extract_lane 2 (local.get $b1))))))
      (if (i32.ne (local.get $bl) (i32.const 3)) (then (local.set $sv (f32.min (local.get $sv) (f32x4.extract_lane 3 (local.get $b1))))))
      (i32.store (i32.add (local.get $near) (i32.shl (local.get $i) (i32.const 2))) (local.get $bi))
      (f32.store (i32.add (local.get $best) (i32.shl (local.get $i) (i32.const 3))) (local.get $bv))
      (f32.store offset=4 (i32.add (local.get $best) (i32.shl (local.get $i) (i32.const 3))) (local.get $sv))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $rowsLoop))))

  ;; k-means++ trials: dots is n × 8 (x_i · candidate t, t < 8, row stride 8 floats), cn the 8 candidates'
  ;; squared norms. sums[t] = Σ_i min(closest[i], max(0, xn[i] + cn[t] − 2·dots[i][t])) in float64, i in order.
  (func (export "kpp_potentials") (param $dots i32) (param $xn i32) (param $cn i32) (param $closest i32)
    (param $n i32) (param $sums i32)
    (local $i i32) (local $p i32) (local $xi v128) (local $e0 v128) (local $e1 v128) (local $cl v128)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128) (local $c0 v128) (local $c1 v128)
    (local.set $c0 (v128.load align=4 (local.get $cn)))
    (local.set $c1 (v128.load offset=16 align=4 (local.get $cn)))
    (block $done (loop $rowsLoop
      (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
      (local.set $p (i32.add (local.get $dots) (i32.shl (local.get $i) (i32.const 5))))
      (local.set $xi (v128.load32_splat (i32.add (local.get $xn) (i32.shl (local.get $i) (i32.const 2)))))
      (local.set $e0 (f32x4.max (v128.const i32x4 0 0 0 0) (f32x4.sub (f32x4.add (local.get $xi) (local.get $c0))
        (f32x4.mul (v128.const f32x4 2 2 2 2) (v128.load align=4 (local.get $p))))))
      (local.set $e1 (f32x4.max (v128.const i32x4 0 0 0 0) (f32x4.sub (f32x4.add (local.get $xi) (local.get $c1))
        (f32x4.mul (v128.const f32x4 2 2 2 2) (v128.load offset=16 align=4 (local.get $p))))))
      (local.set $cl (v128.load64_splat (i32.add (local.get $closest) (i32.shl (local.get $i) (i32.const 3)))))
      (local.set $s0 (f64x2.add (local.get $s0) (f64x2.min (local.get $cl) (f64x2.promote_low_f32x4 (local.get $e0)))))
      (local.set $s1 (f64x2.add (local.get $s1) (f64x2.min (local.get $cl)
        (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $e0) (local.get $e0))))))
      (local.set $s2 (f64x2.add (local.get $s2) (f64x2.min (local.get $cl) (f64x2.promote_low_f32x4 (local.get $e1)))))
      (local.set $s3 (f64x2.add (local.get $s3) (f64x2.min (local.get $cl)
        (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $e1) (local.get $e1))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $rowsLoop)))
    (v128.store align=8 (local.get $sums) (local.get $s0))
    (v128.store offset=16 align=8 (local.get $sums) (local.get $s1))
    (v128.store offset=32 align=8 (local.get $sums) (local.get $s2))
    (v128.store offset=48 align=8 (local.get $sums) (local.get $s3)))

  ;; closest[i] = min(closest[i], max(0, xn[i] + cnt − 2·dots[i][t])) for the chosen candidate t (dots n × 8).
  (func (export "kpp_update") (param $dots i32) (param $t i32) (param $xn i32) (param $cnt f32) (param $closest i32)
    (param $n i32)
    (local $i i32) (local $e f32) (local $q i32)
    (block $done (loop $l
      (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
      (local.set $e (f32.max (f32.const 0) (f32.sub (f32.add (f32.load (i32.add (local.get $xn) (i32.shl (local.get $i) (i32.const 2))))
        (local.get $cnt))
        (f32.mul (f32.const 2) (f32.load (i32.add (local.get $dots)
          (i32.shl (i32.add (i32.shl (local.get $i) (i32.const 3)) (local.get $t)) (i32.const 2))))))))
      (local.set $q (i32.add (local.get $closest) (i32.shl (local.get $i) (i32.const 3))))
      (f64.store (local.get $q) (f64.min (f64.load (local.get $q)) (f64.promote_f32 (local.get $e))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l))))

  ;; Silhouette: for each of `rows` sample points r (dots row r: its dot products with all n points, row stride
  ;; ldd floats; xr[r] its squared norm; self[r] its own index, skipped), sums[r·k + assign[j]] += the distance
  ;; sqrt(max(0, xr[r] + xn[j] − 2·dots[r][j])), float64, j in order. sums is overwritten.
  (func (export "silhouette_sums") (param $dots i32) (param $ldd i32) (param $rows i32) (param $xr i32)
    (param $xn i32) (param $assign i32) (param $n i32) (param $self i32) (param $k i32) (param $sums i32)
    (local $r i32) (local $j i32) (local $p i32) (local $o i32) (local $skip i32) (local $x f32) (local $q i32)
    (block $done (loop $rowsLoop
      (br_if $done (i32.ge_s (local.get $r) (local.get $rows)))
      (local.set $p (i32.add (local.get $dots) (i32.shl (i32.mul (local.get $r) (local.get $ldd)) (i32.const 2))))
      (local.set $o (i32.add (local.get $sums) (i32.shl (i32.mul (local.get $r) (local.get $k)) (i32.const 3))))
      (memory.fill (local.get $o) (i32.const 0) (i32.shl (local.get $k) (i32.const 3)))
      (local.set $x (f32.load (i32.add (local.get $xr) (i32.shl (local.get $r) (i32.const 2)))))
      (local.set $skip (i32.load (i32.add (local.get $self) (i32.shl (local.get $r) (i32.const 2)))))
      (local.set $j (i32.const 0))
      (block $jd (loop $jl
        (br_if $jd (i32.ge_s (local.get $j) (local.get $n)))
        (if (i32.ne (local.get $j) (local.get $skip))
          (then
            (local.set $q (i32.add (local.get $o)
              (i32.shl (i32.load (i32.add (local.get $assign) (i32.shl (local.get $j) (i32.const 2)))) (i32.const 3))))
            (f64.store (local.get $q) (f64.add (f64.load (local.get $q))
              (f64.promote_f32 (f32.sqrt (f32.max (f32.const 0)
                (f32.sub (f32.add (local.get $x) (f32.load (i32.add (local.get $xn) (i32.shl (local.get $j) (i32.const 2)))))
                  (f32.mul (f32.const 2) (f32.load (i32.add (local.get $p) (i32.shl (local.get $j) (i32.const 2)))))))))))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $jl)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rowsLoop))))

  ;; ---------------------------------------------------------------------------------------------------
  ;; Biased matrix factorisation, one SGD pass (src/models/mf.ts), float64 state:
  ;; for t < count, j = order[t] (u32), u = users[j], i = items[j], r = ratings[j] (f32):
  ;;   e = r − (mu + bu[u] + bi[i] + p_u·q_i); bu[u] += lr(e − regBias·bu[u]); bi[i] += lr(e − regBias·bi[i]);
  ;;   p_u, q_i ← p_u + lr(e·q_i − reg·p_u), q_i + lr(e·p_u − reg·q_i) (both from the old values).
  ;; Returns Σ e². p and q are rows of k float64; the dot product sums pairs of factors in two lanes.
  (func (export "mf_sgd") (param $order i32) (param $count i32) (param $users i32) (param $items i32)
    (param $ratings i32) (param $p i32) (param $q i32) (param $bu i32) (param $bi i32) (param $k i32)
    (param $mu f64) (param $lr f64) (param $reg f64) (param $regBias f64) (result f64)
    (local $t i32) (local $j i32) (local $pu i32) (local $qi i32) (local $bup i32) (local $bip i32) (local $f i32)
    (local $body i32) (local $end i32) (local $acc0 v128) (local $acc1 v128) (local $dot f64) (local $e f64)
    (local $se f64) (local $b f64) (local $vp v128) (local $vq v128) (local $ve v128) (local $vlr v128)
    (local $vreg v128) (local $sp f64) (local $sq f64)
    (local.set $body (i32.shl (i32.and (local.get $k) (i32.const -2)) (i32.const 3)))
    (local.set $end (i32.shl (local.get $k) (i32.const 3)))
    (local.set $vlr (f64x2.splat (local.get $lr)))
    (local.set $vreg (f64x2.splat (local.get $reg)))
    (block $done (loop $steps
      (br_if $done (i32.ge_u (local.get $t) (local.get $count)))
      (local.set $j (i32.shl (i32.load (i32.add (local.get $order) (i32.shl (local.get $t) (i32.const 2)))) (i32.const 2)))
      (local.set $pu (i32.add (local.get $p)
        (i32.mul (i32.load (i32.add (local.get $users) (local.get $j))) (local.get $end))))
      (local.set $qi (i32.add (local.get $q)
        (i32.mul (i32.load (i32.add (local.get $items) (local.get $j))) (local.get $end))))
      (local.set $acc0 (v128.const i32x4 0 0 0 0))
      (local.set $acc1 (v128.const i32x4 0 0 0 0))
      (local.set $f (i32.const 0))
      (block $dd (loop $dl
        (br_if $dd (i32.gt_u (i32.add (local.get $f) (i32.const 32)) (local.get $body)))
        (local.set $acc0 (f64x2.add (local.get $acc0) (f64x2.mul (v128.load (i32.add (local.get $pu) (local.get $f)))
          (v128.load (i32.add (local.get $qi) (local.get $f))))))
        (local.set $acc1 (f64x2.add (local.get $acc1) (f64x2.mul (v128.load offset=16 (i32.add (local.get $pu) (local.get $f)))
          (v128.load offset=16 (i32.add (local.get $qi) (local.get $f))))))
        (local.set $f (i32.add (local.get $f) (i32.const 32)))
        (br $dl)))
      (block $d2 (loop $l2
        (br_if $d2 (i32.ge_u (local.get $f) (local.get $body)))
        (local.set $acc0 (f64x2.add (local.get $acc0) (f64x2.mul (v128.load (i32.add (local.get $pu) (local.get $f)))
          (v128.load (i32.add (local.get $qi) (local.get $f))))))
        (local.set $f (i32.add (local.get $f) (i32.const 16)))
        (br $l2)))
      (local.set $acc0 (f64x2.add (local.get $acc0) (local.get $acc1)))
      (local.set $dot (f64.add (f64x2.extract_lane 0 (local.get $acc0)) (f64x2.extract_lane 1 (local.get $acc0))))
      (if (i32.lt_u (local.get $body) (local.get $end))
        (then (local.set $dot (f64.add (local.get $dot)
          (f64.mul (f64.load (i32.add (local.get $pu) (local.get $body))) (f64.load (i32.add (local.get $qi) (local.get $body))))))))
      (local.set $bup (i32.add (local.get $bu) (i32.shl (i32.load (i32.add (local.get $users) (local.get $j))) (i32.const 3))))
      (local.set $bip (i32.add (local.get $bi) (i32.shl (i32.load (i32.add (local.get $items) (local.get $j))) (i32.const 3))))
      (local.set $e (f64.sub (f64.promote_f32 (f32.load (i32.add (local.get $ratings) (local.get $j))))
        (f64.add (f64.add (f64.add (local.get $mu) (f64.load (local.get $bup))) (f64.load (local.get $bip))) (local.get $dot))))
      (local.set $se (f64.add (local.get $se) (f64.mul (local.get $e) (local.get $e))))
      (local.set $b (f64.load (local.get $bup)))
      (f64.store (local.get $bup) (f64.add (local.get $b)
        (f64.mul (local.get $lr) (f64.sub (local.get $e) (f64.mul (local.get $regBias) (local.get $b))))))
      (local.set $b (f64.load (local.get $bip)))
      (f64.store (local.get $bip) (f64.add (local.get $b)
        (f64.mul (local.get $lr) (f64.sub (local.get $e) (f64.mul (local.get $regBias) (local.get $b))))))
      (local.set $ve (f64x2.splat (local.get $e)))
      (local.set $f (i32.const 0))
      (block $ud (loop $ul
        (br_if $ud (i32.ge_u (local.get $f) (local.get $body)))
        (local.set $vp (v128.load (i32.add (local.get $pu) (local.get $f))))
        (local.set $vq (v128.load (i32.add (local.get $qi) (local.get $f))))
        (v128.store (i32.add (local.get $pu) (local.get $f)) (f64x2.add (local.get $vp) (f64x2.mul (local.get $vlr)
          (f64x2.sub (f64x2.mul (local.get $ve) (local.get $vq)) (f64x2.mul (local.get $vreg) (local.get $vp))))))
        (v128.store (i32.add (local.get $qi) (local.get $f)) (f64x2.add (local.get $vq) (f64x2.mul (local.get $vlr)
          (f64x2.sub (f64x2.mul (local.get $ve) (local.get $vp)) (f64x2.mul (local.get $vreg) (local.get $vq))))))
        (local.set $f (i32.add (local.get $f) (i32.const 16)))
        (br $ul)))
      (if (i32.lt_u (local.get $body) (local.get $end))
        (then
          (local.set $sp (f64.load (i32.add (local.get $pu) (local.get $body))))
          (local.set $sq (f64.load (i32.add (local.get $qi) (local.get $body))))
          (f64.store (i32.add (local.get $pu) (local.get $body)) (f64.add (local.get $sp) (f64.mul (local.get $lr)
            (f64.sub (f64.mul (local.get $e) (local.get $sq)) (f64.mul (local.get $reg) (local.get $sp))))))
          (f64.store (i32.add (local.get $qi) (local.get $body)) (f64.add (local.get $sq) (f64.mul (local.get $lr)
            (f64.sub (f64.mul (local.get $e) (local.get $sp)) (f64.mul (local.get $reg) (local.get $sq))))))))
      (local.set $t (i32.add (local.get $t) (i32.const 1)))
      (br $steps)))
    (local.get $se))

  ;; ---------------------------------------------------------------------------------------------------
  ;; Sparse rows for the rating autoencoders (src/nn/sparse-kernels.ts), float32. CSR batches: i32 indptr
  ;; (rows + 1, from 0), i32 column indices, f32 values; dense rows of `width` floats.

  ;; dst[0..width) += a·src[0..width).
  (func $axpy_ (param $dst i32) (param $src i32) (param $a f32) (param $width i32)
    (local $j i32) (local $body i32) (local $end i32) (local $va v128)
    (local.set $va (f32x4.splat (local.get $a)))
    (local.set $body (i32.shl (i32.and (local.get $width) (i32.const -4)) (i32.const 2)))
    (local.set $end (i32.shl (local.get $width) (i32.const 2)))
    (block $bd (loop $bl
      (br_if $bd (i32.ge_u (local.get $j) (local.get $body)))
      (v128.store align=4 (i32.add (local.get $dst) (local.get $j))
        (f32x4.add (v128.load align=4 (i32.add (local.get $dst) (local.get $j)))
          (f32x4.mul (local.get $va) (v128.load align=4 (i32.add (local.get $src) (local.get $j))))))
      (local.set $j (i32.add (local.get $j) (i32.const 16)))
      (br $bl)))
    (block $td (loop $tl
      (br_if $td (i32.ge_u (local.get $j) (local.get $end)))
      (f32.store (i32.add (local.get $dst) (local.get $j))
        (f32.add (f32.load (i32.add (local.get $dst) (local.get $j)))
          (f32.mul (local.get $a) (f32.load (i32.add (local.get $src) (local.get $j))))))
      (local.set $j (i32.add (local.get $j) (i32.const 4)))
      (br $tl))))

  ;; Σ a[j]·b[j] over width floats (four lanes, then the tail).
  (func $dotw_ (param $a i32) (param $b i32) (param $width i32) (result f32)
    (local $j i32) (local $body i32) (local $end i32) (local $acc v128) (local $s f32)
    (local.set $body (i32.shl (i32.and (local.get $width) (i32.const -4)) (i32.const 2)))
    (local.set $end (i32.shl (local.get $width) (i32.const 2)))
    (block $bd (loop $bl
      (br_if $bd (i32.ge_u (local.get $j) (local.get $body)))
      (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load align=4 (i32.add (local.get $a) (local.get $j)))
        (v128.load align=4 (i32.add (local.get $b) (local.get $j))))))
      (local.set $j (i32.add (local.get $j) (i32.const 16)))
      (br $bl)))
    (local.set $s (f32.add (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
      (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))
    (block $td (loop $tl
      (br_if $td (i32.ge_u (local.get $j) (local.get $end)))
      (local.set $s (f32.add (local.get $s)
        (f32.mul (f32.load (i32.add (local.get $a) (local.get $j))) (f32.load (i32.add (local.get $b) (local.get $j))))))
      (local.set $j (i32.add (local.get $j) (i32.const 4)))
      (br $tl)))
    (local.get $s))

  ;; out[r] = bias + Σ_p vals[p]·w[idx[p]] for each CSR row r < rows (out rows packed; bias = 0: none).
  (func (export "spmm_rows") (param $indptr i32) (param $idx i32) (param $vals i32) (param $rows i32) (param $w i32)
    (param $width i32) (param $bias i32) (param $out i32)
    (local $r i32) (local $p i32) (local $end i32) (local $o i32) (local $rb i32) (local $v f32)
    (local.set $rb (i32.shl (local.get $width) (i32.const 2)))
    (block $done (loop $rowsLoop
      (br_if $done (i32.ge_s (local.get $r) (local.get $rows)))
      (local.set $o (i32.add (local.get $out) (i32.mul (local.get $r) (local.get $rb))))
      (if (local.get $bias)
        (then (memory.copy (local.get $o) (local.get $bias) (local.get $rb)))
        (else (memory.fill (local.get $o) (i32.const 0) (local.get $rb))))
      (local.set $p (i32.load (i32.add (local.get $indptr) (i32.shl (local.get $r) (i32.const 2)))))
      (local.set $end (i32.load offset=4 (i32.add (local.get $indptr) (i32.shl (local.get $r) (i32.const 2)))))
      (block $pd (loop $pl
        (br_if $pd (i32.ge_s (local.get $p) (local.get $end)))
        (local.set $v (f32.load (i32.add (local.get $vals) (i32.shl (local.get $p) (i32.const 2)))))
        (if (f32.ne (local.get $v) (f32.const 0))
          (then (call $axpy_ (local.get $o)
            (i32.add (local.get $w) (i32.mul (i32.load (i32.add (local.get $idx) (i32.shl (local.get $p) (i32.const 2))))
              (local.get $rb)))
            (local.get $v) (local.get $width))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $pl)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rowsLoop))))

  ;; dw[idx[p]] += vals[p]·g[r] for each entry p of CSR row r (the weight gradient of spmm_rows).
  (func (export "spmm_t_rows") (param $indptr i32) (param $idx i32) (param $vals i32) (param $rows i32) (param $g i32)
    (param $width i32) (param $dw i32)
    (local $r i32) (local $p i32) (local $end i32) (local $gr i32) (local $rb i32) (local $v f32)
    (local.set $rb (i32.shl (local.get $width) (i32.const 2)))
    (block $done (loop $rowsLoop
      (br_if $done (i32.ge_s (local.get $r) (local.get $rows)))
      (local.set $gr (i32.add (local.get $g) (i32.mul (local.get $r) (local.get $rb))))
      (local.set $p (i32.load (i32.add (local.get $indptr) (i32.shl (local.get $r) (i32.const 2)))))
      (local.set $end (i32.load offset=4 (i32.add (local.get $indptr) (i32.shl (local.get $r) (i32.const 2)))))
      (block $pd (loop $pl
        (br_if $pd (i32.ge_s (local.get $p) (local.get $end)))
        (local.set $v (f32.load (i32.add (local.get $vals) (i32.shl (local.get $p) (i32.const 2)))))
        (if (f32.ne (local.get $v) (f32.const 0))
          (then (call $axpy_
            (i32.add (local.get $dw) (i32.mul (i32.load (i32.add (local.get $idx) (i32.shl (local.get $p) (i32.const 2))))
              (local.get $rb)))
            (local.get $gr) (local.get $v) (local.get $width))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $pl)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rowsLoop))))

  ;; out[p] = h[r]·w[idx[p]] + bias[idx[p]] for each requested entry p of CSR row r (h rows packed).
  (func (export "sampled_dot") (param $indptr i32) (param $idx i32) (param $rows i32) (param $h i32) (param $width i32)
    (param $w i32) (param $bias i32) (param $out i32)
    (local $r i32) (local $p i32) (local $end i32) (local $hr i32) (local $rb i32) (local $c i32)
    (local.set $rb (i32.shl (local.get $width) (i32.const 2)))
    (block $done (loop $rowsLoop
      (br_if $done (i32.ge_s (local.get $r) (local.get $rows)))
      (local.set $hr (i32.add (local.get $h) (i32.mul (local.get $r) (local.get $rb))))
      (local.set $p (i32.load (i32.add (local.get $indptr) (i32.shl (local.get $r) (i32.const 2)))))
      (local.set $end (i32.load offset=4 (i32.add (local.get $indptr) (i32.shl (local.get $r) (i32.const 2)))))
      (block $pd (loop $pl
        (br_if $pd (i32.ge_s (local.get $p) (local.get $end)))
        (local.set $c (i32.load (i32.add (local.get $idx) (i32.shl (local.get $p) (i32.const 2)))))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $p) (i32.const 2)))
          (f32.add (call $dotw_ (local.get $hr) (i32.add (local.get $w) (i32.mul (local.get $c) (local.get $rb))) (local.get $width))
            (f32.load (i32.add (local.get $bias) (i32.shl (local.get $c) (i32.const 2))))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $pl)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rowsLoop))))

  ;; The backward pass of sampled_dot for the gradient g (one value per entry): dw[c] += g_p·h[r],
  ;; db[c] += g_p, and dh[r] = Σ_p g_p·w[c] (dh overwritten; rows packed), c = idx[p], entries with g_p = 0
  ;; skipped.
  (func (export "sampled_back") (param $indptr i32) (param $idx i32) (param $rows i32) (param $g i32) (param $h i32)
    (param $width i32) (param $w i32) (param $dw i32) (param $db i32) (param $dh i32)
    (local $r i32) (local $p i32) (local $end i32) (local $hr i32) (local $dr i32) (local $rb i32) (local $c i32)
    (local $gp f32) (local $q i32)
    (local.set $rb (i32.shl (local.get $width) (i32.const 2)))
    (memory.fill (local.get $dh) (i32.const 0) (i32.mul (local.get $rows) (local.get $rb)))
    (block $done (loop $rowsLoop
      (br_if $done (i32.ge_s (local.get $r) (local.get $rows)))
      (local.set $hr (i32.add (local.get $h) (i32.mul (local.get $r) (local.get $rb))))
      (local.set $dr (i32.add (local.get $dh) (i32.mul (local.get $r) (local.get $rb))))
      (local.set $p (i32.load (i32.add (local.get $indptr) (i32.shl (local.get $r) (i32.const 2)))))
      (local.set $end (i32.load offset=4 (i32.add (local.get $indptr) (i32.shl (local.get $r) (i32.const 2)))))
      (block $pd (loop $pl
        (br_if $pd (i32.ge_s (local.get $p) (local.get $end)))
        (local.set $gp (f32.load (i32.add (local.get $g) (i32.shl (local.get $p) (i32.const 2)))))
        (if (f32.ne (local.get $gp) (f32.const 0))
          (then
            (local.set $c (i32.load (i32.add (local.get $idx) (i32.shl (local.get $p) (i32.const 2)))))
            (local.set $q (i32.add (local.get $db) (i32.shl (local.get $c) (i32.const 2))))
            (f32.store (local.get $q) (f32.add (f32.load (local.get $q)) (local.get $gp)))
            (call $axpy_ (i32.add (local.get $dw) (i32.mul (local.get $c) (local.get $rb))) (local.get $hr) (local.get $gp)
              (local.get $width))
            (call $axpy_ (local.get $dr) (i32.add (local.get $w) (i32.mul (local.get $c) (local.get $rb))) (local.get $gp)
              (local.get $width))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $pl)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rowsLoop))))
)
