import { once } from 'node:events';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { Rng } from '../math/random.ts';
import { type Progress, silentProgress } from '../util/progress.ts';

/**
 * A seeded synthetic MovieLens release in the ml-latest CSV format, for tests and benchmarks at any
 * size (the real large releases cannot be redistributed or downloaded in CI).
 *
 * The generative model, chosen so that the statistics recommenders care about look like MovieLens:
 * - movie popularity is Zipf–Mandelbrot (weight ∝ (rank + q)^-s, rank from 1); per-user activity is
 *   a minimum (20, as in MovieLens) plus a Lomax (Pareto II) extra, so both marginals are heavy-tailed;
 * - users and movies have latent taste vectors; movies' genres are drawn from their vector, so
 *   genres carry signal too;
 * - a user picks movies by popularity, thinned by how much they would like them (people mostly rate
 *   what they chose to watch), so top-N models have something to find;
 * - rating = global mean + user bias + movie bias + dot product + noise, rounded to half stars with
 *   a pull towards whole stars (MovieLens users favour them) and clipped to 0.5–5;
 * - optionally a tag genome for the most popular movies: each tag is a direction in taste space
 *   (some lean to a genre), relevance = logistic(bias + loading · projection + genre bonus + noise),
 *   mostly low with a few tags near 1 per movie, as in the real genome.
 *
 * Output is streamed: ratings are generated user by user into a byte buffer and written through an
 * fs stream with backpressure. Memory is typed arrays per movie (~50 bytes), per user (4 bytes), per
 * tag row (~22 bytes) and a few MB of buffers: about 220 MB RSS for 25 M ratings, mostly Node itself.
 * Same options and seed give byte-identical files.
 */

export interface SyntheticOptions {
  users: number;
  movies: number;
  ratings: number;
  seed: number;
  /** Latent taste dimensions, default 8. */
  factors?: number;
  /** Genre vocabulary (at most 32, no `|` or `,`), default the ml-latest genres. */
  genres?: readonly string[];
  /** Number of tag rows, default ratings / 100. */
  tags?: number;
  /** Half-star scale 0.5–5 (default true); false gives whole stars 1–5. */
  halfStars?: boolean;
  /** Zipf exponent s of movie popularity (weight ∝ (rank + q)^-s, rank from 1), default 1.0. */
  popularityExponent?: number;
  /**
   * Zipf–Mandelbrot offset q, default 30: flattens the head so the top movie is rated by about half
   * the users, as in MovieLens, rather than by nearly all of them.
   */
  popularityOffset?: number;
  /** Lomax (Pareto II) shape of per-user activity above the minimum; smaller is heavier-tailed. Default 1.8. */
  activityShape?: number;
  /** Ratings every user has at least, default 20 (lowered when ratings / users is smaller). */
  minPerUser?: number;
  /**
   * Also write a tag genome (genome-tags.csv, genome-scores.csv) when given: relevance of every tag
   * to every covered movie, derived from the movies' latent taste and genres. Absent: no genome files.
   */
  genome?: SyntheticGenomeOptions;
}

export interface SyntheticGenomeOptions {
  /** Genome tags, default 1,128 as in the real releases. */
  tags?: number;
  /**
   * Share of movies that get genome rows, the most popular first; default 0.22 (ml-25m: 13,816 of
   * 62,423 movies).
   */
  coverage?: number;
}

export interface SyntheticSummary {
  users: number;
  movies: number;
  ratings: number;
  tags: number;
  /** Present when a genome was requested: its tags, covered movies and score rows. */
  genome?: { tags: number; movies: number; scores: number };
  dir: string;
  seconds: number;
}

/** The ml-latest genre vocabulary, alphabetical as MovieLens lists them. */
export const ML_GENRES: readonly string[] = [
  'Action',
  'Adventure',
  'Animation',
  'Children',
  'Comedy',
  'Crime',
  'Documentary',
  'Drama',
  'Fantasy',
  'Film-Noir',
  'Horror',
  'IMAX',
  'Musical',
  'Mystery',
  'Romance',
  'Sci-Fi',
  'Thriller',
  'War',
  'Western',
];

// Share of ml-25m movies carrying each genre: keeps Drama common and IMAX rare.
const ML_GENRE_SHARE: Readonly<Record<string, number>> = {
  Action: 0.12,
  Adventure: 0.07,
  Animation: 0.05,
  Children: 0.04,
  Comedy: 0.27,
  Crime: 0.09,
  Documentary: 0.09,
  Drama: 0.41,
  Fantasy: 0.04,
  'Film-Noir': 0.006,
  Horror: 0.09,
  IMAX: 0.003,
  Musical: 0.02,
  Mystery: 0.04,
  Romance: 0.12,
  'Sci-Fi': 0.06,
  Thriller: 0.13,
  War: 0.03,
  Western: 0.02,
};

const NO_GENRES = '(no genres listed)';

// 1996-01-01 .. 2018-12-31 23:59:59 UTC, in seconds.
const T_START = Date.UTC(1996, 0, 1) / 1000;
const T_END = Date.UTC(2019, 0, 1) / 1000 - 1;

// Rating model, on the star scale. Tuned so the observed mean is ≈3.5 and the sd ≈1, like ml-25m.
const GLOBAL_MEAN = 3.3;
const USER_BIAS_SD = 0.5;
const MOVIE_BIAS_SD = 0.35;
/** Popular movies are rated a little higher: ± this much from most to least popular. */
const POPULARITY_BIAS = 0.2;
/** Target sd of the user·movie dot product, whatever the number of factors. */
const DOT_SD = 0.5;
const NOISE_SD = 0.75;
/** Slope of P(user rates movie | affinity): 0 would make selection ignore taste. */
const SELECTIVITY = 1;
/** Share of half-star values moved to the nearer whole star. */
const WHOLE_STAR_PULL = 0.35;
/** Users rating more than this share of all movies are sampled exactly instead of by rejection. */
const HEAVY_SHARE = 1 / 3;
/** Heaviest regular user, as a share of the movies (ml-25m: 32 k of 62 k). */
const MAX_USER_SHARE = 0.5;

const CHUNK = 1 << 20;
/** Longest ratings row: four numbers of ≤ 10 digits and separators. */
const ROW_MAX = 48;

export async function writeSyntheticMovieLens(
  dir: string,
  options: SyntheticOptions,
  progress: Progress = silentProgress,
): Promise<SyntheticSummary> {
  const started = performance.now();
  const o = resolveOptions(options);
  mkdirSync(dir, { recursive: true });

  const movies = buildMovies(o, new Rng(o.seed, 1));
  await writeMovies(join(dir, 'movies.csv'), join(dir, 'links.csv'), movies, o, new Rng(o.seed, 2));
  const counts = userCounts(o, new Rng(o.seed, 3));
  progress.start(o.ratings, 'synthetic ratings');
  try {
    await writeRatings(join(dir, 'ratings.csv'), movies, counts, o, new Rng(o.seed, 4), progress);
  } finally {
    progress.stop();
  }
  await writeTags(join(dir, 'tags.csv'), movies, o, new Rng(o.seed, 5));
  // Its own random stream, drawn last: asking for a genome changes none of the other files.
  const genome = o.genome
    ? await writeGenome(
        join(dir, 'genome-tags.csv'),
        join(dir, 'genome-scores.csv'),
        movies,
        o,
        o.genome,
        new Rng(o.seed, 6),
      )
    : null;

  return {
    users: o.users,
    movies: o.movies,
    ratings: o.ratings,
    tags: o.tags,
    ...(genome ? { genome } : {}),
    dir,
    seconds: (performance.now() - started) / 1000,
  };
}

type Resolved = Required<Omit<SyntheticOptions, 'genome'>> & { genome: Required<SyntheticGenomeOptions> | null };

function resolveOptions(options: SyntheticOptions): Resolved {
  // Field by field rather than a spread, so an explicit `undefined` also gets the default.
  const o: Resolved = {
    users: options.users,
    movies: options.movies,
    ratings: options.ratings,
    seed: options.seed,
    factors: options.factors ?? 8,
    genres: options.genres ?? ML_GENRES,
    tags: options.tags ?? Math.floor(options.ratings / 100),
    halfStars: options.halfStars ?? true,
    popularityExponent: options.popularityExponent ?? 1,
    popularityOffset: options.popularityOffset ?? 30,
    activityShape: options.activityShape ?? 1.8,
    minPerUser: options.minPerUser ?? 20,
    genome: options.genome
      ? { tags: options.genome.tags ?? 1128, coverage: options.genome.coverage ?? GENOME_COVERAGE }
      : null,
  };
  const positiveInt = (name: keyof Resolved, value: number, min = 1) => {
    if (!Number.isSafeInteger(value) || value < min) {
      throw new RangeError(`synthetic: ${name} must be an integer ≥ ${min}, got ${value}`);
    }
  };
  positiveInt('users', o.users);
  positiveInt('movies', o.movies);
  positiveInt('ratings', o.ratings);
  positiveInt('factors', o.factors);
  positiveInt('tags', o.tags, 0);
  positiveInt('minPerUser', o.minPerUser, 0);
  if (!Number.isFinite(o.seed)) throw new RangeError(`synthetic: seed must be a finite number, got ${o.seed}`);
  // Every user must have a rating (the users table is derived from ratings) and no pair repeats.
  if (o.ratings < o.users) throw new RangeError(`synthetic: ${o.ratings} ratings cannot cover ${o.users} users`);
  if (o.ratings > o.users * o.movies) {
    throw new RangeError(`synthetic: ${o.ratings} ratings exceed users × movies = ${o.users * o.movies}`);
  }
  // Ids and timestamps are written with 32-bit integer arithmetic.
  if (o.users > 2 ** 30 || o.movies > 2 ** 26) throw new RangeError('synthetic: too many users or movies');
  if (o.genres.length === 0 || o.genres.length > 32) throw new RangeError('synthetic: 1 to 32 genres');
  for (const g of o.genres) {
    if (g.trim() === '' || /[|,"\r\n]/.test(g)) throw new RangeError(`synthetic: bad genre name ${JSON.stringify(g)}`);
  }
  if (!(o.popularityExponent >= 0) || !(o.popularityOffset >= 0) || !(o.activityShape > 0)) {
    throw new RangeError('synthetic: popularityExponent and popularityOffset must be ≥ 0, activityShape > 0');
  }
  if (o.genome) {
    const { tags, coverage } = o.genome;
    if (!Number.isSafeInteger(tags) || tags < 1 || tags > 65_535) {
      throw new RangeError(`synthetic: genome.tags must be an integer from 1 to 65535, got ${tags}`);
    }
    if (!(coverage >= 0 && coverage <= 1)) {
      throw new RangeError(`synthetic: genome.coverage must be from 0 to 1, got ${coverage}`);
    }
  }
  return o;
}

// ---------------------------------------------------------------------------------------------
// Movies

/**
 * Movies are indexed internally by popularity rank (0 = most popular), so the hot part of every
 * per-movie array is contiguous and stays in cache while users draw mostly popular movies.
 */
interface MovieModel {
  count: number;
  factors: number;
  /** MovieLens id of the movie at each rank. */
  ids: Int32Array;
  /** Ranks in movieId order, for writing movies.csv sorted by id. */
  byId: Int32Array;
  /** Per rank, stride factors + 1: [bias, v_1, …, v_k]; one cache line or two per movie. */
  rows: Float32Array;
  popularity: PowerLaw;
  /** Bit g set when the movie has genre g; 0 means "(no genres listed)". */
  genreMask: Uint32Array;
}

function buildMovies(o: Resolved, rng: Rng): MovieModel {
  const m = o.movies;
  const k = o.factors;
  const stride = k + 1;
  // Per-coordinate sd so that the dot product of two vectors has sd DOT_SD.
  const coordSd = Math.sqrt(DOT_SD / Math.sqrt(k));

  // MovieLens ids have gaps (movies were added and removed over the years); popularity ranks are a
  // random permutation of them, so popularity does not follow the id order.
  const byId = rng.shuffle(Int32Array.from({ length: m }, (_, r) => r));
  const ids = new Int32Array(m);
  for (let p = 0, id = 0; p < m; p++) {
    id += 1 + (rng.next() < 0.25 ? rng.int(8) : 0);
    ids[byId[p]!] = id;
  }

  const rows = new Float32Array(m * stride);
  for (let r = 0; r < m; r++) {
    // Popular movies are rated a little higher, as in MovieLens.
    rows[r * stride] = MOVIE_BIAS_SD * rng.normal() + POPULARITY_BIAS * (1 - (2 * r) / Math.max(1, m - 1));
    for (let f = 1; f <= k; f++) rows[r * stride + f] = coordSd * rng.normal();
  }

  // Each genre is a direction in taste space; a movie has genre g with probability
  // logistic(logit(share_g) + 1.5 · z), z its standardised projection on that direction.
  const g = o.genres.length;
  const directions = new Float64Array(g * k);
  for (let i = 0; i < directions.length; i++) directions[i] = rng.normal();
  const defaultShare = Math.min(0.5, 2 / g);
  const offsets = o.genres.map((name) => logit(ML_GENRE_SHARE[name] ?? defaultShare));
  const zScale = 1 / (coordSd * Math.sqrt(k));
  const genreMask = new Uint32Array(m);
  for (let r = 0; r < m; r++) {
    if (rng.next() < 0.015) continue; // "(no genres listed)", as for ~1–8 % of MovieLens movies
    let mask = 0;
    let best = 0;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (let gi = 0; gi < g; gi++) {
      let z = 0;
      for (let f = 0; f < k; f++) z += rows[r * stride + 1 + f]! * directions[gi * k + f]!;
      const score = offsets[gi]! + 1.5 * z * zScale;
      if (rng.next() < logistic(score)) mask |= 1 << gi;
      if (score > bestScore) {
        bestScore = score;
        best = gi;
      }
    }
    genreMask[r] = mask === 0 ? 1 << best : mask;
  }

  return {
    count: m,
    factors: k,
    ids,
    byId,
    rows,
    popularity: new PowerLaw(m, o.popularityExponent, o.popularityOffset),
    genreMask,
  };
}

const ADJECTIVES = [
  'Silent',
  'Broken',
  'Golden',
  'Dark',
  'Last',
  'Hidden',
  'Crimson',
  'Electric',
  'Lonely',
  'Wild',
  'Frozen',
  'Burning',
  'Secret',
  'Lost',
  'Midnight',
  'Eternal',
  'Savage',
  'Little',
  'Distant',
  'Velvet',
  'Hollow',
  'Iron',
  'Paper',
  'Restless',
];
const NOUNS = [
  'River',
  'City',
  'Heart',
  'Garden',
  'Empire',
  'Stranger',
  'Summer',
  'Road',
  'Kingdom',
  'Promise',
  'Shadow',
  'Island',
  'Machine',
  'Harbor',
  'Witness',
  'Dream',
  'Storm',
  'Frontier',
  'Mirror',
  'Station',
  'Orchard',
  'Signal',
  'Dynasty',
  'Letters',
];

function titleFor(rng: Rng): string {
  const pick = (words: readonly string[]) => words[rng.int(words.length)]!;
  const base = rng.next() < 0.2 ? `${pick(NOUNS)} of the ${pick(NOUNS)}` : `${pick(ADJECTIVES)} ${pick(NOUNS)}`;
  const r = rng.next();
  let title: string;
  if (r < 0.1) title = `${base}, The`;
  else if (r < 0.13) title = `${base}, A`;
  else if (r < 0.16) title = `${base} (a.k.a. ${pick(ADJECTIVES)} ${pick(NOUNS)})`;
  else if (r < 0.17) title = `"${base}" Live`;
  else if (r < 0.2) title = `${base} ${2 + rng.int(3)}`;
  else title = base;
  if (rng.next() < 0.005) return title; // a few MovieLens titles have no year
  const year = Math.max(1902, 2018 - Math.floor(Math.abs(rng.normal()) * 22));
  return `${title} (${year})`;
}

async function writeMovies(
  moviesPath: string,
  linksPath: string,
  movies: MovieModel,
  o: Resolved,
  rng: Rng,
): Promise<void> {
  const moviesOut = new ByteSink(moviesPath);
  const linksOut = new ByteSink(linksPath);
  try {
    await moviesOut.text('movieId,title,genres\n');
    await linksOut.text('movieId,imdbId,tmdbId\n');
    let imdb = 10_000;
    let tmdb = 0;
    for (const r of movies.byId) {
      const mask = movies.genreMask[r]!;
      const genres = mask === 0 ? NO_GENRES : o.genres.filter((_, gi) => mask & (1 << gi)).join('|');
      await moviesOut.text(`${movies.ids[r]},${csvField(titleFor(rng))},${genres}\n`);
      imdb += 1 + rng.int(200);
      tmdb += 1 + rng.int(12);
      // ml-latest pads imdbId to 7 digits and leaves a few tmdbIds empty.
      const tmdbField = rng.next() < 0.002 ? '' : String(tmdb);
      await linksOut.text(`${movies.ids[r]},${String(imdb).padStart(7, '0')},${tmdbField}\n`);
    }
    await moviesOut.close();
    await linksOut.close();
  } catch (err) {
    moviesOut.destroy();
    linksOut.destroy();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Users and ratings

/** Ratings per user: a floor plus Lomax-weighted shares of the rest, capped, summing exactly. */
function userCounts(o: Resolved, rng: Rng): Uint32Array {
  const u = o.users;
  const base = Math.min(o.minPerUser, Math.floor(o.ratings / u), o.movies);
  const cap = Math.min(o.movies, Math.max(Math.floor(o.movies * MAX_USER_SHARE), Math.ceil(o.ratings / u), base));
  const counts = new Uint32Array(u).fill(base);
  const weight = new Float64Array(u);
  // Lomax (Pareto II, support from 0) weights: most users get little above the floor, a few a lot.
  for (let i = 0; i < u; i++) weight[i] = (1 - rng.next()) ** (-1 / o.activityShape) - 1;

  let remaining = o.ratings - base * u;
  // Proportional passes; users that hit the cap drop out and their share goes to the others.
  while (remaining > 0) {
    let total = 0;
    for (let i = 0; i < u; i++) if (counts[i]! < cap) total += weight[i]!;
    if (total <= 0) break;
    let assigned = 0;
    const pool = remaining;
    for (let i = 0; i < u && assigned < pool; i++) {
      if (counts[i]! >= cap) continue;
      const add = Math.min(Math.floor((pool * weight[i]!) / total), cap - counts[i]!, pool - assigned);
      counts[i] += add;
      assigned += add;
    }
    remaining -= assigned;
    if (assigned === 0 || remaining < u) break;
  }
  // Rounding leftovers (fewer than the uncapped users per round): one each from a random start.
  for (let i = rng.int(u); remaining > 0; i = (i + 1) % u) {
    if (counts[i]! < cap) {
      counts[i]++;
      remaining--;
    }
  }
  return counts;
}

// "0.5", "1.0", …, "5.0" indexed by half stars (1–10).
const RATING_TEXT = Array.from({ length: 11 }, (_, h) => Buffer.from((h / 2).toFixed(1), 'latin1'));

async function writeRatings(
  path: string,
  movies: MovieModel,
  counts: Uint32Array,
  o: Resolved,
  rng: Rng,
  progress: Progress,
): Promise<void> {
  let maxCount = 0;
  for (const c of counts) maxCount = Math.max(maxCount, c);
  const users = new UserRatings(movies, o, rng, maxCount);
  const sink = new ByteSink(path);
  try {
    await sink.text('userId,movieId,rating,timestamp\n');
    let done = 0;
    let reported = 0;
    for (let user = 0; user < counts.length; user++) {
      users.begin(user, counts[user]!);
      // The hot loops are synchronous; we only come back here to flush a full buffer.
      for (;;) {
        sink.pos = users.write(sink.buf, sink.pos, CHUNK - ROW_MAX);
        if (users.finished) break;
        await sink.flush();
      }
      done += counts[user]!;
      if (done - reported >= 100_000 || user === counts.length - 1) {
        progress.update(done);
        reported = done;
      }
    }
    await sink.close();
  } catch (err) {
    sink.destroy();
    throw err;
  }
}

/**
 * Generates one user's ratings at a time into reusable typed arrays, then renders them as CSV bytes.
 * Random draws happen in a fixed order independent of buffer boundaries, so output is reproducible.
 */
class UserRatings {
  private readonly m: number;
  private readonly k: number;
  private readonly coordSd: number;
  /** Movie ids pre-rendered as ASCII (10 bytes a slot): the row loop only copies bytes. */
  private readonly idText: Uint8Array;
  private readonly idLength: Uint8Array;
  /** stamp[j] === user + 1 marks movie j as already rated by the current user: no per-user Set. */
  private readonly stamp: Uint32Array;
  private readonly picked: Int32Array;
  private readonly affinity: Float64Array;
  private readonly times: Float64Array;
  private readonly taste: Float64Array;
  private keys: Float64Array | null = null;
  private sortedKeys: Float64Array | null = null;
  private readonly userText = new Uint8Array(12);
  private userLength = 0;
  private userBias = 0;
  private count = 0;
  private next = 0;

  constructor(
    private readonly movies: MovieModel,
    private readonly o: Resolved,
    private readonly rng: Rng,
    maxCount: number,
  ) {
    this.m = movies.count;
    this.k = movies.factors;
    this.coordSd = Math.sqrt(DOT_SD / Math.sqrt(this.k));
    this.idText = new Uint8Array(this.m * 10);
    this.idLength = new Uint8Array(this.m);
    for (let j = 0; j < this.m; j++) this.idLength[j] = writeUint(this.idText, j * 10, movies.ids[j]!) - j * 10;
    this.stamp = new Uint32Array(this.m);
    this.picked = new Int32Array(maxCount);
    this.affinity = new Float64Array(maxCount);
    this.times = new Float64Array(maxCount);
    this.taste = new Float64Array(this.k);
  }

  get finished(): boolean {
    return this.next >= this.count;
  }

  /** Draws the user's taste, the movies they rate and when. */
  begin(user: number, n: number): void {
    const { rng, taste, k } = this;
    for (let f = 0; f < k; f++) taste[f] = this.coordSd * rng.normal();
    this.userBias = USER_BIAS_SD * rng.normal();
    if (n > this.m * HEAVY_SHARE) this.pickExact(n);
    else this.pickByRejection(user, n);
    this.drawTimes(n);
    this.userLength = writeUint(this.userText, 0, user + 1);
    this.userText[this.userLength] = 44; // ','
    this.count = n;
    this.next = 0;
  }

  /** Popularity draws, skipping repeats and thinned by taste. */
  private pickByRejection(user: number, n: number): void {
    const { rng, stamp, picked, affinity, taste, k } = this;
    const { rows, popularity } = this.movies;
    const stride = k + 1;
    const mark = user + 1;
    // Ranks below `prefix` are all taken: draw from the rest of the distribution directly, which is
    // the same as rejecting them but saves most repeat draws of the blockbusters for active users.
    let prefix = 0;
    let low = 0;
    for (let c = 0; c < n; ) {
      const j = popularity.sample(low + (1 - low) * rng.next());
      if (stamp[j] === mark) continue;
      const row = j * stride;
      let dot = rows[row]!;
      for (let f = 0; f < k; f++) dot += taste[f]! * rows[row + 1 + f]!;
      if (rng.next() >= acceptance(dot)) continue;
      stamp[j] = mark;
      picked[c] = j;
      affinity[c++] = dot;
      if (j === prefix) {
        while (prefix < this.m && stamp[prefix] === mark) prefix++;
        low = popularity.quantile(prefix);
      }
    }
  }

  /**
   * Exact weighted sampling without replacement (Efraimidis–Spirakis with exponential keys), for
   * users rating a large share of the catalogue, where rejection would mostly redraw taken movies.
   */
  private pickExact(n: number): void {
    const { rng, picked, affinity, taste, k, m } = this;
    const { rows, popularity } = this.movies;
    const stride = k + 1;
    this.keys ??= new Float64Array(m);
    this.sortedKeys ??= new Float64Array(m);
    const keys = this.keys;
    for (let j = 0; j < m; j++) {
      const row = j * stride;
      let dot = rows[row]!;
      for (let f = 0; f < k; f++) dot += taste[f]! * rows[row + 1 + f]!;
      keys[j] = rng.exponential() / (popularity.weight(j) * acceptance(dot));
    }
    this.sortedKeys.set(keys);
    this.sortedKeys.sort();
    const threshold = this.sortedKeys[n - 1]!;
    let c = 0;
    for (let j = 0; j < m && c < n; j++) if (keys[j]! <= threshold) picked[c++] = j;
    // Key order is not rating order: shuffle so the timeline is not sorted by movie.
    rng.shuffle(picked.subarray(0, n));
    for (let i = 0; i < n; i++) {
      const row = picked[i]! * stride;
      let dot = rows[row]!;
      for (let f = 0; f < k; f++) dot += taste[f]! * rows[row + 1 + f]!;
      affinity[i] = dot;
    }
  }

  /**
   * Activity span: log-normal around a couple of hours (most users rate in one sitting), up to years
   * for a few; at least 30 s per rating. Sorted times come from normalised exponential gaps.
   */
  private drawTimes(n: number): void {
    const { rng, times } = this;
    const range = T_END - T_START;
    const span = Math.min(Math.max(Math.exp(9 + 3 * rng.normal()), 30 * n), range - n - 1);
    const start = T_START + Math.floor(rng.next() * (range - span - n));
    let total = 0;
    for (let i = 0; i < n; i++) {
      total += rng.exponential();
      times[i] = total;
    }
    total += rng.exponential(); // the gap after the last rating, so the span is not always used up
    const scale = span / total;
    let previous = 0;
    for (let i = 0; i < n; i++) {
      let ts = start + Math.floor(times[i]! * scale);
      if (ts <= previous) ts = previous + 1; // strictly increasing within the user
      times[i] = previous = ts;
    }
  }

  /** Renders rows from the current one until the user is done or pos passes limit; returns pos. */
  write(buf: Buffer, pos: number, limit: number): number {
    const { rng, picked, affinity, times, idText, idLength, userText, userLength, userBias } = this;
    const halfStars = this.o.halfStars;
    let i = this.next;
    for (; i < this.count && pos <= limit; i++) {
      const x = GLOBAL_MEAN + userBias + affinity[i]! + NOISE_SD * rng.normal();
      let half: number;
      if (halfStars) {
        half = Math.round(2 * x);
        if (half & 1 && rng.next() < WHOLE_STAR_PULL) half += 2 * x > half ? 1 : -1;
        half = Math.min(Math.max(half, 1), 10);
      } else {
        const stars = Math.round(x);
        half = 2 * Math.min(Math.max(stars, 1), 5);
      }
      for (let b = 0; b <= userLength; b++) buf[pos++] = userText[b]!;
      const j = picked[i]!;
      for (let b = j * 10, end = b + idLength[j]!; b < end; b++) buf[pos++] = idText[b]!;
      const rating = RATING_TEXT[half]!;
      buf[pos++] = 44;
      buf[pos++] = rating[0]!;
      buf[pos++] = rating[1]!;
      buf[pos++] = rating[2]!;
      buf[pos++] = 44;
      pos = writeUint(buf, pos, times[i]!);
      buf[pos++] = 10; // '\n'
    }
    this.next = i;
    return pos;
  }
}

// ---------------------------------------------------------------------------------------------
// Tags

const GENERIC_TAGS = [
  'atmospheric',
  'visually appealing',
  'great soundtrack',
  'overrated',
  'underrated',
  'classic',
  'slow',
  'twist ending',
  'based on a book',
  'quirky',
  'thought-provoking',
  'beautiful cinematography',
  'predictable',
  'boring',
  'must see',
  'good acting',
  'based on a true story',
  'nonlinear',
  'bleak, but worth it',
  'says "bazinga"',
];
const GENRE_TAGS: Readonly<Record<string, readonly string[]>> = {
  Action: ['action packed', 'explosions', 'car chase', 'martial arts'],
  Adventure: ['epic', 'treasure hunt', 'journey'],
  Animation: ['pixar', 'stop motion', 'anime'],
  Children: ['family', 'kids', 'disney'],
  Comedy: ['funny', 'hilarious', 'dark comedy', 'witty'],
  Crime: ['heist', 'mafia', 'detective'],
  Documentary: ['informative', 'history', 'biography'],
  Drama: ['emotional', 'sad', 'character study', 'moving'],
  Fantasy: ['magic', 'dragons', 'fairy tale'],
  'Film-Noir': ['noir', 'femme fatale', 'black and white'],
  Horror: ['scary', 'gore', 'zombies', 'creepy'],
  IMAX: ['imax', 'spectacle'],
  Musical: ['singing', 'dancing', 'broadway'],
  Mystery: ['whodunit', 'suspense', 'puzzle'],
  Romance: ['love story', 'romantic', 'chick flick'],
  'Sci-Fi': ['sci-fi', 'space', 'time travel', 'dystopia', 'aliens'],
  Thriller: ['tense', 'suspenseful', 'psychological'],
  War: ['world war ii', 'vietnam', 'anti-war'],
  Western: ['cowboys', 'gunfight', 'spaghetti western'],
};

/**
 * Tags come from a small share of users (heavy-tailed: a few tag a lot), on popular movies, with
 * words drawn mostly from the movie's genres. Held as typed arrays (≈ 22 bytes a row) because
 * tags.csv is sorted by user and movie like ml-latest's.
 */
async function writeTags(path: string, movies: MovieModel, o: Resolved, rng: Rng): Promise<void> {
  const n = o.tags;
  const vocabulary: string[] = [...GENERIC_TAGS];
  const genreWords = o.genres.map((g) => {
    const words = GENRE_TAGS[g] ?? [g.toLowerCase()];
    const first = vocabulary.length;
    vocabulary.push(...words);
    return { first, count: words.length };
  });
  const taggers = rng.shuffle(Int32Array.from({ length: o.users }, (_, i) => i + 1));
  const taggerCount = Math.max(1, Math.ceil(o.users * 0.09));

  const user = new Int32Array(n);
  const movie = new Int32Array(n);
  const word = new Uint16Array(n);
  const time = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    user[i] = taggers[Math.floor(taggerCount * rng.next() ** 3)]!;
    const j = movies.popularity.sample(rng.next());
    movie[i] = movies.ids[j]!;
    const mask = movies.genreMask[j]!;
    if (mask !== 0 && rng.next() < 0.6) {
      // A random genre of the movie: the k-th set bit.
      const bits: number[] = [];
      for (let gi = 0; gi < o.genres.length; gi++) if (mask & (1 << gi)) bits.push(gi);
      const { first, count } = genreWords[bits[rng.int(bits.length)]!]!;
      word[i] = first + rng.int(count);
    } else {
      word[i] = rng.int(GENERIC_TAGS.length);
    }
    time[i] = T_START + rng.int(T_END - T_START);
  }
  const order = Uint32Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => user[a]! - user[b]! || movie[a]! - movie[b]! || time[a]! - time[b]! || a - b,
  );

  const text = vocabulary.map(csvField);
  const sink = new ByteSink(path);
  try {
    await sink.text('userId,movieId,tag,timestamp\n');
    for (const i of order) {
      await sink.text(`${user[i]},${movie[i]},${text[word[i]!]},${time[i]}\n`);
    }
    await sink.close();
  } catch (err) {
    sink.destroy();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Tag genome

/** Default share of movies with genome rows: ml-25m scores 13,816 of its 62,423 movies. */
const GENOME_COVERAGE = 0.22;
/** Relevance is written in steps of 1/4000 (0.00025), like the values of the real genome-scores.csv. */
const RELEVANCE_STEPS = 4000;
/**
 * Relevance logit = bias_t + loading_t · z + genre bonus + movie offset + noise, z the movie's latent
 * vector projected on the tag's direction (standardised). The bias keeps most relevances below 0.2,
 * as in the real genome, while the few tags that fit a movie get close to 1.
 */
const GENOME_BIAS = -3.2;
const GENOME_BIAS_SD = 0.7;
const GENOME_LOADING = 1.3;
const GENOME_LOADING_SD = 0.4;
/** Added when the movie has the tag's genre (genre words like "scary" for Horror). */
const GENOME_GENRE_BONUS = 2.5;
/** Share of the generated "tag N" tags that lean towards one genre, by 1 to 3 logits. */
const GENOME_GENRE_SHARE = 0.3;
/** Some movies have more of everything (more discussed): a per-movie logit offset. */
const GENOME_MOVIE_SD = 0.4;
const GENOME_NOISE_SD = 0.6;

interface GenomeTagModel {
  names: string[];
  /** Per tag, stride factors: direction scaled so direction · movie vector has sd 1. */
  directions: Float64Array;
  loading: Float64Array;
  bias: Float64Array;
  /** Genre bit of the tag's affinity, 0 for none. */
  genreBit: Uint32Array;
  bonus: Float64Array;
}

function genomeTagModel(tags: number, movies: MovieModel, o: Resolved, rng: Rng): GenomeTagModel {
  const k = movies.factors;
  const coordSd = Math.sqrt(DOT_SD / Math.sqrt(k));
  // Names: genre words first (each leaning to its genre), then the generic words, then "tag N".
  const named: { name: string; genre: number }[] = [];
  const used = new Set<string>();
  const addName = (name: string, genre: number) => {
    if (!used.has(name)) {
      used.add(name);
      named.push({ name, genre });
    }
  };
  o.genres.forEach((g, gi) => {
    for (const word of GENRE_TAGS[g] ?? [g.toLowerCase()]) addName(word, gi);
  });
  for (const word of GENERIC_TAGS) addName(word, -1);

  const names: string[] = [];
  const directions = new Float64Array(tags * k);
  const loading = new Float64Array(tags);
  const bias = new Float64Array(tags);
  const genreBit = new Uint32Array(tags);
  const bonus = new Float64Array(tags);
  for (let t = 0; t < tags; t++) {
    let genre = -1;
    if (t < named.length) {
      names.push(named[t]!.name);
      genre = named[t]!.genre;
      if (genre >= 0) bonus[t] = GENOME_GENRE_BONUS;
    } else {
      let name = `tag ${t + 1}`;
      while (used.has(name)) name = `${name}+`; // only if a custom genre is called "Tag N"
      used.add(name);
      names.push(name);
      if (rng.next() < GENOME_GENRE_SHARE) {
        genre = rng.int(o.genres.length);
        bonus[t] = 1 + 2 * rng.next();
      }
    }
    genreBit[t] = genre >= 0 ? 1 << genre : 0;
    let norm = 0;
    for (let f = 0; f < k; f++) {
      const w = rng.normal();
      directions[t * k + f] = w;
      norm += w * w;
    }
    const scale = 1 / (coordSd * Math.sqrt(norm));
    for (let f = 0; f < k; f++) directions[t * k + f]! *= scale;
    loading[t] = Math.max(0.2, GENOME_LOADING + GENOME_LOADING_SD * rng.normal());
    bias[t] = GENOME_BIAS + GENOME_BIAS_SD * rng.normal();
  }
  return { names, directions, loading, bias, genreBit, bonus };
}

/**
 * genome-tags.csv and genome-scores.csv: every tag for every covered movie (the most popular share),
 * sorted by movieId then tagId like the real files. Streamed row by row as bytes: 14 k movies ×
 * 1,128 tags is 15.6 M rows. Each movie's relevances are drawn before any of its rows is written,
 * so buffer boundaries do not move the random draws.
 */
async function writeGenome(
  tagsPath: string,
  scoresPath: string,
  movies: MovieModel,
  o: Resolved,
  options: Required<SyntheticGenomeOptions>,
  rng: Rng,
): Promise<{ tags: number; movies: number; scores: number }> {
  const T = options.tags;
  const covered = Math.min(movies.count, Math.round(options.coverage * movies.count));
  const model = genomeTagModel(T, movies, o, rng);
  const { directions, loading, bias, genreBit, bonus } = model;
  const k = movies.factors;
  const stride = k + 1;
  const rows = movies.rows;

  const tagsOut = new ByteSink(tagsPath);
  const scoresOut = new ByteSink(scoresPath);
  try {
    await tagsOut.text('tagId,tag\n');
    for (let t = 0; t < T; t++) await tagsOut.text(`${t + 1},${csvField(model.names[t]!)}\n`);
    await tagsOut.close();

    // ",<tagId>," and "<relevance>\n" pre-rendered: the row loop only copies bytes.
    const tagText = new Uint8Array(T * 8);
    const tagLength = new Uint8Array(T);
    for (let t = 0; t < T; t++) {
      tagText[t * 8] = 44;
      let p = writeUint(tagText, t * 8 + 1, t + 1);
      tagText[p++] = 44;
      tagLength[t] = p - t * 8;
    }
    const relevanceText = Array.from({ length: RELEVANCE_STEPS + 1 }, (_, q) =>
      Buffer.from(`${q === RELEVANCE_STEPS ? '1.0' : String(q / RELEVANCE_STEPS)}\n`, 'latin1'),
    );
    const idText = new Uint8Array(12);
    const level = new Uint16Array(T);

    await scoresOut.text('movieId,tagId,relevance\n');
    for (const r of movies.byId) {
      if (r >= covered) continue;
      const row = r * stride + 1;
      const mask = movies.genreMask[r]!;
      const offset = GENOME_MOVIE_SD * rng.normal();
      for (let t = 0; t < T; t++) {
        let z = 0;
        for (let f = 0; f < k; f++) z += directions[t * k + f]! * rows[row + f]!;
        let x = bias[t]! + loading[t]! * z + offset + GENOME_NOISE_SD * rng.normal();
        if (mask & genreBit[t]!) x += bonus[t]!;
        const q = Math.round(RELEVANCE_STEPS * logistic(x));
        level[t] = Math.max(q, 1); // the real genome has no zero relevance
      }
      const idLength = writeUint(idText, 0, movies.ids[r]!);
      for (let t = 0; t < T; t++) {
        if (scoresOut.pos > CHUNK - ROW_MAX) await scoresOut.flush();
        const buf = scoresOut.buf;
        let pos = scoresOut.pos;
        for (let b = 0; b < idLength; b++) buf[pos++] = idText[b]!;
        for (let b = t * 8, end = b + tagLength[t]!; b < end; b++) buf[pos++] = tagText[b]!;
        const rel = relevanceText[level[t]!]!;
        for (let b = 0; b < rel.length; b++) buf[pos++] = rel[b]!;
        scoresOut.pos = pos;
      }
    }
    await scoresOut.close();
  } catch (err) {
    tagsOut.destroy();
    scoresOut.destroy();
    throw err;
  }
  return { tags: T, movies: covered, scores: covered * T };
}

// ---------------------------------------------------------------------------------------------
// Helpers

/**
 * Zipf popularity over ranks 0..n-1, sampled by inverting the continuous power law x^-s on
 * [0.5, n + 0.5]: rank r gets exactly the mass of [r + 0.5, r + 1.5], within a few % of the discrete
 * 1 / (r + 1)^s beyond the first ranks. One exp or pow per draw and no table lookups, which matters
 * in the hottest loop (a Walker alias table cost a cache miss a draw).
 */
class PowerLaw {
  private readonly logForm: boolean;
  /** F(0.5), where F(x) = ln x (s = 1) or x^(1-s): sample() inverts F linearly between F(0.5) and F(n + 0.5). */
  private readonly low: number;
  private readonly span: number;
  private readonly inverse: number;

  constructor(
    private readonly n: number,
    private readonly s: number,
    private readonly q: number,
  ) {
    this.logForm = Math.abs(1 - s) < 1e-9;
    this.inverse = this.logForm ? 0 : 1 / (1 - s);
    this.low = this.f(q + 0.5);
    this.span = this.f(n + q + 0.5) - this.low;
  }

  private f(x: number): number {
    return this.logForm ? Math.log(x) : x ** (1 - this.s);
  }

  /** The uniform value from which sample() returns ranks ≥ r. */
  quantile(r: number): number {
    return (this.f(r + this.q + 0.5) - this.low) / this.span;
  }

  /** Maps a uniform [0, 1) draw to a rank. */
  sample(u: number): number {
    const y = this.low + u * this.span;
    const r = Math.floor((this.logForm ? Math.exp(y) : y ** this.inverse) - this.q - 0.5);
    return r < 0 ? 0 : r < this.n ? r : this.n - 1; // guards against rounding at the ends
  }

  /** Unnormalised probability of rank r. */
  weight(r: number): number {
    return Math.abs(this.f(r + this.q + 1.5) - this.f(r + this.q + 0.5));
  }
}

/**
 * A reusable byte buffer in front of an fs write stream. Full chunks are handed to the stream (a new
 * buffer is allocated, since the stream keeps a reference) and we wait for 'drain' when it is
 * backed up, so memory stays at a few chunks however much is written.
 */
class ByteSink {
  buf: Buffer = Buffer.allocUnsafe(CHUNK);
  pos = 0;
  private readonly stream: WriteStream;
  private error: Error | null = null;

  constructor(path: string) {
    this.stream = createWriteStream(path, { highWaterMark: 4 * CHUNK });
    // Keep the error for the next flush rather than crashing on an unhandled 'error' event.
    this.stream.on('error', (err) => {
      this.error = err;
    });
  }

  async text(s: string): Promise<void> {
    const length = Buffer.byteLength(s);
    if (this.pos + length > CHUNK) await this.flush();
    if (length > CHUNK) await this.write(Buffer.from(s));
    else this.pos += this.buf.write(s, this.pos);
  }

  async flush(): Promise<void> {
    if (this.error) throw this.error;
    if (this.pos === 0) return;
    const chunk = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(CHUNK);
    this.pos = 0;
    await this.write(chunk);
  }

  async close(): Promise<void> {
    await this.flush();
    this.stream.end();
    await finished(this.stream);
    if (this.error) throw this.error;
  }

  destroy(): void {
    this.stream.destroy();
  }

  private async write(chunk: Buffer): Promise<void> {
    if (!this.stream.write(chunk)) await once(this.stream, 'drain');
  }
}

// "00".."99": integers are written two digits at a time.
const DIGIT_PAIRS = Uint8Array.from({ length: 200 }, (_, i) => 48 + (i & 1 ? (i >> 1) % 10 : Math.floor(i / 20)));

/** Writes a non-negative integer < 2^31 as ASCII at pos; returns the position after it. */
function writeUint(buf: Uint8Array, pos: number, n: number): number {
  const length =
    n < 1e5
      ? n < 10
        ? 1
        : n < 100
          ? 2
          : n < 1e3
            ? 3
            : n < 1e4
              ? 4
              : 5
      : n < 1e7
        ? n < 1e6
          ? 6
          : 7
        : n < 1e8
          ? 8
          : n < 1e9
            ? 9
            : 10;
  let p = pos + length;
  while (n >= 100) {
    const q = (n / 100) | 0;
    const pair = (n - q * 100) * 2;
    buf[--p] = DIGIT_PAIRS[pair + 1]!;
    buf[--p] = DIGIT_PAIRS[pair]!;
    n = q;
  }
  if (n >= 10) {
    buf[--p] = DIGIT_PAIRS[n * 2 + 1]!;
    buf[--p] = DIGIT_PAIRS[n * 2]!;
  } else {
    buf[--p] = 48 + n;
  }
  return pos + length;
}

/** RFC 4180 quoting, only where needed, as in the MovieLens CSVs. */
function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** P(a user rates a movie they were offered | affinity): a sigmoid without exp, it runs per draw. */
function acceptance(affinity: number): number {
  const x = SELECTIVITY * affinity;
  return 0.5 + (0.5 * x) / (1 + Math.abs(x));
}

function logistic(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

function logit(p: number): number {
  return Math.log(p / (1 - p));
}
