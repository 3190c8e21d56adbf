import type { Interactions } from '../data/interactions.ts';
import type { History, TrainingData, ViewerContext } from './strategy.ts';

const EMPTY: History = { items: new Int32Array(0), ratings: new Float32Array(0) };

/** Training rows as histories, made once per user (views of the interactions, never copies). */
const rows = new WeakMap<Interactions, (History | undefined)[]>();

/** The training row of dense user u as a History, the same object on every call. */
export function trainedHistory(x: Interactions, u: number): History {
  let byUser = rows.get(x);
  if (!byUser) {
    byUser = new Array<History | undefined>(x.nUsers);
    rows.set(x, byUser);
  }
  let h = byUser[u];
  if (!h) {
    h = { items: x.rowItems(u), ratings: x.rowRatings(u) };
    byUser[u] = h;
  }
  return h;
}

/** Whether the context is a stored user's history alone (no anonymous ratings or watched movies on top). */
export function isStoredUser(ctx: ViewerContext): ctx is ViewerContext & { userId: number } {
  return ctx.userId !== undefined && !ctx.ratings?.length && !ctx.watched?.length;
}

/**
 * Resolves a context to catalogue indices. Later entries win on duplicates (an anonymous rating
 * overrides the stored one); unknown movie ids are dropped here, the service reports them.
 */
export function historyOf(ctx: ViewerContext, data: TrainingData): History {
  const live = ctx.userId === undefined ? undefined : data.live?.get(ctx.userId);
  const u = ctx.userId === undefined || live ? -1 : data.interactions.userOf(ctx.userId);
  const stored: History | null = live ?? (u >= 0 ? trainedHistory(data.interactions, u) : null);
  const extra = (ctx.ratings?.length ?? 0) + (ctx.watched?.length ?? 0);
  if (extra === 0) return stored ?? EMPTY;
  const merged = new Map<number, number>();
  if (stored) {
    for (let k = 0; k < stored.items.length; k++) merged.set(stored.items[k]!, stored.ratings[k]!);
  }
  for (const id of ctx.watched ?? []) {
    const i = data.catalogue.indexOf(id);
    if (i >= 0 && !merged.has(i)) merged.set(i, Number.NaN);
  }
  for (const r of ctx.ratings ?? []) {
    const i = data.catalogue.indexOf(r.movieId);
    if (i >= 0) merged.set(i, r.rating);
  }
  const items = Int32Array.from([...merged.keys()].sort((a, b) => a - b));
  const ratings = Float32Array.from(items, (i) => merged.get(i)!);
  return { items, ratings };
}
