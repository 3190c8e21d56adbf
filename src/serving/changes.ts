import type { Movie, Rule } from '../store/types.ts';
import { Mutex } from '../util/mutex.ts';

/**
 * A write, as every serving process applies it. The process that takes a write validates it, stores it, applies it
 * to its own state and publishes it; every other process serving the same store applies it before the write is
 * acknowledged, so a write is visible everywhere as soon as its response is sent.
 */
export type Change =
  /** A user's whole history after the write (a new user, or new or changed ratings). */
  | { kind: 'ratings'; userId: number; movieIds: number[]; ratings: number[] }
  /** A movie added to the catalogue, with what places it in the content model. */
  | { kind: 'movie'; movie: Movie; tags: string[]; genome: { tagId: number; relevance: number }[] }
  /** The rules after a change. */
  | { kind: 'rules'; rules: Rule[] };

/** Where a process publishes the writes it took. */
export interface ChangeSink {
  publish(change: Change): Promise<void>;
}

/** One process alone: nothing else to tell. */
export const localChanges: ChangeSink = { publish: async () => {} };

/**
 * Serialises writes: validation, the store write and the in-memory update of one write happen before the next
 * write starts, across every process that serves the store.
 */
export interface WriteLock {
  run<T>(fn: () => Promise<T>): Promise<T>;
}

export function localLock(): WriteLock {
  return new Mutex();
}
