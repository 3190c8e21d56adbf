import type { Catalogue } from '../../data/catalogue.ts';
import type { HybridModel, HybridReport } from '../../models/hybrid.ts';
import type { Query, ScoreResult, Strategy } from '../strategy.ts';
import type { AlsStrategy } from './als.ts';
import { type ContentStrategy, closestRow, seedsOf } from './content.ts';

export interface HybridRanking {
  positiveRating: number;
  /** Weight of content similarity added to the (max-normalised) ALS score when ranking. */
  rankContentWeight: number;
}

export type { HybridReport };

/**
 * Item vectors = normalised ALS factors ⊕ normalised content encoding, block-weighted, then k-means
 * (the HybridModel). A movie without ratings gets its ALS block from the bridge (ridge regression
 * content → factors), so it joins personalised and hybrid lists at once. Ranks by similarity to the
 * liked movies' mean vector.
 */
export class HybridStrategy implements Strategy {
  readonly name: string;
  readonly description: string;
  private buffer = new Float32Array(0);
  private seeds: Int32Array = new Int32Array(0);
  private seedBuffer = new Int32Array(0);
  private readonly sims = { buffer: new Float64Array(0) };
  private allowed = new Uint8Array(0);

  /** `als` must score with the model the hybrid was fitted on, its bridged factors applied. */
  constructor(
    readonly als: AlsStrategy,
    readonly content: ContentStrategy,
    readonly model: HybridModel,
    private readonly settings: HybridRanking,
    private readonly catalogue: Catalogue,
    private readonly restrict = false,
  ) {
    if (model.d !== content.content.model.dimensions)
      throw new Error(
        `hybrid: the model has ${model.d} content dimensions, the content model ${content.content.model.dimensions}`,
      );
    this.name = restrict ? 'hybrid-cluster' : 'hybrid';
    this.description = restrict
      ? 'hybrid ALS ⊕ content similarity within the clusters of the liked movies'
      : 'hybrid ALS ⊕ content similarity to the liked movies';
  }

  get dimensions(): number {
    return this.als.model.factors + this.content.content.model.dimensions;
  }

  get report(): HybridReport {
    return this.model.report;
  }

  /** Places a movie added live (catalogue index = next row): bridged factors, hybrid vector, cluster. */
  place(index: number): number {
    const { cluster, factors } = this.model.place(index, this.content.content.model);
    this.als.model.setItemFactor(index, factors);
    return cluster;
  }

  clusterOf(index: number): number {
    return this.model.clusterOf(index);
  }

  similarity(a: number, b: number): number {
    return this.model.similarity(a, b);
  }

  /**
   * Ranking: the ALS score (bridged movies included, so unrated ones can enter lists) plus a small
   * share of content similarity to the liked movies; hybrid-cluster keeps only the hybrid clusters of
   * the liked movies. Cosine in the hybrid space itself serves similar-movie lists (`similarTo`).
   */
  score(query: Query, scores: Float32Array): ScoreResult | undefined {
    const n = scores.length;
    const h = query.history;
    if (this.seedBuffer.length < h.items.length) this.seedBuffer = new Int32Array(Math.ceil(h.items.length * 1.25));
    this.seeds = seedsOf(h, this.settings.positiveRating, this.seedBuffer);
    this.als.score(query, scores);
    let max = 0;
    for (let i = 0; i < n; i++)
      if (Number.isFinite(scores[i]!) && Math.abs(scores[i]!) > max) max = Math.abs(scores[i]!);
    if (this.buffer.length < n) this.buffer = new Float32Array(Math.ceil(n * 1.25));
    const c = this.buffer.subarray(0, n);
    this.content.score(query, c);
    const w = this.settings.rankContentWeight;
    const inv = max > 0 ? 1 / max : 0;
    for (let i = 0; i < n; i++) {
      const sim = Number.isFinite(c[i]!) ? c[i]! : 0;
      scores[i] = scores[i]! * inv + w * sim;
    }
    if (this.restrict && this.seeds.length > 0) {
      const model = this.model;
      const k = model.k;
      if (this.allowed.length !== k) this.allowed = new Uint8Array(k);
      this.allowed.fill(0);
      for (const s of this.seeds) this.allowed[this.clusterOf(s)] = 1;
      const rows = Math.min(n, model.size);
      const assignment = model.assignment;
      for (let i = 0; i < rows; i++) if (!this.allowed[assignment[i]!]) scores[i] = Number.NEGATIVE_INFINITY;
    }
    return undefined;
  }

  /** Cosine similarity in the hybrid space to one movie, for similar-movie lists. */
  similarTo(index: number, scores: Float32Array): void {
    this.model.similarTo(index, scores);
  }

  explain(_query: Query, index: number): string | undefined {
    const model = this.model;
    const best = closestRow(model.vectors, model.dimensions, this.seeds, index, this.sims);
    if (best < 0) return undefined;
    const m = this.catalogue.movies[best]!;
    return `because you liked ${m.displayTitle}${m.year ? ` (${m.year})` : ''} (viewers and content alike)`;
  }
}
