import type { FittedMovieSegments } from '../../models/movie-segments.ts';
import type { SegmentScores } from '../../models/segment-scores.ts';
import type { UserSegmentModel, UserSegmentOverview, ViewerSegment } from '../../models/user-segments.ts';
import { isStoredUser } from '../history.ts';
import { UserStates } from '../live-users.ts';
import type { Query, ScoreResult, Strategy, TrainingData } from '../strategy.ts';

export interface SegmentStrategySettings {
  /** Ratings above this are positive. */
  positiveRating: number;
  /** Pseudo-members pulling a segment's score for a movie towards the movie's overall score. */
  smoothing: number;
  /** 0: the segment's list as is; 1: fully reweighted by how much the viewer likes each movie segment. */
  movieSegmentWeight: number;
  /** What a rating at or below positiveRating counts for (a positive one counts 1): watching still says something. */
  lowRatingWeight: number;
}

/** Pseudo-ratings pulling a viewer's positive share of a movie segment towards everyone's share. */
const SHARE_PRIOR = 5;

/**
 * "What viewers like you liked": the viewer joins a user segment (fitted users keep theirs; new, changed
 * and anonymous viewers are placed by the fitted encoder and centroids) and each movie scores
 *   (Σ_{members who rated it} w(r) + m·p_i) / (members + m),
 * the segment's Bayesian-smoothed like rate, with w(r) = 1 above positiveRating and lowRatingWeight
 * otherwise, and p_i the same rate over all users as the prior. The score is then multiplied by
 * (1 − β) + β·lift, where lift is the viewer's (smoothed) share of positive ratings in the movie's
 * movie segment over everyone's share, so the movie segments this viewer likes come first.
 */
export class SegmentStrategy implements Strategy {
  readonly name = 'segment';
  readonly description = "what the viewer's user segment liked, favouring the movie segments the viewer likes";
  /** k × n: smoothed segment scores, and how many members rated each movie positively. */
  private base: Float32Array = new Float32Array(0);
  private liked: Int32Array = new Int32Array(0);
  private prior: Float32Array = new Float32Array(0);
  private n = 0;
  /** Everyone's share of positive ratings per movie segment. */
  private globalShare: Float64Array = new Float64Array(0);
  private positives = new Float64Array(0);
  private multiplier = new Float64Array(0);
  private lastSegment = -1;
  /** Stored users placed by the encoder (live users on their writes; users without a fitted segment once). */
  private readonly placed: UserStates<number>;

  /**
   * Over the user segmentation, the movie segmentation it was fitted over and the score tables; smoothing and
   * lowRatingWeight apply to the tables here, so they can differ from training.
   */
  constructor(
    private readonly settings: SegmentStrategySettings,
    readonly model: UserSegmentModel,
    readonly movieSegmentation: FittedMovieSegments,
    readonly scoreTables: SegmentScores,
    private readonly data: TrainingData,
  ) {
    this.use(model, movieSegmentation, scoreTables);
    this.placed = new UserStates<number>(data.live, (h) => model.place(h.items, h.ratings), undefined, true);
  }

  /** Takes fitted models and builds the smoothed scores with this strategy's settings. */
  private use(model: UserSegmentModel, movies: FittedMovieSegments, tables: SegmentScores): void {
    if (tables.k !== model.k || tables.movieK !== movies.k)
      throw new Error(
        `segment: the score tables are over ${tables.k} user and ${tables.movieK} movie segments, the models have ${model.k} and ${movies.k}`,
      );
    this.n = tables.n;
    const { base, prior } = tables.scores(this.settings.smoothing, this.settings.lowRatingWeight);
    this.base = base;
    this.prior = prior;
    this.liked = tables.liked;
    this.globalShare = tables.globalShare;
    this.positives = new Float64Array(movies.k);
    this.multiplier = new Float64Array(movies.k);
  }

  /** The viewer's user segment: a fitted user's own, else placed from the history; -1 without ratings. */
  segmentOf(query: Query): number {
    const model = this.model;
    const { ctx } = query;
    if (!isStoredUser(ctx)) return model.place(query.history.items, query.history.ratings);
    const fitted = this.data.live?.has(ctx.userId) ? -1 : model.fittedSegmentOf(ctx.userId);
    return fitted >= 0 ? fitted : this.placed.get(ctx.userId, query.history);
  }

  /** The segmentation as a whole. */
  overview(): UserSegmentOverview {
    const m = this.model;
    return {
      k: m.k,
      rule: m.rule,
      elbow: m.elbow,
      scores: m.scores,
      users: m.userIds.length,
      movieSegments: this.movieSegmentation.k,
      autoencoder: m.report,
      segments: m.segments,
    };
  }

  /** A viewer's segment, how it was found, and the highlights of their profile. */
  viewer(query: Query): ViewerSegment {
    const segment = this.segmentOf(query);
    const { userId } = query.ctx;
    const fitted =
      userId !== undefined && !this.data.live?.has(userId) && this.model.fittedSegmentOf(userId) === segment;
    return {
      segment,
      source: fitted && segment >= 0 ? 'fitted' : 'placed',
      details: this.model.segments[segment] ?? null,
      profile: this.model.profile(query.history.items, query.history.ratings),
    };
  }

  score(query: Query, scores: Float32Array): ScoreResult | undefined {
    const seg = this.segmentOf(query);
    this.lastSegment = seg;
    const n = this.n;
    if (seg < 0) {
      // Nothing rated: everyone's like rate.
      for (let i = 0; i < scores.length; i++) scores[i] = i < n ? this.prior[i]! : 0;
      return undefined;
    }
    const movies = this.movieSegmentation;
    const beta = this.settings.movieSegmentWeight;
    const pos = this.positives;
    pos.fill(0);
    let total = 0;
    const { items, ratings } = query.history;
    for (let k = 0; k < items.length; k++) {
      const i = items[k]!;
      if (!(ratings[k]! > this.settings.positiveRating) || i >= n) continue;
      const ms = movies.assignment[i]!;
      if (ms < 0) continue;
      pos[ms]!++;
      total++;
    }
    for (let j = 0; j < movies.k; j++) {
      const g = this.globalShare[j]!;
      const share = (pos[j]! + SHARE_PRIOR * g) / (total + SHARE_PRIOR);
      this.multiplier[j] = 1 - beta + (beta * share) / g;
    }
    const off = seg * n;
    for (let i = 0; i < scores.length; i++) {
      if (i >= n) {
        scores[i] = 0;
        continue;
      }
      const ms = movies.assignment[i]!;
      scores[i] = this.base[off + i]! * (ms >= 0 ? this.multiplier[ms]! : 1);
    }
    return undefined;
  }

  explain(_query: Query, index: number): string | undefined {
    const seg = this.lastSegment;
    if (index >= this.n) return undefined;
    if (seg < 0) {
      // Nothing rated: the list is everyone's like rate.
      let liked = 0;
      for (let s = 0; s < this.model.k; s++) liked += this.liked[s * this.n + index]!;
      const why = 'no ratings yet to find viewers like you';
      return liked > 0
        ? `liked by ${liked} viewer${liked === 1 ? '' : 's'} overall (${why})`
        : `popular overall (${why})`;
    }
    const info = this.model.segments[seg]!;
    const liked = this.liked[seg * this.n + index]!;
    const who = `viewers like you (segment ${seg}: ${info.label})`;
    if (liked > 0) return `liked by ${liked} of the ${info.size} ${who}`;
    const ms = this.movieSegmentation.assignment[index]!;
    if (ms >= 0 && this.multiplier[ms]! > 1) {
      const genres = this.movieSegmentation.segments[ms]?.topGenres.map((g) => g.genre).slice(0, 2) ?? [];
      return `popular with everyone, in a kind of movie you like (${genres.join(', ') || `movie segment ${ms}`}); ${who}`;
    }
    return undefined;
  }
}
