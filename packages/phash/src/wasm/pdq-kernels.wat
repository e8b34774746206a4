;; PDQ's hot loops in WebAssembly with 128-bit SIMD: the Jarosz box filter along 4 rows at once
;; and down 4 columns at a time, and the 64×64 → 16×16 DCT. Every lane performs exactly the float
;; operations of the JavaScript code it replaces (pdq-box-filter.ts, pdq-dct.ts), in the same order,
;; so results are bit for bit the same; the tests compare both on random and real inputs.
;;
;; Divisions by a window's sample count are f32 divisions, as in PDQ's reference; the JavaScript
;; multiplies by the double reciprocal instead, which rounds to the same float (pdq-box-filter.ts).
;;
;; Build: `node --import tsx packages/phash/scripts/build-wasm.ts` writes pdq-kernels.wasm.ts from this file;
;; a test checks that the two agree.
(module
  (memory (export "memory") 1)

  ;; The DCT's fixed buffers (byte offsets): the 16×64 matrix D, its transpose Dᵀ (64×16), the
  ;; input A (64×64), the intermediate T = D·A (16×64) and the output B (16×16). Memory from
  ;; 32768 on is the box filter's, laid out by the caller.
  (global $D i32 (i32.const 0))
  (global $DT i32 (i32.const 4096))
  (global $A i32 (i32.const 8192))
  (global $T i32 (i32.const 24576))
  (global $B i32 (i32.const 28672))

  ;; boxFilterRows4At: 4 rows of n floats at byte offsets in0..in3, window w; outputs to `out`,
  ;; the 4 rows back to back. Lane k is row k. `hist` is scratch for n vectors (16·n bytes): the
  ;; samples leaving the window are read back from it as one vector.
  (func (export "rows4")
    (param $in0 i32) (param $in1 i32) (param $in2 i32) (param $in3 i32)
    (param $out i32) (param $n i32) (param $w i32) (param $hist i32)
    (local $half i32) (local $i i32) (local $end i32) (local $ri i32) (local $li i32)
    (local $o0 i32) (local $o1 i32) (local $o2 i32) (local $o3 i32) (local $row i32)
    (local $s v128) (local $v v128) (local $q v128) (local $count f32) (local $k v128)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
    (local $q0 v128) (local $q1 v128) (local $q2 v128) (local $q3 v128)
    (local.set $half (i32.shr_u (i32.add (local.get $w) (i32.const 2)) (i32.const 1)))
    (local.set $row (i32.shl (local.get $n) (i32.const 2)))
    (local.set $o0 (local.get $out))
    (local.set $o1 (i32.add (local.get $o0) (local.get $row)))
    (local.set $o2 (i32.add (local.get $o1) (local.get $row)))
    (local.set $o3 (i32.add (local.get $o2) (local.get $row)))
    (local.set $s (v128.const f32x4 0 0 0 0))
    ;; $ri: byte offset of the next sample within a row; $li: of the sample leaving the window.
    ;; Growing window, no output yet: half − 1 samples.
    (local.set $end (i32.shl (i32.sub (local.get $half) (i32.const 1)) (i32.const 2)))
    (block $b1 (loop $l1
      (br_if $b1 (i32.ge_s (local.get $ri) (local.get $end)))
      (local.set $v (f32x4.replace_lane 3
        (f32x4.replace_lane 2
          (f32x4.replace_lane 1
            (f32x4.splat (f32.load (i32.add (local.get $in0) (local.get $ri))))
            (f32.load (i32.add (local.get $in1) (local.get $ri))))
          (f32.load (i32.add (local.get $in2) (local.get $ri))))
        (f32.load (i32.add (local.get $in3) (local.get $ri)))))
      (v128.store (i32.add (local.get $hist) (i32.shl (local.get $ri) (i32.const 2))) (local.get $v))
      (local.set $s (f32x4.add (local.get $s) (local.get $v)))
      (local.set $count (f32.add (local.get $count) (f32.const 1)))
      (local.set $ri (i32.add (local.get $ri) (i32.const 4)))
      (br $l1)))
    ;; Growing window with output: w − half + 1 samples.
    (local.set $i (i32.const 0))
    (local.set $end (i32.add (i32.sub (local.get $w) (local.get $half)) (i32.const 1)))
    (block $b2 (loop $l2
      (br_if $b2 (i32.ge_s (local.get $i) (local.get $end)))
      (local.set $v (f32x4.replace_lane 3
        (f32x4.replace_lane 2
          (f32x4.replace_lane 1
            (f32x4.splat (f32.load (i32.add (local.get $in0) (local.get $ri))))
            (f32.load (i32.add (local.get $in1) (local.get $ri))))
          (f32.load (i32.add (local.get $in2) (local.get $ri))))
        (f32.load (i32.add (local.get $in3) (local.get $ri)))))
      (v128.store (i32.add (local.get $hist) (i32.shl (local.get $ri) (i32.const 2))) (local.get $v))
      (local.set $s (f32x4.add (local.get $s) (local.get $v)))
      (local.set $count (f32.add (local.get $count) (f32.const 1)))
      (local.set $q (f32x4.div (local.get $s) (f32x4.splat (local.get $count))))
      (f32.store (local.get $o0) (f32x4.extract_lane 0 (local.get $q)))
      (f32.store (local.get $o1) (f32x4.extract_lane 1 (local.get $q)))
      (f32.store (local.get $o2) (f32x4.extract_lane 2 (local.get $q)))
      (f32.store (local.get $o3) (f32x4.extract_lane 3 (local.get $q)))
      (local.set $o0 (i32.add (local.get $o0) (i32.const 4)))
      (local.set $o1 (i32.add (local.get $o1) (i32.const 4)))
      (local.set $o2 (i32.add (local.get $o2) (i32.const 4)))
      (local.set $o3 (i32.add (local.get $o3) (i32.const 4)))
      (local.set $ri (i32.add (local.get $ri) (i32.const 4)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l2)))
    ;; Full window (n − w samples, each added, then the one leaving subtracted), 4 samples of each row at a time: one load per row, a 4×4 transpose to 4
    ;; vectors of the rows' samples, the 4 steps, and the outputs transposed back to 4 stores.
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $k (f32x4.splat (local.get $count)))
    (block $b3v (loop $l3v
      (br_if $b3v (i32.gt_s (i32.add (local.get $ri) (i32.const 16)) (local.get $end)))
      (local.set $a (v128.load (i32.add (local.get $in0) (local.get $ri))))
      (local.set $b (v128.load (i32.add (local.get $in1) (local.get $ri))))
      (local.set $c (v128.load (i32.add (local.get $in2) (local.get $ri))))
      (local.set $d (v128.load (i32.add (local.get $in3) (local.get $ri))))
      (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a) (local.get $b)))
      (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a) (local.get $b)))
      (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $c) (local.get $d)))
      (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $c) (local.get $d)))
      (local.set $x0 (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
      (local.set $x1 (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
      (local.set $x2 (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
      (local.set $x3 (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
      (v128.store (i32.add (local.get $hist) (i32.shl (local.get $ri) (i32.const 2))) (local.get $x0))
      (local.set $s (f32x4.sub
        (f32x4.add (local.get $s) (local.get $x0))
        (v128.load (i32.add (local.get $hist) (i32.shl (local.get $li) (i32.const 2))))))
      (local.set $q0 (f32x4.div (local.get $s) (local.get $k)))
      (v128.store offset=16 (i32.add (local.get $hist) (i32.shl (local.get $ri) (i32.const 2))) (local.get $x1))
      (local.set $s (f32x4.sub
        (f32x4.add (local.get $s) (local.get $x1))
        (v128.load offset=16 (i32.add (local.get $hist) (i32.shl (local.get $li) (i32.const 2))))))
      (local.set $q1 (f32x4.div (local.get $s) (local.get $k)))
      (v128.store offset=32 (i32.add (local.get $hist) (i32.shl (local.get $ri) (i32.const 2))) (local.get $x2))
      (local.set $s (f32x4.sub
        (f32x4.add (local.get $s) (local.get $x2))
        (v128.load offset=32 (i32.add (local.get $hist) (i32.shl (local.get $li) (i32.const 2))))))
      (local.set $q2 (f32x4.div (local.get $s) (local.get $k)))
      (v128.store offset=48 (i32.add (local.get $hist) (i32.shl (local.get $ri) (i32.const 2))) (local.get $x3))
      (local.set $s (f32x4.sub
        (f32x4.add (local.get $s) (local.get $x3))
        (v128.load offset=48 (i32.add (local.get $hist) (i32.shl (local.get $li) (i32.const 2))))))
      (local.set $q3 (f32x4.div (local.get $s) (local.get $k)))
      (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $q0) (local.get $q1)))
      (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $q0) (local.get $q1)))
      (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $q2) (local.get $q3)))
      (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $q2) (local.get $q3)))
      (local.set $a (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
      (local.set $b (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
      (local.set $c (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
      (local.set $d (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
      (v128.store (local.get $o0) (local.get $a))
      (v128.store (local.get $o1) (local.get $b))
      (v128.store (local.get $o2) (local.get $c))
      (v128.store (local.get $o3) (local.get $d))
      (local.set $o0 (i32.add (local.get $o0) (i32.const 16)))
      (local.set $o1 (i32.add (local.get $o1) (i32.const 16)))
      (local.set $o2 (i32.add (local.get $o2) (i32.const 16)))
      (local.set $o3 (i32.add (local.get $o3) (i32.const 16)))
      (local.set $ri (i32.add (local.get $ri) (i32.const 16)))
      (local.set $li (i32.add (local.get $li) (i32.const 16)))
      (br $l3v)))
    ;; The rest of the full window, one sample at a time.
    (block $b3 (loop $l3
      (br_if $b3 (i32.ge_s (local.get $ri) (local.get $end)))
      (local.set $v (f32x4.replace_lane 3
        (f32x4.replace_lane 2
          (f32x4.replace_lane 1
            (f32x4.splat (f32.load (i32.add (local.get $in0) (local.get $ri))))
            (f32.load (i32.add (local.get $in1) (local.get $ri))))
          (f32.load (i32.add (local.get $in2) (local.get $ri))))
        (f32.load (i32.add (local.get $in3) (local.get $ri)))))
      (v128.store (i32.add (local.get $hist) (i32.shl (local.get $ri) (i32.const 2))) (local.get $v))
      (local.set $s (f32x4.sub
        (f32x4.add (local.get $s) (local.get $v))
        (v128.load (i32.add (local.get $hist) (i32.shl (local.get $li) (i32.const 2))))))
      (local.set $q (f32x4.div (local.get $s) (f32x4.splat (local.get $count))))
      (f32.store (local.get $o0) (f32x4.extract_lane 0 (local.get $q)))
      (f32.store (local.get $o1) (f32x4.extract_lane 1 (local.get $q)))
      (f32.store (local.get $o2) (f32x4.extract_lane 2 (local.get $q)))
      (f32.store (local.get $o3) (f32x4.extract_lane 3 (local.get $q)))
      (local.set $o0 (i32.add (local.get $o0) (i32.const 4)))
      (local.set $o1 (i32.add (local.get $o1) (i32.const 4)))
      (local.set $o2 (i32.add (local.get $o2) (i32.const 4)))
      (local.set $o3 (i32.add (local.get $o3) (i32.const 4)))
      (local.set $ri (i32.add (local.get $ri) (i32.const 4)))
      (local.set $li (i32.add (local.get $li) (i32.const 4)))
      (br $l3)))
    ;; Shrinking window: half − 1 outputs.
    (local.set $i (i32.const 0))
    (local.set $end (i32.sub (local.get $half) (i32.const 1)))
    (block $b4 (loop $l4
      (br_if $b4 (i32.ge_s (local.get $i) (local.get $end)))
      (local.set $s (f32x4.sub (local.get $s)
        (v128.load (i32.add (local.get $hist) (i32.shl (local.get $li) (i32.const 2))))))
      (local.set $count (f32.sub (local.get $count) (f32.const 1)))
      (local.set $q (f32x4.div (local.get $s) (f32x4.splat (local.get $count))))
      (f32.store (local.get $o0) (f32x4.extract_lane 0 (local.get $q)))
      (f32.store (local.get $o1) (f32x4.extract_lane 1 (local.get $q)))
      (f32.store (local.get $o2) (f32x4.extract_lane 2 (local.get $q)))
      (f32.store (local.get $o3) (f32x4.extract_lane 3 (local.get $q)))
      (local.set $o0 (i32.add (local.get $o0) (i32.const 4)))
      (local.set $o1 (i32.add (local.get $o1) (i32.const 4)))
      (local.set $o2 (i32.add (local.get $o2) (i32.const 4)))
      (local.set $o3 (i32.add (local.get $o3) (i32.const 4)))
      (local.set $li (i32.add (local.get $li) (i32.const 4)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l4))))

  ;; ColumnBoxFilter.push4: 4 input rows (back to back at $in, $width floats each) through a full
  ;; window. Per column: the running sum from $sums, each row added and the ring slot's row (the
  ;; one leaving) subtracted, the slot overwritten, the output row written; 4 columns per step.
  (func (export "columns4")
    (param $sums i32) (param $in i32) (param $width i32)
    (param $b0 i32) (param $b1 i32) (param $b2 i32) (param $b3 i32)
    (param $o0 i32) (param $o1 i32) (param $o2 i32) (param $o3 i32) (param $count f32)
    (local $c i32) (local $end i32) (local $vend i32) (local $row i32)
    (local $s v128) (local $x v128) (local $k v128)
    (local $t f32) (local $y f32) (local $kf f32)
    (local.set $row (i32.shl (local.get $width) (i32.const 2)))
    (local.set $end (local.get $row))
    (local.set $vend (i32.and (local.get $row) (i32.const -16)))
    (local.set $k (f32x4.splat (local.get $count)))
    (block $done (loop $step
      (br_if $done (i32.ge_s (local.get $c) (local.get $vend)))
      (local.set $s (v128.load (i32.add (local.get $sums) (local.get $c))))
      ;; row 0
      (local.set $x (v128.load (i32.add (local.get $in) (local.get $c))))
      (local.set $s (f32x4.sub (f32x4.add (local.get $s) (local.get $x)) (v128.load (i32.add (local.get $b0) (local.get $c)))))
      (v128.store (i32.add (local.get $b0) (local.get $c)) (local.get $x))
      (v128.store (i32.add (local.get $o0) (local.get $c)) (f32x4.div (local.get $s) (local.get $k)))
      ;; row 1
      (local.set $x (v128.load (i32.add (i32.add (local.get $in) (local.get $row)) (local.get $c))))
      (local.set $s (f32x4.sub (f32x4.add (local.get $s) (local.get $x)) (v128.load (i32.add (local.get $b1) (local.get $c)))))
      (v128.store (i32.add (local.get $b1) (local.get $c)) (local.get $x))
      (v128.store (i32.add (local.get $o1) (local.get $c)) (f32x4.div (local.get $s) (local.get $k)))
      ;; row 2
      (local.set $x (v128.load (i32.add (i32.add (local.get $in) (i32.shl (local.get $row) (i32.const 1))) (local.get $c))))
      (local.set $s (f32x4.sub (f32x4.add (local.get $s) (local.get $x)) (v128.load (i32.add (local.get $b2) (local.get $c)))))
      (v128.store (i32.add (local.get $b2) (local.get $c)) (local.get $x))
      (v128.store (i32.add (local.get $o2) (local.get $c)) (f32x4.div (local.get $s) (local.get $k)))
      ;; row 3
      (local.set $x (v128.load (i32.add (i32.add (local.get $in) (i32.mul (local.get $row) (i32.const 3))) (local.get $c))))
      (local.set $s (f32x4.sub (f32x4.add (local.get $s) (local.get $x)) (v128.load (i32.add (local.get $b3) (local.get $c)))))
      (v128.store (i32.add (local.get $b3) (local.get $c)) (local.get $x))
      (v128.store (i32.add (local.get $o3) (local.get $c)) (f32x4.div (local.get $s) (local.get $k)))
      (v128.store (i32.add (local.get $sums) (local.get $c)) (local.get $s))
      (local.set $c (i32.add (local.get $c) (i32.const 16)))
      (br $step)))
    ;; The last width mod 4 columns, one at a time, the same operations.
    (block $tdone (loop $tail
      (br_if $tdone (i32.ge_s (local.get $c) (local.get $end)))
      (local.set $t (f32.load (i32.add (local.get $sums) (local.get $c))))
      (local.set $y (f32.load (i32.add (local.get $in) (local.get $c))))
      (local.set $t (f32.sub (f32.add (local.get $t) (local.get $y)) (f32.load (i32.add (local.get $b0) (local.get $c)))))
      (f32.store (i32.add (local.get $b0) (local.get $c)) (local.get $y))
      (f32.store (i32.add (local.get $o0) (local.get $c)) (f32.div (local.get $t) (local.get $count)))
      (local.set $y (f32.load (i32.add (i32.add (local.get $in) (local.get $row)) (local.get $c))))
      (local.set $t (f32.sub (f32.add (local.get $t) (local.get $y)) (f32.load (i32.add (local.get $b1) (local.get $c)))))
      (f32.store (i32.add (local.get $b1) (local.get $c)) (local.get $y))
      (f32.store (i32.add (local.get $o1) (local.get $c)) (f32.div (local.get $t) (local.get $count)))
      (local.set $y (f32.load (i32.add (i32.add (local.get $in) (i32.shl (local.get $row) (i32.const 1))) (local.get $c))))
      (local.set $t (f32.sub (f32.add (local.get $t) (local.get $y)) (f32.load (i32.add (local.get $b2) (local.get $c)))))
      (f32.store (i32.add (local.get $b2) (local.get $c)) (local.get $y))
      (f32.store (i32.add (local.get $o2) (local.get $c)) (f32.div (local.get $t) (local.get $count)))
      (local.set $y (f32.load (i32.add (i32.add (local.get $in) (i32.mul (local.get $row) (i32.const 3))) (local.get $c))))
      (local.set $t (f32.sub (f32.add (local.get $t) (local.get $y)) (f32.load (i32.add (local.get $b3) (local.get $c)))))
      (f32.store (i32.add (local.get $b3) (local.get $c)) (local.get $y))
      (f32.store (i32.add (local.get $o3) (local.get $c)) (f32.div (local.get $t) (local.get $count)))
      (f32.store (i32.add (local.get $sums) (local.get $c)) (local.get $t))
      (local.set $c (i32.add (local.get $c) (i32.const 4)))
      (br $tail))))

  ;; PDQ luma of $n RGB pixels at $src (3 bytes each; 16 readable bytes past the last) into $n
  ;; floats at $dst: (R·cR + G·cG) + B·cB in float, as pdq-luma.ts, 4 pixels a step.
  (func (export "luma") (param $src i32) (param $dst i32) (param $n i32)
    (local $i i32) (local $p i32) (local $px v128) (local $zero v128)
    (local $cr v128) (local $cg v128) (local $cb v128)
    (local.set $cr (f32x4.splat (f32.const 0.299)))
    (local.set $cg (f32x4.splat (f32.const 0.587)))
    (local.set $cb (f32x4.splat (f32.const 0.114)))
    (block $vdone (loop $v
      (br_if $vdone (i32.gt_s (i32.add (local.get $i) (i32.const 4)) (local.get $n)))
      (local.set $px (v128.load (i32.add (local.get $src) (i32.mul (local.get $i) (i32.const 3)))))
      (v128.store (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 2)))
        (f32x4.add
          (f32x4.add
            (f32x4.mul (local.get $cr) (f32x4.convert_i32x4_u (i8x16.shuffle 0 16 16 16 3 16 16 16 6 16 16 16 9 16 16 16 (local.get $px) (local.get $zero))))
            (f32x4.mul (local.get $cg) (f32x4.convert_i32x4_u (i8x16.shuffle 1 16 16 16 4 16 16 16 7 16 16 16 10 16 16 16 (local.get $px) (local.get $zero)))))
          (f32x4.mul (local.get $cb) (f32x4.convert_i32x4_u (i8x16.shuffle 2 16 16 16 5 16 16 16 8 16 16 16 11 16 16 16 (local.get $px) (local.get $zero))))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $v)))
    (block $done (loop $one
      (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
      (local.set $p (i32.add (local.get $src) (i32.mul (local.get $i) (i32.const 3))))
      (f32.store (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 2)))
        (f32.add
          (f32.add
            (f32.mul (f32.const 0.299) (f32.convert_i32_u (i32.load8_u (local.get $p))))
            (f32.mul (f32.const 0.587) (f32.convert_i32_u (i32.load8_u offset=1 (local.get $p)))))
          (f32.mul (f32.const 0.114) (f32.convert_i32_u (i32.load8_u offset=2 (local.get $p))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $one))))

  ;; dct64To16 on A: T = D·A, each T[i][j] a chain over k in order (lanes are 4 neighbouring j,
  ;; 4 vectors side by side), then B = T·Dᵀ (lanes are 4 neighbouring outputs j of row i, read
  ;; from Dᵀ). Writes B; the caller writes D and Dᵀ once and A before each call.
  (func (export "dct")
    (local $i i32) (local $j i32) (local $k i32) (local $dk v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $p i32)
    ;; T = D·A
    (local.set $i (i32.const 0))
    (block $ib (loop $il
      (br_if $ib (i32.ge_s (local.get $i) (i32.const 16)))
      (local.set $j (i32.const 0))
      (block $jb (loop $jl
        (br_if $jb (i32.ge_s (local.get $j) (i32.const 64)))
        (local.set $a0 (v128.const f32x4 0 0 0 0))
        (local.set $a1 (v128.const f32x4 0 0 0 0))
        (local.set $a2 (v128.const f32x4 0 0 0 0))
        (local.set $a3 (v128.const f32x4 0 0 0 0))
        (local.set $k (i32.const 0))
        (block $kb (loop $kl
          (br_if $kb (i32.ge_s (local.get $k) (i32.const 64)))
          (local.set $dk (f32x4.splat (f32.load (i32.add (global.get $D) (i32.shl (i32.add (i32.shl (local.get $i) (i32.const 6)) (local.get $k)) (i32.const 2))))))
          ;; A[k][j..j+15]
          (local.set $p (i32.add (global.get $A) (i32.shl (i32.add (i32.shl (local.get $k) (i32.const 6)) (local.get $j)) (i32.const 2))))
          (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $dk) (v128.load (local.get $p)))))
          (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $dk) (v128.load offset=16 (local.get $p)))))
          (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $dk) (v128.load offset=32 (local.get $p)))))
          (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $dk) (v128.load offset=48 (local.get $p)))))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br $kl)))
        (local.set $p (i32.add (global.get $T) (i32.shl (i32.add (i32.shl (local.get $i) (i32.const 6)) (local.get $j)) (i32.const 2))))
        (v128.store (local.get $p) (local.get $a0))
        (v128.store offset=16 (local.get $p) (local.get $a1))
        (v128.store offset=32 (local.get $p) (local.get $a2))
        (v128.store offset=48 (local.get $p) (local.get $a3))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $jl)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $il)))
    ;; B = T·Dᵀ: B[i][j] = Σ_k T[i][k]·D[j][k], k in order; Dᵀ[k][j..j+15] is one row of Dᵀ.
    (local.set $i (i32.const 0))
    (block $ib2 (loop $il2
      (br_if $ib2 (i32.ge_s (local.get $i) (i32.const 16)))
      (local.set $a0 (v128.const f32x4 0 0 0 0))
      (local.set $a1 (v128.const f32x4 0 0 0 0))
      (local.set $a2 (v128.const f32x4 0 0 0 0))
      (local.set $a3 (v128.const f32x4 0 0 0 0))
      (local.set $k (i32.const 0))
      (block $kb2 (loop $kl2
        (br_if $kb2 (i32.ge_s (local.get $k) (i32.const 64)))
        (local.set $dk (f32x4.splat (f32.load (i32.add (global.get $T) (i32.shl (i32.add (i32.shl (local.get $i) (i32.const 6)) (local.get $k)) (i32.const 2))))))
        (local.set $p (i32.add (global.get $DT) (i32.shl (i32.shl (local.get $k) (i32.const 4)) (i32.const 2))))
        (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $dk) (v128.load (local.get $p)))))
        (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $dk) (v128.load offset=16 (local.get $p)))))
        (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $dk) (v128.load offset=32 (local.get $p)))))
        (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $dk) (v128.load offset=48 (local.get $p)))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $kl2)))
      (local.set $p (i32.add (global.get $B) (i32.shl (i32.shl (local.get $i) (i32.const 4)) (i32.const 2))))
      (v128.store (local.get $p) (local.get $a0))
      (v128.store offset=16 (local.get $p) (local.get $a1))
      (v128.store offset=32 (local.get $p) (local.get $a2))
      (v128.store offset=48 (local.get $p) (local.get $a3))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $il2))))
)
