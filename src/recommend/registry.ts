import type { Config } from '../config/config.ts';
import { MF_DEFAULTS } from '../models/mf.ts';
import { ValidationError } from '../util/errors.ts';
import type { ContentSettings } from './content-index.ts';
import { MfRatingModel } from './mf-rating-model.ts';
import { NeuralRatingModel, neuralParams, predictorParams } from './neural-rating-model.ts';
import { BiasRatingModel, GlobalMeanModel } from './rating-models.ts';
import { RouterStrategy } from './router.ts';
import { AlsStrategy } from './strategies/als.ts';
import { BlendStrategy } from './strategies/blend.ts';
import { ContentClusterStrategy, ContentStrategy } from './strategies/content.ts';
import { HybridStrategy } from './strategies/hybrid.ts';
import { MostPopularStrategy } from './strategies/most-popular.ts';
import { EaseStrategy, ItemKnnStrategy } from './strategies/neighbours.ts';
import { NeuralStrategy } from './strategies/neural.ts';
import { PopularStrategy } from './strategies/popular.ts';
import { PopularGenreStrategy } from './strategies/popular-genre.ts';
import { RandomStrategy } from './strategies/random.ts';
import { SegmentStrategy, segmentSettings } from './strategies/segment.ts';
import { UserClusterStrategy } from './strategies/user-cluster.ts';
import type { RatingModel, Strategy } from './strategy.ts';

export type Params = Record<string, number>;

interface Entry<T> {
  description: string;
  /** Tunable parameters with their defaults. */
  defaults: Params;
  /** Tunable parameters whose defaults are settings of the configuration. */
  configDefaults?: (config: Config) => Params;
  create(params: Params, config: Config): T;
}

const CONTENT_DEFAULTS = (c: Config): Params => ({
  ...c.content.weights,
  dimensions: c.content.dimensions,
  clusters: c.content.clusters,
  positiveRating: c.content.positiveRating,
});

function contentSettings(p: Params, c: Config): ContentSettings {
  return {
    ...c.content,
    weights: { genres: p.genres!, year: p.year!, tags: p.tags!, genome: p.genome!, stats: p.stats! },
    dimensions: p.dimensions!,
    clusters: p.clusters!,
    positiveRating: p.positiveRating!,
  };
}

/** Every ranking strategy by name: what the evaluator, the CLI and the API can ask for. */
export const STRATEGIES: Readonly<Record<string, Entry<Strategy>>> = {
  random: { description: 'uniformly random order', defaults: { seed: 1 }, create: (p) => new RandomStrategy(p.seed) },
  popular: {
    description: 'Bayesian weighted rating (the cold-start list)',
    defaults: { minVotesQuantile: 0.9 },
    create: (p, c) => new PopularStrategy({ ...c.popularity, minVotesQuantile: p.minVotesQuantile! }),
  },
  'most-popular': { description: 'number of ratings', defaults: {}, create: () => new MostPopularStrategy() },
  'popular-genre': {
    description: "most popular in the user's genres",
    defaults: {},
    create: () => new PopularGenreStrategy(),
  },
  itemknn: { description: 'item kNN, cosine, all neighbours', defaults: {}, create: () => new ItemKnnStrategy() },
  ease: {
    description: 'EASE closed-form item-item model',
    defaults: { lambda: 300, maxDense: 20000 },
    create: (p) => new EaseStrategy({ lambda: p.lambda!, maxDense: p.maxDense! }),
  },
  content: {
    description: 'content similarity (genres, year, tags, genome) to the positively rated movies',
    defaults: {},
    configDefaults: CONTENT_DEFAULTS,
    create: (p, c) => new ContentStrategy(contentSettings(p, c)),
  },
  als: {
    description: 'implicit ALS; live users folded in',
    defaults: {},
    configDefaults: (c) => ({
      factors: c.als.factors,
      regularization: c.als.regularization,
      alpha: c.als.alpha,
      iterations: c.als.iterations,
    }),
    create: (p, c) =>
      new AlsStrategy({
        ...c.als,
        factors: p.factors!,
        regularization: p.regularization!,
        alpha: p.alpha!,
        iterations: p.iterations!,
      }),
  },
  hybrid: {
    description: 'hybrid ALS ⊕ content item vectors (unrated movies bridged), similarity to the liked movies',
    defaults: { alsWeight: 1, contentWeight: 1, rankContentWeight: 0.1 },
    create: (p, c) => createHybrid(c, p, false),
  },
  'hybrid-cluster': {
    description: 'hybrid similarity within the hybrid clusters of the liked movies',
    defaults: { alsWeight: 1, contentWeight: 1, rankContentWeight: 0.1 },
    create: (p, c) => createHybrid(c, p, true),
  },
  'user-cluster': {
    description: 'what similar viewers (same ALS user cluster) watched, popularity-smoothed',
    defaults: {},
    configDefaults: (c) => ({ clusters: c.userClusters.clusters, smoothing: c.userClusters.smoothing }),
    create: (p, c) =>
      new UserClusterStrategy(alsOf(c), { ...c.userClusters, clusters: p.clusters!, smoothing: p.smoothing! }),
  },
  segment: {
    description:
      "what the viewer's user segment (autoencoder + k-means) liked, smoothed, by the movie segments they like",
    defaults: {},
    configDefaults: (c) => ({
      smoothing: c.segments.users.smoothing,
      movieSegmentWeight: c.segments.users.movieSegmentWeight,
      lowRatingWeight: c.segments.users.lowRatingWeight,
    }),
    create: (p, c) =>
      new SegmentStrategy({
        ...segmentSettings(c),
        smoothing: p.smoothing!,
        movieSegmentWeight: p.movieSegmentWeight!,
        lowRatingWeight: p.lowRatingWeight!,
      }),
  },
  'content-popular': {
    description: 'content similarity to the liked movies blended with popularity (the few-ratings path)',
    defaults: {},
    configDefaults: (c) => ({ ...CONTENT_DEFAULTS(c), contentWeight: c.router.contentWeight }),
    create: (p, c) => new BlendStrategy(new ContentStrategy(contentSettings(p, c)), p.contentWeight!),
  },
  router: {
    description: 'the scenario router: cold start, watched, few ratings (content + popularity) or personalised',
    defaults: {},
    configDefaults: (c) => ({
      minRatings: c.router.minRatings,
      minPositive: c.router.minPositive,
      positiveRating: c.router.positiveRating,
      contentWeight: c.router.contentWeight,
    }),
    create: (p, c) => createRouter(c, { ...c.router, ...p } as Config['router']),
  },
  'content-cluster': {
    description: 'content similarity within the k-means clusters of the positively rated movies',
    defaults: {},
    configDefaults: CONTENT_DEFAULTS,
    create: (p, c) => new ContentClusterStrategy(contentSettings(p, c)),
  },
  neural: {
    description: 'predicted rating (MLP over user autoencoder code ⊕ movie vector) over candidates',
    defaults: {},
    configDefaults: (c) => ({ ...neuralParams(c.neural), pool: c.neural.pool }),
    create: (p, c) => new NeuralStrategy(c.neural, p, neuralCandidates(c)),
  },
};

/** The `neural` strategy's candidate generator: null for 'all', else a fresh registered strategy. */
export function neuralCandidates(c: Config): Strategy | null {
  const name = c.neural.candidates;
  if (name === 'all') return null;
  const entry = STRATEGIES[name];
  if (!entry || name === 'neural')
    throw new ValidationError(
      `neural.candidates: unknown strategy "${name}"; choose all or one of ${Object.keys(STRATEGIES)
        .filter((n) => n !== 'neural')
        .join(', ')}`,
      'neural.candidates',
    );
  return entry.create(defaultsOf(entry, c), c);
}

function alsOf(c: Config): AlsStrategy {
  return new AlsStrategy(c.als);
}

function createHybrid(c: Config, p: Params, restrict: boolean): HybridStrategy {
  const content = new ContentStrategy(contentSettings(CONTENT_DEFAULTS(c), c));
  return new HybridStrategy(
    alsOf(c),
    content,
    {
      ...c.hybrid,
      alsWeight: p.alsWeight ?? c.hybrid.alsWeight,
      contentWeight: p.contentWeight ?? c.hybrid.contentWeight,
      positiveRating: c.content.positiveRating,
      rankContentWeight: p.rankContentWeight ?? 0.1,
    },
    restrict,
  );
}

/** The router over fresh strategies; `personalised` must name another registered strategy. */
export function createRouter(config: Config, settings: Config['router']): RouterStrategy {
  const name = settings.personalised;
  const entry = STRATEGIES[name];
  if (!entry || name === 'router')
    throw new ValidationError(
      `router.personalised: unknown strategy "${name}"; choose from ${Object.keys(STRATEGIES)
        .filter((n) => n !== 'router')
        .join(', ')}`,
      'router.personalised',
    );
  const content = new ContentStrategy(contentSettings(CONTENT_DEFAULTS(config), config));
  return new RouterStrategy(
    {
      coldStart: new PopularStrategy(config.popularity),
      watched: content,
      fewRatings: new BlendStrategy(content, settings.contentWeight),
      personalised: entry.create(defaultsOf(entry, config), config),
    },
    settings,
  );
}

/** A strategy's parameters with their defaults (some come from the configuration). */
export function defaultsOf<T>(entry: Entry<T>, config: Config): Params {
  return { ...(entry.configDefaults?.(config) ?? {}), ...entry.defaults };
}

export const RATING_MODELS: Readonly<Record<string, Entry<RatingModel>>> = {
  'global-mean': { description: 'global mean rating', defaults: {}, create: () => new GlobalMeanModel() },
  bias: {
    description: 'user + item biases (Surprise BaselineOnly)',
    defaults: { regUser: 15, regItem: 10, epochs: 10 },
    create: (p) => new BiasRatingModel({ regUser: p.regUser!, regItem: p.regItem!, epochs: p.epochs! }),
  },
  mf: {
    description: 'biased matrix factorisation μ + b_u + b_i + p_uᵀq_i (SGD)',
    defaults: { ...MF_DEFAULTS },
    create: (p) => new MfRatingModel(p),
  },
  neural: {
    description: 'MLP over user autoencoder code ⊕ movie vector on the bias residual',
    defaults: {},
    configDefaults: (c) => neuralParams(c.neural),
    create: (p, c) => new NeuralRatingModel(predictorParams(c.neural, p)),
  },
};

/** "ease.lambda=500" entries → per-name parameter overrides, checked against the known names. */
export function parseParams(
  entries: readonly string[],
  registry: Readonly<Record<string, Entry<unknown>>>,
  config?: Config,
): Map<string, Params> {
  const out = new Map<string, Params>();
  for (const entry of entries) {
    const m = /^([a-z-]+)\.([A-Za-z]+)=(.+)$/.exec(entry.trim());
    if (!m)
      throw new ValidationError(`--param expects name.key=value (e.g. ease.lambda=500), got "${entry}"`, '--param');
    const [, name, key, raw] = m;
    const known = registry[name!];
    if (!known) throw new ValidationError(`--param: unknown strategy "${name}"`, '--param');
    const defaults = config ? defaultsOf(known, config) : known.defaults;
    if (!(key! in defaults)) {
      throw new ValidationError(
        `--param: ${name} has no parameter "${key}"${Object.keys(defaults).length ? `; it has ${Object.keys(defaults).join(', ')}` : ''}`,
        '--param',
      );
    }
    const value = Number(raw);
    if (!Number.isFinite(value))
      throw new ValidationError(`--param ${name}.${key} must be a number, not "${raw}"`, '--param');
    out.set(name!, { ...(out.get(name!) ?? {}), [key!]: value });
  }
  return out;
}

export function resolveNames(
  names: readonly string[],
  registry: Readonly<Record<string, Entry<unknown>>>,
  field: string,
): string[] {
  const unknown = names.filter((n) => !(n in registry));
  if (unknown.length > 0) {
    throw new ValidationError(
      `unknown strateg${unknown.length > 1 ? 'ies' : 'y'} ${unknown.map((n) => `"${n}"`).join(', ')}; choose from ${Object.keys(registry).join(', ')}`,
      field,
    );
  }
  if (names.length === 0) throw new ValidationError(`name at least one of ${Object.keys(registry).join(', ')}`, field);
  return [...new Set(names)];
}
