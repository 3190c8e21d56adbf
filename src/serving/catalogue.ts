import type { GenreCount } from '../data/catalogue.ts';
import { parseTitle } from '../data/titles.ts';
import { normalizeTag } from '../features/content-features.ts';
import type { Movie } from '../store/types.ts';
import { ConflictError, NotFoundError, ValidationError } from '../util/errors.ts';
import { checkId, checkK, checkText, checkYear, MAX_ID, resolveGenres } from './checks.ts';
import { contentOf, type Served } from './served.ts';
import type { SimilarService } from './similar.ts';
import {
  type AddedMovie,
  type MovieDetails,
  type NewMovieInput,
  type Popularity,
  type PopularList,
  type PopularQuery,
  type RecommendedMovie,
  round4,
  type SearchResult,
  type StoreInfo,
  summary,
} from './views.ts';

/** Limits of a movie added while serving (the API's schema says the same). */
export const MAX_TITLE = 500;
export const MAX_TAG = 100;
export const MAX_TAGS = 200;
export const MAX_GENOME = 5000;

/** The catalogue: movies, search, genres, the cold-start list, and movies added while serving. */
export class CatalogueService {
  constructor(
    private readonly served: Served,
    private readonly similar: SimilarService,
  ) {}

  private get catalogue() {
    return this.served.catalogue;
  }

  async info(): Promise<StoreInfo> {
    const store = this.served.store;
    const counts = await store.counts();
    return {
      dataset: await store.dataset(),
      counts,
      ratingHistogram: await store.ratingHistogram(),
      genomeCoverage: counts.movies > 0 ? counts.genomeMovies / counts.movies : 0,
    };
  }

  genres(): GenreCount[] {
    return this.catalogue.genreCounts();
  }

  requireMovie(movieId: number, field = 'movieId'): Movie {
    const movie = this.catalogue.get(movieId);
    if (!movie) throw new NotFoundError(`no movie with id ${movieId}`, field);
    return movie;
  }

  popularityOf(index: number): Popularity {
    const p = this.served.popularity();
    const votes = this.served.votes(index);
    return {
      score: round4(p ? (p.score[index] ?? p.C) : 0),
      votes,
      meanRating: votes > 0 && p ? round4(p.mean[index]!) : null,
      rank: this.served.rank(index),
    };
  }

  async movie(movieId: number): Promise<MovieDetails> {
    const movie = this.requireMovie(movieId);
    const index = this.catalogue.indexOf(movieId);
    const content = await this.served.models.get('content');
    return {
      ...summary(movie),
      imdbId: movie.imdbId,
      tmdbId: movie.tmdbId,
      imdbUrl: movie.imdbId ? `https://www.imdb.com/title/${movie.imdbId}/` : null,
      tmdbUrl: movie.tmdbId ? `https://www.themoviedb.org/movie/${movie.tmdbId}` : null,
      topTags: await this.served.store.topTags(movieId, 10),
      popularity: this.popularityOf(index),
      rule: this.served.rules.get(movieId) ?? null,
      source: movie.source,
      cluster: content.clusterOf(index),
    };
  }

  search(query: string, options: { limit?: number; offset?: number } = {}): SearchResult {
    const limit = options.limit ?? 20;
    const offset = options.offset ?? 0;
    const votes = (i: number) => this.served.votes(i);
    const hits = this.catalogue
      .search(query)
      .sort((a, b) => b.match - a.match || votes(b.index) - votes(a.index) || a.index - b.index);
    return {
      query,
      total: hits.length,
      offset,
      limit,
      items: hits.slice(offset, offset + limit).map((h) => ({
        ...summary(this.catalogue.movies[h.index]!),
        votes: votes(h.index),
      })),
    };
  }

  recommended(r: { index: number; score: number; promoted: boolean; reason?: string }): RecommendedMovie {
    // Votes and mean rating only (popularityOf's score and catalogue rank are not part of a list entry).
    const p = this.served.popularity();
    const votes = this.served.votes(r.index);
    return {
      ...summary(this.catalogue.movies[r.index]!),
      score: round4(r.score),
      votes,
      meanRating: votes > 0 && p ? round4(p.mean[r.index]!) : null,
      promoted: r.promoted,
      ...(r.reason ? { reason: r.reason } : {}),
    };
  }

  popularList(query: PopularQuery = {}): Promise<PopularList> {
    const s = this.served;
    const key = JSON.stringify(['popular', s.stateStamp(), query]);
    return s.cache.get(key, () => this.popularNow(query));
  }

  private async popularNow(query: PopularQuery): Promise<PopularList> {
    const genres = resolveGenres(this.catalogue, query.genres ?? []);
    const match = query.match ?? 'any';
    const k = checkK(this.served.config, query.k);
    const popular = await this.served.popular();
    const ranked = this.served.pipeline.rank(popular, {
      ctx: { genres, genreMatch: match },
      k,
      ...(query.exclude ? { exclude: query.exclude } : {}),
    });
    const model = popular.model();
    return {
      strategy: 'popular',
      genres,
      match,
      minVotes: model.m,
      meanRating: round4(model.C),
      items: ranked.map((r) => this.recommended(r)),
    };
  }

  /** Adds a movie while serving: stored, placed by the trained models (never refitted), visible at once. */
  addMovie(input: NewMovieInput): Promise<AddedMovie> {
    // One at a time: the duplicate check and the next id must see the previous addition.
    return this.served.writes.run(() => this.addMovieNow(input));
  }

  private async addMovieNow(input: NewMovieInput): Promise<AddedMovie> {
    const rawTitle = checkText(input.title, 'title', { max: MAX_TITLE, required: true });
    const parsed = parseTitle(rawTitle);
    if (parsed.displayTitle.trim() === '')
      throw new ValidationError('title must name the movie, not only a year', 'title');
    // The year in the title counts as much as the year field: "Arrival (3000)" is as implausible as year 3000.
    if (parsed.year !== null) checkYear(parsed.year, 'title');
    let year = parsed.year;
    if (input.year !== undefined && input.year !== null) {
      checkYear(input.year, 'year');
      if (year !== null && year !== input.year)
        throw new ValidationError(`year ${input.year} contradicts the title's (${year})`, 'year');
      year = input.year;
    }
    const title = parsed.year === null && year !== null ? `${rawTitle} (${year})` : rawTitle;
    const genres = resolveGenres(this.catalogue, input.genres ?? [], 'genres');
    const key = parsed.displayTitle.toLowerCase();
    const duplicate = this.catalogue.movies.find((m) => m.year === year && m.displayTitle.toLowerCase() === key);
    if (duplicate) {
      throw new ConflictError(
        `"${duplicate.title}" is already in the catalogue as movie ${duplicate.movieId}`,
        'title',
      );
    }
    const tags: string[] = [];
    if ((input.tags?.length ?? 0) > MAX_TAGS) throw new ValidationError(`give at most ${MAX_TAGS} tags`, 'tags');
    for (const raw of input.tags ?? []) {
      const checked = checkText(raw, 'tags', { max: MAX_TAG, what: 'a tag' });
      const tag = checked === null ? '' : normalizeTag(checked);
      if (tag === '') continue;
      if (!tags.includes(tag)) tags.push(tag);
    }
    const genome = await this.checkGenome(input.genome ?? []);
    if (input.imdbId !== undefined && input.imdbId !== null && !/^tt\d{7,9}$/.test(input.imdbId))
      throw new ValidationError('imdbId must look like tt0114709', 'imdbId');
    if (input.tmdbId !== undefined && input.tmdbId !== null) checkId(input.tmdbId, 'tmdbId', 'tmdbId');
    // The content model is loaded before the write, so a failure to load it leaves the store untouched.
    await this.served.models.get('content');
    const movieId = this.catalogue.movies.reduce((max, m) => Math.max(max, m.movieId), 0) + 1;
    if (movieId > MAX_ID) throw new ValidationError('the catalogue has no movie id left to give', 'title');
    const movie = await this.served.store.addMovie({
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
    const change = { kind: 'movie' as const, movie, tags, genome };
    const placed = await this.served.placeMovie(
      index,
      contentOf(change, this.served.config, this.served.data.interactions.meanRating()),
    );
    await this.served.changes.publish(change);
    const similar = await this.similar.similar(movieId, { k: 5 });
    return { movie: await this.movie(movieId), cluster: placed.cluster, similar: similar.items };
  }

  private async checkGenome(
    genome: readonly { tagId: number; relevance: number; where?: string }[],
  ): Promise<{ tagId: number; relevance: number }[]> {
    if (genome.length === 0) return [];
    const known = new Set((await this.served.store.genomeTags()).map((t) => t.tagId));
    if (known.size === 0)
      throw new ValidationError('this data set has no tag genome: genome relevance cannot be given', 'genome');
    const seen = new Set<number>();
    if (genome.length > MAX_GENOME) throw new ValidationError(`give at most ${MAX_GENOME} genome relevances`, 'genome');
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
}
