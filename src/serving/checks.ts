import type { Config } from '../config/config.ts';
import type { Catalogue } from '../data/catalogue.ts';
import type { RatingScale } from '../store/types.ts';
import { NotFoundError, ValidationError } from '../util/errors.ts';
import type { UserRatingInput } from './views.ts';

/** Input checks the services share, so one concept has one rule on every route and command. */

export function checkK(config: Config, k: number | undefined, field = 'k'): number {
  if (k === undefined) return config.recommend.defaultK;
  if (!Number.isInteger(k) || k < 1 || k > config.recommend.maxK) {
    throw new ValidationError(
      `${field} must be a whole number from 1 to ${config.recommend.maxK} (recommend.maxK)`,
      field,
    );
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
    if (!(Number.isInteger(r.movieId) && r.movieId >= 1 && r.movieId <= MAX_ID))
      throw new ValidationError(`movie id ${String(r.movieId)} must be a whole number from 1 to ${MAX_ID}`, field);
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

/** The largest id the store holds (its id columns are 32-bit INTEGER): movies, users, TMDb and genome tag ids. */
export const MAX_ID = 2_147_483_647;

/** A movie, user or tag id: a whole number from 1 to MAX_ID. */
export function checkId(id: number, field: string, what = 'id'): number {
  if (!(Number.isInteger(id) && id >= 1 && id <= MAX_ID))
    throw new ValidationError(`${what} must be a whole number from 1 to ${MAX_ID}, not ${String(id)}`, field);
  return id;
}

/** The earliest plausible release year (the oldest surviving films are from 1888; MovieLens starts there too). */
export const MIN_YEAR = 1870;
/** Films are announced a few years ahead, never decades. */
export const YEARS_AHEAD = 10;

export function maxYear(now = new Date()): number {
  return now.getUTCFullYear() + YEARS_AHEAD;
}

/** A release year: from MIN_YEAR to ten years from now. */
export function checkYear(year: number, field = 'year'): number {
  const max = maxYear();
  if (!(Number.isInteger(year) && year >= MIN_YEAR && year <= max))
    throw new ValidationError(`year must be a whole number from ${MIN_YEAR} to ${max}, not ${String(year)}`, field);
  return year;
}

/** Control characters (C0, DEL, C1) and unpaired surrogates: never part of a title, a tag or a reason. */
const NOT_TEXT = /[\p{Cc}\p{Cs}]/u;

/**
 * Text a person typed and the store keeps (titles, tags, reasons): trimmed, without control characters, at most
 * `max` characters; empty is an error when `required`, else null.
 */
export function checkText(value: string, field: string, o: { max: number; required: true; what?: string }): string;
export function checkText(
  value: string | null | undefined,
  field: string,
  o: { max: number; required?: false; what?: string },
): string | null;
export function checkText(
  value: string | null | undefined,
  field: string,
  o: { max: number; required?: boolean; what?: string },
): string | null {
  const what = o.what ?? field;
  if (value !== null && value !== undefined && typeof value !== 'string')
    throw new ValidationError(`${what} must be text`, field);
  const text = (value ?? '').trim();
  if (text === '') {
    if (o.required) throw new ValidationError(`${what} must not be empty`, field);
    return null;
  }
  if (NOT_TEXT.test(text))
    throw new ValidationError(`${what} must not contain control characters (such as NUL, tab or newline)`, field);
  if (text.length > o.max) throw new ValidationError(`${what} must be at most ${o.max} characters long`, field);
  return text;
}

const INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?([Zz]|([+-])(\d{2}):?(\d{2}))?)?$/;

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * An ISO 8601 date or date-time that names a real instant: 2026-02-30 and 24:00 are errors, not the next day.
 * A bare date means the end of that day (UTC); a date-time without an offset is UTC.
 */
export function parseInstant(text: string, field: string): Date {
  const m = INSTANT.exec(text);
  const bad = (why: string) =>
    new ValidationError(
      `${field} must be an ISO date or date-time (ISO 8601) such as 2026-12-31; "${text}" ${why}`,
      field,
    );
  if (!m) throw bad('is not one');
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12) throw bad(`has no month ${month}`);
  if (day < 1 || day > daysIn(year, month))
    throw bad(`is not a day of the calendar (${m[1]}-${m[2]} has ${daysIn(year, month)} days)`);
  if (m[4] === undefined) return new Date(Date.UTC(year, month - 1, day + 1) - 1);
  const [hour, minute, second] = [Number(m[4]), Number(m[5]), Number(m[6] ?? 0)];
  if (hour > 23 || minute > 59 || second > 59) throw bad('is not a time of day');
  const millis = m[7] ? Math.floor(Number(m[7]) * 1000) : 0;
  let offset = 0;
  if (m[9]) {
    const [oh, om] = [Number(m[10]), Number(m[11])];
    if (oh > 14 || om > 59) throw bad('has an offset that no time zone has');
    offset = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second, millis) - offset * 60_000);
}

/** Ratings to store (a new user, or a user's new ratings): at least one, valid, every movie in the catalogue. */
export function checkStoredRatings(
  scale: RatingScale,
  catalogue: Catalogue,
  ratings: readonly UserRatingInput[],
  field: string,
): void {
  if (ratings.length === 0) throw new ValidationError('give at least one rating', field);
  checkRatings(scale, ratings, field);
  const unknown = ratings.filter((r) => catalogue.indexOf(r.movieId) < 0).map((r) => r.movieId);
  if (unknown.length)
    throw new ValidationError(`unknown movie id${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`, field);
}
