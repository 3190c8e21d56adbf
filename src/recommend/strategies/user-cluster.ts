import { kmeans, nearestCentroid } from '../../math/kmeans.ts';
import type { Query, ScoreResult, Strategy, TrainingData } from '../strategy.ts';
import type { AlsStrategy } from './als.ts';

export interface UserClusterSettings {
  clusters: number;
  restarts: number;
  seed: number;
  /** Pseudo-peers pulling a score towards the item's overall popularity. */
  smoothing: number;
}

/**
 * User clusters over normalised ALS user factors (k-means). A viewer (trained, live or anonymous, folded
 * in) joins the nearest cluster; items score by what the cluster's peers interacted with, each peer
 * weighted by cosine similarity, smoothed towards overall popularity: (Σ w_v x_vi + m·p_i) / (Σ w_v + m).
 */
export class UserClusterStrategy implements Strategy {
  readonly name = 'user-cluster';
  readonly description = 'what similar viewers (same ALS user cluster) watched, similarity-weighted';
  private unit: Float32Array = new Float32Array(0);
  private centroids: Float32Array = new Float32Array(0);
  private assignment: Int32Array = new Int32Array(0);
  /** Members of each cluster (dense user indices), CSR. */
  private memberPtr: Int32Array = new Int32Array(0);
  private members: Int32Array = new Int32Array(0);
  private popularity: Float32Array = new Float32Array(0);
  private data: TrainingData | null = null;
  private x = new Float32Array(0);
  private lastCluster = -1;
  private lastPeers = new Float32Array(0);
  private k = 1;

  constructor(
    readonly als: AlsStrategy,
    private readonly settings: UserClusterSettings,
  ) {}

  async fit(data: TrainingData): Promise<void> {
    this.data = data;
    await this.als.fit(data);
    const model = this.als.model;
    const f = model.factors;
    const n = model.nUsers;
    this.unit = Float32Array.from(model.userFactors.subarray(0, n * f));
    for (let u = 0; u < n; u++) {
      let s = 0;
      for (let t = 0; t < f; t++) s += this.unit[u * f + t]! ** 2;
      const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
      for (let t = 0; t < f; t++) this.unit[u * f + t]! *= inv;
    }
    this.k = Math.max(1, Math.min(this.settings.clusters, n));
    const km = kmeans(this.unit, n, f, { k: this.k, seed: this.settings.seed, restarts: this.settings.restarts });
    this.centroids = km.centroids;
    this.assignment = km.assignment;
    this.memberPtr = new Int32Array(this.k + 1);
    for (let u = 0; u < n; u++) this.memberPtr[km.assignment[u]! + 1]!++;
    for (let c = 0; c < this.k; c++) this.memberPtr[c + 1]! += this.memberPtr[c]!;
    const fill = this.memberPtr.slice(0, this.k);
    this.members = new Int32Array(n);
    for (let u = 0; u < n; u++) this.members[fill[km.assignment[u]!]!++] = u;
    const counts = data.interactions.itemCounts();
    this.popularity = Float32Array.from(counts, (c) => c / Math.max(1, n));
  }

  /** The cluster of a (trained, live or anonymous) viewer, or -1 without history. */
  clusterOf(query: Query): number {
    const v = this.als.userVector(query);
    if (!v) return -1;
    const f = v.length;
    if (this.x.length !== f) this.x = new Float32Array(f);
    let s = 0;
    for (let t = 0; t < f; t++) s += v[t]! * v[t]!;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let t = 0; t < f; t++) this.x[t] = v[t]! * inv;
    return nearestCentroid(this.centroids, this.k, f, this.x, 0);
  }

  get clusters(): number {
    return this.k;
  }

  clusterSize(c: number): number {
    return this.memberPtr[c + 1]! - this.memberPtr[c]!;
  }

  score(query: Query, scores: Float32Array): ScoreResult | undefined {
    const c = this.clusterOf(query);
    this.lastCluster = c;
    if (c < 0) {
      scores.fill(Number.NEGATIVE_INFINITY);
      return undefined;
    }
    const x = this.data!.interactions;
    const f = this.x.length;
    const m = this.settings.smoothing;
    scores.fill(0);
    if (this.lastPeers.length < scores.length) this.lastPeers = new Float32Array(scores.length);
    this.lastPeers.fill(0, 0, scores.length);
    let total = 0;
    for (let p = this.memberPtr[c]!; p < this.memberPtr[c + 1]!; p++) {
      const v = this.members[p]!;
      let w = 0;
      for (let t = 0; t < f; t++) w += this.x[t]! * this.unit[v * f + t]!;
      if (w <= 0) continue;
      total += w;
      for (let q = x.indptr[v]!; q < x.indptr[v + 1]!; q++) {
        scores[x.items[q]!]! += w;
        this.lastPeers[x.items[q]!]!++;
      }
    }
    for (let i = 0; i < scores.length; i++) scores[i] = (scores[i]! + m * (this.popularity[i] ?? 0)) / (total + m);
    return undefined;
  }

  explain(_query: Query, index: number): string | undefined {
    const peers = this.lastPeers[index] ?? 0;
    if (this.lastCluster < 0 || peers === 0) return undefined;
    return `watched by ${peers} of the ${this.clusterSize(this.lastCluster)} viewers in your taste cluster`;
  }
}
