/**
 * Small seeded data for the save/load tests: movies with genres, years and tags whose tastes drive the
 * ratings, a few movies nobody rated (so the hybrid bridges them), and helpers for queries.
 */
import { Catalogue } from '../../src/data/catalogue.ts';
import { Interactions } from '../../src/data/interactions.ts';
import type { ContentInputs } from '../../src/features/content-features.ts';
import { Rng } from '../../src/math/random.ts';
import type { AlsParams } from '../../src/models/als.ts';
import type { ContentSettings } from '../../src/models/content-index.ts';
import type { Query, TrainingData } from '../../src/recommend/strategy.ts';
import type { Movie } from '../../src/store/types.ts';

export const GENRES = ['Action', 'Comedy', 'Drama', 'Horror', 'Romance'];
const TAGS: Record<string, string[]> = {
  Action: ['explosions', 'car chase', 'hero'],
  Comedy: ['funny', 'witty', 'parody'],
  Drama: ['moving', 'slow', 'family'],
  Horror: ['scary', 'gore', 'ghosts'],
  Romance: ['love', 'wedding', 'sweet'],
};
export const SCALE = { min: 0.5, max: 5, step: 0.5 };

export interface Fixture {
  data: TrainingData;
  catalogue: Catalogue;
  interactions: Interactions;
}

function movieOf(movieId: number, genres: string[], year: number): Movie {
  return {
    movieId,
    title: `Movie ${movieId} (${year})`,
    displayTitle: `Movie ${movieId}`,
    year,
    genres,
    imdbId: null,
    tmdbId: null,
    source: 'import',
  };
}

/** `movies` movies (the last `unrated` of them never rated), `users` users with 12–30 ratings each. */
export function fixture(options: { users?: number; movies?: number; unrated?: number; seed?: number } = {}): Fixture {
  const { users = 90, movies = 60, unrated = 4, seed = 5 } = options;
  const rng = new Rng(seed);
  const list: Movie[] = [];
  const taste: number[] = [];
  const tagMovie: number[] = [];
  const tagName: string[] = [];
  const tagCount: number[] = [];
  for (let i = 0; i < movies; i++) {
    const g = i % GENRES.length;
    const genres = [GENRES[g]!];
    if (rng.next() < 0.3) genres.push(GENRES[(g + 1 + rng.int(GENRES.length - 1)) % GENRES.length]!);
    list.push(movieOf(i + 1, genres, 1980 + rng.int(40)));
    taste.push(g);
    for (const genre of genres)
      for (const t of TAGS[genre]!)
        if (rng.next() < 0.6) {
          tagMovie.push(i + 1);
          tagName.push(t);
          tagCount.push(1 + rng.int(4));
        }
  }
  const catalogue = new Catalogue(list);
  const userId: number[] = [];
  const movieId: number[] = [];
  const rating: number[] = [];
  const rated = movies - unrated;
  for (let u = 0; u < users; u++) {
    const loves = u % GENRES.length;
    const bias = 0.5 * rng.normal();
    const count = 12 + rng.int(19);
    const seen = new Set<number>();
    while (seen.size < count) {
      // Mostly the loved genre, some of the rest.
      let i = rng.int(rated);
      if (rng.next() < 0.6) i = loves + GENRES.length * rng.int(Math.floor(rated / GENRES.length));
      if (i >= rated || seen.has(i)) continue;
      seen.add(i);
      const r = (taste[i] === loves ? 4.2 : 2.6) + bias + 0.6 * rng.normal();
      userId.push(u + 1);
      movieId.push(i + 1);
      rating.push(Math.min(5, Math.max(0.5, Math.round(r * 2) / 2)));
    }
  }
  const interactions = Interactions.build(
    {
      userId: Int32Array.from(userId),
      movieId: Int32Array.from(movieId),
      rating: Float32Array.from(rating),
      timestamp: new Float64Array(userId.length),
    },
    catalogue,
  );
  const content: ContentInputs = {
    tags: { movieId: Int32Array.from(tagMovie), tag: tagName, count: Int32Array.from(tagCount) },
    genomeTags: [],
    genome: { movieId: new Int32Array(0), tagId: new Int32Array(0), relevance: new Float32Array(0) },
  };
  return { data: { catalogue, interactions, scale: SCALE, content }, catalogue, interactions };
}

/** Adds a movie after fitting (to the catalogue only); returns its catalogue index. */
export function addMovie(f: Fixture, genres: string[], year = 2001): number {
  const movieId = f.catalogue.movies.reduce((m, x) => Math.max(m, x.movieId), 0) + 1;
  return f.catalogue.add({ ...movieOf(movieId, genres, year), source: 'live' });
}

export const CONTENT_SETTINGS: ContentSettings = {
  weights: { genres: 1, year: 0.5, tags: 0.5, title: 0, genome: 2, stats: 0 },
  tagVocabulary: 100,
  tagMinMovies: 2,
  dimensions: 8,
  clusters: 5,
  restarts: 2,
  seed: 1,
  positiveRating: 4,
  encoder: 'pca',
};

export const ALS_PARAMS: AlsParams = {
  factors: 8,
  regularization: 0.05,
  alpha: 1,
  iterations: 5,
  confidence: 'binary',
  solver: 'cg',
  cgSteps: 3,
  seed: 1,
  threads: 1,
};

/** A known user's query, as the service builds it: their training row. */
export function knownUser(x: Interactions, userId: number): Query {
  const u = x.userOf(userId);
  return { ctx: { userId }, history: { items: x.rowItems(u), ratings: x.rowRatings(u) } };
}

/** An anonymous viewer's query from (catalogue index, rating) pairs; NaN = watched. */
export function anonymous(catalogue: Catalogue, ratings: [number, number][]): Query {
  const sorted = [...ratings].sort((a, b) => a[0] - b[0]);
  return {
    ctx: {
      ratings: sorted
        .filter(([, r]) => !Number.isNaN(r))
        .map(([i, r]) => ({ movieId: catalogue.movies[i]!.movieId, rating: r })),
      watched: sorted.filter(([, r]) => Number.isNaN(r)).map(([i]) => catalogue.movies[i]!.movieId),
    },
    history: { items: Int32Array.from(sorted, ([i]) => i), ratings: Float32Array.from(sorted, ([, r]) => r) },
  };
}
