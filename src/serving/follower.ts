import type { LoggedChange, SharedStore } from '../store/types.ts';
import { Mutex } from '../util/mutex.ts';
import type { Change, ChangeSink, WriteLock } from './changes.ts';
import type { Served } from './served.ts';

/**
 * A replica's view of the writes other replicas take (PostgreSQL). Every write appends a row to the store's change
 * log and notifies; the follower reads the rows after the last one it applied and applies each to the served
 * state, reading what changed from the store. Applying is idempotent (a user's whole history, a movie once, the
 * whole rule set), so reading a row twice (after a reconnect, or across a version swap) is harmless.
 */
export class ChangeFollower {
  private readonly mutex = new Mutex();
  private listening: { close(): Promise<void> } | null = null;
  /** Applied changes (the follower's counter in /metrics and tests). */
  applied = 0;

  constructor(
    private readonly store: SharedStore,
    /** The state to apply to: the one served now (it changes when a version is swapped in). */
    private readonly target: () => Served | null,
    /** The newest change the loaded state already holds. */
    private seen: number,
    private readonly log: (line: string) => void,
  ) {}

  /** Reads the change log's position before the state is loaded, so nothing written meanwhile is missed. */
  static async before(
    store: SharedStore,
    target: () => Served | null,
    log: (line: string) => void,
  ): Promise<ChangeFollower> {
    return new ChangeFollower(store, target, await store.lastChange(), log);
  }

  /** Applies every change after the last one applied; one catch-up at a time. */
  catchUp(): Promise<void> {
    return this.mutex.run(async () => {
      const served = this.target();
      if (!served) return;
      const rows = await this.store.changesSince(this.seen);
      for (const row of collapse(rows)) {
        const change = await this.read(row);
        if (change) await served.apply(change);
        this.applied++;
      }
      if (rows.length > 0) this.seen = rows.at(-1)!.id;
    });
  }

  /** Follows notifications until close(); a failed catch-up is logged and retried on the next one. */
  async start(): Promise<void> {
    this.listening = await this.store.listenForChanges(() => {
      this.catchUp().catch((err: unknown) =>
        this.log(`could not apply the store's changes: ${(err as Error).message}; retrying on the next change`),
      );
    });
    await this.catchUp();
  }

  async close(): Promise<void> {
    await this.listening?.close();
    this.listening = null;
  }

  /**
   * The replica's write lock: the deployment-wide lock, and the changes before it applied first, so that a write's
   * checks (the next movie id, a user's history) see every earlier write.
   */
  writeLock(): WriteLock {
    return {
      run: (fn) =>
        this.store.withWriteLock(async () => {
          await this.catchUp();
          return fn();
        }),
    };
  }

  /** The change log already carries every write to the other replicas: nothing to publish. */
  readonly changes: ChangeSink = { publish: async () => {} };

  private async read(row: LoggedChange): Promise<Change | null> {
    switch (row.kind) {
      case 'ratings': {
        const ratings = await this.store.userRatings(row.key);
        return {
          kind: 'ratings',
          userId: row.key,
          movieIds: ratings.map((r) => r.movieId),
          ratings: ratings.map((r) => r.rating),
        };
      }
      case 'movie': {
        const movie = await this.store.getMovie(row.key);
        if (!movie) return null;
        return { kind: 'movie', movie, ...(await this.store.movieContent(row.key)) };
      }
      case 'rules':
        return { kind: 'rules', rules: await this.store.listRules() };
    }
  }
}

/** Keeps one row per user and one for the rules (the last: each is read whole); movies all, in order. */
function collapse(rows: readonly LoggedChange[]): LoggedChange[] {
  const last = new Map<string, number>();
  rows.forEach((r, i) => {
    if (r.kind !== 'movie') last.set(`${r.kind}:${r.key}`, i);
  });
  return rows.filter((r, i) => r.kind === 'movie' || last.get(`${r.kind}:${r.key}`) === i);
}
