/** Rows of the movies and rules tables as both stores' drivers return them, and the records they become. */
import type { Movie, Rule } from './types.ts';

export interface MovieRow {
  movie_id: number;
  title: string;
  display_title: string;
  year: number | null;
  genres: string[];
  imdb_id: string | null;
  tmdb_id: number | null;
  source: string;
}

export const MOVIE_COLUMNS = 'movie_id, title, display_title, year, genres, imdb_id, tmdb_id, source';

export function toMovie(r: MovieRow): Movie {
  return {
    movieId: r.movie_id,
    title: r.title,
    displayTitle: r.display_title,
    year: r.year,
    genres: r.genres,
    imdbId: r.imdb_id,
    tmdbId: r.tmdb_id,
    source: r.source === 'live' ? 'live' : 'import',
  };
}

export interface RuleRow {
  movie_id: number;
  action: 'block' | 'promote';
  /** PostgreSQL's numeric arrives as a string. */
  boost: number | string;
  until: Date | null;
  reason: string | null;
  created_at: Date;
}

export function toRule(r: RuleRow): Rule {
  return {
    movieId: r.movie_id,
    action: r.action,
    boost: Number(r.boost),
    until: r.until ? r.until.toISOString() : null,
    reason: r.reason,
    createdAt: r.created_at.toISOString(),
  };
}
