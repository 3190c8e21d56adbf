import type { RatingColumns, UserRatingSums } from './records.ts';

export interface ChangedUser {
  userId: number;
  /** The user's ratings now (movie ids ascending), all of them. */
  movieIds: Int32Array;
  ratings: Float32Array;
}

/**
 * Users whose ratings differ between a training snapshot and the store now (new users, new or changed
 * ratings). Both inputs are ordered by (userId, movieId), as the store returns them, so one merge pass
 * does it without a hash map of 25 M entries.
 */
export function changedUsers(before: RatingColumns, now: RatingColumns): ChangedUser[] {
  const out: ChangedUser[] = [];
  let a = 0;
  let b = 0;
  const na = before.userId.length;
  const nb = now.userId.length;
  while (b < nb) {
    const user = now.userId[b]!;
    let bEnd = b;
    while (bEnd < nb && now.userId[bEnd] === user) bEnd++;
    // Skip snapshot users that are gone now (the store never deletes; kept for safety).
    while (a < na && before.userId[a]! < user) a++;
    let aEnd = a;
    while (aEnd < na && before.userId[aEnd] === user) aEnd++;
    let same = aEnd - a === bEnd - b;
    for (let k = 0; same && k < bEnd - b; k++) {
      same = before.movieId[a + k] === now.movieId[b + k] && before.rating[a + k] === now.rating[b + k];
    }
    if (!same) {
      out.push({
        userId: user,
        movieIds: now.movieId.slice(b, bEnd),
        ratings: now.rating.slice(b, bEnd),
      });
    }
    a = aEnd;
    b = bEnd;
  }
  return out;
}

/**
 * One rating's checksum term, the same in SQL (both stores) and here: the movie id hashed into [0, 2³¹ − 1) times
 * (the rating in hundredths + 1), reduced again. Every term and every user's sum of them (≤ 2³¹ per rating) stays an
 * exact integer in float64 and in BIGINT. A change of one rating always changes the sum (2³¹ − 1 is prime and the
 * factors are below it); adding or removing one changes the count.
 */
export const RATING_CHECKSUM_SQL =
  '(((movie_id::BIGINT * 1000003) % 2147483647) * (CAST(round(CAST(rating AS DOUBLE PRECISION) * 100) AS BIGINT) + 1)) % 2147483647';

export function ratingChecksum(movieId: number, rating: number): number {
  return (((movieId * 1000003) % 2147483647) * (Math.round(rating * 100) + 1)) % 2147483647;
}

/** The per-user sums of ratings ordered by user (as a snapshot's are). */
export function userRatingSums(r: RatingColumns): UserRatingSums {
  const n = r.userId.length;
  let users = 0;
  for (let k = 0; k < n; k++) if (k === 0 || r.userId[k] !== r.userId[k - 1]) users++;
  const out: UserRatingSums = {
    userId: new Int32Array(users),
    count: new Int32Array(users),
    checksum: new Float64Array(users),
  };
  let u = -1;
  let sum = 0;
  for (let k = 0; k < n; k++) {
    if (k === 0 || r.userId[k] !== r.userId[k - 1]) {
      if (u >= 0) out.checksum[u] = sum;
      sum = 0;
      out.userId[++u] = r.userId[k]!;
    }
    out.count[u]!++;
    sum += ratingChecksum(r.movieId[k]!, r.rating[k]!);
  }
  if (u >= 0) out.checksum[u] = sum;
  return out;
}

/** Users whose count or checksum differs between the two (or who are only in `now`), ascending. */
export function usersWithOtherSums(before: UserRatingSums, now: UserRatingSums): Int32Array {
  const out: number[] = [];
  let a = 0;
  for (let b = 0; b < now.userId.length; b++) {
    const user = now.userId[b]!;
    while (a < before.userId.length && before.userId[a]! < user) a++;
    const same =
      a < before.userId.length &&
      before.userId[a] === user &&
      before.count[a] === now.count[b] &&
      before.checksum[a] === now.checksum[b];
    if (!same) out.push(user);
  }
  return Int32Array.from(out);
}
