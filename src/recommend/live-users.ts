/**
 * The viewer's history as catalogue indices, resolved once per request from the context: the
 * known user's training row, plus anonymous ratings, plus watched movies (rating NaN).
 */
export interface History {
  items: Int32Array;
  ratings: Float32Array;
}

/** State derived from users' histories that LiveUsers keeps current on writes (see UserStates). */
export interface LiveUserWatcher {
  /** The user's history was just set: recompute what is derived from it. */
  changed(userId: number, history: History): void;
  /** Recompute what went stale for this user since it was derived (e.g. a model it reads changed). */
  refresh(userId: number, history: History): void;
}

/**
 * Histories of users created or changed while serving, as catalogue indices with ratings. They
 * override the training interactions until the next training includes them. Each set() gives the
 * user a new version and tells the watchers, so that per-user state derived from a history (a
 * folded-in factor, an encoded code, a placed segment) is recomputed on the write, not on the next read.
 */
export class LiveUsers {
  private readonly rows = new Map<number, History>();
  private readonly versions = new Map<number, number>();
  private clock = 0;
  private readonly watchers = new Set<LiveUserWatcher>();

  get(userId: number): History | undefined {
    return this.rows.get(userId);
  }

  has(userId: number): boolean {
    return this.rows.has(userId);
  }

  set(userId: number, history: History): void {
    this.rows.set(userId, history);
    this.versions.set(userId, ++this.clock);
    for (const w of this.watchers) w.changed(userId, history);
  }

  /** Recomputes the derived state of a user that went stale since their last write (call after a write's model updates). */
  refresh(userId: number): void {
    const history = this.rows.get(userId);
    if (history) for (const w of this.watchers) w.refresh(userId, history);
  }

  /** Changes with every set() of this user; 0 for a user who is not live (their history is the training row). */
  version(userId: number): number {
    return this.versions.get(userId) ?? 0;
  }

  ids(): number[] {
    return [...this.rows.keys()];
  }

  /** Registers state to keep current on writes (for as long as these live users are served). */
  watch(watcher: LiveUserWatcher): void {
    this.watchers.add(watcher);
  }
}

interface UserState<T> {
  version: number;
  stamp: number;
  value: T;
}

/**
 * Per-user state derived from a user's stored history (training row or live overlay), e.g. a folded-in factor:
 * computed once and reused until the user's history changes. A live user's state is recomputed on the write
 * (LiveUsers.set), so a request reads it like a trained user's; `stamp` names what else the state reads (e.g. a
 * model revision that changes when an item factor is refolded): a state whose stamp moved is recomputed, so a
 * cached state always equals a fresh computation. Queries with anonymous extras are not users' histories: callers
 * compute those per request.
 */
export class UserStates<T> implements LiveUserWatcher {
  private readonly states = new Map<number, UserState<T>>();

  constructor(
    private readonly live: LiveUsers | undefined,
    private readonly compute: (history: History, userId: number) => T,
    private readonly stamp: () => number = () => 0,
    /** Also cache users who are not live (their training rows); false: live users only. */
    private readonly trained = false,
  ) {
    live?.watch(this);
  }

  /** The state of `userId`, whose stored history is `history` (as historyOf resolves it). */
  get(userId: number, history: History): T {
    const version = this.live?.version(userId) ?? 0;
    const stamp = this.stamp();
    const s = this.states.get(userId);
    if (s && s.version === version && s.stamp === stamp) return s.value;
    const value = this.compute(history, userId);
    if (version > 0 || this.trained) this.states.set(userId, { version, stamp, value });
    return value;
  }

  /** Whether a current state is held for the user (for tests). */
  holds(userId: number): boolean {
    const s = this.states.get(userId);
    return !!s && s.version === (this.live?.version(userId) ?? 0) && s.stamp === this.stamp();
  }

  changed(userId: number, history: History): void {
    this.states.delete(userId);
    this.warm(userId, history);
  }

  refresh(userId: number, history: History): void {
    if (!this.holds(userId)) this.warm(userId, history);
  }

  /** Computes a live user's state now; a failure is left for the request to meet (and report) instead of the write. */
  private warm(userId: number, history: History): void {
    try {
      this.get(userId, history);
    } catch {
      this.states.delete(userId);
    }
  }
}
