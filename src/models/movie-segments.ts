import type { Catalogue } from '../data/catalogue.ts';
import type { Interactions } from '../data/interactions.ts';
import { type KRule, type KScore, selectK } from '../math/cluster-count.ts';
import { nearestCentroid } from '../math/kmeans.ts';
import { readModel, writeModel } from '../util/artifacts.ts';
import { assertMayFit } from '../util/fit-guard.ts';
import { type Progress, silentProgress } from '../util/progress.ts';

export interface SegmentSettings {
  minK: number;
  maxK: number;
  rule: KRule;
  seed: number;
  restarts: number;
}

export interface MovieSegment {
  segment: number;
  size: number;
  topGenres: { genre: string; share: number }[];
  /** Mean of the members' mean ratings (rated members only). */
  meanRating: number | null;
  /** Median number of ratings of the members. */
  medianVotes: number;
  description: string;
}

/** The segments as fitted: what scoring and the API read. */
export interface FittedMovieSegments {
  k: number;
  rule: KRule;
  elbow: number;
  scores: KScore[];
  segments: MovieSegment[];
  /** Segment of each catalogue index. */
  assignment: Int32Array;
}

/** The fitted segments plus what placing a movie added later needs (placeMovie). */
export interface MovieSegmentation extends FittedMovieSegments {
  /** Feature columns: one per genre (these names, in this order), then mean rating and log(1 + ratings). */
  genres: string[];
  /** Per column: the mean and standard deviation the features were standardised with. */
  columnMean: Float64Array;
  columnSd: Float64Array;
  /** k × (genres + 2) centroids in the standardised space. */
  centroids: Float32Array;
  /** Mean of all fitted ratings: the mean-rating feature of a movie without ratings. */
  globalMean: number;
}

/**
 * Movie segments: multi-hot genres + mean rating + log rating count, standardised, then k-means with
 * k chosen over a range by the configured rule (all four validity scores kept for every k).
 */
export function segmentMovies(
  catalogue: Catalogue,
  x: Interactions,
  settings: SegmentSettings,
  progress: Progress = silentProgress,
): MovieSegmentation {
  assertMayFit('movie segments');
  const genres = catalogue.genres();
  const n = catalogue.size;
  const d = genres.length + 2;
  const counts = x.itemCounts();
  const sums = new Float64Array(n);
  for (let p = 0; p < x.items.length; p++) sums[x.items[p]!]! += x.ratings[p]!;
  const global = x.meanRating();
  const raw = new Float64Array(n * d);
  const mask = genres.map((g) => catalogue.maskOf([g]));
  for (let i = 0; i < n; i++) {
    const m = catalogue.genreMask(i);
    genres.forEach((_, g) => {
      raw[i * d + g] = m & mask[g]! ? 1 : 0;
    });
    const c = counts[i] ?? 0;
    raw[i * d + genres.length] = c > 0 ? sums[i]! / c : global;
    raw[i * d + genres.length + 1] = Math.log1p(c);
  }
  // Standardise every column (the means and deviations are kept to place movies added later).
  const data = new Float32Array(n * d);
  const columnMean = new Float64Array(d);
  const columnSd = new Float64Array(d);
  for (let t = 0; t < d; t++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += raw[i * d + t]!;
    mean /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (raw[i * d + t]! - mean) ** 2;
    const sd = Math.sqrt(v / n) || 1;
    columnMean[t] = mean;
    columnSd[t] = sd;
    for (let i = 0; i < n; i++) data[i * d + t] = (raw[i * d + t]! - mean) / sd;
  }
  const sel = selectK(data, n, d, {
    minK: settings.minK,
    maxK: settings.maxK,
    rule: settings.rule,
    seed: settings.seed,
    restarts: settings.restarts,
    sample: Math.max(300, Math.min(1000, Math.floor(2e8 / (n * d)))),
    onK: (done, total) => (done === 0 ? progress.start(total, 'movie segments: k') : progress.update(done)),
  });
  progress.stop();
  const segments: MovieSegment[] = [];
  for (let s = 0; s < sel.k; s++) {
    const members: number[] = [];
    for (let i = 0; i < n; i++) if (sel.assignment[i] === s) members.push(i);
    const genreCount = genres.map((_, g) => members.filter((i) => raw[i * d + g] === 1).length);
    const topGenres = genres
      .map((genre, g) => ({ genre, share: genreCount[g]! / Math.max(1, members.length) }))
      .filter((g) => g.share > 0)
      .sort((a, b) => b.share - a.share || a.genre.localeCompare(b.genre))
      .slice(0, 3)
      .map((g) => ({ genre: g.genre, share: Math.round(g.share * 1e4) / 1e4 }));
    const rated = members.filter((i) => (counts[i] ?? 0) > 0);
    const meanRating = rated.length ? rated.reduce((a, i) => a + sums[i]! / counts[i]!, 0) / rated.length : null;
    const votes = members.map((i) => counts[i] ?? 0).sort((a, b) => a - b);
    const medianVotes = votes.length ? votes[Math.floor(votes.length / 2)]! : 0;
    segments.push({
      segment: s,
      size: members.length,
      topGenres,
      meanRating: meanRating === null ? null : Math.round(meanRating * 1e4) / 1e4,
      medianVotes,
      description: `${members.length} movies, mostly ${topGenres.map((g) => g.genre).join(', ') || 'no genre'}; mean rating ${meanRating === null ? 'n/a' : meanRating.toFixed(2)}, median ${medianVotes} ratings`,
    });
  }
  return {
    k: sel.k,
    rule: sel.rule,
    elbow: sel.elbow,
    scores: sel.scores,
    segments,
    assignment: sel.assignment,
    genres,
    columnMean,
    columnSd,
    centroids: sel.centroids,
    globalMean: global,
  };
}

/**
 * The segment of a movie added after fitting (catalogue index `index`), without refitting: its genres,
 * the mean rating `globalMean` (it has no ratings yet; by default the fitted global mean) and log count 0,
 * standardised with the fitted columns, then the nearest fitted centroid. The segments themselves (sizes,
 * descriptions, k) stay as fitted.
 */
export function placeMovie(
  seg: MovieSegmentation,
  catalogue: Catalogue,
  index: number,
  globalMean: number = seg.globalMean,
): number {
  const g = seg.genres.length;
  const d = g + 2;
  const mask = catalogue.genreMask(index);
  const raw = new Float64Array(d);
  seg.genres.forEach((genre, t) => {
    raw[t] = mask & catalogue.maskOf([genre]) ? 1 : 0;
  });
  raw[g] = globalMean;
  raw[g + 1] = Math.log1p(0);
  const x = new Float32Array(d);
  for (let t = 0; t < d; t++) x[t] = (raw[t]! - seg.columnMean[t]!) / seg.columnSd[t]!;
  return nearestCentroid(seg.centroids, seg.k, d, x, 0);
}

const MOVIE_SEGMENTS_FORMAT = 'cinerec-movie-segments/1';

type MovieSegmentsMeta = Omit<MovieSegmentation, 'assignment' | 'columnMean' | 'columnSd' | 'centroids'>;

export function saveMovieSegments(dir: string, seg: MovieSegmentation): void {
  const { assignment, columnMean, columnSd, centroids, ...meta } = seg;
  writeModel<MovieSegmentsMeta>(dir, MOVIE_SEGMENTS_FORMAT, meta, { assignment, columnMean, columnSd, centroids });
}

export function loadMovieSegments(dir: string): MovieSegmentation {
  const a = readModel<MovieSegmentsMeta>(dir, MOVIE_SEGMENTS_FORMAT);
  const seg: MovieSegmentation = {
    ...a.meta,
    assignment: a.array('assignment', 'Int32Array'),
    columnMean: a.array('columnMean', 'Float64Array'),
    columnSd: a.array('columnSd', 'Float64Array'),
    centroids: a.array('centroids', 'Float32Array'),
  };
  const d = seg.genres.length + 2;
  if (seg.columnMean.length !== d || seg.columnSd.length !== d || seg.centroids.length !== seg.k * d)
    throw new Error(`${dir}: movie segment arrays do not fit k = ${seg.k} over ${d} columns`);
  return seg;
}
