import type { History } from './strategy.ts';

/**
 * Histories of users created or changed while serving, as catalogue indices with ratings. They
 * override the training interactions until the next training includes them.
 */
export class LiveUsers {
  private readonly rows = new Map<number, History>();
  /** Bumped on every change, so caches keyed on a user can tell they are stale. */
  private version = 0;

  get(userId: number): History | undefined {
    return this.rows.get(userId);
  }

  has(userId: number): boolean {
    return this.rows.has(userId);
  }

  set(userId: number, history: History): void {
    this.rows.set(userId, history);
    this.version++;
  }

  get changes(): number {
    return this.version;
  }

  ids(): number[] {
    return [...this.rows.keys()];
  }
}
