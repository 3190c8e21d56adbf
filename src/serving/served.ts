import { contentInputsOf, DEFAULT_SCALE } from '../components/data.ts';
import { SERVED_MODELS, SERVED_STRATEGIES, STRATEGIES } from '../components/index.ts';
import { StoredModels } from '../components/stored.ts';
import { StrategyBook } from '../components/strategy-book.ts';
import type { Config } from '../config/config.ts';
import { Catalogue } from '../data/catalogue.ts';
import { Interactions } from '../data/interactions.ts';
import { changedUsers, userRatingSums, usersWithOtherSums } from '../data/rating-diff.ts';
import type { MovieContent } from '../features/content-features.ts';
import type { PopularityModel } from '../models/popularity.ts';
import { historyOf } from '../recommend/history.ts';
import { LiveUsers } from '../recommend/live-users.ts';
import { RankingPipeline } from '../recommend/pipeline.ts';
import type { RouterStrategy } from '../recommend/router.ts';
import { RuleSet } from '../recommend/rules.ts';
import type { AlsStrategy } from '../recommend/strategies/als.ts';
import type { PopularStrategy } from '../recommend/strategies/popular.ts';
import type { History, Strategy, TrainingData } from '../recommend/strategy.ts';
import type { DatasetInfo, RatingColumns, Store } from '../store/types.ts';
import { NotFoundError, ValidationError } from '../util/errors.ts';
import { type Change, type ChangeSink, localChanges, localLock, type WriteLock } from './changes.ts';
import { ResultCache } from './result-cache.ts';
import type { ServedVersion } from './version.ts';

/** What a served state shares with the rest of the serving processes and the server. */
export interface Sharing {
  writes?: WriteLock;
  changes?: ChangeSink;
  /** Told of every result-cache lookup (hit or miss). */
  onCacheLookup?: (hit: boolean) => void;
}

/**
 * Users whose stored ratings differ from a version's snapshot are served live (folded in), with every rating. The
 * store is asked for per-user counts and checksums first and then for those users' ratings only: at 25 M ratings
 * that is 160 k rows instead of every rating, once per serving process.
 */
async function serveChangedUsers(
  live: LiveUsers,
  catalogue: Catalogue,
  snapshot: RatingColumns,
  store: Store,
): Promise<void> {
  const ids = usersWithOtherSums(userRatingSums(snapshot), await store.userRatingSums());
  if (ids.length === 0) return;
  for (const u of changedUsers(snapshot, await store.ratingsOfUsers(ids))) {
    live.set(u.userId, { items: Int32Array.from(u.movieIds, (m) => catalogue.indexOf(m)), ratings: u.ratings });
  }
}

/**
 * The state every service reads: one model version (or none yet), the data it was trained on plus what the store
 * gained since (movies placed, users folded in), the rules, and the models, loaded on first use and never fitted.
 * A new version gets a new Served; the server swaps them whole.
 */
export class Served {
  readonly pipeline: RankingPipeline;
  private ruleSet: RuleSet;
  /** Bumped whenever the rules change, so cached lists made under the old rules are not served. */
  private rulesVersion = 0;
  /** Bumped when a live write changes a model (an ALS item factor folded in). */
  private modelUpdates = 0;
  /** Finished list answers (see result-cache.ts). */
  readonly cache: ResultCache;
  /** Loaded with the version: search, movie pages and the cold-start list all read it. */
  private popularStrategy: PopularStrategy | null = null;
  private ranksOf: { size: number; ranks: Int32Array } | null = null;

  private constructor(
    readonly store: Store,
    readonly config: Config,
    readonly version: ServedVersion | null,
    readonly data: TrainingData,
    readonly models: StoredModels,
    readonly strategies: StrategyBook,
    rules: RuleSet,
    readonly log: (line: string) => void,
    /** Serialises writes (across processes when several serve the store). */
    readonly writes: WriteLock,
    /** Where this process publishes the writes it takes, for the other serving processes. */
    readonly changes: ChangeSink,
    sharing: Sharing,
  ) {
    this.ruleSet = rules;
    this.cache = new ResultCache(config.server.cacheSize, sharing.onCacheLookup);
    this.pipeline = new RankingPipeline(
      () => this.data,
      () => this.ruleSet,
    );
  }

  get rules(): RuleSet {
    return this.ruleSet;
  }

  set rules(rules: RuleSet) {
    this.ruleSet = rules;
    this.rulesVersion++;
  }

  /** What the rules in force are now: their version and how many apply at this moment (expiries count). */
  rulesStamp(now = new Date()): string {
    let active = 0;
    for (const r of this.ruleSet.list()) if (RuleSet.isActive(r, now)) active++;
    return `${this.rulesVersion}.${active}`;
  }

  /**
   * Everything besides the request and the viewer that a list depends on: the rules in force, the catalogue (movies
   * added), and the models' live updates (a movie's factor folded in from new ratings).
   */
  stateStamp(now = new Date()): string {
    return `${this.rulesStamp(now)}|${this.catalogue.size}|${this.modelUpdates}`;
  }

  /** The part of a cache key that says whose history a request reads (a live user's history version). */
  viewerStamp(userId: number | undefined): string {
    return userId === undefined ? '-' : `${userId}@${this.live.version(userId)}`;
  }

  /**
   * With a version, its snapshot is the training data and its models are served; what the store gained since
   * (users, ratings, movies) is served live until the next training takes it in. Without one, only what needs no
   * model works (search, genres, rules, data info); the rest says to train.
   */
  static async load(
    store: Store,
    config: Config,
    version: ServedVersion | null,
    log: (line: string) => void = () => {},
    sharing: Sharing = {},
  ): Promise<Served> {
    const dataset = await store.dataset();
    const catalogue = await catalogueFor(store, dataset, version);
    const live = new LiveUsers();
    let data: TrainingData;
    if (version) {
      const extra = catalogue.size > version.snapshot.movies.length;
      data = {
        catalogue,
        // Built once, over the store's catalogue (the version's movies and any added since).
        interactions: Interactions.build(version.snapshot.ratings, catalogue),
        scale: version.snapshot.dataset?.scale ?? DEFAULT_SCALE,
        // Movies added since training bring their own tags and genome: then the store's are the complete set.
        content: extra ? await contentFromStore(store) : contentInputsOf(version.snapshot),
        live,
      };
      await serveChangedUsers(live, catalogue, version.snapshot.ratings, store);
    } else {
      data = {
        catalogue,
        interactions: Interactions.build(await store.ratingColumns(), catalogue),
        scale: dataset?.scale ?? { min: 0.5, max: 5, step: 0.5 },
        live,
      };
    }
    const models = new StoredModels(
      (name) => version?.model(name) ?? null,
      data,
      version?.config ?? config,
      (name) => version?.verify(`${name}/`),
      version ? `model version ${version.id}` : 'the store (no model version is trained yet)',
    );
    const strategies = new StrategyBook(data, config, models, log);
    const served = new Served(
      store,
      config,
      version,
      data,
      models,
      strategies,
      new RuleSet(await store.listRules()),
      log,
      sharing.writes ?? localLock(),
      sharing.changes ?? localChanges,
      sharing,
    );
    if (version) served.popularStrategy = (await strategies.get('popular')) as PopularStrategy;
    return served;
  }

  get catalogue(): Catalogue {
    return this.data.catalogue;
  }

  get live(): LiveUsers {
    return this.data.live!;
  }

  /** The weighted-rating model, grown to the catalogue when movies were added (null without a version). */
  popularity(): PopularityModel | null {
    return this.popularStrategy?.model() ?? null;
  }

  /** Ratings per catalogue index in the training data (search orders by it; it needs no model). */
  votes(index: number): number {
    const p = this.popularity();
    return p ? (p.votes[index] ?? 0) : (this.data.interactions.itemCounts()[index] ?? 0);
  }

  /** 1-based rank of a movie by weighted rating in the whole catalogue (0 without a version). */
  rank(index: number): number {
    const p = this.popularity();
    if (!p) return 0;
    const n = this.catalogue.size;
    if (!this.ranksOf || this.ranksOf.size !== n) {
      const score = p.score;
      const order = Array.from({ length: n }, (_, i) => i).sort(
        (a, b) => (score[b] ?? p.C) - (score[a] ?? p.C) || a - b,
      );
      const ranks = new Int32Array(n);
      order.forEach((idx, r) => {
        ranks[idx] = r;
      });
      this.ranksOf = { size: n, ranks };
    }
    return this.ranksOf.ranks[index]! + 1;
  }

  /** A registered strategy over the served models. */
  /** A registered strategy over the served models; one whose models versions never hold is a bad request. */
  strategy(name: string): Promise<Strategy> {
    if (STRATEGIES.has(name) && !SERVED_STRATEGIES.includes(name))
      return Promise.reject(
        new ValidationError(
          `strategy ${name} is evaluation only: model versions do not hold its models (\`npx cinerec eval --strategies ${name}\` fits it)`,
          'strategy',
        ),
      );
    return this.strategies.get(name);
  }

  /** The scenario router, its parts created as queries are routed to them (RouterStrategy.route). */
  async router(): Promise<RouterStrategy> {
    return (await this.strategies.created('router')) as RouterStrategy;
  }

  async popular(): Promise<PopularStrategy> {
    return (await this.strategies.get('popular')) as PopularStrategy;
  }

  /** The user's whole history now (training row or live overlay). */
  historyOf(userId: number): History {
    return historyOf({ userId }, this.data);
  }

  requireUser(userId: number, field = 'userId'): void {
    if (this.live.has(userId) || this.data.interactions.userOf(userId) >= 0) return;
    throw new NotFoundError(`no user with id ${userId}`, field);
  }

  /**
   * Loads every model of the version and builds the router before the server listens, so that no request waits
   * for a load.
   */
  async warm(): Promise<void> {
    if (!this.version) return;
    await this.models.loadAll(SERVED_MODELS.map((m) => m.name));
    // Explanations of EASE lists from a kept K·X: paid once here rather than per request.
    this.models.loaded('ease')?.prepareExplanations();
    await this.strategies.get('router');
    await this.strategies.get('content-cluster');
    for (const name of ['hybrid', 'user-cluster', 'segment', 'neural'])
      await this.strategies.get(name).catch((err: unknown) => this.log(`${name}: ${(err as Error).message}`));
  }

  /**
   * Places a movie just added to the catalogue (its last index) into every model already loaded: content first
   * (the hybrid bridge reads its vector), then the hybrid space and ALS, then the movie segments. Models loaded
   * later place it themselves. Nothing is refitted.
   */
  async placeMovie(index: number, content: MovieContent): Promise<{ cluster: number }> {
    const contentIndex = await this.models.get('content');
    const placed = contentIndex.add(index, content);
    const hybrid = this.models.loaded('hybrid');
    const als = this.models.loaded('als');
    if (hybrid && als) als.setItemFactor(index, hybrid.place(index, contentIndex.model).factors);
    const seg = this.models.loaded('movie-segments');
    if (seg && seg.assignment.length === index) {
      const { placeMovie } = await import('../models/movie-segments.ts');
      const grown = new Int32Array(index + 1);
      grown.set(seg.assignment);
      grown[index] = placeMovie(seg, this.catalogue, index);
      seg.assignment = grown;
    }
    return placed;
  }

  /** Sets a user's whole history as live (served by fold-in until the next training). */
  setHistory(userId: number, movieIds: readonly number[], ratings: readonly number[]): void {
    const byIndex = new Map<number, number>();
    movieIds.forEach((id, k) => {
      const i = this.catalogue.indexOf(id);
      if (i >= 0) byIndex.set(i, ratings[k]!);
    });
    const items = Int32Array.from([...byIndex.keys()].sort((a, b) => a - b));
    this.live.set(userId, { items, ratings: Float32Array.from(items, (i) => byIndex.get(i)!) });
  }

  /**
   * A movie with few training ratings (new, or bridged) that gains ratings gets its ALS factor folded in from its
   * raters' factors (trained rows, and live users folded in), replacing the bridge estimate.
   */
  async refoldMovies(movieIds: readonly number[]): Promise<void> {
    const model = this.models.loaded('als');
    if (!model) return;
    const { data, config } = this;
    const als = (await this.strategy('als')) as AlsStrategy;
    const f = model.factors;
    const counts = data.interactions.itemCounts();
    const csc = data.interactions.byItem();
    for (const id of movieIds) {
      const i = data.catalogue.indexOf(id);
      if (i < 0 || (counts[i] ?? 0) >= config.hybrid.bridgeMinRatings) continue;
      const rows: Float32Array[] = [];
      const ratings: number[] = [];
      if (i < counts.length) {
        for (let p = csc.indptr[i]!; p < csc.indptr[i + 1]!; p++) {
          const u = csc.users[p]!;
          if (this.live.has(data.interactions.userIds[u]!)) continue;
          rows.push(model.userFactors.subarray(u * f, (u + 1) * f));
          ratings.push(csc.ratings[p]!);
        }
      }
      for (const userId of this.live.ids()) {
        const h = this.live.get(userId)!;
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
      this.modelUpdates++;
    }
  }

  /** Applies a write another serving process took (this process's own writes are applied as they happen). */
  async apply(change: Change): Promise<void> {
    switch (change.kind) {
      case 'ratings':
        this.setHistory(change.userId, change.movieIds, change.ratings);
        await this.refoldMovies(change.movieIds);
        // Derived per-user state (a folded-in factor) is made current now, not on the next read.
        this.live.refresh(change.userId);
        return;
      case 'movie': {
        if (this.catalogue.indexOf(change.movie.movieId) >= 0) return;
        const index = this.catalogue.add(change.movie);
        await this.placeMovie(index, contentOf(change, this.config, this.data.interactions.meanRating()));
        return;
      }
      case 'rules':
        this.rules = new RuleSet(change.rules);
        return;
    }
  }

  /** Takes over rules and live users written to the store since this state loaded (before a swap). */
  async catchUp(): Promise<void> {
    this.rules = new RuleSet(await this.store.listRules());
    if (!this.version) return;
    await serveChangedUsers(this.live, this.catalogue, this.version.snapshot.ratings, this.store);
  }
}

/**
 * The store's movies. When the store holds the import a version was trained on, they are the version's movies and
 * those added since (added movies take the next id), so only those are read; otherwise every movie is read and must
 * extend the version's.
 */
async function catalogueFor(
  store: Store,
  dataset: DatasetInfo | null,
  version: ServedVersion | null,
): Promise<Catalogue> {
  const snap = version?.snapshot;
  const last = snap?.movies.at(-1);
  if (snap && last && dataset && snap.dataset?.importedAt === dataset.importedAt) {
    const after = await store.moviesAfter(last.movieId);
    if (after.total === snap.movies.length + after.movies.length)
      return new Catalogue([...snap.movies, ...after.movies]);
  }
  const catalogue = new Catalogue(await store.listMovies());
  if (version) checkExtends(version, catalogue);
  return catalogue;
}

function checkExtends(version: ServedVersion, catalogue: Catalogue): void {
  const snap = version.snapshot.movies;
  for (let i = 0; i < snap.length; i++) {
    if (catalogue.movies[i]?.movieId !== snap[i]!.movieId)
      throw new Error(
        `model version ${version.id}: the store's movies do not extend the version's (movie ${snap[i]!.movieId} at row ${i}); retrain with \`npx cinerec train\``,
      );
  }
}

async function contentFromStore(store: Store): Promise<NonNullable<TrainingData['content']>> {
  return {
    tags: await store.movieTagCounts(),
    genomeTags: await store.genomeTags(),
    genome: await store.genomeColumns(),
  };
}

/** What places an added movie in the content model (its genres, year, tags and genome). */
export function contentOf(
  change: Extract<Change, { kind: 'movie' }>,
  config: Config,
  globalMean: number,
): MovieContent {
  const { movie, tags, genome } = change;
  return {
    genres: movie.genres,
    year: movie.year,
    tags: new Map(tags.map((t) => [t, 1])),
    genome: {
      tagIds: Int32Array.from(genome, (g) => g.tagId),
      relevance: Float32Array.from(genome, (g) => g.relevance),
    },
    ...(config.content.weights.stats > 0 ? { ratings: { count: 0, mean: 0, globalMean } } : {}),
  };
}
