/**
 * Finished answers of list requests, by a key made of everything that determines the answer: the served version
 * (one cache per served state), the viewer's state (a live user's history version), the rules in force, the
 * catalogue's size and the request itself. A write changes the key, so a stale answer is never served; old
 * entries age out (least recently used first).
 */
export class ResultCache {
  private readonly entries = new Map<string, unknown>();

  constructor(
    private readonly capacity = 10_000,
    /** Told of every lookup (the server counts hits and misses for /metrics). */
    private readonly onLookup: (hit: boolean) => void = () => {},
  ) {}

  /** The cached answer for `key`, or the one `make` computes (then cached). */
  async get<T>(key: string, make: () => Promise<T>): Promise<T> {
    if (this.capacity === 0) return make();
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      // Most recently used last: Map keeps insertion order.
      this.entries.delete(key);
      this.entries.set(key, hit);
      this.onLookup(true);
      return hit as T;
    }
    this.onLookup(false);
    const value = await make();
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return value;
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
