import type { Movie } from '../../src/store/types.ts';

/** A plain imported movie for unit tests: "Movie <id> (2000)" with the given genres. */
export function testMovie(movieId: number, genres: string[] = []): Movie {
  return {
    movieId,
    title: `Movie ${movieId} (2000)`,
    displayTitle: `Movie ${movieId}`,
    year: 2000,
    genres,
    imdbId: null,
    tmdbId: null,
    source: 'import',
  };
}
