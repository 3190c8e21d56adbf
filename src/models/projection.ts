/**
 * A 2-D picture of the content space: the first two principal components of the movies' content
 * vectors. The vectors are already low-dimensional (content.dimensions, 64 by default), so the exact
 * d×d covariance and its eigenvectors (cyclic Jacobi) are cheaper and simpler than an iterative SVD.
 */
import { symmetricEigen } from '../math/linalg.ts';
import { readArtifact, writeArtifact } from '../util/artifacts.ts';
import { assertMayFit } from '../util/fit-guard.ts';

export interface PrincipalPlane {
  dimensions: number;
  /** Mean vector (length d), subtracted before projecting. */
  mean: Float64Array;
  /** The two leading eigenvectors of the covariance, row-major 2×d. */
  axes: Float64Array;
  /** Share of the total variance along each axis, 0..1. */
  explained: [number, number];
}

/** Fits the plane on the first n rows of a row-major n×d matrix. */
export function principalPlane(vectors: Float32Array, n: number, d: number): PrincipalPlane {
  assertMayFit('the content projection');
  if (!Number.isInteger(d) || d < 1) throw new Error(`principalPlane: dimensions must be ≥ 1, got ${d}`);
  if (vectors.length < n * d) throw new Error(`principalPlane: ${vectors.length} values cannot hold ${n}×${d}`);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += vectors[i * d + j]!;
  if (n > 0) for (let j = 0; j < d; j++) mean[j]! /= n;
  // Upper triangle of Σ (x−μ)(x−μ)ᵀ, mirrored afterwards.
  const cov = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) row[j] = vectors[i * d + j]! - mean[j]!;
    for (let a = 0; a < d; a++) {
      const ra = row[a]!;
      if (ra === 0) continue;
      const o = a * d;
      for (let b = a; b < d; b++) cov[o + b]! += ra * row[b]!;
    }
  }
  for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) cov[a * d + b] = cov[b * d + a]!;
  const { values, vectors: eig } = symmetricEigen(cov, d);
  let total = 0;
  for (let j = 0; j < d; j++) total += Math.max(0, values[j]!);
  const axes = new Float64Array(2 * d);
  for (let c = 0; c < Math.min(2, d); c++) for (let i = 0; i < d; i++) axes[c * d + i] = eig[i * d + c]!;
  const share = (c: number) => (total > 0 && c < d ? Math.max(0, values[c]!) / total : 0);
  return { dimensions: d, mean, axes, explained: [share(0), share(1)] };
}

/** Coordinates of row i of `vectors` (row-major, plane.dimensions wide) on the plane. */
export function project(plane: PrincipalPlane, vectors: Float32Array, i: number): [number, number] {
  const d = plane.dimensions;
  let x = 0;
  let y = 0;
  for (let j = 0; j < d; j++) {
    const v = vectors[i * d + j]! - plane.mean[j]!;
    x += v * plane.axes[j]!;
    y += v * plane.axes[d + j]!;
  }
  return [x, y];
}

/** The projection as the API serves it (GET /v1/clusters/movies/projection). */
export interface MovieProjection {
  /** Movies in the content model; `points` holds the most rated `limit` of them. */
  total: number;
  explained: number[];
  points: { movieId: number; displayTitle: string; year: number | null; cluster: number; x: number; y: number }[];
}

const FORMAT = 'cinerec-projection/1';

export function savePlane(dir: string, plane: PrincipalPlane): void {
  writeArtifact(
    dir,
    FORMAT,
    { dimensions: plane.dimensions, explained: plane.explained },
    {
      mean: plane.mean,
      axes: plane.axes,
    },
  );
}

export function loadPlane(dir: string): PrincipalPlane {
  const a = readArtifact<{ dimensions: number; explained: [number, number] }>(dir, FORMAT);
  return { ...a.meta, mean: a.array('mean', 'Float64Array'), axes: a.array('axes', 'Float64Array') };
}
