import { Cron } from 'croner';
import { ValidationError } from './errors.ts';
import type { Logger } from './shapes.ts';

export type { Logger };

/**
 * Retraining schedules: a cron expression (5 fields, or 6 with seconds, or a nickname such as "@daily"; parsed by
 * croner, day-of-month and day-of-week combined with OR as in Vixie cron) or an interval such as "30m", "6h",
 * "1d", "1h30m" (units ms, s, m, h, d, w).
 *
 * The Scheduler runs an async job at those times and never overlaps runs: a time that comes while the previous run
 * is still going is skipped (and logged), not queued. After a late wake-up (a sleeping laptop) it runs once and
 * schedules from now, rather than catching up on every missed time.
 */

export interface Schedule {
  readonly spec: string;
  readonly kind: 'cron' | 'interval';
  /** The interval in ms, for an interval schedule. */
  readonly intervalMs: number | null;
  /** The first run time strictly after `from`, or null when there is none. */
  next(from: Date): Date | null;
  describe(): string;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const INTERVAL_RE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+$/;
const PART_RE = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g;

/** Milliseconds of an interval such as "30m" or "1h30m"; null when the text is not an interval. */
export function parseInterval(text: string): number | null {
  const t = text.replace(/\s+/g, '').toLowerCase();
  if (!INTERVAL_RE.test(t)) return null;
  let ms = 0;
  for (const m of t.matchAll(PART_RE)) ms += Number(m[1]) * UNITS[m[2]]!;
  return ms;
}

function formatMs(ms: number): string {
  for (const [u, f] of [
    ['w', UNITS.w],
    ['d', UNITS.d],
    ['h', UNITS.h],
    ['m', UNITS.m],
    ['s', UNITS.s],
  ] as const) {
    if (ms % f === 0) return `${ms / f}${u}`;
  }
  return `${ms}ms`;
}

export interface ParseScheduleOptions {
  /** IANA time zone for cron expressions; default the process's local zone. */
  timezone?: string;
  /** The setting the spec came from, named in errors. Default 'schedule'. */
  field?: string;
}

export function parseSchedule(spec: string, opts: ParseScheduleOptions = {}): Schedule {
  const field = opts.field ?? 'schedule';
  const hint = 'use a cron expression such as "0 3 * * *" (03:00 every day) or an interval such as "30m", "6h", "1d"';
  const text = spec.trim();
  if (!text) throw new ValidationError(`${field} is empty: ${hint}`, field);
  const ms = parseInterval(text);
  if (ms !== null) {
    if (!(ms >= 1000)) throw new ValidationError(`${field} "${spec}": an interval must be at least 1s`, field);
    return {
      spec,
      kind: 'interval',
      intervalMs: ms,
      next: (from) => new Date(from.getTime() + ms),
      describe: () => `every ${formatMs(ms)}`,
    };
  }
  let cron: Cron;
  try {
    cron = new Cron(text, { paused: true, ...(opts.timezone ? { timezone: opts.timezone } : {}) });
    // Also surfaces a bad time zone, which croner reports only when computing a time.
    if (cron.nextRun(new Date()) === null) throw new Error('it never fires');
  } catch (err) {
    const why = err instanceof Error ? err.message.replace(/^CronPattern: /, '') : String(err);
    throw new ValidationError(
      `${field} "${spec}" is neither an interval nor a valid cron expression (${why}); ${hint}`,
      field,
    );
  }
  return {
    spec,
    kind: 'cron',
    intervalMs: null,
    next: (from) => cron.nextRun(from),
    describe: () => `cron "${text}"${opts.timezone ? ` (${opts.timezone})` : ''}`,
  };
}

/** Timers, injectable so tests drive time without waiting. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // A schedule alone does not keep a process alive (the server's listener does).
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** setTimeout's limit (about 24.8 days); longer waits are taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface SchedulerOptions {
  clock?: Clock;
  logger?: Logger;
  /** Called when a time is skipped because the previous run is still going. */
  onSkip?(at: Date): void;
}

export interface SchedulerStats {
  started: number;
  skipped: number;
  failed: number;
}

export class Scheduler {
  private readonly clock: Clock;
  private readonly logger: Logger | null;
  private timer: unknown = null;
  private nextTime: Date | null = null;
  private current: Promise<void> | null = null;
  private currentSince: Date | null = null;
  private stopped = false;
  readonly stats: SchedulerStats = { started: 0, skipped: 0, failed: 0 };

  constructor(
    readonly schedule: Schedule,
    private readonly job: (at: Date) => Promise<void>,
    private readonly opts: SchedulerOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.logger = opts.logger ?? null;
  }

  /** Arms the first time (the next one after now; an interval's first run is one interval from now). */
  start(): void {
    if (this.stopped || this.timer !== null || this.nextTime !== null) return;
    this.arm(new Date(this.clock.now()));
  }

  /** No further runs; a run in progress finishes (await idle()). */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.nextTime = null;
  }

  get running(): boolean {
    return this.current !== null;
  }

  /** When the next run is due, or null (stopped, or the schedule has no more times). */
  nextAt(): Date | null {
    return this.nextTime;
  }

  /** Resolves when no run is in progress. */
  async idle(): Promise<void> {
    while (this.current) await this.current;
  }

  private arm(from: Date): void {
    const at = this.schedule.next(from);
    this.nextTime = at;
    if (at === null) {
      this.logger?.warn(`schedule ${this.schedule.describe()} has no further run time`);
      return;
    }
    this.wait(at);
  }

  private wait(at: Date): void {
    const ms = Math.min(Math.max(0, at.getTime() - this.clock.now()), MAX_TIMER_MS);
    this.timer = this.clock.setTimeout(() => this.fire(at), ms);
  }

  private fire(at: Date): void {
    this.timer = null;
    if (this.stopped) return;
    const now = this.clock.now();
    if (now < at.getTime()) {
      this.wait(at); // a long wait taken in steps
      return;
    }
    if (this.current) {
      this.stats.skipped++;
      this.logger?.warn(
        `scheduled run at ${at.toISOString()} skipped: the run started ${this.currentSince?.toISOString()} is still going`,
      );
      this.opts.onSkip?.(at);
    } else {
      this.stats.started++;
      this.currentSince = new Date(now);
      this.current = this.runJob(at);
    }
    // The next time after this one; after a late wake-up, the next after now (no burst of missed runs).
    const next = this.schedule.next(at);
    this.arm(next !== null && next.getTime() > now ? at : new Date(now));
  }

  private async runJob(at: Date): Promise<void> {
    try {
      await this.job(at);
    } catch (err) {
      this.stats.failed++;
      this.logger?.error(
        `scheduled run at ${at.toISOString()} failed: ${err instanceof Error ? err.message : String(err)}`,
      );
    } finally {
      this.current = null;
      this.currentSince = null;
    }
  }
}
