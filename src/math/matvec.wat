;; Dense float32 matrix–vector product with WebAssembly SIMD (f32x4).
;;
;; Source of src/math/matvec.wasm.ts: edit this file, then run `npm run build:wasm` (scripts/build-wasm.ts
;; assembles it with the `wabt` package and writes the bytes as base64). test/math/matvec.test.ts fails when
;; the committed bytes and this source drift apart.
;;
;; The memory is imported: each DenseRows owns one WebAssembly.Memory and one instance. All pointers are byte
;; offsets into it. The matrix is row-major n×d with no padding between rows (row i starts at v + 4·i·d, so
;; rows are 16-byte aligned only when d % 4 == 0; unaligned v128 loads are legal, the alignment is a hint).
(module
  (import "env" "memory" (memory 1))

  ;; out[i] = Σ_k V[i·d + k] · q[k] for i < n, accumulated in float32.
  ;;
  ;; Rows go in blocks of four with one f32x4 accumulator each: every q chunk is loaded once and used for
  ;; four rows, and the four accumulators are independent dependency chains. A block's four sums are
  ;; reduced with a 4×4 transpose (shuffles) into one vector and written with a single v128.store, so `out`
  ;; needs room for n rounded up to a multiple of 4 floats and must be 16-byte aligned. In the last block,
  ;; rows past n read row n − 1 again (their lanes land in out's padding). The d % 4 tail columns are added
  ;; per block as [V[i][k], V[i+1][k], V[i+2][k], V[i+3][k]] · q[k]. `q` needs no alignment or padding.
  (func $matvec (export "matvec")
    (param $v i32) (param $q i32) (param $out i32) (param $n i32) (param $d i32)
    (local $rowBytes i32) ;; 4·d
    (local $bodyBytes i32) ;; 4·(d rounded down to a multiple of 4): the part of a row done with f32x4
    (local $i i32) ;; first row of the block
    (local $k i32) ;; byte offset within a row
    (local $r0 i32) (local $r1 i32) (local $r2 i32) (local $r3 i32) ;; row pointers of the block
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) ;; accumulators
    (local $qk v128)
    (local $s v128)

    (if (i32.le_s (local.get $n) (i32.const 0)) (then (return)))
    (local.set $rowBytes (i32.shl (local.get $d) (i32.const 2)))
    (local.set $bodyBytes (i32.and (local.get $rowBytes) (i32.const -16)))
    (local.set $r0 (local.get $v))

    (loop $rows
      ;; Row pointers; rows past the end repeat row n − 1 (select keeps the previous pointer).
      (local.set $r1 (select
        (i32.add (local.get $r0) (local.get $rowBytes)) (local.get $r0)
        (i32.lt_s (i32.add (local.get $i) (i32.const 1)) (local.get $n))))
      (local.set $r2 (select
        (i32.add (local.get $r1) (local.get $rowBytes)) (local.get $r1)
        (i32.lt_s (i32.add (local.get $i) (i32.const 2)) (local.get $n))))
      (local.set $r3 (select
        (i32.add (local.get $r2) (local.get $rowBytes)) (local.get $r2)
        (i32.lt_s (i32.add (local.get $i) (i32.const 3)) (local.get $n))))

      (local.set $a0 (v128.const i32x4 0 0 0 0))
      (local.set $a1 (v128.const i32x4 0 0 0 0))
      (local.set $a2 (v128.const i32x4 0 0 0 0))
      (local.set $a3 (v128.const i32x4 0 0 0 0))
      (local.set $k (i32.const 0))
      (block $bodyDone
        (br_if $bodyDone (i32.eqz (local.get $bodyBytes)))
        (loop $body
          (local.set $qk (v128.load align=4 (i32.add (local.get $q) (local.get $k))))
          (local.set $a0 (f32x4.add (local.get $a0)
            (f32x4.mul (v128.load align=4 (i32.add (local.get $r0) (local.get $k))) (local.get $qk))))
          (local.set $a1 (f32x4.add (local.get $a1)
            (f32x4.mul (v128.load align=4 (i32.add (local.get $r1) (local.get $k))) (local.get $qk))))
          (local.set $a2 (f32x4.add (local.get $a2)
            (f32x4.mul (v128.load align=4 (i32.add (local.get $r2) (local.get $k))) (local.get $qk))))
          (local.set $a3 (f32x4.add (local.get $a3)
            (f32x4.mul (v128.load align=4 (i32.add (local.get $r3) (local.get $k))) (local.get $qk))))
          (local.set $k (i32.add (local.get $k) (i32.const 16)))
          (br_if $body (i32.lt_u (local.get $k) (local.get $bodyBytes)))))

      ;; Transpose-reduce: s = [Σa0, Σa1, Σa2, Σa3].
      ;; a01 = [a0.0+a0.2, a1.0+a1.2, a0.1+a0.3, a1.1+a1.3], a23 likewise.
      (local.set $a0 (f32x4.add
        (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a0) (local.get $a1))
        (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a0) (local.get $a1))))
      (local.set $a2 (f32x4.add
        (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a2) (local.get $a3))
        (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a2) (local.get $a3))))
      (local.set $s (f32x4.add
        (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $a0) (local.get $a2))
        (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $a0) (local.get $a2))))

      ;; Tail columns (d % 4 of them), one column of the block at a time.
      (block $tailDone
        (loop $tail
          (br_if $tailDone (i32.ge_u (local.get $k) (local.get $rowBytes)))
          (local.set $s (f32x4.add (local.get $s)
            (f32x4.mul
              (f32x4.replace_lane 3
                (f32x4.replace_lane 2
                  (f32x4.replace_lane 1
                    (f32x4.splat (f32.load (i32.add (local.get $r0) (local.get $k))))
                    (f32.load (i32.add (local.get $r1) (local.get $k))))
                  (f32.load (i32.add (local.get $r2) (local.get $k))))
                (f32.load (i32.add (local.get $r3) (local.get $k))))
              (f32x4.splat (f32.load (i32.add (local.get $q) (local.get $k)))))))
          (local.set $k (i32.add (local.get $k) (i32.const 4)))
          (br $tail)))

      (v128.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (local.get $s))
      (local.set $r0 (i32.add (local.get $r3) (local.get $rowBytes)))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br_if $rows (i32.lt_s (local.get $i) (local.get $n)))))

  ;; Exact products in float64 (ExactRows in matvec.ts). Each output is one sum taken in order, in float64, so it
  ;; equals a scalar loop's bit for bit; SIMD lanes run over rows, never within a sum.

  ;; out[i] = Σ_k V[i][k]·q[k] (float32 inputs, products and sums in float64, rounded to float32 at the end) for
  ;; i < n, with V in blocks of four rows interleaved by column: block b holds [V[4b][k], V[4b+1][k], V[4b+2][k],
  ;; V[4b+3][k]] at v + 16·(b·d + k). Two blocks per step (four f64x2 chains). `out` needs n rounded up to 4
  ;; floats (16-byte aligned); rows past n must be zero (their lanes land in the padding).
  (func $matvec64x4 (export "matvec64x4")
    (param $v i32) (param $q i32) (param $out i32) (param $n i32) (param $d i32)
    (local $blocks i32) (local $b i32) (local $k i32) (local $blockBytes i32)
    (local $p0 i32) (local $p1 i32) (local $x v128) (local $qk v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (if (i32.le_s (local.get $n) (i32.const 0)) (then (return)))
    (local.set $blocks (i32.shr_u (i32.add (local.get $n) (i32.const 3)) (i32.const 2)))
    (local.set $blockBytes (i32.shl (local.get $d) (i32.const 4)))
    (local.set $b (i32.const 0))
    (loop $blocksLoop
      (local.set $p0 (i32.add (local.get $v) (i32.mul (local.get $b) (local.get $blockBytes))))
      ;; The second block of the step; past the last block it repeats the first (its sums are not stored).
      (local.set $p1 (select
        (i32.add (local.get $p0) (local.get $blockBytes)) (local.get $p0)
        (i32.lt_u (i32.add (local.get $b) (i32.const 1)) (local.get $blocks))))
      (local.set $a0 (v128.const i64x2 0 0))
      (local.set $a1 (v128.const i64x2 0 0))
      (local.set $a2 (v128.const i64x2 0 0))
      (local.set $a3 (v128.const i64x2 0 0))
      (local.set $k (i32.const 0))
      (block $kDone
        (br_if $kDone (i32.eqz (local.get $d)))
        (loop $kLoop
          (local.set $qk (f64x2.splat (f64.promote_f32
            (f32.load (i32.add (local.get $q) (i32.shl (local.get $k) (i32.const 2)))))))
          (local.set $x (v128.load (i32.add (local.get $p0) (i32.shl (local.get $k) (i32.const 4)))))
          (local.set $a0 (f64x2.add (local.get $a0) (f64x2.mul (f64x2.promote_low_f32x4 (local.get $x)) (local.get $qk))))
          (local.set $a1 (f64x2.add (local.get $a1) (f64x2.mul
            (f64x2.promote_low_f32x4
              (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x) (local.get $x)))
            (local.get $qk))))
          (local.set $x (v128.load (i32.add (local.get $p1) (i32.shl (local.get $k) (i32.const 4)))))
          (local.set $a2 (f64x2.add (local.get $a2) (f64x2.mul (f64x2.promote_low_f32x4 (local.get $x)) (local.get $qk))))
          (local.set $a3 (f64x2.add (local.get $a3) (f64x2.mul
            (f64x2.promote_low_f32x4
              (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x) (local.get $x)))
            (local.get $qk))))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br_if $kLoop (i32.lt_u (local.get $k) (local.get $d)))))
      ;; [Σ row 4b, 4b+1, 4b+2, 4b+3] as float32.
      (v128.store (i32.add (local.get $out) (i32.shl (local.get $b) (i32.const 4)))
        (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
          (f32x4.demote_f64x2_zero (local.get $a0)) (f32x4.demote_f64x2_zero (local.get $a1))))
      (if (i32.lt_u (i32.add (local.get $b) (i32.const 1)) (local.get $blocks))
        (then
          (v128.store (i32.add (local.get $out) (i32.shl (i32.add (local.get $b) (i32.const 1)) (i32.const 4)))
            (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
              (f32x4.demote_f64x2_zero (local.get $a2)) (f32x4.demote_f64x2_zero (local.get $a3))))))
      (local.set $b (i32.add (local.get $b) (i32.const 2)))
      (br_if $blocksLoop (i32.lt_u (local.get $b) (local.get $blocks)))))

;; out[a] = Σ_t M[a][c_t]·(x ? x[c_t] : 1) over t < count (c = cols, i32), for the rows of `pairs` pairs, with M
  ;; (float64) in pairs of rows interleaved by column: pair p holds [M[2p][c], M[2p+1][c]] at m + p·pairBytes + 16·c.
  ;; `x` is a float64 vector, or 0 for all ones (a plain sum of the listed columns, with no multiplication). Four
  ;; pairs per step (four independent f64x2 chains sharing each column index); pairs past the end repeat the last
  ;; one and are not stored. `out` (float64, 16-byte aligned) receives 2·pairs values.
  (func $pairdots64 (export "pairdots64")
    (param $m i32) (param $pairBytes i32) (param $pairs i32) (param $cols i32) (param $count i32) (param $x i32)
    (param $out i32)
    (local $p i32) (local $r0 i32) (local $r1 i32) (local $r2 i32) (local $r3 i32) (local $last i32)
    (local $t i32) (local $end i32) (local $c i32) (local $xc v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (if (i32.le_s (local.get $pairs) (i32.const 0)) (then (return)))
    (local.set $end (i32.add (local.get $cols) (i32.shl (local.get $count) (i32.const 2))))
    (local.set $last (i32.add (local.get $m) (i32.mul (i32.sub (local.get $pairs) (i32.const 1)) (local.get $pairBytes))))
    (local.set $p (i32.const 0))
    (loop $pairsLoop
      (local.set $r0 (i32.add (local.get $m) (i32.mul (local.get $p) (local.get $pairBytes))))
      (local.set $r1 (select (i32.add (local.get $r0) (local.get $pairBytes)) (local.get $last)
        (i32.lt_u (i32.add (local.get $p) (i32.const 1)) (local.get $pairs))))
      (local.set $r2 (select (i32.add (local.get $r1) (local.get $pairBytes)) (local.get $last)
        (i32.lt_u (i32.add (local.get $p) (i32.const 2)) (local.get $pairs))))
      (local.set $r3 (select (i32.add (local.get $r2) (local.get $pairBytes)) (local.get $last)
        (i32.lt_u (i32.add (local.get $p) (i32.const 3)) (local.get $pairs))))
      (local.set $a0 (v128.const i64x2 0 0))
      (local.set $a1 (v128.const i64x2 0 0))
      (local.set $a2 (v128.const i64x2 0 0))
      (local.set $a3 (v128.const i64x2 0 0))
      (local.set $t (local.get $cols))
      (if (local.get $x)
        (then
          (block $xDone
            (loop $xLoop
              (br_if $xDone (i32.ge_u (local.get $t) (local.get $end)))
              (local.set $c (i32.load (local.get $t)))
              (local.set $xc (v128.load64_splat (i32.add (local.get $x) (i32.shl (local.get $c) (i32.const 3)))))
              (local.set $c (i32.shl (local.get $c) (i32.const 4)))
              (local.set $a0 (f64x2.add (local.get $a0)
                (f64x2.mul (v128.load (i32.add (local.get $r0) (local.get $c))) (local.get $xc))))
              (local.set $a1 (f64x2.add (local.get $a1)
                (f64x2.mul (v128.load (i32.add (local.get $r1) (local.get $c))) (local.get $xc))))
              (local.set $a2 (f64x2.add (local.get $a2)
                (f64x2.mul (v128.load (i32.add (local.get $r2) (local.get $c))) (local.get $xc))))
              (local.set $a3 (f64x2.add (local.get $a3)
                (f64x2.mul (v128.load (i32.add (local.get $r3) (local.get $c))) (local.get $xc))))
              (local.set $t (i32.add (local.get $t) (i32.const 4)))
              (br $xLoop))))
        (else
          (block $onesDone
            (loop $onesLoop
              (br_if $onesDone (i32.ge_u (local.get $t) (local.get $end)))
              (local.set $c (i32.shl (i32.load (local.get $t)) (i32.const 4)))
              (local.set $a0 (f64x2.add (local.get $a0) (v128.load (i32.add (local.get $r0) (local.get $c)))))
              (local.set $a1 (f64x2.add (local.get $a1) (v128.load (i32.add (local.get $r1) (local.get $c)))))
              (local.set $a2 (f64x2.add (local.get $a2) (v128.load (i32.add (local.get $r2) (local.get $c)))))
              (local.set $a3 (f64x2.add (local.get $a3) (v128.load (i32.add (local.get $r3) (local.get $c)))))
              (local.set $t (i32.add (local.get $t) (i32.const 4)))
              (br $onesLoop)))))
      (v128.store (i32.add (local.get $out) (i32.shl (local.get $p) (i32.const 4))) (local.get $a0))
      (if (i32.lt_u (i32.add (local.get $p) (i32.const 1)) (local.get $pairs))
        (then (v128.store (i32.add (local.get $out) (i32.shl (i32.add (local.get $p) (i32.const 1)) (i32.const 4)))
          (local.get $a1))))
      (if (i32.lt_u (i32.add (local.get $p) (i32.const 2)) (local.get $pairs))
        (then (v128.store (i32.add (local.get $out) (i32.shl (i32.add (local.get $p) (i32.const 2)) (i32.const 4)))
          (local.get $a2))))
      (if (i32.lt_u (i32.add (local.get $p) (i32.const 3)) (local.get $pairs))
        (then (v128.store (i32.add (local.get $out) (i32.shl (i32.add (local.get $p) (i32.const 3)) (i32.const 4)))
          (local.get $a3))))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br_if $pairsLoop (i32.lt_u (local.get $p) (local.get $pairs)))))

  ;; out[t] = Σ_p w[index[p]] over p in [indptr[c], indptr[c+1]) for c = cols[t], t < count (float64, in order):
  ;; colsums64 over a list of columns.
  (func $listsums64 (export "listsums64")
    (param $indptr i32) (param $index i32) (param $cols i32) (param $count i32) (param $w i32) (param $out i32)
    (local $t i32) (local $c i32) (local $p i32) (local $end i32) (local $s f64)
    (if (i32.le_s (local.get $count) (i32.const 0)) (then (return)))
    (loop $cols
      (local.set $c (i32.add (local.get $indptr)
        (i32.shl (i32.load (i32.add (local.get $cols) (i32.shl (local.get $t) (i32.const 2)))) (i32.const 2))))
      (local.set $p (i32.add (local.get $index) (i32.shl (i32.load (local.get $c)) (i32.const 2))))
      (local.set $end (i32.add (local.get $index) (i32.shl (i32.load offset=4 (local.get $c)) (i32.const 2))))
      (local.set $s (f64.const 0))
      (block $done
        (loop $entries
          (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
          (local.set $s (f64.add (local.get $s)
            (f64.load (i32.add (local.get $w) (i32.shl (i32.load (local.get $p)) (i32.const 3))))))
          (local.set $p (i32.add (local.get $p) (i32.const 4)))
          (br $entries)))
      (f64.store (i32.add (local.get $out) (i32.shl (local.get $t) (i32.const 3))) (local.get $s))
      (local.set $t (i32.add (local.get $t) (i32.const 1)))
      (br_if $cols (i32.lt_u (local.get $t) (local.get $count)))))

    ;; out[j] = Σ_p w[index[p]] over p in [indptr[j], indptr[j+1]) (float64, in order) for j < n: the sums of a
  ;; vector over the columns of a compressed sparse matrix (i32 indptr and index).
  (func $colsums64 (export "colsums64")
    (param $indptr i32) (param $index i32) (param $n i32) (param $w i32) (param $out i32)
    (local $j i32) (local $p i32) (local $end i32) (local $s f64)
    (if (i32.le_s (local.get $n) (i32.const 0)) (then (return)))
    (local.set $p (i32.add (local.get $index) (i32.shl (i32.load (local.get $indptr)) (i32.const 2))))
    (loop $cols
      (local.set $end (i32.add (local.get $index)
        (i32.shl (i32.load (i32.add (local.get $indptr) (i32.shl (i32.add (local.get $j) (i32.const 1)) (i32.const 2))))
          (i32.const 2))))
      (local.set $s (f64.const 0))
      (block $done
        (loop $entries
          (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
          (local.set $s (f64.add (local.get $s)
            (f64.load (i32.add (local.get $w) (i32.shl (i32.load (local.get $p)) (i32.const 3))))))
          (local.set $p (i32.add (local.get $p) (i32.const 4)))
          (br $entries)))
      (f64.store (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 3))) (local.get $s))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br_if $cols (i32.lt_u (local.get $j) (local.get $n))))))
