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
      (br_if $rows (i32.lt_s (local.get $i) (local.get $n))))))
