import type { Services } from '../serving/services.ts';

/**
 * The served services behind one reference that a new model version replaces atomically.
 * Routes hold the proxy from `view()`: each call binds to the instance current when the call starts,
 * so a request in flight finishes wholly on the version it started on, and the next call sees the new one.
 */
export class ServiceHolder {
  private instance: Services;
  private readonly listeners: ((next: Services, previous: Services) => void)[] = [];

  constructor(initial: Services) {
    this.instance = initial;
  }

  get current(): Services {
    return this.instance;
  }

  /** Replaces the served instance (one assignment: nothing observes a half-swapped state). */
  swap(next: Services): Services {
    const previous = this.instance;
    this.instance = next;
    for (const l of this.listeners) l(next, previous);
    return previous;
  }

  onSwap(listener: (next: Services, previous: Services) => void): void {
    this.listeners.push(listener);
  }

  /**
   * A Services-typed view whose every property read goes to the current bundle: `view.catalogue.movie(1)` reads
   * `catalogue` from the bundle of the moment, so a request that awaits keeps using one version throughout.
   */
  view(): Services {
    const holder = this;
    return new Proxy({} as Services, {
      get(_target, key) {
        return Reflect.get(holder.instance, key, holder.instance);
      },
    });
  }
}
