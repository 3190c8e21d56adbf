import type { UserClusterModel } from '../../models/user-clusters.ts';
import { isStoredUser } from '../history.ts';
import { UserStates } from '../live-users.ts';
import type { Query, ScoreResult, Strategy, TrainingData } from '../strategy.ts';
import type { AlsStrategy } from './als.ts';

/** A viewer's place among the clusters: the nearest cluster of their unit factor (−1 without history). */
interface Placement {
  cluster: number;
  unit: Float32Array;
}

/**
 * User clusters over normalised ALS user factors (k-means). A viewer (trained, live or anonymous, folded
 * in) joins the nearest cluster; items score by what the cluster's peers interacted with, each peer
 * weighted by cosine similarity, smoothed towards overall popularity: (Σ w_v x_vi + m·p_i) / (Σ w_v + m).
 */
export class UserClusterStrategy implements Strategy {
  readonly name = 'user-cluster';
  readonly description = 'what similar viewers (same ALS user cluster) watched, similarity-weighted';
  private readonly scratch: Placement = { cluster: -1, unit: new Float32Array(0) };
  private lastCluster = -1;
  private lastPeers = new Float32Array(0);
  /** Live users' placements, made when their history is written (and again when the ALS factors move). */
  private readonly placed: UserStates<Placement>;

  /** Over the user clusters of `als`'s model; the peers' histories are the interactions it was fitted on. */
  constructor(
    readonly als: AlsStrategy,
    readonly model: UserClusterModel,
    /** Pseudo-peers pulling a score towards the item's overall popularity. */
    private readonly smoothing: number,
    private readonly data: TrainingData,
  ) {
    if (model.f !== als.model.factors || model.nUsers !== als.model.nUsers)
      throw new Error(
        `user-cluster: the clusters are over ${model.nUsers} users × ${model.f} factors, the ALS model has ${als.model.nUsers} × ${als.model.factors}`,
      );
    this.placed = new UserStates<Placement>(
      data.live,
      (history, userId) => {
        const unit = new Float32Array(model.f);
        return { cluster: this.place(this.als.userVector({ ctx: { userId }, history }), unit), unit };
      },
      () => als.model.revision,
    );
  }

  /** Writes the unit vector of v into `unit` and returns its nearest cluster; -1 without a vector. */
  private place(v: Float32Array | null, unit: Float32Array): number {
    if (!v) return -1;
    const f = v.length;
    let s = 0;
    for (let t = 0; t < f; t++) s += v[t]! * v[t]!;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let t = 0; t < f; t++) unit[t] = v[t]! * inv;
    return this.model.nearest(unit);
  }

  /** The viewer's cluster and unit factor (a live user's as placed on their last write). */
  private placement(query: Query): Placement {
    const { ctx } = query;
    if (isStoredUser(ctx) && this.data.live?.has(ctx.userId)) return this.placed.get(ctx.userId, query.history);
    const p = this.scratch;
    if (p.unit.length !== this.model.f) p.unit = new Float32Array(this.model.f);
    p.cluster = this.place(this.als.userVector(query), p.unit);
    return p;
  }

  /** The cluster of a (trained, live or anonymous) viewer, or -1 without history. */
  clusterOf(query: Query): number {
    return this.placement(query).cluster;
  }

  get clusters(): number {
    return this.model.k;
  }

  clusterSize(c: number): number {
    return this.model.clusterSize(c);
  }

  score(query: Query, scores: Float32Array): ScoreResult | undefined {
    const { cluster: c, unit: me } = this.placement(query);
    this.lastCluster = c;
    if (c < 0) {
      scores.fill(Number.NEGATIVE_INFINITY);
      return undefined;
    }
    const x = this.data.interactions;
    const { unit, memberPtr, members, popularity } = this.model;
    const f = this.model.f;
    const m = this.smoothing;
    scores.fill(0);
    if (this.lastPeers.length < scores.length) this.lastPeers = new Float32Array(scores.length);
    this.lastPeers.fill(0, 0, scores.length);
    let total = 0;
    for (let p = memberPtr[c]!; p < memberPtr[c + 1]!; p++) {
      const v = members[p]!;
      let w = 0;
      for (let t = 0; t < f; t++) w += me[t]! * unit[v * f + t]!;
      if (w <= 0) continue;
      total += w;
      for (let q = x.indptr[v]!; q < x.indptr[v + 1]!; q++) {
        scores[x.items[q]!]! += w;
        this.lastPeers[x.items[q]!]!++;
      }
    }
    for (let i = 0; i < scores.length; i++) scores[i] = (scores[i]! + m * (popularity[i] ?? 0)) / (total + m);
    return undefined;
  }

  explain(_query: Query, index: number): string | undefined {
    const peers = this.lastPeers[index] ?? 0;
    if (this.lastCluster < 0) return undefined;
    if (peers === 0) {
      // Ranked by the popularity it is smoothed towards: nobody similar watched it.
      const share = Math.round(100 * (this.model.popularity[index] ?? 0));
      return `popular overall (watched by ${share}% of viewers), though not yet by viewers in your taste cluster`;
    }
    return `watched by ${peers} of the ${this.clusterSize(this.lastCluster)} viewers in your taste cluster`;
  }
}
