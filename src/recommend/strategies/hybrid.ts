import { daviesBouldin, kmeans, nearestCentroid, silhouette } from '../../math/kmeans.ts';
import { DenseRows } from '../../math/matvec.ts';
import { Bridge, type BridgeReport } from '../../models/bridge.ts';
import type { Query, ScoreResult, Strategy, TrainingData } from '../strategy.ts';
import type { AlsStrategy } from './als.ts';
import { type ContentStrategy, seedsOf } from './content.ts';

export interface HybridSettings {
  /** Block weights: each block is unit-normalised, then scaled, so neither drowns the other. */
  alsWeight: number;
  contentWeight: number;
  clusters: number;
  restarts: number;
  seed: number;
  positiveRating: number;
  /** Ridge penalty of the content → factors bridge, and the ratings a movie needs to train it. */
  bridgeLambda: number;
  bridgeMinRatings: number;
  /** Weight of content similarity added to the (max-normalised) ALS score when ranking. */
  rankContentWeight: number;
}

export interface HybridReport {
  bridge: BridgeReport;
  clusters: { k: number; inertia: number; silhouette: number; daviesBouldin: number };
  /** Movies whose ALS block came from the bridge (no ratings in training). */
  bridged: number;
}

function normalize(v: Float32Array, from: number, to: number, scale: number): void {
  let s = 0;
  for (let k = from; k < to; k++) s += v[k]! * v[k]!;
  const f = s > 0 ? scale / Math.sqrt(s) : 0;
  for (let k = from; k < to; k++) v[k]! *= f;
}

/**
 * Item vectors = normalised ALS factors ⊕ normalised content encoding, block-weighted, then k-means.
 * A movie without ratings gets its ALS block from the bridge (ridge regression content → factors), so
 * it joins personalised and hybrid lists at once. Ranks by similarity to the liked movies' mean vector.
 */
export class HybridStrategy implements Strategy {
  readonly name: string;
  readonly description: string;
  private rows: DenseRows | null = null;
  private assignment: Int32Array = new Int32Array(0);
  private centroids: Float32Array = new Float32Array(0);
  private bridge: Bridge | null = null;
  private fitReport: HybridReport | null = null;
  private buffer = new Float32Array(0);
  private seeds: Int32Array = new Int32Array(0);
  private allowed = new Uint8Array(0);
  private data: TrainingData | null = null;
  private k = 1;

  constructor(
    readonly als: AlsStrategy,
    readonly content: ContentStrategy,
    private readonly settings: HybridSettings,
    private readonly restrict = false,
  ) {
    this.name = restrict ? 'hybrid-cluster' : 'hybrid';
    this.description = restrict
      ? 'hybrid ALS ⊕ content similarity within the clusters of the liked movies'
      : 'hybrid ALS ⊕ content similarity to the liked movies';
  }

  get dimensions(): number {
    return this.als.model.factors + this.content.content.model.dimensions;
  }

  get report(): HybridReport {
    if (!this.fitReport) throw new Error('hybrid: fit() before use');
    return this.fitReport;
  }

  async fit(data: TrainingData): Promise<void> {
    this.data = data;
    await this.als.fit(data);
    this.content.fit(data);
    const model = this.als.model;
    const f = model.factors;
    const contentModel = this.content.content.model;
    const d = contentModel.dimensions;
    const n = data.catalogue.size;
    const counts = data.interactions.itemCounts();
    const trained: number[] = [];
    for (let i = 0; i < Math.min(n, model.nItems); i++)
      if ((counts[i] ?? 0) >= this.settings.bridgeMinRatings) trained.push(i);
    this.bridge = Bridge.fit(contentModel.vectors, d, model.itemFactors, f, trained, {
      lambda: this.settings.bridgeLambda,
      holdout: 0.2,
      seed: this.settings.seed,
    });
    const dim = f + d;
    const vectors = new Float32Array(n * dim);
    let bridged = 0;
    const est = new Float32Array(f);
    for (let i = 0; i < n; i++) {
      if (i < model.nItems && (counts[i] ?? 0) > 0) {
        vectors.set(model.itemFactors.subarray(i * f, (i + 1) * f), i * dim);
      } else {
        this.bridge.predict(contentModel.vectors, est, i * d);
        vectors.set(est, i * dim);
        // Unrated movies get bridged ALS factors too, so ALS can rank them.
        model.setItemFactor(i, est);
        bridged++;
      }
      if (i < contentModel.size) vectors.set(contentModel.vectors.subarray(i * d, (i + 1) * d), i * dim + f);
      this.finish(vectors, i * dim, f, d);
    }
    const k = Math.max(1, Math.min(this.settings.clusters, n));
    this.k = k;
    const km = kmeans(vectors, n, dim, {
      k,
      seed: this.settings.seed,
      restarts: this.settings.restarts,
      miniBatch: 'auto',
    });
    this.assignment = km.assignment;
    this.centroids = km.centroids;
    this.rows = DenseRows.create(Math.ceil(n * 1.1) + 16, dim);
    this.rows.set(vectors, n);
    this.fitReport = {
      bridge: this.bridge.report,
      bridged,
      clusters: {
        k,
        inertia: km.inertia,
        silhouette:
          k > 1 && k < n
            ? silhouette(vectors, n, dim, km.assignment, k, {
                seed: this.settings.seed,
                sample: Math.max(300, Math.min(1000, Math.floor(3e8 / (n * dim)))),
              })
            : 0,
        daviesBouldin: k > 1 && k < n ? daviesBouldin(vectors, n, dim, km.assignment, km.centroids, k) : 0,
      },
    };
  }

  /** Block normalisation and weighting of one hybrid row in place. */
  private finish(v: Float32Array, at: number, f: number, d: number): void {
    const { alsWeight: wa, contentWeight: wc } = this.settings;
    const norm = Math.sqrt(wa * wa + wc * wc) || 1;
    normalize(v, at, at + f, wa / norm);
    normalize(v, at + f, at + f + d, wc / norm);
  }

  /** Places a movie added live (catalogue index = next row): bridged factors, hybrid vector, cluster. */
  place(index: number): number {
    const rows = this.rows!;
    if (index !== rows.rows) throw new Error(`hybrid: movie index ${index} is not the next row ${rows.rows}`);
    const model = this.als.model;
    const f = model.factors;
    const contentModel = this.content.content.model;
    const d = contentModel.dimensions;
    const est = this.bridge!.predict(contentModel.vectors, new Float32Array(f), index * d);
    model.setItemFactor(index, est);
    const v = new Float32Array(f + d);
    v.set(est, 0);
    v.set(contentModel.vectors.subarray(index * d, (index + 1) * d), f);
    this.finish(v, 0, f, d);
    rows.append(v);
    const cluster = nearestCentroid(this.centroids, this.k, f + d, v, 0);
    const grown = new Int32Array(index + 1);
    grown.set(this.assignment.subarray(0, index));
    grown[index] = cluster;
    this.assignment = grown;
    return cluster;
  }

  clusterOf(index: number): number {
    return index < this.assignment.length ? this.assignment[index]! : -1;
  }

  similarity(a: number, b: number): number {
    const v = this.rows!.view();
    const dim = this.dimensions;
    let s = 0;
    for (let k = 0; k < dim; k++) s += v[a * dim + k]! * v[b * dim + k]!;
    return s;
  }

  /**
   * Ranking: the ALS score (bridged movies included, so unrated ones can enter lists) plus a small
   * share of content similarity to the liked movies; hybrid-cluster keeps only the hybrid clusters of
   * the liked movies. Cosine in the hybrid space itself serves similar-movie lists (`similarTo`).
   */
  score(query: Query, scores: Float32Array): ScoreResult | undefined {
    const n = scores.length;
    this.seeds = seedsOf(query.history, this.settings.positiveRating);
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
      const k = this.k;
      if (this.allowed.length !== k) this.allowed = new Uint8Array(k);
      this.allowed.fill(0);
      for (const s of this.seeds) this.allowed[this.clusterOf(s)] = 1;
      const rows = Math.min(n, this.rows!.rows);
      for (let i = 0; i < rows; i++) if (!this.allowed[this.assignment[i]!]) scores[i] = Number.NEGATIVE_INFINITY;
    }
    return undefined;
  }

  /** Cosine similarity in the hybrid space to one movie, for similar-movie lists. */
  similarTo(index: number, scores: Float32Array): void {
    const rows = this.rows!;
    rows.multiply(rows.row(index), scores);
    for (let i = rows.rows; i < scores.length; i++) scores[i] = Number.NEGATIVE_INFINITY;
  }

  explain(_query: Query, index: number): string | undefined {
    let best = -1;
    let bestSim = Number.NEGATIVE_INFINITY;
    for (const s of this.seeds) {
      const sim = this.similarity(s, index);
      if (sim > bestSim) {
        bestSim = sim;
        best = s;
      }
    }
    if (best < 0) return undefined;
    const m = this.data!.catalogue.movies[best]!;
    return `because you liked ${m.displayTitle}${m.year ? ` (${m.year})` : ''} (viewers and content alike)`;
  }
}
