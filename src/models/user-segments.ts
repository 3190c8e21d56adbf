import type { Catalogue } from '../data/catalogue.ts';
import type { Interactions } from '../data/interactions.ts';
import { type KRule, type KScore, selectK } from '../math/cluster-count.ts';
import { nearestCentroid } from '../math/kmeans.ts';
import { Rng } from '../math/random.ts';
import { indexInSorted } from '../math/sorted.ts';
import { Dense, Linear, ReLU } from '../nn/layers.ts';
import { mse } from '../nn/losses.ts';
import { type Dataset, type NetworkSpec, Sequential, train } from '../nn/network.ts';
import { Adam } from '../nn/optim.ts';
import { readModel, writeModel } from '../util/artifacts.ts';
import { assertMayFit } from '../util/fit-guard.ts';
import { type Progress, silentProgress } from '../util/progress.ts';

/**
 * User segments: a taste profile per user (what genres they like, how they rate and how much they
 * watch in each movie segment, how much they rate), standardised, compressed by a small autoencoder,
 * then k-means on the codes with k chosen from the data exactly as for movie segments (selectK). A new
 * or changed user is placed with the fitted scaler, encoder and centroids, without refitting.
 */

export interface UserSegmentSettings {
  minK: number;
  maxK: number;
  rule: KRule;
  seed: number;
  restarts: number;
  /** Ratings above this are positive (the genre shares count only those). */
  positiveRating: number;
  /** Autoencoder: input → hidden (ReLU) → code (linear) → hidden (ReLU) → input (linear). */
  hidden: number;
  code: number;
  epochs: number;
  /** Epochs without a validation improvement before stopping (the best weights are restored). */
  patience: number;
  batchSize: number;
  learningRate: number;
  /** Share of the users held out to validate the autoencoder (none below 20 users). */
  validationShare: number;
  /** Pseudo-ratings pulling a user's mean rating in a movie segment towards their overall mean. */
  meanShrinkage: number;
}

/** What user segments need of the movie segmentation (MovieSegmentation satisfies it). */
export interface MovieSegmentsInput {
  k: number;
  /** Movie segment of each catalogue index at fitting time. */
  assignment: Int32Array;
  segments: readonly { segment: number; topGenres: readonly { genre: string }[] }[];
}

export interface GenreShare {
  genre: string;
  /** Share of the positive ratings that went to movies of this genre. */
  share: number;
  /** share ÷ the same share over all fitted users. */
  lift: number;
}

export interface MovieSegmentShare {
  /** Movie segment id. */
  segment: number;
  /** Its top genres (from the movie segmentation). */
  genres: string[];
  /** Share of the ratings that fell in this movie segment. */
  share: number;
  /** share ÷ the same share over all fitted users. */
  lift: number;
  /** Mean rating given to this movie segment (shrunk towards the user's or members' mean). */
  meanRating: number;
}

export interface UserSegment {
  segment: number;
  /** Fitted users in it. */
  size: number;
  /** Short name from its most distinctive genres, e.g. "Horror & Thriller fans". */
  label: string;
  /** Top genres by the members' mean share of positive ratings. */
  topGenres: GenreShare[];
  /** Mean of the members' mean ratings. */
  meanRating: number;
  /** Median number of ratings of the members. */
  medianRatings: number;
  /** Movie segments the members rate more often than everyone does (highest lift first). */
  favouredMovieSegments: MovieSegmentShare[];
  description: string;
}

export interface UserProfile {
  ratings: number;
  positive: number;
  meanRating: number | null;
  topGenres: GenreShare[];
  /** The movie segments this user rates most often relative to everyone. */
  movieSegments: MovieSegmentShare[];
}

export interface AutoencoderReport {
  inputs: number;
  hidden: number;
  code: number;
  trainUsers: number;
  validationUsers: number;
  epochs: number;
  bestEpoch: number;
  stoppedEarly: boolean;
  /** Mean squared reconstruction error of the standardised profiles at the restored epoch. */
  trainLoss: number;
  validationLoss: number | null;
}

const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

/** Feature layout of a profile: genres | mean rating per movie segment | density per movie segment | log count. */
class ProfileBuilder {
  readonly genres: string[];
  readonly d: number;
  readonly s: number;
  private readonly genreMasks: number[];
  private readonly sums: Float64Array;
  private readonly counts: Float64Array;

  constructor(
    private readonly catalogue: Catalogue,
    readonly movieSegmentOf: Int32Array,
    movieSegments: number,
    readonly positiveRating: number,
    readonly shrinkage: number,
    /** Everyone's mean rating in each movie segment: the prior of a user's mean there. */
    readonly segmentMeans: Float64Array,
    /** The genre columns (a loaded model keeps its fitted ones); the catalogue's genres by default. */
    genres: string[] = catalogue.genres(),
  ) {
    this.genres = genres;
    this.genreMasks = this.genres.map((g) => catalogue.maskOf([g]));
    this.s = movieSegments;
    this.d = this.genres.length + 2 * this.s + 1;
    this.sums = new Float64Array(this.s);
    this.counts = new Float64Array(this.s);
  }

  get genreOffset(): number {
    return 0;
  }
  get meanOffset(): number {
    return this.genres.length;
  }
  get densityOffset(): number {
    return this.genres.length + this.s;
  }

  /**
   * Writes the raw profile of one history into out[offset, offset + d); returns the number of ratings
   * (watched-only entries, rating NaN, do not count). Allocation-free.
   */
  build(items: ArrayLike<number>, ratings: ArrayLike<number>, out: Float64Array, offset = 0): number {
    const g = this.genres.length;
    const s = this.s;
    out.fill(0, offset, offset + this.d);
    this.sums.fill(0);
    this.counts.fill(0);
    let n = 0;
    let positive = 0;
    let inSegments = 0;
    for (let k = 0; k < items.length; k++) {
      const r = ratings[k]!;
      if (Number.isNaN(r)) continue;
      const i = items[k]!;
      n++;
      if (r > this.positiveRating) {
        positive++;
        const mask = this.catalogue.genreMask(i);
        for (let t = 0; t < g; t++) if (mask & this.genreMasks[t]!) out[offset + t]! += 1;
      }
      // Movies added after the movie segments were fitted have no segment.
      const seg = i < this.movieSegmentOf.length ? this.movieSegmentOf[i]! : -1;
      if (seg >= 0) {
        this.sums[seg]! += r;
        this.counts[seg]!++;
        inSegments++;
      }
    }
    if (n === 0) return 0;
    if (positive > 0) for (let t = 0; t < g; t++) out[offset + t]! /= positive;
    const m = this.shrinkage;
    for (let j = 0; j < s; j++) {
      const c = this.counts[j]!;
      // Few ratings in a segment say little: shrink towards everyone's mean there, so that a segment a
      // new user has not rated looks ordinary rather than liked or disliked.
      const prior = this.segmentMeans[j]!;
      out[offset + g + j] = c + m > 0 ? (this.sums[j]! + m * prior) / (c + m) : prior;
      out[offset + g + s + j] = inSegments > 0 ? c / inSegments : 0;
    }
    out[offset + g + 2 * s] = Math.log1p(n);
    return n;
  }
}

const USER_SEGMENTS_FORMAT = 'cinerec-user-segments/1';

interface UserSegmentMeta {
  genres: string[];
  movieSegments: { k: number; segments: { segment: number; topGenres: { genre: string }[] }[] };
  positiveRating: number;
  shrinkage: number;
  encoder: NetworkSpec;
  encoderArrays: number;
  k: number;
  rule: KRule;
  elbow: number;
  scores: KScore[];
  segments: UserSegment[];
  report: AutoencoderReport;
}

export class UserSegmentModel {
  private readonly xRaw: Float64Array;
  private readonly xIn: Float32Array;

  private constructor(
    private readonly builder: ProfileBuilder,
    private readonly movieSegments: MovieSegmentsInput,
    private readonly positiveRating: number,
    /** Column means and standard deviations of the raw profiles (the scaler). */
    private readonly scaleMean: Float64Array,
    private readonly scaleSd: Float64Array,
    private readonly encoder: Sequential,
    readonly centroids: Float32Array,
    readonly k: number,
    readonly rule: KRule,
    readonly elbow: number,
    readonly scores: KScore[],
    /** Fitted users' ids (ascending) and their segments; users without ratings are left out. */
    readonly userIds: Int32Array,
    readonly assignment: Int32Array,
    readonly segments: UserSegment[],
    readonly report: AutoencoderReport,
    /** Mean raw profile over the fitted users (for lifts). */
    private readonly overall: Float64Array,
  ) {
    this.xRaw = new Float64Array(builder.d);
    this.xIn = new Float32Array(builder.d);
  }

  get inputs(): number {
    return this.builder.d;
  }

  get codeSize(): number {
    return this.encoder.outputSize;
  }

  /** Segment of a user fitted in the model (by id), or -1. */
  fittedSegmentOf(userId: number): number {
    const k = indexInSorted(this.userIds, userId);
    return k >= 0 ? this.assignment[k]! : -1;
  }

  /** Code of a history (a view of the encoder's buffer, valid until the next call), or null without ratings. */
  encode(items: ArrayLike<number>, ratings: ArrayLike<number>): Float32Array | null {
    if (this.builder.build(items, ratings, this.xRaw) === 0) return null;
    for (let t = 0; t < this.builder.d; t++) this.xIn[t] = (this.xRaw[t]! - this.scaleMean[t]!) / this.scaleSd[t]!;
    return this.encoder.forward(this.xIn, 1);
  }

  /** The nearest segment of any history (new, changed or anonymous), or -1 without ratings. No refitting. */
  place(items: ArrayLike<number>, ratings: ArrayLike<number>): number {
    const code = this.encode(items, ratings);
    return code ? nearestCentroid(this.centroids, this.k, this.codeSize, code, 0) : -1;
  }

  /** Readable highlights of one history's profile. */
  profile(items: ArrayLike<number>, ratings: ArrayLike<number>): UserProfile {
    const raw = new Float64Array(this.builder.d);
    const n = this.builder.build(items, ratings, raw);
    let positive = 0;
    let total = 0;
    for (let k = 0; k < ratings.length; k++) {
      const r = ratings[k]!;
      if (Number.isNaN(r)) continue;
      total += r;
      if (r > this.positiveRating) positive++;
    }
    return {
      ratings: n,
      positive,
      meanRating: n > 0 ? round4(total / n) : null,
      topGenres: positive > 0 ? this.topGenres(raw, 3) : [],
      movieSegments: n > 0 ? this.favoured(raw, 3, 0) : [],
    };
  }

  private topGenres(raw: Float64Array, count: number): GenreShare[] {
    return this.builder.genres
      .map((genre, t) => ({ genre, share: raw[t]!, lift: this.overall[t]! > 0 ? raw[t]! / this.overall[t]! : 0 }))
      .filter((g) => g.share > 0)
      .sort((a, b) => b.share - a.share || a.genre.localeCompare(b.genre))
      .slice(0, count)
      .map((g) => ({ genre: g.genre, share: round4(g.share), lift: round4(g.lift) }));
  }

  /** Movie segments by lift of the density (minimum share 2%), highest first. */
  private favoured(raw: Float64Array, count: number, minLift: number): MovieSegmentShare[] {
    const b = this.builder;
    const out: MovieSegmentShare[] = [];
    for (let j = 0; j < b.s; j++) {
      const share = raw[b.densityOffset + j]!;
      const base = this.overall[b.densityOffset + j]!;
      const lift = base > 0 ? share / base : 0;
      if (share < 0.02 || lift <= minLift) continue;
      out.push({
        segment: j,
        genres: (this.movieSegments.segments[j]?.topGenres ?? []).map((g) => g.genre),
        share: round4(share),
        lift: round4(lift),
        meanRating: round4(raw[b.meanOffset + j]!),
      });
    }
    return out.sort((a, b) => b.lift - a.lift || a.segment - b.segment).slice(0, count);
  }

  /**
   * Writes everything place, encode, profile and fittedSegmentOf need into dir: the profile layout (genre
   * columns, the movie segment of each movie and the movie segments' genres, the segment priors), the
   * scaler, the encoder's weights, the centroids, the fitted users and their segments, and the reports.
   */
  save(dir: string): void {
    const b = this.builder;
    const net = this.encoder.toArrays();
    const meta: UserSegmentMeta = {
      genres: b.genres,
      movieSegments: {
        k: this.movieSegments.k,
        segments: this.movieSegments.segments.map((m) => ({
          segment: m.segment,
          topGenres: m.topGenres.map((g) => ({ genre: g.genre })),
        })),
      },
      positiveRating: this.positiveRating,
      shrinkage: b.shrinkage,
      encoder: net.spec,
      encoderArrays: net.arrays.length,
      k: this.k,
      rule: this.rule,
      elbow: this.elbow,
      scores: this.scores,
      segments: this.segments,
      report: this.report,
    };
    const arrays: Record<string, Float32Array | Float64Array | Int32Array> = {
      // The profiles' movie segment of each movie: the movie segmentation's assignment (one array at fit).
      movieAssignment: b.movieSegmentOf,
      segmentMeans: b.segmentMeans,
      scaleMean: this.scaleMean,
      scaleSd: this.scaleSd,
      centroids: this.centroids,
      userIds: this.userIds,
      assignment: this.assignment,
      overall: this.overall,
    };
    net.arrays.forEach((w, i) => {
      arrays[`encoder.${i}`] = w;
    });
    writeModel(dir, USER_SEGMENTS_FORMAT, meta, arrays);
  }

  /**
   * The model saved in dir, over the catalogue it profiles movies from (the one it was fitted on, or the
   * same grown by movies added since: those have no movie segment, as for a model kept in memory).
   */
  static load(dir: string, catalogue: Catalogue): UserSegmentModel {
    const a = readModel<UserSegmentMeta>(dir, USER_SEGMENTS_FORMAT);
    const m = a.meta;
    const movieSegmentOf = a.array('movieAssignment', 'Int32Array');
    const builder = new ProfileBuilder(
      catalogue,
      movieSegmentOf,
      m.movieSegments.k,
      m.positiveRating,
      m.shrinkage,
      a.array('segmentMeans', 'Float64Array'),
      m.genres,
    );
    const movieSegments: MovieSegmentsInput = {
      k: m.movieSegments.k,
      assignment: movieSegmentOf,
      segments: m.movieSegments.segments,
    };
    const encoder = Sequential.fromArrays(
      m.encoder,
      Array.from({ length: m.encoderArrays }, (_, i) => a.array(`encoder.${i}`, 'Float32Array')),
    );
    const scaleMean = a.array('scaleMean', 'Float64Array');
    const scaleSd = a.array('scaleSd', 'Float64Array');
    if (scaleMean.length !== builder.d || encoder.inputSize !== builder.d)
      throw new Error(`${dir}: user segment profiles have ${builder.d} columns, the saved scaler and encoder do not`);
    return new UserSegmentModel(
      builder,
      movieSegments,
      m.positiveRating,
      scaleMean,
      scaleSd,
      encoder,
      a.array('centroids', 'Float32Array'),
      m.k,
      m.rule,
      m.elbow,
      m.scores,
      a.array('userIds', 'Int32Array'),
      a.array('assignment', 'Int32Array'),
      m.segments,
      m.report,
      a.array('overall', 'Float64Array'),
    );
  }

  /**
   * Fits the model on every user with at least one rating. Deterministic given settings.seed.
   */
  static fit(
    catalogue: Catalogue,
    x: Interactions,
    movieSegments: MovieSegmentsInput,
    settings: UserSegmentSettings,
    progress: Progress = silentProgress,
  ): UserSegmentModel {
    assertMayFit('user segments');
    const sums = new Float64Array(movieSegments.k);
    const counts = new Float64Array(movieSegments.k);
    for (let p = 0; p < x.nnz; p++) {
      const seg = movieSegments.assignment[x.items[p]!] ?? -1;
      if (seg < 0) continue;
      sums[seg]! += x.ratings[p]!;
      counts[seg]!++;
    }
    const global = x.meanRating();
    const builder = new ProfileBuilder(
      catalogue,
      movieSegments.assignment,
      movieSegments.k,
      settings.positiveRating,
      settings.meanShrinkage,
      Float64Array.from(sums, (v, j) => (counts[j]! > 0 ? v / counts[j]! : global)),
    );
    const d = builder.d;
    const ids: number[] = [];
    const rows: number[] = [];
    for (let u = 0; u < x.nUsers; u++) {
      if (x.indptr[u + 1]! > x.indptr[u]!) {
        ids.push(x.userIds[u]!);
        rows.push(u);
      }
    }
    const n = rows.length;
    if (n < settings.minK + 1)
      throw new RangeError(`user segments need at least ${settings.minK + 1} users with ratings, got ${n}`);
    const raw = new Float64Array(n * d);
    for (let r = 0; r < n; r++) builder.build(x.rowItems(rows[r]!), x.rowRatings(rows[r]!), raw, r * d);

    // Scaler: standardise every column (a constant column stays 0).
    const mean = new Float64Array(d);
    const sd = new Float64Array(d);
    for (let r = 0; r < n; r++) for (let t = 0; t < d; t++) mean[t]! += raw[r * d + t]!;
    for (let t = 0; t < d; t++) mean[t]! /= n;
    for (let r = 0; r < n; r++) for (let t = 0; t < d; t++) sd[t]! += (raw[r * d + t]! - mean[t]!) ** 2;
    for (let t = 0; t < d; t++) sd[t] = Math.sqrt(sd[t]! / n) || 1;
    const data = new Float32Array(n * d);
    for (let r = 0; r < n; r++) for (let t = 0; t < d; t++) data[r * d + t] = (raw[r * d + t]! - mean[t]!) / sd[t]!;

    // Autoencoder d → hidden → code → hidden → d; the encoder shares the first three layers.
    const rng = new Rng(settings.seed, 17);
    const encLayers = [
      new Dense(d, settings.hidden, 'he', rng),
      new ReLU(),
      new Dense(settings.hidden, settings.code, 'glorot', rng),
      new Linear(),
    ];
    const net = new Sequential([
      ...encLayers,
      new Dense(settings.code, settings.hidden, 'he', rng),
      new ReLU(),
      new Dense(settings.hidden, d, 'glorot', rng),
      new Linear(),
    ]);
    const encoder = new Sequential(encLayers);
    const { trainSet, validation } = holdOut(data, n, d, settings, rng);
    const result = train(net, trainSet, {
      epochs: settings.epochs,
      batchSize: settings.batchSize,
      loss: mse,
      optimizer: new Adam({ lr: settings.learningRate }),
      seed: settings.seed,
      ...(validation ? { validation, patience: settings.patience } : {}),
    });
    const best = result.history[result.bestEpoch - 1];
    const report: AutoencoderReport = {
      inputs: d,
      hidden: settings.hidden,
      code: settings.code,
      trainUsers: trainSet.x.length / d,
      validationUsers: validation ? validation.x.length / d : 0,
      epochs: result.history.length,
      bestEpoch: result.bestEpoch,
      stoppedEarly: result.stoppedEarly,
      trainLoss: round4(best?.trainLoss ?? 0),
      validationLoss: result.bestValidationLoss === undefined ? null : round4(result.bestValidationLoss),
    };

    const codes = encoder.predict(data);
    const sel = selectK(codes, n, settings.code, {
      minK: settings.minK,
      maxK: settings.maxK,
      rule: settings.rule,
      seed: settings.seed,
      restarts: settings.restarts,
      sample: Math.min(n, 2000),
      onK: (done, total) => (done === 0 ? progress.start(total, 'user segments: k') : progress.update(done)),
    });
    progress.stop();

    const overall = new Float64Array(d);
    for (let r = 0; r < n; r++) for (let t = 0; t < d; t++) overall[t]! += raw[r * d + t]!;
    for (let t = 0; t < d; t++) overall[t]! /= n;

    const model = new UserSegmentModel(
      builder,
      movieSegments,
      settings.positiveRating,
      mean,
      sd,
      encoder,
      sel.centroids,
      sel.k,
      sel.rule,
      sel.elbow,
      sel.scores,
      Int32Array.from(ids),
      sel.assignment,
      [],
      report,
      overall,
    );
    model.segments.push(...model.describe(raw, n, rows, x, sel.assignment));
    return model;
  }

  private describe(
    raw: Float64Array,
    n: number,
    rows: number[],
    x: Interactions,
    assignment: Int32Array,
  ): UserSegment[] {
    const d = this.builder.d;
    const out: UserSegment[] = [];
    const meanOf = (r: number) => {
      const ratings = x.rowRatings(rows[r]!);
      let sum = 0;
      for (let k = 0; k < ratings.length; k++) sum += ratings[k]!;
      return sum / ratings.length;
    };
    let everyone = 0;
    for (let r = 0; r < n; r++) everyone += meanOf(r);
    everyone /= n;
    for (let s = 0; s < this.k; s++) {
      const members: number[] = [];
      for (let r = 0; r < n; r++) if (assignment[r] === s) members.push(r);
      const centre = new Float64Array(d);
      for (const r of members) for (let t = 0; t < d; t++) centre[t]! += raw[r * d + t]!;
      for (let t = 0; t < d; t++) centre[t]! /= Math.max(1, members.length);
      // The members' mean rating and rating counts come from their rows, not the profile.
      let meanSum = 0;
      const sizes: number[] = [];
      for (const r of members) {
        meanSum += meanOf(r);
        sizes.push(x.indptr[rows[r]! + 1]! - x.indptr[rows[r]!]!);
      }
      sizes.sort((p, q) => p - q);
      const meanRating = members.length ? meanSum / members.length : 0;
      const medianRatings = sizes.length ? sizes[Math.floor(sizes.length / 2)]! : 0;
      const topGenres = this.topGenres(centre, 3);
      const favoured = this.favoured(centre, 3, 1);
      // The label names what the members like most (their top genres), ordered by how much more than everyone
      // they like it, so it never contradicts the shares the description lists.
      const distinctive = topGenres
        .filter((g) => g.share >= 0.1)
        .sort((p, q) => q.lift - p.lift || p.genre.localeCompare(q.genre));
      // A quarter star from everyone's mean is a visible difference in how a group rates.
      const raters =
        meanRating >= everyone + 0.25 ? ', generous raters' : meanRating <= everyone - 0.25 ? ', harsh raters' : '';
      const taste =
        distinctive.length === 0
          ? 'few positive ratings'
          : distinctive[0]!.lift < 1.15
            ? `broad taste (${topGenres
                .slice(0, 2)
                .map((g) => g.genre)
                .join(', ')})`
            : `${distinctive
                .slice(0, 2)
                .filter((g) => g.lift >= 1.15)
                .map((g) => g.genre)
                .join(' & ')} fans`;
      const label = `${taste}${raters}`;
      const pct = (v: number) => `${Math.round(v * 100)}%`;
      out.push({
        segment: s,
        size: members.length,
        label,
        topGenres,
        meanRating: round4(meanRating),
        medianRatings,
        favouredMovieSegments: favoured,
        description:
          `${members.length} viewers, ${label}: liked movies are ${topGenres.map((g) => `${g.genre} ${pct(g.share)} (×${g.lift.toFixed(1)} everyone's)`).join(', ') || 'none'}; ` +
          `mean rating ${meanRating.toFixed(2)}, median ${medianRatings} ratings` +
          (favoured.length
            ? `; watch more of movie segment${favoured.length > 1 ? 's' : ''} ${favoured.map((f) => `${f.segment} (${f.genres.slice(0, 2).join('/') || 'no genre'}, ×${f.lift.toFixed(1)})`).join(', ')}`
            : ''),
      });
    }
    return out;
  }
}

/** A seeded validation split of the users (none below 20 users: too few to spare). */
function holdOut(
  data: Float32Array,
  n: number,
  d: number,
  settings: UserSegmentSettings,
  rng: Rng,
): { trainSet: Dataset; validation: Dataset | null } {
  const held = n >= 20 ? Math.max(1, Math.round(n * settings.validationShare)) : 0;
  if (held === 0 || settings.validationShare <= 0) return { trainSet: { x: data, y: data }, validation: null };
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  rng.shuffle(order);
  const pick = (from: number, to: number) => {
    const out = new Float32Array((to - from) * d);
    for (let r = from; r < to; r++) out.set(data.subarray(order[r]! * d, (order[r]! + 1) * d), (r - from) * d);
    return out;
  };
  const v = pick(0, held);
  const t = pick(held, n);
  return { trainSet: { x: t, y: t }, validation: { x: v, y: v } };
}

/** The whole segmentation, as the API and the CLI show it. */
export interface UserSegmentOverview {
  k: number;
  rule: KRule;
  /** The knee of the inertia curve, whatever the rule. */
  elbow: number;
  /** Every k tried, with all four scores. */
  scores: KScore[];
  /** Users fitted (with at least one rating). */
  users: number;
  /** Movie segments the profiles are built on. */
  movieSegments: number;
  autoencoder: AutoencoderReport;
  segments: UserSegment[];
}

/** One viewer's segment. */
export interface ViewerSegment {
  /** -1 without ratings. */
  segment: number;
  /** 'fitted': segmented with everyone; 'placed': placed now from the current ratings (new or changed). */
  source: 'fitted' | 'placed';
  details: UserSegment | null;
  profile: UserProfile;
}
