import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cholesky, choleskyInverse, choleskySolve, NotPositiveDefiniteError } from '../../src/math/cholesky.ts';
import { Rng } from '../../src/math/random.ts';

function close(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected} (tolerance ${tol})`);
}

/** The lower triangle of the factored array (the upper triangle still holds A). */
function lowerOf(a: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) l[i * n + j] = a[i * n + j]!;
  return l;
}

function matmul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k]!;
      for (let j = 0; j < n; j++) c[i * n + j]! += aik * b[k * n + j]!;
    }
  return c;
}

function transpose(a: Float64Array, n: number): Float64Array {
  const t = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) t[j * n + i] = a[i * n + j]!;
  return t;
}

/** A = MᵀM + n·I with M standard normal: symmetric, well conditioned, seeded. */
function randomSpd(n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const m = new Float64Array(n * n);
  for (let k = 0; k < m.length; k++) m[k] = rng.normal();
  const a = matmul(transpose(m, n), m, n);
  for (let i = 0; i < n; i++) a[i * n + i]! += n;
  return a;
}

test('cholesky of [[4,2],[2,3]] is [[2,0],[1,√2]] in the lower triangle; the upper triangle is untouched', () => {
  // l11 = √4 = 2; l21 = 2/2 = 1; l22 = √(3 − 1²) = √2.
  const a = Float64Array.from([4, 2, 2, 3]);
  cholesky(a, 2);
  close(a[0]!, 2, 0, 'L11');
  close(a[2]!, 1, 0, 'L21');
  close(a[3]!, Math.SQRT2, 1e-15, 'L22');
  assert.equal(a[1], 2, 'upper triangle keeps A12');
});

test('cholesky of a 3×3 SPD matrix matches the hand factor and L·Lᵀ = A', () => {
  // A = [[4,12,−16],[12,37,−43],[−16,−43,98]]:
  // l11 = √4 = 2; l21 = 12/2 = 6; l31 = −16/2 = −8;
  // l22 = √(37 − 6²) = 1; l32 = (−43 − (−8)(6))/1 = 5;
  // l33 = √(98 − 64 − 25) = 3.
  const original = Float64Array.from([4, 12, -16, 12, 37, -43, -16, -43, 98]);
  const a = original.slice();
  cholesky(a, 3);
  const l = lowerOf(a, 3);
  assert.deepEqual(Array.from(l), [2, 0, 0, 6, 1, 0, -8, 5, 3]);
  assert.deepEqual(Array.from(matmul(l, transpose(l, 3), 3)), Array.from(original));
  assert.equal(a[1], 12);
  assert.equal(a[2], -16);
  assert.equal(a[5], -43);
});

test('choleskySolve recovers a known x from b = A·x', () => {
  // [[4,2],[2,3]]·[1,2] = [4+4, 2+6] = [8,8].
  const a = Float64Array.from([4, 2, 2, 3]);
  cholesky(a, 2);
  const b = Float64Array.from([8, 8]);
  choleskySolve(a, 2, b);
  close(b[0]!, 1, 1e-14, 'x1');
  close(b[1]!, 2, 1e-14, 'x2');

  // 3×3: A·[1,−2,0.5] = [4−24−8, 12−74−21.5, −16+86+49] = [−28, −83.5, 119].
  const a3 = Float64Array.from([4, 12, -16, 12, 37, -43, -16, -43, 98]);
  cholesky(a3, 3);
  const b3 = Float64Array.from([-28, -83.5, 119]);
  choleskySolve(a3, 3, b3);
  close(b3[0]!, 1, 1e-12, 'x1');
  close(b3[1]!, -2, 1e-12, 'x2');
  close(b3[2]!, 0.5, 1e-12, 'x3');
});

test('on a seeded random 20×20 SPD matrix: L·Lᵀ = A, solve recovers x, and inverse·A = A·inverse = I', () => {
  const n = 20; // above 4 so the unrolled dot-product loop and its remainder both run
  const a = randomSpd(n, 2024);
  const f = a.slice();
  cholesky(f, n);
  const l = lowerOf(f, n);
  const llt = matmul(l, transpose(l, n), n);
  for (let k = 0; k < n * n; k++) close(llt[k]!, a[k]!, 1e-10 * n, `(L·Lᵀ)[${k}]`);
  for (let i = 0; i < n; i++) assert.ok(l[i * n + i]! > 0, 'positive diagonal');
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) assert.equal(f[i * n + j], a[i * n + j], 'upper kept');

  const rng = new Rng(99);
  const x = Float64Array.from({ length: n }, () => rng.normal());
  const b = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) b[i]! += a[i * n + j]! * x[j]!;
  choleskySolve(f, n, b);
  for (let i = 0; i < n; i++) close(b[i]!, x[i]!, 1e-10, `x[${i}]`);

  const inv = choleskyInverse(f, n);
  const left = matmul(inv, a, n);
  const right = matmul(a, inv, n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      const id = i === j ? 1 : 0;
      close(left[i * n + j]!, id, 1e-10, `(A⁻¹·A)[${i},${j}]`);
      close(right[i * n + j]!, id, 1e-10, `(A·A⁻¹)[${i},${j}]`);
      close(inv[i * n + j]!, inv[j * n + i]!, 1e-14, `symmetry of the inverse at [${i},${j}]`);
    }
});

test('choleskyInverse of [[4,2],[2,3]] is [[3,−2],[−2,4]]/8', () => {
  const a = Float64Array.from([4, 2, 2, 3]);
  cholesky(a, 2);
  const inv = choleskyInverse(a, 2);
  const expected = [3 / 8, -2 / 8, -2 / 8, 4 / 8];
  for (let k = 0; k < 4; k++) close(inv[k]!, expected[k]!, 1e-15, `inv[${k}]`);
});

test('non-positive-definite input throws NotPositiveDefiniteError', () => {
  // Indefinite: eigenvalues 3 and −1; pivot 1 is 1 − 2² = −3.
  assert.throws(() => cholesky(Float64Array.from([1, 2, 2, 1]), 2), NotPositiveDefiniteError);
  // Singular PSD: pivot 1 is 1 − 1 = 0, which is not accepted.
  assert.throws(() => cholesky(Float64Array.from([1, 1, 1, 1]), 2), NotPositiveDefiniteError);
  // Negative first pivot, NaN input.
  assert.throws(() => cholesky(Float64Array.from([-1, 0, 0, 1]), 2), NotPositiveDefiniteError);
  assert.throws(() => cholesky(Float64Array.from([Number.NaN, 0, 0, 1]), 2), NotPositiveDefiniteError);
  // A random SPD matrix with one diagonal entry lowered far enough is no longer PD.
  const n = 8;
  const a = randomSpd(n, 5);
  a[5 * n + 5] = -1;
  assert.throws(
    () => cholesky(a, n),
    (e: unknown) => e instanceof NotPositiveDefiniteError && e instanceof Error && /pivot 5/.test(e.message),
  );
});
