import type { Config } from '../config/config.ts';
import { Catalogue, type GenreCount } from '../data/catalogue.ts';
import { Interactions } from '../data/interactions.ts';
import type { PopularityModel } from '../models/popularity.ts';
import type {
  DatasetInfo,
  Movie,
  RatingBucket,
  Rule,
  RuleAction,
  Store,
  StoreCounts,
  TagCount,
} from '../store/types.ts';
import { NotFoundError, ValidationError } from '../util/errors.ts';
import { RankingPipeline } from './pipeline.ts';
import { RuleSet } from './rules.ts';
import { PopularStrategy } from './strategies/popular.ts';
import type { TrainingData } from './strategy.ts';

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

  static async load(store: Store, config: Config): Promise<Cinerec> {
    const catalogue = new Catalogue(await store.listMovies());
    const interactions = Interactions.build(await store.ratingColumns(), catalogue);
    const dataset = await store.dataset();
    const data: TrainingData = {
      catalogue,
      interactions,
      scale: dataset?.scale ?? { min: 0.5, max: 5, step: 0.5 },
    };
    const popular = new PopularStrategy(config.popularity);
    popular.fit(data);
    return new Cinerec(store, config, data, popular, new RuleSet(await store.listRules()));
  }

  get catalogue(): Catalogue {
    return this.data.catalogue;
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

  async putRule(input: RuleInput): Promise<Rule> {
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

  async removeRule(movieId: number): Promise<void> {
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
