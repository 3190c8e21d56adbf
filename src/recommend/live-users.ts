/**
 * The viewer's history as catalogue indices, resolved once per request from the context: the
 * known user's training row, plus anonymous ratings, plus watched movies (rating NaN).
 */
export interface History {
  items: Int32Array;
  ratings: Float32Array;
}

/**
 * Histories of users created or changed while serving, as catalogue indices with ratings. They
 * override the training interactions until the next training includes them.
 */
export class LiveUsers {
  private readonly rows = new Map<number, History>();

  get(userId: number): History | undefined {
    return this.rows.get(userId);
  }

  has(userId: number): boolean {
    return this.rows.has(userId);
  }

  set(userId: number, history: History): void {
    this.rows.set(userId, history);
  }

  ids(): number[] {
    return [...this.rows.keys()];
  }
}
