/**
 * Title links of the content model: movies that share a series or title words pull each other's content vectors
 * together (the title group is not encoded; see ContentModel.fit and docs/models.md).
 */
import type { FeatureGroup, FeatureRows } from '../features/content-features.ts';

/**
 * The fitted movies' link columns (the title group), column by column: a movie added later finds the movies it
 * shares a title word or series with without a pass over the catalogue.
 */
export interface LinkIndex {
  /** The group's columns [start, end) in the raw rows. */
  start: number;
  end: number;
  /** How strongly linked movies pull a vector (the group's weight). */
  weight: number;
  /** Column c − start holds movies[ptr[c]..ptr[c + 1]) with their values. */
  ptr: Int32Array;
  movies: Int32Array;
  values: Float32Array;
}

/**
 * Links weaker than this are ignored. Link strength is the dot product of two title rows (word TF-IDF cosine plus
 * 1 for a shared series, 0..2): one word shared by two-word titles is about 0.5 and links most of the catalogue to
 * something; a title inside another ("The Matrix", "The Matrix Reloaded") is about 0.7, a shared series at least 1.
 * 0.6 kept most of the series recognisable for the least loss of validation NDCG (docs/models.md).
 */
export const MIN_LINK = 0.6;

export function linkIndexOf(rows: FeatureRows, g: FeatureGroup): LinkIndex {
  const width = g.end - g.start;
  const ptr = new Int32Array(width + 1);
  for (let p = 0; p < rows.indices.length; p++) {
    const j = rows.indices[p]!;
    if (j >= g.start && j < g.end) ptr[j - g.start + 1]!++;
  }
  for (let c = 0; c < width; c++) ptr[c + 1]! += ptr[c]!;
  const fill = ptr.slice(0, width);
  const movies = new Int32Array(ptr[width]!);
  const values = new Float32Array(ptr[width]!);
  for (let i = 0; i < rows.rows; i++)
    for (let p = rows.indptr[i]!; p < rows.indptr[i + 1]!; p++) {
      const j = rows.indices[p]!;
      if (j < g.start || j >= g.end) continue;
      const at = fill[j - g.start]!++;
      movies[at] = i;
      values[at] = rows.values[p]!;
    }
  return { start: g.start, end: g.end, weight: g.weight, ptr, movies, values };
}

/** Scratch of link strengths per fitted movie, reset after each use. */
export class LinkScratch {
  readonly strength: Float64Array;
  readonly touched: Int32Array;
  readonly pull: Float64Array;
  constructor(movies: number, d: number) {
    this.strength = new Float64Array(movies);
    this.touched = new Int32Array(movies);
    this.pull = new Float64Array(d);
  }
}

/**
 * Moves a movie's encoded unit vector v towards the movies its title links it to: v += weight × min(1, Σ a_j) ×
 * unit(Σ a_j b_j), where b_j is linked movie j's encoded vector and a_j the square of the link strength (a shared
 * series and title, 2, counts 4 times a shared series alone), then v is normalised again. Squared, a few strong links
 * outweigh many weaker ones. Towards the unit direction of the series rather than its mean: the mean of films with
 * varied genres is short, and the films of one series would stay apart. Movies without a link keep their encoded
 * vectors. `self` (a fitted movie's own row) is skipped.
 * Returns whether any link counted.
 */
export function addLinks(
  links: LinkIndex,
  base: Float32Array,
  d: number,
  row: { indices: ArrayLike<number>; values: ArrayLike<number> },
  self: number,
  v: Float32Array,
  offset: number,
  scratch: LinkScratch,
): boolean {
  const { strength, touched, pull } = scratch;
  let count = 0;
  for (let p = 0; p < row.indices.length; p++) {
    const j = row.indices[p]!;
    if (j < links.start || j >= links.end) continue;
    const x = row.values[p]!;
    const c = j - links.start;
    for (let q = links.ptr[c]!; q < links.ptr[c + 1]!; q++) {
      const m = links.movies[q]!;
      if (m === self) continue;
      if (strength[m] === 0) touched[count++] = m;
      strength[m]! += x * links.values[q]!;
    }
  }
  pull.fill(0);
  let total = 0;
  for (let t = 0; t < count; t++) {
    const m = touched[t]!;
    const s = strength[m]!;
    strength[m] = 0;
    if (s < MIN_LINK) continue;
    const a = s * s;
    total += a;
    for (let k = 0; k < d; k++) pull[k]! += a * base[m * d + k]!;
  }
  if (total === 0) return false;
  let pq = 0;
  for (let k = 0; k < d; k++) pq += pull[k]! * pull[k]!;
  if (pq === 0) return false;
  const f = (links.weight * Math.min(1, total)) / Math.sqrt(pq);
  let sq = 0;
  for (let k = 0; k < d; k++) {
    const x = v[offset + k]! + f * pull[k]!;
    v[offset + k] = x;
    sq += x * x;
  }
  if (sq > 0) {
    const inv = 1 / Math.sqrt(sq);
    for (let k = 0; k < d; k++) v[offset + k]! *= inv;
  }
  return true;
}
