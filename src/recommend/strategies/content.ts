import type { Catalogue } from '../../data/catalogue.ts';
import { dotRows } from '../../math/matvec.ts';
import type { ContentIndex } from '../../models/content-index.ts';
import type { History, Query, ScoreResult, Strategy } from '../strategy.ts';

/**
 * The seeds of a query: watched movies, and rated movies at or above the positive threshold. A
 * history with no such rating falls back to the ratings at or above its own mean. Written into `into` when it is
 * long enough (a view of it is returned), else into a new array.
 */
export function seedsOf(history: History, positiveRating: number, into?: Int32Array): Int32Array {
  const { items, ratings } = history;
  const out = into && into.length >= items.length ? into : new Int32Array(items.length);
  let n = 0;
  for (let k = 0; k < items.length; k++)
    if (Number.isNaN(ratings[k]!) || ratings[k]! >= positiveRating) out[n++] = items[k]!;
  if (n === 0) {
    let sum = 0;
    for (let k = 0; k < ratings.length; k++) sum += ratings[k]!;
    const mean = sum / Math.max(1, ratings.length);
    for (let k = 0; k < items.length; k++) if (ratings[k]! >= mean) out[n++] = items[k]!;
  }
  return out.subarray(0, n);
}

/** The seed most similar to `index` in a row-major matrix of d columns (the first of equals); -1 when none. */
export function closestRow(
  vectors: Float32Array,
  d: number,
  seeds: Int32Array,
  index: number,
  sims: { buffer: Float64Array },
): number {
  if (sims.buffer.length < seeds.length) sims.buffer = new Float64Array(Math.ceil(seeds.length * 1.25));
  const sim = sims.buffer;
  dotRows(vectors, d, seeds, 0, seeds.length, vectors, index * d, sim);
  let best = -1;
  let bestSim = Number.NEGATIVE_INFINITY;
  for (let t = 0; t < seeds.length; t++) {
    if (sim[t]! > bestSim) {
      bestSim = sim[t]!;
      best = seeds[t]!;
    }
  }
  return best;
}

/**
 * "A few watched movies": ranks every movie by cosine similarity of its content vector to the mean
 * of the seeds' unit vectors, i.e. by its average cosine similarity to the seeds.
 */
export class ContentStrategy implements Strategy {
  readonly name: string = 'content';
  readonly description: string = 'content similarity (genres, tags, genome) to the watched or liked movies';
  private q = new Float32Array(0);
  protected seeds: Int32Array = new Int32Array(0);
  private seedBuffer = new Int32Array(0);
  private readonly sims = { buffer: new Float64Array(0) };

  constructor(
    readonly content: ContentIndex,
    protected readonly catalogue: Catalogue,
    /** Ratings at or above this are seeds (watched movies always are). */
    protected readonly positiveRating: number,
  ) {}

  score({ history }: Query, scores: Float32Array): ScoreResult | undefined {
    const model = this.content.model;
    if (this.seedBuffer.length < history.items.length)
      this.seedBuffer = new Int32Array(Math.ceil(history.items.length * 1.25));
    const seeds = seedsOf(history, this.positiveRating, this.seedBuffer);
    this.seeds = seeds;
    if (seeds.length === 0) {
      scores.fill(Number.NEGATIVE_INFINITY);
      return undefined;
    }
    const d = model.dimensions;
    if (this.q.length !== d) this.q = new Float32Array(d);
    const q = this.q;
    q.fill(0);
    const v = model.vectors;
    for (const s of seeds) {
      if (s >= model.size) continue;
      for (let k = 0; k < d; k++) q[k]! += v[s * d + k]!;
    }
    for (let k = 0; k < d; k++) q[k]! /= seeds.length;
    model.scoreAgainst(q, scores);
    // Rows the model has not placed (should not happen: the service places every added movie).
    for (let i = model.size; i < scores.length; i++) scores[i] = Number.NEGATIVE_INFINITY;
    return undefined;
  }

  /** The seed most similar to a recommended movie. */
  closestSeed(index: number, seeds: Int32Array = this.seeds): number {
    const model = this.content.model;
    // Seeds beyond the model's rows (none: the service places every added movie) come out NaN and never win.
    return closestRow(model.vectors, model.dimensions, seeds, index, this.sims);
  }

  explain(_query: Query, index: number): string | undefined {
    const seed = this.closestSeed(index);
    if (seed < 0) return undefined;
    const m = this.catalogue.movies[seed]!;
    const shared = this.content.shared(seed, index);
    const what = [
      shared.genres.length > 0 ? shared.genres.join(', ') : '',
      shared.tags.length > 0 ? `tags ${shared.tags.join(', ')}` : '',
    ].filter(Boolean);
    return `because you watched ${m.displayTitle}${m.year ? ` (${m.year})` : ''}${what.length ? `: ${what.join('; ')}` : ''}`;
  }
}

/** The original design's method: candidates only from the k-means clusters of the seeds. */
export class ContentClusterStrategy extends ContentStrategy {
  override readonly name = 'content-cluster';
  override readonly description = 'content similarity restricted to the clusters of the watched or liked movies';
  private allowed = new Uint8Array(0);

  override score(query: Query, scores: Float32Array): ScoreResult | undefined {
    super.score(query, scores);
    const content = this.content;
    const k = content.model.clusters;
    if (this.allowed.length !== k) this.allowed = new Uint8Array(k);
    this.allowed.fill(0);
    for (const s of this.seeds) {
      const c = content.clusterOf(s);
      if (c >= 0) this.allowed[c] = 1;
    }
    const assignment = content.model.assignment;
    for (let i = 0; i < assignment.length; i++) if (!this.allowed[assignment[i]!]) scores[i] = Number.NEGATIVE_INFINITY;
    return undefined;
  }
}
