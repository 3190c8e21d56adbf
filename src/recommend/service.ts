import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Config } from '../config/config.ts';
import { Catalogue, type GenreCount } from '../data/catalogue.ts';
import { Interactions } from '../data/interactions.ts';
import { changedUsers } from '../data/rating-diff.ts';
import { parseTitle } from '../data/titles.ts';
import { type ContentInputs, normalizeTag } from '../features/content-features.ts';
import { contentFitSummary, loadContentModel, saveContentModel } from '../models/content.ts';
import { type MovieSegmentation, segmentMovies } from '../models/movie-segments.ts';
import type { PopularityModel } from '../models/popularity.ts';
import { type MovieProjection, type PrincipalPlane, principalPlane, project } from '../models/projection.ts';
import type { UserSegmentOverview, ViewerSegment } from '../models/user-segments.ts';
import type { Snapshot } from '../pipeline/snapshot.ts';
import { alsMatches, contentKey, contentSettingsOf, loadAls, versionPath } from '../pipeline/training-data.ts';
import type {
  DatasetInfo,
  Movie,
  RatingBucket,
  RatingColumns,
  Rule,
  RuleAction,
  Store,
  StoreCounts,
  TagCount,
} from '../store/types.ts';
import { ConflictError, NotFoundError, ValidationError } from '../util/errors.ts';
import { Mutex } from '../util/mutex.ts';
import { ContentIndex, type ContentSettings, type SharedContent } from './content-index.ts';
import { historyOf } from './history.ts';
import { LiveUsers } from './live-users.ts';
import { MfRatingModel } from './mf-rating-model.ts';
import { NeuralRatingModel, predictorParams } from './neural-rating-model.ts';
import { type RankedItem, RankingPipeline } from './pipeline.ts';
import { defaultsOf, STRATEGIES } from './registry.ts';
import { RouterStrategy, type Scenario } from './router.ts';
import { RuleSet } from './rules.ts';
import { AlsStrategy } from './strategies/als.ts';
import { BlendStrategy } from './strategies/blend.ts';
import { ContentClusterStrategy, ContentStrategy, statsOf } from './strategies/content.ts';
import { HybridStrategy } from './strategies/hybrid.ts';
import { NeuralStrategy } from './strategies/neural.ts';
import { PopularStrategy } from './strategies/popular.ts';
import { SegmentStrategy, segmentSettings } from './strategies/segment.ts';
import { UserClusterStrategy } from './strategies/user-cluster.ts';
import type { History, RatedMovie, Strategy, TrainingData } from './strategy.ts';

/** A model version being served: where it is and the data snapshot it was trained on. */
export interface ServedVersion {
  id: string;
  dir: string;
  snapshot: Snapshot;
}

export interface MovieSummary {
  movieId: number;
  title: string;
  displayTitle: string;
  year: number | null;
  genres: string[];
}

export interface Popularity {
  score: number;
  votes: number;
  meanRating: number | null;
  /** 1-based rank in the whole catalogue by weighted rating. */
  rank: number;
}

export interface MovieDetails extends MovieSummary {
  imdbId: string | null;
  tmdbId: number | null;
  imdbUrl: string | null;
  tmdbUrl: string | null;
  topTags: TagCount[];
  popularity: Popularity;
  rule: Rule | null;
  source: Movie['source'];
  /** Content cluster (k-means over content vectors). */
  cluster: number;
}

export interface RecommendedMovie extends MovieSummary {
  score: number;
  votes: number;
  meanRating: number | null;
  promoted: boolean;
  reason?: string;
}

export interface PopularQuery {
  genres?: readonly string[];
  match?: 'any' | 'all';
  k?: number;
  exclude?: readonly number[];
}

export interface PopularList {
  strategy: 'popular';
  genres: string[];
  match: 'any' | 'all';
  /** The m and C of the weighted rating, so the scores can be checked. */
  minVotes: number;
  meanRating: number;
  items: RecommendedMovie[];
}

export interface SearchResult {
  query: string;
  total: number;
  offset: number;
  limit: number;
  items: (MovieSummary & { votes: number })[];
}

export type SimilarMethod = 'content' | 'cluster' | 'hybrid';

export interface SimilarMovie extends MovieSummary {
  /** Cosine similarity of the content vectors (times a promotion's boost). */
  score: number;
  cluster: number;
  promoted: boolean;
  shared: SharedContent;
  reason: string;
}

export interface SimilarList {
  movie: MovieSummary & { cluster: number };
  method: SimilarMethod;
  items: SimilarMovie[];
}

export interface RecommendRequest {
  userId?: number;
  watched?: readonly number[];
  ratings?: readonly RatedMovie[];
  genres?: readonly string[];
  match?: 'any' | 'all';
  k?: number;
  exclude?: readonly number[];
  /** Override the router's choice, for comparison (a registered strategy name). */
  strategy?: string;
}

export interface RoutedList {
  scenario: Scenario | 'override';
  strategy: string;
  /** Why this scenario or strategy. */
  reason: string;
  items: RecommendedMovie[];
  warnings: string[];
}

export interface UserRatingInput {
  movieId: number;
  rating: number;
}

export interface UserView {
  userId: number;
  ratings: number;
  positive: number;
  meanRating: number | null;
  /** The router's scenario for this user now. */
  scenario: Scenario;
  /** Served from ratings added since the last training (folded in). */
  live: boolean;
  /** Taste cluster (k-means over ALS user factors; a live user is folded in and assigned), -1 without ratings. */
  cluster: number;
  history: (MovieSummary & { rating: number; timestamp: number })[];
}

export interface UserSegmentView extends ViewerSegment {
  userId: number;
  /** Changed since the last training (placed from the current ratings). */
  live: boolean;
}

export interface Prediction extends MovieSummary {
  /** Predicted rating on the data set's scale. */
  predicted: number;
  /** The user's own rating, when they rated the movie. */
  rating: number | null;
}

/** Rating predictors served by predictions(). */
export type PredictionModel = 'mf' | 'neural';

export interface PredictionList {
  userId: number;
  model: string;
  items: Prediction[];
}

export interface NewMovieInput {
  /** "Title (2026)": the year may be in the title or given separately. */
  title: string;
  year?: number | null;
  genres: readonly string[];
  tags?: readonly string[];
  /** `where` names the entry in errors, e.g. "genome.csv line 6". */
  genome?: readonly { tagId: number; relevance: number; where?: string }[];
  imdbId?: string | null;
  tmdbId?: number | null;
}

export interface AddedMovie {
  movie: MovieDetails;
  cluster: number;
  similar: SimilarMovie[];
}

export interface MovieCluster {
  cluster: number;
  size: number;
  topGenres: { genre: string; share: number }[];
  topTags: string[];
  examples: MovieSummary[];
}

export interface ClusterOverview {
  k: number;
  dimensions: number;
  inertia: number;
  silhouette: number;
  daviesBouldin: number;
  explainedVariance: number;
  /** Per feature group: output dimensions and the share of its variance kept. */
  groups: { name: string; dimensions: number; explained: number }[];
  clusters: MovieCluster[];
}

export interface StoreInfo {
  dataset: DatasetInfo | null;
  counts: StoreCounts;
  ratingHistogram: RatingBucket[];
  genomeCoverage: number;
}

export interface RuleInput {
  movieId: number;
  action: RuleAction;
  boost?: number;
  until?: string | null;
  reason?: string | null;
}

/** Scores are float32 inside; four decimals are all a reader needs and keep JSON free of float noise. */
const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

/** Users whose stored ratings differ from a version's snapshot are served live (folded in), with every rating. */
function serveChangedUsers(
  live: LiveUsers,
  catalogue: Catalogue,
  snapshot: RatingColumns,
  stored: RatingColumns,
): void {
  for (const u of changedUsers(snapshot, stored)) {
    live.set(u.userId, { items: Int32Array.from(u.movieIds, (m) => catalogue.indexOf(m)), ratings: u.ratings });
  }
}

function summary(m: Movie): MovieSummary {
  return { movieId: m.movieId, title: m.title, displayTitle: m.displayTitle, year: m.year, genres: m.genres };
}

/**
 * Everything the CLI and the API serve, loaded once from the store and answered from memory.
 * Mutations go to the store first and then to the in-memory state, so a failed write changes nothing.
 */
export class Cinerec {
  private rules: RuleSet;
  private ranks: Int32Array;
  readonly pipeline: RankingPipeline;
  private contentLoad: Promise<ContentIndex> | null = null;
  private ratingModelLoad: Promise<MfRatingModel> | null = null;
  private neuralLoad: Promise<NeuralRatingModel> | null = null;
  private segmentsLoad: Promise<MovieSegmentation> | null = null;
  /** Serialises mutations of the store and the in-memory state. */
  private readonly writes = new Mutex();
  private routerLoad: Promise<RouterStrategy> | null = null;
  /** Strategies fitted on demand (the router's parts and ?strategy= overrides), by name. */
  private readonly fitted = new Map<string, Promise<Strategy>>();
  private contentStrategies: { content: ContentStrategy; cluster: ContentClusterStrategy } | null = null;
  /** Where fitting and loading models report progress (stderr in the CLI). */
  log: (line: string) => void = () => {};

  private constructor(
    readonly store: Store,
    readonly config: Config,
    readonly data: TrainingData,
    readonly popular: PopularStrategy,
    rules: RuleSet,
  ) {
    this.ranks = rankOf(popular.model().score);
    this.rules = rules;
    this.pipeline = new RankingPipeline(
      () => this.data,
      () => this.rules,
    );
  }

  /**
   * Loads the served state. With a model version, the models are the version's and its data snapshot is
   * the training data; what the store gained since (users, ratings, movies) is served live: users folded
   * in, movies placed, until the next training takes them in.
   */
  static async load(store: Store, config: Config, version?: ServedVersion): Promise<Cinerec> {
    const catalogue = new Catalogue(await store.listMovies());
    const stored = await store.ratingColumns();
    const dataset = await store.dataset();
    const live = new LiveUsers();
    let interactions: Interactions;
    if (version) {
      const snap = version.snapshot.movies;
      for (let i = 0; i < snap.length; i++) {
        if (catalogue.movies[i]?.movieId !== snap[i]!.movieId)
          throw new Error(
            `model version ${version.id}: the store's movies do not extend the version's (movie ${snap[i]!.movieId} at row ${i}); retrain with \`cinerec train\``,
          );
      }
      interactions = Interactions.build(version.snapshot.ratings, catalogue);
      serveChangedUsers(live, catalogue, version.snapshot.ratings, stored);
    } else {
      interactions = Interactions.build(stored, catalogue);
    }
    const data: TrainingData = {
      catalogue,
      interactions,
      scale: version?.snapshot.dataset?.scale ?? dataset?.scale ?? { min: 0.5, max: 5, step: 0.5 },
      live,
    };
    const popular = new PopularStrategy(config.popularity);
    popular.fit(data);
    const c = new Cinerec(store, config, data, popular, new RuleSet(await store.listRules()));
    c.version = version ?? null;
    return c;
  }

  /** The model version served, or null when the models were fitted from the store at start. */
  version: ServedVersion | null = null;

  /** Users live since the version's snapshot (folded in, not trained on). */
  liveUsers(): number[] {
    return this.data.live?.ids() ?? [];
  }

  /**
   * Runs `fn` while no mutation can start (the swap to a new version takes users and rules added
   * meanwhile with it).
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.writes.run(fn);
  }

  /** Takes over rules and live users written to the store since this instance loaded (before a swap). */
  async catchUp(): Promise<void> {
    this.rules = new RuleSet(await this.store.listRules());
    if (!this.version) return;
    serveChangedUsers(this.data.live!, this.catalogue, this.version.snapshot.ratings, await this.store.ratingColumns());
  }

  get catalogue(): Catalogue {
    return this.data.catalogue;
  }

  private contentSettings(): ContentSettings {
    return contentSettingsOf(this.config);
  }

  private async contentInputs(): Promise<ContentInputs> {
    return {
      tags: await this.store.movieTagCounts(),
      genomeTags: await this.store.genomeTags(),
      genome: await this.store.genomeColumns(),
    };
  }

  /**
   * The content model, loaded on first use: the saved one when it was fitted on this data with these
   * settings, else fitted now and saved. Movies added since it was fitted are placed, not refitted.
   */
  content(): Promise<ContentIndex> {
    this.contentLoad ??= (async () => {
      const settings = this.contentSettings();
      const dataset = await this.store.dataset();
      const fingerprint = createHash('sha256')
        .update(JSON.stringify({ store: this.store.path, dataset, settings, format: 1 }))
        .digest('hex')
        .slice(0, 16);
      const dir = join(this.config.modelsDir, 'content');
      const inputs = await this.contentInputs();
      // Rating statistics come from the served ratings when that group is switched on.
      const stats = settings.weights.stats > 0 ? statsOf(this.data) : undefined;
      const fromVersion = this.version
        ? loadContentModel(
            versionPath(this.version.dir, 'content'),
            contentKey(this.version.snapshot.fingerprint, this.config),
          )
        : null;
      if (this.version && !fromVersion)
        this.log(`content settings differ from model version ${this.version.id}'s: fitting the content model now`);
      const saved = fromVersion ?? loadContentModel(dir, fingerprint);
      const attached = saved ? ContentIndex.attach(saved, this.catalogue, inputs, stats) : null;
      if (attached) return attached;
      const t = performance.now();
      this.log(`fitting the content model on ${this.catalogue.size} movies`);
      const fitted = ContentIndex.fit(this.catalogue, inputs, settings, stats);
      const r = fitted.model.report;
      this.log(`content model: ${contentFitSummary(r)}, ${((performance.now() - t) / 1000).toFixed(1)} s`);
      saveContentModel(dir, fitted.model, fingerprint);
      return fitted;
    })();
    // A failed load is not cached: the next call tries again.
    this.contentLoad.catch(() => {
      this.contentLoad = null;
    });
    return this.contentLoad;
  }

  private async contentStrategy(method: 'content' | 'cluster'): Promise<ContentStrategy> {
    const index = await this.content();
    if (!this.contentStrategies) {
      const settings = this.contentSettings();
      const content = new ContentStrategy(settings, index);
      const cluster = new ContentClusterStrategy(settings, index);
      content.fit(this.data);
      cluster.fit(this.data);
      this.contentStrategies = { content, cluster };
    }
    return method === 'cluster' ? this.contentStrategies.cluster : this.contentStrategies.content;
  }

  /** Loads every lazily loaded model now (the server does this before it listens). */
  async warm(): Promise<void> {
    await this.content();
    await this.router();
  }

  private get popularity(): PopularityModel {
    return this.popular.model();
  }

  async close(): Promise<void> {
    await this.store.close();
  }

  async info(): Promise<StoreInfo> {
    const counts = await this.store.counts();
    return {
      dataset: await this.store.dataset(),
      counts,
      ratingHistogram: await this.store.ratingHistogram(),
      genomeCoverage: counts.movies > 0 ? counts.genomeMovies / counts.movies : 0,
    };
  }

  genres(): GenreCount[] {
    return this.catalogue.genreCounts();
  }

  /** Canonical genre names, or a ValidationError that lists the valid ones. */
  resolveGenres(names: readonly string[], field = 'genres'): string[] {
    const out: string[] = [];
    const unknown: string[] = [];
    for (const raw of names) {
      const name = raw.trim();
      if (name === '') continue;
      const canonical = this.catalogue.canonicalGenre(name);
      if (canonical === undefined) unknown.push(name);
      else if (!out.includes(canonical)) out.push(canonical);
    }
    if (unknown.length > 0) {
      throw new ValidationError(
        `unknown genre${unknown.length > 1 ? 's' : ''} ${unknown.map((g) => `"${g}"`).join(', ')}; valid genres: ${this.catalogue.genres().join(', ')}`,
        field,
      );
    }
    return out;
  }

  private requireMovie(movieId: number, field = 'movieId'): Movie {
    const movie = this.catalogue.get(movieId);
    if (!movie) throw new NotFoundError(`no movie with id ${movieId}`, field);
    return movie;
  }

  private popularityOf(index: number): Popularity {
    const votes = this.popularity.votes[index] ?? 0;
    return {
      score: round4(this.popularity.score[index] ?? this.popularity.C),
      votes,
      meanRating: votes > 0 ? round4(this.popularity.mean[index]!) : null,
      rank: (this.ranks[index] ?? this.ranks.length) + 1,
    };
  }

  async movie(movieId: number): Promise<MovieDetails> {
    const movie = this.requireMovie(movieId);
    const index = this.catalogue.indexOf(movieId);
    const content = await this.content();
    return {
      ...summary(movie),
      imdbId: movie.imdbId,
      tmdbId: movie.tmdbId,
      imdbUrl: movie.imdbId ? `https://www.imdb.com/title/${movie.imdbId}/` : null,
      tmdbUrl: movie.tmdbId ? `https://www.themoviedb.org/movie/${movie.tmdbId}` : null,
      topTags: await this.store.topTags(movieId, 10),
      popularity: this.popularityOf(index),
      rule: this.rules.get(movieId) ?? null,
      source: movie.source,
      cluster: content.clusterOf(index),
    };
  }

  search(query: string, options: { limit?: number; offset?: number } = {}): SearchResult {
    const limit = options.limit ?? 20;
    const offset = options.offset ?? 0;
    const votes = this.popularity.votes;
    const hits = this.catalogue
      .search(query)
      .sort((a, b) => b.match - a.match || (votes[b.index] ?? 0) - (votes[a.index] ?? 0) || a.index - b.index);
    return {
      query,
      total: hits.length,
      offset,
      limit,
      items: hits.slice(offset, offset + limit).map((h) => ({
        ...summary(this.catalogue.movies[h.index]!),
        votes: votes[h.index] ?? 0,
      })),
    };
  }

  popularList(query: PopularQuery = {}): PopularList {
    const genres = this.resolveGenres(query.genres ?? []);
    const match = query.match ?? 'any';
    const k = this.checkK(query.k);
    const ctx = { genres, genreMatch: match };
    const ranked = this.pipeline.rank(this.popular, { ctx, k, ...(query.exclude ? { exclude: query.exclude } : {}) });
    return {
      strategy: 'popular',
      genres,
      match,
      minVotes: this.popularity.m,
      meanRating: round4(this.popularity.C),
      items: ranked.map((r) => {
        const p = this.popularityOf(r.index);
        return {
          ...summary(this.catalogue.movies[r.index]!),
          score: round4(r.score),
          votes: p.votes,
          meanRating: p.meanRating,
          promoted: r.promoted,
          ...(r.reason ? { reason: r.reason } : {}),
        };
      }),
    };
  }

  /** Nearest neighbours by content (cosine over all movies), or only within the movie's cluster. */
  async similar(movieId: number, options: { k?: number; method?: SimilarMethod } = {}): Promise<SimilarList> {
    const movie = this.requireMovie(movieId);
    const method = options.method ?? 'content';
    if (method !== 'content' && method !== 'cluster' && method !== 'hybrid')
      throw new ValidationError(`method must be "content", "cluster" or "hybrid", not "${String(method)}"`, 'method');
    const k = this.checkK(options.k);
    const content = await this.content();
    const index = this.catalogue.indexOf(movieId);
    let strategy: Strategy;
    if (method === 'hybrid') {
      const hybrid = (await this.strategy('hybrid')) as HybridStrategy;
      // Cosine in the hybrid space (ALS ⊕ content) to this one movie.
      strategy = {
        name: 'hybrid-similar',
        description: 'hybrid similarity',
        fit() {},
        score: (_q, scores) => {
          hybrid.similarTo(index, scores);
          return undefined;
        },
      };
    } else {
      strategy = await this.contentStrategy(method);
    }
    const ranked = this.pipeline.rank(strategy, { ctx: { watched: [movieId] }, k, explain: false });
    return {
      movie: { ...summary(movie), cluster: content.clusterOf(index) },
      method,
      items: ranked.map((r) => this.similarItem(content, index, r)),
    };
  }

  private similarItem(content: ContentIndex, seed: number, r: RankedItem): SimilarMovie {
    const shared = content.shared(seed, r.index);
    const parts = [
      shared.genres.length ? `shares ${shared.genres.join(', ')}` : '',
      shared.tags.length ? `tags ${shared.tags.join(', ')}` : '',
    ].filter(Boolean);
    return {
      ...summary(this.catalogue.movies[r.index]!),
      score: round4(r.score),
      cluster: content.clusterOf(r.index),
      promoted: r.promoted,
      shared,
      reason: parts.length ? parts.join('; ') : 'similar in content',
    };
  }

  /** Splits ids into known and unknown; all unknown is an error naming them, some unknown a warning. */
  private knownIds(ids: readonly number[], field: string, warnings: string[]): number[] {
    const unknown = ids.filter((id) => this.catalogue.indexOf(id) < 0);
    if (unknown.length === 0) return [...ids];
    if (unknown.length === ids.length) {
      throw new ValidationError(
        `unknown movie id${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}: none of the given movies is in the catalogue`,
        field,
      );
    }
    warnings.push(`unknown movie id${unknown.length > 1 ? 's' : ''} ignored: ${unknown.join(', ')}`);
    return ids.filter((id) => this.catalogue.indexOf(id) >= 0);
  }

  private recommended(r: RankedItem): RecommendedMovie {
    const p = this.popularityOf(r.index);
    return {
      ...summary(this.catalogue.movies[r.index]!),
      score: round4(r.score),
      votes: p.votes,
      meanRating: p.meanRating,
      promoted: r.promoted,
      ...(r.reason ? { reason: r.reason } : {}),
    };
  }

  /** Adds a movie while serving: stored, placed by the fitted content model, visible at once. */
  addMovie(input: NewMovieInput): Promise<AddedMovie> {
    // One at a time: the duplicate check and the next id must see the previous addition.
    return this.writes.run(() => this.addMovieNow(input));
  }

  private async addMovieNow(input: NewMovieInput): Promise<AddedMovie> {
    const rawTitle = typeof input.title === 'string' ? input.title.trim() : '';
    if (rawTitle === '') throw new ValidationError('title must not be empty', 'title');
    if (rawTitle.length > 500) throw new ValidationError('title must be at most 500 characters', 'title');
    const parsed = parseTitle(rawTitle);
    let year = parsed.year;
    if (input.year !== undefined && input.year !== null) {
      if (!Number.isInteger(input.year) || input.year < 1870 || input.year > 2100)
        throw new ValidationError('year must be a whole number from 1870 to 2100', 'year');
      if (year !== null && year !== input.year)
        throw new ValidationError(`year ${input.year} contradicts the title's (${year})`, 'year');
      year = input.year;
    }
    const title = parsed.year === null && year !== null ? `${rawTitle} (${year})` : rawTitle;
    const genres = this.resolveGenres(input.genres ?? [], 'genres');
    const key = parsed.displayTitle.toLowerCase();
    const duplicate = this.catalogue.movies.find((m) => m.year === year && m.displayTitle.toLowerCase() === key);
    if (duplicate) {
      throw new ConflictError(
        `"${duplicate.title}" is already in the catalogue as movie ${duplicate.movieId}`,
        'title',
      );
    }
    const tags: string[] = [];
    for (const raw of input.tags ?? []) {
      const tag = normalizeTag(String(raw));
      if (tag === '') continue;
      if (tag.length > 100)
        throw new ValidationError(`tag "${tag.slice(0, 20)}…" is longer than 100 characters`, 'tags');
      if (!tags.includes(tag)) tags.push(tag);
    }
    const genome = await this.checkGenome(input.genome ?? []);
    if (input.imdbId !== undefined && input.imdbId !== null && !/^tt\d{7,9}$/.test(input.imdbId))
      throw new ValidationError('imdbId must look like tt0114709', 'imdbId');
    if (input.tmdbId !== undefined && input.tmdbId !== null && !(Number.isInteger(input.tmdbId) && input.tmdbId > 0))
      throw new ValidationError('tmdbId must be a positive whole number', 'tmdbId');
    // Placed before the write so a content failure leaves the store untouched.
    const content = await this.content();
    const movieId = this.catalogue.movies.reduce((max, m) => Math.max(max, m.movieId), 0) + 1;
    const movie = await this.store.addMovie({
      movie: {
        movieId,
        title,
        displayTitle: parsed.displayTitle,
        year,
        genres,
        imdbId: input.imdbId ?? null,
        tmdbId: input.tmdbId ?? null,
      },
      tags,
      genome,
    });
    const index = this.catalogue.add(movie);
    const placed = content.add(index, {
      genres,
      year,
      tags: new Map(tags.map((t) => [t, 1])),
      genome: {
        tagIds: Int32Array.from(genome, (g) => g.tagId),
        relevance: Float32Array.from(genome, (g) => g.relevance),
      },
      ...(this.config.content.weights.stats > 0
        ? { ratings: { count: 0, mean: 0, globalMean: this.data.interactions.meanRating() } }
        : {}),
    });
    // Fitted hybrids bridge the new movie into ALS (estimated factors from its content) and place it.
    for (const key of ['hybrid', 'hybrid-cluster']) {
      const fitted = this.fitted.get(key);
      if (!fitted) continue;
      try {
        ((await fitted) as HybridStrategy).place(index);
      } catch (err) {
        // The movie is stored and served by content and popularity; hybrid placement waits for the next training.
        this.log(`hybrid placement of movie ${movieId} failed: ${(err as Error).message}`);
      }
    }
    this.ranks = rankOf(this.popularity.score);
    const similar = await this.similar(movieId, { k: 5 });
    return { movie: await this.movie(movieId), cluster: placed.cluster, similar: similar.items };
  }

  private async checkGenome(
    genome: readonly { tagId: number; relevance: number; where?: string }[],
  ): Promise<{ tagId: number; relevance: number }[]> {
    if (genome.length === 0) return [];
    const known = new Set((await this.store.genomeTags()).map((t) => t.tagId));
    if (known.size === 0)
      throw new ValidationError('this data set has no tag genome: genome relevance cannot be given', 'genome');
    const seen = new Set<number>();
    genome.forEach((g, i) => {
      if (!known.has(g.tagId)) throw new ValidationError(`genome entry ${i + 1}: unknown tag id ${g.tagId}`, 'genome');
      if (seen.has(g.tagId))
        throw new ValidationError(`genome entry ${i + 1}: tag id ${g.tagId} given twice`, 'genome');
      if (!(typeof g.relevance === 'number' && g.relevance >= 0 && g.relevance <= 1))
        throw new ValidationError(`genome entry ${i + 1}: relevance must be from 0 to 1`, 'genome');
      seen.add(g.tagId);
    });
    return genome.map((g) => ({ tagId: g.tagId, relevance: g.relevance }));
  }

  /** Every content cluster: size, top genres and tags, the most rated titles. */
  async movieClusters(examples = 5): Promise<ClusterOverview> {
    const content = await this.content();
    const model = content.model;
    const k = model.clusters;
    const members: number[][] = Array.from({ length: k }, () => []);
    const assignment = model.assignment;
    for (let i = 0; i < assignment.length; i++) members[assignment[i]!]!.push(i);
    const votes = this.popularity.votes;
    const report = model.report;
    return {
      k,
      dimensions: model.dimensions,
      inertia: round4(report.clusters.inertia),
      silhouette: round4(report.clusters.silhouette),
      daviesBouldin: round4(report.clusters.daviesBouldin),
      explainedVariance: round4(report.explainedVariance),
      groups: (report.groups ?? []).map((g) => ({ ...g, explained: round4(g.explained) })),
      clusters: members.map((idx, cluster) => {
        const genreCount = new Map<string, number>();
        const tagWeight = new Map<string, number>();
        for (const i of idx) {
          for (const g of this.catalogue.movies[i]!.genres) genreCount.set(g, (genreCount.get(g) ?? 0) + 1);
        }
        // Tags: the strongest shared content of the cluster's most rated members with their centroid neighbours.
        const top = [...idx].sort((a, b) => (votes[b] ?? 0) - (votes[a] ?? 0) || a - b);
        for (let a = 0; a < Math.min(top.length, 20); a++) {
          for (let b = a + 1; b < Math.min(top.length, 20); b++) {
            for (const t of content.shared(top[a]!, top[b]!, 5).tags) tagWeight.set(t, (tagWeight.get(t) ?? 0) + 1);
          }
        }
        return {
          cluster,
          size: idx.length,
          topGenres: [...genreCount.entries()]
            .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
            .slice(0, 3)
            .map(([genre, n]) => ({ genre, share: round4(n / Math.max(1, idx.length)) })),
          topTags: [...tagWeight.entries()]
            .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
            .slice(0, 5)
            .map(([t]) => t),
          examples: top.slice(0, examples).map((i) => summary(this.catalogue.movies[i]!)),
        };
      }),
    };
  }

  private projectionPlane: { index: ContentIndex; plane: PrincipalPlane } | null = null;

  /**
   * Movies on the first two principal components of their content vectors, most rated first. The
   * plane is fitted once per content model; movies added later are projected onto the same plane.
   */
  async movieProjection(limit?: number): Promise<MovieProjection> {
    const index = await this.content();
    const model = index.model;
    if (this.projectionPlane?.index !== index) {
      this.projectionPlane = { index, plane: principalPlane(model.vectors, model.size, model.dimensions) };
    }
    const plane = this.projectionPlane.plane;
    const votes = this.popularity.votes;
    const n = model.size;
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (votes[b] ?? 0) - (votes[a] ?? 0) || a - b);
    const vectors = model.vectors;
    const assignment = model.assignment;
    return {
      total: n,
      explained: plane.explained.map(round4),
      points: order.slice(0, limit ?? n).map((i) => {
        const [x, y] = project(plane, vectors, i);
        const m = summary(this.catalogue.movies[i]!);
        return {
          movieId: m.movieId,
          displayTitle: m.displayTitle,
          year: m.year,
          cluster: assignment[i]!,
          x: round4(x),
          y: round4(y),
        };
      }),
    };
  }

  /** A registered strategy fitted on the served data, shared by the router and overrides. */
  private strategy(name: string): Promise<Strategy> {
    let p = this.fitted.get(name);
    if (!p) {
      p = (async () => {
        if (name === 'popular') return this.popular;
        if (name === 'content' || name === 'content-cluster')
          return this.contentStrategy(name === 'content' ? 'content' : 'cluster');
        if (name === 'hybrid' || name === 'hybrid-cluster') {
          const c = this.config;
          const hybrid = new HybridStrategy(
            (await this.strategy('als')) as AlsStrategy,
            await this.contentStrategy('content'),
            { ...c.hybrid, positiveRating: c.content.positiveRating, rankContentWeight: 0.1 },
            name === 'hybrid-cluster',
          );
          const t = performance.now();
          await hybrid.fit(this.data);
          const r = hybrid.report;
          this.log(
            `hybrid: bridge R² ${r.bridge.r2OutOfSample.toFixed(3)} out of sample (${r.bridge.heldOut} held-out movies), ${r.bridged} movies bridged, ` +
              `${r.clusters.k} clusters (silhouette ${r.clusters.silhouette.toFixed(3)}), ${((performance.now() - t) / 1000).toFixed(1)} s`,
          );
          return hybrid;
        }
        if (name === 'user-cluster') {
          const users = new UserClusterStrategy((await this.strategy('als')) as AlsStrategy, this.config.userClusters);
          await users.fit(this.data);
          return users;
        }
        if (name === 'segment') {
          // Shares the served movie segmentation instead of computing another.
          const movies = await this.movieSegments();
          const t = performance.now();
          const segment = new SegmentStrategy(segmentSettings(this.config), () => movies);
          await segment.fit(this.data);
          const m = segment.model;
          const a = m.report;
          this.log(
            `user segments: k = ${m.k} by ${m.rule} over ${m.scores[0]?.k}–${m.scores.at(-1)?.k} (elbow at ${m.elbow}) on ${m.userIds.length} users; ` +
              `autoencoder ${a.inputs} → ${a.hidden} → ${a.code}, ${a.epochs} epochs (best ${a.bestEpoch}, validation MSE ${a.validationLoss ?? 'n/a'}), ${((performance.now() - t) / 1000).toFixed(1)} s`,
          );
          return segment;
        }
        if (name === 'neural') {
          // Shares the fitted predictor with predictions(), and the served candidate strategy.
          const c = this.config.neural;
          if (c.candidates === 'neural')
            throw new ValidationError('neural.candidates cannot be neural itself', 'neural.candidates');
          // EASE refuses very large catalogues: then ALS proposes the candidates, as for the router.
          const candidates = c.candidates === 'all' ? null : await this.personalised(c.candidates);
          const neural = new NeuralStrategy(c, defaultsOf(STRATEGIES.neural!, this.config), candidates, {
            model: await this.neuralModel(),
            candidates: true,
          });
          await neural.fit(this.data);
          return neural;
        }
        if (name === 'content-popular') {
          const blend = new BlendStrategy(await this.contentStrategy('content'), this.config.router.contentWeight);
          blend.fit(this.data);
          return blend;
        }
        if (name === 'als' && this.version) {
          const model = loadAls(versionPath(this.version.dir, 'als'));
          if (alsMatches(model, this.config)) {
            const als = new AlsStrategy(this.config.als, model);
            await als.fit(this.data);
            return als;
          }
          this.log(`als settings differ from model version ${this.version.id}'s: fitting ALS now`);
        }
        const entry = STRATEGIES[name];
        if (!entry || name === 'router')
          throw new ValidationError(
            `unknown strategy "${name}"; choose from ${Object.keys(STRATEGIES)
              .filter((n) => n !== 'router')
              .join(', ')}`,
            'strategy',
          );
        const t = performance.now();
        const strategy = entry.create(defaultsOf(entry, this.config), this.config);
        await strategy.fit(this.data);
        this.log(`fitted ${name} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
        return strategy;
      })();
      this.fitted.set(name, p);
      p.catch(() => this.fitted.delete(name));
    }
    return p;
  }

  /**
   * The configured personalised strategy, or ALS when it cannot be fitted on this data (EASE refuses
   * a dense solve above ease.maxDense, e.g. on ml-25m), so the server still starts.
   */
  private async personalised(name: string): Promise<Strategy> {
    try {
      return await this.strategy(name);
    } catch (err) {
      if (name === 'als' || !(err instanceof ValidationError) || err.field !== 'maxDense') throw err;
      this.log(`router: ${name} cannot be fitted here (${err.message}); personalised lists use als`);
      return this.strategy('als');
    }
  }

  /** The scenario router over the served strategies. */
  router(): Promise<RouterStrategy> {
    this.routerLoad ??= (async () => {
      const r = this.config.router;
      return new RouterStrategy(
        {
          coldStart: this.popular,
          watched: await this.strategy('content'),
          fewRatings: await this.strategy('content-popular'),
          personalised: await this.personalised(r.personalised),
        },
        r,
      );
    })();
    this.routerLoad.catch(() => {
      this.routerLoad = null;
    });
    return this.routerLoad;
  }

  private requireUser(userId: number, field = 'userId'): void {
    if (this.data.live?.has(userId) || this.data.interactions.userOf(userId) >= 0) return;
    throw new NotFoundError(`no user with id ${userId}`, field);
  }

  /**
   * One entry for every viewer: the router decides from what is known (a user's history, anonymous
   * ratings, watched movies, genres) unless `strategy` overrides it.
   */
  async recommend(req: RecommendRequest): Promise<RoutedList> {
    const warnings: string[] = [];
    const k = this.checkK(req.k);
    if (req.userId !== undefined) this.requireUser(req.userId);
    const watched = this.knownIds(req.watched ?? [], 'watched', warnings);
    const rated = req.ratings ?? [];
    this.checkRatings(rated, 'ratings');
    const ratedIds = this.knownIds(
      rated.map((r) => r.movieId),
      'ratings',
      warnings,
    );
    const ratings = rated.filter((r) => ratedIds.includes(r.movieId));
    const genres = this.resolveGenres(req.genres ?? []);
    const ctx = {
      ...(req.userId !== undefined ? { userId: req.userId } : {}),
      ...(watched.length ? { watched } : {}),
      ...(ratings.length ? { ratings } : {}),
      ...(genres.length ? { genres, genreMatch: req.match ?? 'any' } : {}),
    };
    const router = await this.router();
    let strategy: Strategy;
    let scenario: RoutedList['scenario'];
    let reason: string;
    let name: string;
    if (req.strategy !== undefined) {
      strategy = await this.strategy(req.strategy);
      scenario = 'override';
      reason = `strategy ${req.strategy} requested`;
      name = strategy.name;
    } else {
      const d = router.decide({ ctx, history: historyOf(ctx, this.data) });
      strategy = router;
      scenario = d.scenario;
      reason = d.reason;
      name = d.strategy.name;
    }
    const ranked = this.pipeline.rank(strategy, { ctx, k, ...(req.exclude ? { exclude: req.exclude } : {}) });
    return { scenario, strategy: name, reason, items: ranked.map((r) => this.recommended(r)), warnings };
  }

  private checkRatings(ratings: readonly UserRatingInput[], field: string): void {
    const { min, max, step } = this.data.scale;
    const seen = new Set<number>();
    for (const r of ratings) {
      if (!Number.isInteger(r.movieId) || r.movieId < 1)
        throw new ValidationError(`movie id ${String(r.movieId)} must be a positive whole number`, field);
      const onGrid = Math.abs((r.rating - min) / step - Math.round((r.rating - min) / step)) < 1e-9;
      if (!(typeof r.rating === 'number' && r.rating >= min && r.rating <= max && onGrid))
        throw new ValidationError(
          `rating of movie ${r.movieId} must be from ${min} to ${max} in steps of ${step}, not ${String(r.rating)}`,
          field,
        );
      if (seen.has(r.movieId)) throw new ValidationError(`movie ${r.movieId} is rated twice`, field);
      seen.add(r.movieId);
    }
  }

  /** Ratings to store: valid values, and every movie in the catalogue. */
  private checkStoredRatings(ratings: readonly UserRatingInput[]): void {
    this.checkRatings(ratings, 'ratings');
    const unknown = ratings.filter((r) => this.catalogue.indexOf(r.movieId) < 0).map((r) => r.movieId);
    if (unknown.length)
      throw new ValidationError(`unknown movie id${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`, 'ratings');
  }

  /** The user's whole history now (training row or live overlay). */
  private historyOfUser(userId: number): History {
    return historyOf({ userId }, this.data);
  }

  private applyRatings(userId: number, ratings: readonly UserRatingInput[]): void {
    const merged = new Map<number, number>();
    const h = this.historyOfUser(userId);
    for (let k = 0; k < h.items.length; k++) merged.set(h.items[k]!, h.ratings[k]!);
    for (const r of ratings) merged.set(this.catalogue.indexOf(r.movieId), r.rating);
    const items = Int32Array.from([...merged.keys()].sort((a, b) => a - b));
    this.data.live!.set(userId, { items, ratings: Float32Array.from(items, (i) => merged.get(i)!) });
  }

  /**
   * A movie with few training ratings (new, or bridged) that gains ratings gets its ALS factor folded
   * in from its raters' factors (trained rows, and live users folded in), replacing the bridge estimate.
   */
  private async refoldItems(movieIds: readonly number[]): Promise<void> {
    const fitted = this.fitted.get('als');
    if (!fitted) return;
    const als = (await fitted) as AlsStrategy;
    const model = als.model;
    const f = model.factors;
    const counts = this.data.interactions.itemCounts();
    const csc = this.data.interactions.byItem();
    for (const id of movieIds) {
      const i = this.catalogue.indexOf(id);
      if (i < 0 || (counts[i] ?? 0) >= this.config.hybrid.bridgeMinRatings) continue;
      const rows: Float32Array[] = [];
      const ratings: number[] = [];
      if (i < counts.length) {
        for (let p = csc.indptr[i]!; p < csc.indptr[i + 1]!; p++) {
          const u = csc.users[p]!;
          if (this.data.live?.has(this.data.interactions.userIds[u]!)) continue;
          rows.push(model.userFactors.subarray(u * f, (u + 1) * f));
          ratings.push(csc.ratings[p]!);
        }
      }
      for (const userId of this.data.live?.ids() ?? []) {
        const h = this.data.live!.get(userId)!;
        const k = h.items.indexOf(i);
        if (k < 0) continue;
        const v = als.userVector({ ctx: { userId }, history: h });
        if (!v) continue;
        rows.push(Float32Array.from(v));
        ratings.push(h.ratings[k]!);
      }
      if (rows.length === 0) continue;
      const vectors = new Float32Array(rows.length * f);
      rows.forEach((r, k) => {
        vectors.set(r, k * f);
      });
      model.setItemFactor(i, model.foldInItemFromVectors(vectors, ratings));
    }
  }

  /** Creates a user with ratings; the next recommendation for them reflects the ratings. */
  addUser(ratings: readonly UserRatingInput[]): Promise<UserView> {
    return this.writes.run(async () => {
      this.checkStoredRatings(ratings);
      const userId = await this.store.addUser(ratings);
      this.data.live!.set(userId, { items: new Int32Array(0), ratings: new Float32Array(0) });
      this.applyRatings(userId, ratings);
      await this.refoldItems(ratings.map((r) => r.movieId));
      return this.user(userId);
    });
  }

  /** Adds or changes ratings of an existing user. */
  rate(userId: number, ratings: readonly UserRatingInput[]): Promise<UserView> {
    return this.writes.run(async () => {
      this.requireUser(userId);
      if (ratings.length === 0) throw new ValidationError('give at least one rating', 'ratings');
      this.checkStoredRatings(ratings);
      await this.store.putRatings(userId, ratings);
      this.applyRatings(userId, ratings);
      await this.refoldItems(ratings.map((r) => r.movieId));
      return this.user(userId);
    });
  }

  /** A user's history (latest first), counts and the scenario the router would choose. */
  async user(userId: number, historyLimit = 50): Promise<UserView> {
    this.requireUser(userId);
    const rows = await this.store.userRatings(userId);
    const positive = rows.filter((r) => r.rating >= this.config.router.positiveRating).length;
    const router = await this.router();
    const query = { ctx: { userId }, history: this.historyOfUser(userId) };
    const decision = router.decide(query);
    const users = (await this.strategy('user-cluster')) as UserClusterStrategy;
    return {
      cluster: users.clusterOf(query),
      userId,
      ratings: rows.length,
      positive,
      meanRating: rows.length ? round4(rows.reduce((a, r) => a + r.rating, 0) / rows.length) : null,
      scenario: decision.scenario,
      live: this.data.live?.has(userId) ?? false,
      history: rows
        .slice()
        .sort((a, b) => b.timestamp - a.timestamp || a.movieId - b.movieId)
        .slice(0, historyLimit)
        .map((r) => ({ ...summary(this.catalogue.get(r.movieId)!), rating: r.rating, timestamp: r.timestamp })),
    };
  }

  /** Movie segments with k chosen by the configured rule, computed on first use. */
  movieSegments(): Promise<MovieSegmentation> {
    this.segmentsLoad ??= (async () => {
      const t = performance.now();
      const seg = segmentMovies(this.catalogue, this.data.interactions, this.config.segments);
      this.log(
        `movie segments: k = ${seg.k} by ${seg.rule} over ${seg.scores[0]?.k}–${seg.scores.at(-1)?.k} (elbow at ${seg.elbow}), ${((performance.now() - t) / 1000).toFixed(1)} s`,
      );
      return seg;
    })();
    this.segmentsLoad.catch(() => {
      this.segmentsLoad = null;
    });
    return this.segmentsLoad;
  }

  /** User segments (autoencoder codes of taste profiles → k-means, k by the rule), computed on first use. */
  async userSegments(): Promise<UserSegmentOverview> {
    return ((await this.strategy('segment')) as SegmentStrategy).overview();
  }

  /** A stored or live user's segment; a user created or changed since fitting is placed from their ratings now. */
  async userSegment(userId: number): Promise<UserSegmentView> {
    this.requireUser(userId);
    const segments = (await this.strategy('segment')) as SegmentStrategy;
    const view = segments.viewer({ ctx: { userId }, history: this.historyOfUser(userId) });
    return { userId, live: this.data.live?.has(userId) ?? false, ...view };
  }

  /** The rating predictor (biased MF), fitted on first use on the served ratings. */
  private ratingModel(): Promise<MfRatingModel> {
    this.ratingModelLoad ??= (async () => {
      const t = performance.now();
      const model = new MfRatingModel();
      model.fit(this.data);
      this.log(`fitted the rating predictor (mf) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
      return model;
    })();
    this.ratingModelLoad.catch(() => {
      this.ratingModelLoad = null;
    });
    return this.ratingModelLoad;
  }

  /** The neural rating predictor (autoencoders + MLP), fitted on first use on the served ratings. */
  private neuralModel(): Promise<NeuralRatingModel> {
    this.neuralLoad ??= (async () => {
      const t = performance.now();
      const model = new NeuralRatingModel(predictorParams(this.config.neural));
      model.fit(this.data);
      this.log(`fitted the rating predictor (neural) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
      return model;
    })();
    this.neuralLoad.catch(() => {
      this.neuralLoad = null;
    });
    return this.neuralLoad;
  }

  /**
   * Predicted ratings of movies by a user, by `mf` (default: the lower measured RMSE) or `neural`.
   * With mf, a user created or changed since fitting is predicted from the fitted biases only (μ + b_i
   * and any trained b_u). With neural, such a user is encoded from their current ratings at once (one
   * autoencoder forward pass, b_u folded in): no retraining.
   */
  async predictions(
    userId: number,
    movieIds: readonly number[],
    which: PredictionModel = 'mf',
  ): Promise<PredictionList> {
    if (which !== 'mf' && which !== 'neural')
      throw new ValidationError(`model must be mf or neural, not "${String(which)}"`, 'model');
    if (which === 'neural') return this.neuralPredictions(userId, movieIds);
    this.requireUser(userId);
    if (movieIds.length === 0) throw new ValidationError('name at least one movie', 'movies');
    const unknown = movieIds.filter((id) => this.catalogue.indexOf(id) < 0);
    if (unknown.length)
      throw new NotFoundError(`unknown movie id${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`, 'movies');
    const model = await this.ratingModel();
    const u = this.data.live?.has(userId) ? -1 : this.data.interactions.userOf(userId);
    const history = this.historyOfUser(userId);
    return {
      userId,
      model: model.name,
      items: movieIds.map((id) => {
        const i = this.catalogue.indexOf(id);
        const k = history.items.indexOf(i);
        return {
          ...summary(this.catalogue.movies[i]!),
          predicted: round4(model.predict(u, i)),
          rating: k >= 0 ? history.ratings[k]! : null,
        };
      }),
    };
  }

  private async neuralPredictions(userId: number, movieIds: readonly number[]): Promise<PredictionList> {
    this.requireUser(userId);
    if (movieIds.length === 0) throw new ValidationError('name at least one movie', 'movies');
    const unknown = movieIds.filter((id) => this.catalogue.indexOf(id) < 0);
    if (unknown.length)
      throw new NotFoundError(`unknown movie id${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`, 'movies');
    const predictor = (await this.neuralModel()).predictor;
    const history = this.historyOfUser(userId);
    const live = this.data.live?.has(userId) ?? false;
    const user =
      (live ? null : predictor.trainedUser(this.data.interactions.userOf(userId))) ??
      predictor.userVector(history.items, history.ratings);
    return {
      userId,
      model: 'neural',
      items: movieIds.map((id) => {
        const i = this.catalogue.indexOf(id);
        const k = history.items.indexOf(i);
        return {
          ...summary(this.catalogue.movies[i]!),
          predicted: round4(predictor.predictFor(user, i)),
          rating: k >= 0 ? history.ratings[k]! : null,
        };
      }),
    };
  }

  checkK(k: number | undefined, field = 'k'): number {
    if (k === undefined) return this.config.recommend.defaultK;
    if (!Number.isInteger(k) || k < 1 || k > this.config.recommend.maxK) {
      throw new ValidationError(`k must be a whole number from 1 to ${this.config.recommend.maxK}`, field);
    }
    return k;
  }

  listRules(): (Rule & { active: boolean; title: string | null })[] {
    const now = new Date();
    return this.rules.list().map((r) => ({
      ...r,
      active: RuleSet.isActive(r, now),
      title: this.catalogue.get(r.movieId)?.displayTitle ?? null,
    }));
  }

  putRule(input: RuleInput): Promise<Rule> {
    return this.writes.run(() => this.putRuleNow(input));
  }

  private async putRuleNow(input: RuleInput): Promise<Rule> {
    this.requireMovie(input.movieId);
    if (input.action !== 'block' && input.action !== 'promote') {
      throw new ValidationError(`action must be "block" or "promote", not "${String(input.action)}"`, 'action');
    }
    const boost = input.action === 'promote' ? (input.boost ?? 1.5) : 1;
    if (!(Number.isFinite(boost) && boost > 0)) throw new ValidationError('boost must be a number above 0', 'boost');
    if (input.action === 'block' && input.boost !== undefined && input.boost !== 1) {
      throw new ValidationError('boost applies to promote rules only', 'boost');
    }
    let until: string | null = null;
    if (input.until) {
      const t = Date.parse(input.until);
      if (Number.isNaN(t))
        throw new ValidationError(`until must be an ISO date such as 2026-12-31, not "${input.until}"`, 'until');
      // A bare date means the whole of that day.
      until = new Date(/^\d{4}-\d{2}-\d{2}$/.test(input.until) ? t + 86_400_000 - 1 : t).toISOString();
    }
    const rule = await this.store.putRule({
      movieId: input.movieId,
      action: input.action,
      boost,
      until,
      reason: input.reason?.trim() || null,
    });
    this.rules = new RuleSet(await this.store.listRules());
    return rule;
  }

  removeRule(movieId: number): Promise<void> {
    return this.writes.run(() => this.removeRuleNow(movieId));
  }

  private async removeRuleNow(movieId: number): Promise<void> {
    if (!(await this.store.removeRule(movieId))) throw new NotFoundError(`no rule for movie ${movieId}`, 'movieId');
    this.rules = new RuleSet(await this.store.listRules());
  }
}

/** Rank position (0-based) of every index by descending score. */
function rankOf(score: Float32Array): Int32Array {
  const order = Array.from(score.keys()).sort((a, b) => score[b]! - score[a]! || a - b);
  const rank = new Int32Array(score.length);
  order.forEach((idx, r) => {
    rank[idx] = r;
  });
  return rank;
}
