import type { RatingColumns } from './records.ts';

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
