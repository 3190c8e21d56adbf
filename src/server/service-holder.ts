import type { Cinerec } from '../recommend/service.ts';

/**
 * The served Cinerec behind one reference that a new model version replaces atomically.
 * Routes hold the proxy from `view()`: each call binds to the instance current when the call starts,
 * so a request in flight finishes wholly on the version it started on, and the next call sees the new one.
 */
export class ServiceHolder {
  private instance: Cinerec;
  private readonly listeners: ((next: Cinerec, previous: Cinerec) => void)[] = [];

  constructor(initial: Cinerec) {
    this.instance = initial;
  }

  get current(): Cinerec {
    return this.instance;
  }

  /** Replaces the served instance (one assignment: nothing observes a half-swapped state). */
  swap(next: Cinerec): Cinerec {
    const previous = this.instance;
    this.instance = next;
    for (const l of this.listeners) l(next, previous);
    return previous;
  }

  onSwap(listener: (next: Cinerec, previous: Cinerec) => void): void {
    this.listeners.push(listener);
  }

  /** A Cinerec-typed view whose every property read goes to the current instance. */
  view(): Cinerec {
    const holder = this;
    return new Proxy({} as Cinerec, {
      get(_target, key) {
        const target = holder.instance;
        const value: unknown = Reflect.get(target, key, target);
        // Methods run with `this` = the instance of the moment, not the proxy: a method that awaits
        // keeps using one version throughout.
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
      set(_target, key, value) {
        return Reflect.set(holder.instance, key, value, holder.instance);
      },
    });
  }
}
