import type { Interactions } from '../data/interactions.ts';
import { readModel, writeModel } from '../util/artifacts.ts';
import { assertMayFit } from '../util/fit-guard.ts';

/**
 * The tables "what viewers like you liked" scores from: per user segment and movie, the members' weighted
 * ratings (1 for a positive rating, lowRatingWeight for another) and positive ratings, the segment sizes,
 * the same weighted count over everyone (the prior), and everyone's share of positive ratings per movie
 * segment. Unsmoothed: the smoothing is applied when scores are built (scores()), so it can change
 * without refitting; so can lowRatingWeight (from the kept counts), though only the fitted weight
 * reproduces the fitted sums bit for bit.
 */

export interface SegmentScoreSettings {
  /** Ratings above this are positive. */
  positiveRating: number;
  /** What a rating at or below positiveRating counts for (a positive one counts 1). */
  lowRatingWeight: number;
}

/** What the tables need of the user segmentation (UserSegmentModel satisfies it). */
export interface UserSegmentsInput {
  k: number;
  /** Fitted users' ids and their segments. */
  userIds: Int32Array;
  assignment: Int32Array;
}

/** What the tables need of the movie segmentation. */
export interface MovieSegmentsOf {
  k: number;
  /** Movie segment of each catalogue index (−1 or absent: none). */
  assignment: Int32Array;
}

const SEGMENT_SCORES_FORMAT = 'cinerec-segment-scores/1';

interface SegmentScoresMeta {
  settings: SegmentScoreSettings;
  k: number;
  n: number;
  movieK: number;
  users: number;
}

export class SegmentScores {
  private constructor(
    /** positiveRating and the lowRatingWeight the weighted sums were taken with. */
    readonly settings: SegmentScoreSettings,
    /** User segments. */
    readonly k: number,
    /** Movies (the fitted interactions' items). */
    readonly n: number,
    /** Movie segments. */
    readonly movieK: number,
    /** Fitted users (with ratings). */
    readonly users: number,
    /** Members per user segment. */
    readonly sizes: Float64Array,
    /** k × n: Σ over the segment's members who rated the movie of their rating's weight. */
    readonly weighted: Float64Array,
    /** n: the same over every fitted user. */
    readonly weightedAll: Float64Array,
    /** k × n: members who rated the movie, and who rated it positively. */
    readonly rated: Int32Array,
    readonly liked: Int32Array,
    /** Everyone's share of positive ratings per movie segment (+1 smoothed, so never 0). */
    readonly globalShare: Float64Array,
  ) {}

  static fit(
    x: Interactions,
    users: UserSegmentsInput,
    movies: MovieSegmentsOf,
    settings: SegmentScoreSettings,
  ): SegmentScores {
    assertMayFit('segment score tables');
    const own: SegmentScoreSettings = {
      positiveRating: settings.positiveRating,
      lowRatingWeight: settings.lowRatingWeight,
    };
    const n = x.nItems;
    const k = users.k;
    const acc = new Float64Array(k * n);
    const all = new Float64Array(n);
    const rated = new Int32Array(k * n);
    const liked = new Int32Array(k * n);
    const sizes = new Float64Array(k);
    const segPos = new Float64Array(movies.k);
    let totalPos = 0;
    for (let r = 0; r < users.userIds.length; r++) {
      const u = x.userOf(users.userIds[r]!);
      const seg = users.assignment[r]!;
      sizes[seg]!++;
      for (let p = x.indptr[u]!; p < x.indptr[u + 1]!; p++) {
        const i = x.items[p]!;
        const positive = x.ratings[p]! > own.positiveRating;
        const w = positive ? 1 : own.lowRatingWeight;
        acc[seg * n + i]! += w;
        all[i]! += w;
        rated[seg * n + i]!++;
        if (positive) {
          liked[seg * n + i]!++;
          const ms = movies.assignment[i] ?? -1;
          if (ms >= 0) {
            segPos[ms]!++;
            totalPos++;
          }
        }
      }
    }
    // A segment nobody likes keeps a tiny share so that lifts stay finite.
    const globalShare = Float64Array.from(segPos, (v) => (v + 1) / (totalPos + movies.k));
    return new SegmentScores(own, k, n, movies.k, users.userIds.length, sizes, acc, all, rated, liked, globalShare);
  }

  /**
   * Scores of every (user segment, movie), smoothed by `smoothing` pseudo-members towards the prior, and
   * the prior (everyone's weighted like rate per movie), for a lowRatingWeight (the fitted one by default).
   */
  scores(
    smoothing: number,
    lowRatingWeight = this.settings.lowRatingWeight,
  ): { base: Float32Array; prior: Float32Array } {
    const { k, n } = this;
    let acc = this.weighted;
    let all = this.weightedAll;
    if (lowRatingWeight !== this.settings.lowRatingWeight) {
      acc = new Float64Array(k * n);
      all = new Float64Array(n);
      for (let c = 0; c < k; c++)
        for (let i = 0; i < n; i++) {
          const liked = this.liked[c * n + i]!;
          const low = this.rated[c * n + i]! - liked;
          acc[c * n + i] = liked + lowRatingWeight * low;
        }
      const likedAll = new Float64Array(n);
      const lowAll = new Float64Array(n);
      for (let c = 0; c < k; c++)
        for (let i = 0; i < n; i++) {
          likedAll[i]! += this.liked[c * n + i]!;
          lowAll[i]! += this.rated[c * n + i]! - this.liked[c * n + i]!;
        }
      for (let i = 0; i < n; i++) all[i] = likedAll[i]! + lowRatingWeight * lowAll[i]!;
    }
    const users = Math.max(1, this.users);
    const prior = Float32Array.from(all, (v) => v / users);
    const m = smoothing;
    const base = new Float32Array(k * n);
    for (let c = 0; c < k; c++) {
      const denom = this.sizes[c]! + m;
      for (let i = 0; i < n; i++) base[c * n + i] = denom > 0 ? (acc[c * n + i]! + m * prior[i]!) / denom : prior[i]!;
    }
    return { base, prior };
  }

  save(dir: string): void {
    const meta: SegmentScoresMeta = {
      settings: this.settings,
      k: this.k,
      n: this.n,
      movieK: this.movieK,
      users: this.users,
    };
    writeModel(dir, SEGMENT_SCORES_FORMAT, meta, {
      sizes: this.sizes,
      weighted: this.weighted,
      weightedAll: this.weightedAll,
      rated: this.rated,
      liked: this.liked,
      globalShare: this.globalShare,
    });
  }

  static load(dir: string): SegmentScores {
    const a = readModel<SegmentScoresMeta>(dir, SEGMENT_SCORES_FORMAT);
    const { settings, k, n, movieK, users } = a.meta;
    const t = new SegmentScores(
      settings,
      k,
      n,
      movieK,
      users,
      a.array('sizes', 'Float64Array'),
      a.array('weighted', 'Float64Array'),
      a.array('weightedAll', 'Float64Array'),
      a.array('rated', 'Int32Array'),
      a.array('liked', 'Int32Array'),
      a.array('globalShare', 'Float64Array'),
    );
    if (
      t.sizes.length !== k ||
      t.weighted.length !== k * n ||
      t.weightedAll.length !== n ||
      t.rated.length !== k * n ||
      t.liked.length !== k * n ||
      t.globalShare.length !== movieK
    )
      throw new Error(`${dir}: segment score arrays do not fit ${k} user segments × ${n} movies`);
    return t;
  }
}
