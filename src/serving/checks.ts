import type { Config } from '../config/config.ts';
import type { Catalogue } from '../data/catalogue.ts';
import type { RatingScale } from '../store/types.ts';
import { NotFoundError, ValidationError } from '../util/errors.ts';
import type { UserRatingInput } from './views.ts';

/** Input checks the services share, so one concept has one rule on every route and command. */

export function checkK(config: Config, k: number | undefined, field = 'k'): number {
  if (k === undefined) return config.recommend.defaultK;
  if (!Number.isInteger(k) || k < 1 || k > config.recommend.maxK) {
    throw new ValidationError(`k must be a whole number from 1 to ${config.recommend.maxK}`, field);
  }
  return k;
}

/** Canonical genre names, or a ValidationError that lists the valid ones. */
export function resolveGenres(catalogue: Catalogue, names: readonly string[], field = 'genres'): string[] {
  const out: string[] = [];
  const unknown: string[] = [];
  for (const raw of names) {
    const name = raw.trim();
    if (name === '') continue;
    const canonical = catalogue.canonicalGenre(name);
    if (canonical === undefined) unknown.push(name);
    else if (!out.includes(canonical)) out.push(canonical);
  }
  if (unknown.length > 0) {
    throw new ValidationError(
      `unknown genre${unknown.length > 1 ? 's' : ''} ${unknown.map((g) => `"${g}"`).join(', ')}; valid genres: ${catalogue.genres().join(', ')}`,
      field,
    );
  }
  return out;
}

/** Splits ids into known and unknown; all unknown is an error naming them, some unknown a warning. */
export function knownIds(catalogue: Catalogue, ids: readonly number[], field: string, warnings: string[]): number[] {
  const unknown = ids.filter((id) => catalogue.indexOf(id) < 0);
  if (unknown.length === 0) return [...ids];
  if (unknown.length === ids.length) {
    throw new ValidationError(
      `unknown movie id${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}: none of the given movies is in the catalogue`,
      field,
    );
  }
  warnings.push(`unknown movie id${unknown.length > 1 ? 's' : ''} ignored: ${unknown.join(', ')}`);
  return ids.filter((id) => catalogue.indexOf(id) >= 0);
}

/** Ratings on the data set's scale and step, each movie once. */
export function checkRatings(scale: RatingScale, ratings: readonly UserRatingInput[], field: string): void {
  const { min, max, step } = scale;
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

/** Movie ids that must all exist (predictions): an unknown one is a 404 naming it. */
export function requireMovies(catalogue: Catalogue, movieIds: readonly number[], field: string): void {
  if (movieIds.length === 0) throw new ValidationError('name at least one movie', field);
  const unknown = movieIds.filter((id) => catalogue.indexOf(id) < 0);
  if (unknown.length)
    throw new NotFoundError(`unknown movie id${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`, field);
}
