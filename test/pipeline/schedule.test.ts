import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ValidationError } from '../../src/util/errors.ts';
import { type Clock, parseInterval, parseSchedule, Scheduler } from '../../src/util/schedule.ts';

/** Time that moves only when the test says; due timers fire in time order. */
class FakeClock implements Clock {
  private t: number;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 1;

  constructor(start: Date) {
    this.t = start.getTime();
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  }

  clearTimeout(h: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== h);
  }

  get pending(): number {
    return this.timers.length;
  }

  /** Moves time forward, firing due timers; lets promise callbacks run after each. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = next.at;
      next.fn();
      await new Promise((r) => setImmediate(r));
    }
    this.t = end;
    await new Promise((r) => setImmediate(r));
  }
}

const MIN = 60_000;

test('intervals: units, combinations, next time', () => {
  assert.equal(parseInterval('30m'), 30 * MIN);
  assert.equal(parseInterval('6h'), 360 * MIN);
  assert.equal(parseInterval('1d'), 1440 * MIN);
  assert.equal(parseInterval('1h30m'), 90 * MIN);
  assert.equal(parseInterval('1.5h'), 90 * MIN);
  assert.equal(parseInterval('45s'), 45_000);
  assert.equal(parseInterval('0 3 * * *'), null);
  assert.equal(parseInterval('30x'), null);
  const s = parseSchedule('6h');
  assert.equal(s.kind, 'interval');
  assert.equal(s.intervalMs, 360 * MIN);
  assert.equal(s.describe(), 'every 6h');
  const from = new Date('2025-03-14T10:00:00Z');
  assert.equal(s.next(from)!.toISOString(), '2025-03-14T16:00:00.000Z');
});

test('cron expressions: next time in the given zone', () => {
  const daily = parseSchedule('0 3 * * *', { timezone: 'UTC' });
  assert.equal(daily.kind, 'cron');
  assert.equal(daily.next(new Date('2025-03-14T05:00:00Z'))!.toISOString(), '2025-03-15T03:00:00.000Z');
  assert.equal(daily.next(new Date('2025-03-14T02:59:00Z'))!.toISOString(), '2025-03-14T03:00:00.000Z');
  // Strictly after: at 03:00 exactly, the next is tomorrow.
  assert.equal(daily.next(new Date('2025-03-14T03:00:00Z'))!.toISOString(), '2025-03-15T03:00:00.000Z');
  const paris = parseSchedule('0 3 * * *', { timezone: 'Europe/Paris' });
  assert.equal(paris.next(new Date('2025-01-14T05:00:00Z'))!.toISOString(), '2025-01-15T02:00:00.000Z');
  const mondays = parseSchedule('30 4 * * 1', { timezone: 'UTC' });
  assert.equal(mondays.next(new Date('2025-03-14T00:00:00Z'))!.toISOString(), '2025-03-17T04:30:00.000Z');
  assert.equal(parseSchedule('@daily', { timezone: 'UTC' }).next(new Date('2025-03-14T05:00:00Z'))!.getUTCHours(), 0);
});

test('a bad spec is a ValidationError naming it and the setting', () => {
  for (const [spec, why] of [
    ['every tuesday', /exactly five, six, or seven/],
    ['61 * * * *', /minute/],
    ['0 0 30 2 *', /never fires/],
    ['0s', /at least 1s/],
    ['', /is empty/],
  ] as const) {
    assert.throws(
      () => parseSchedule(spec, { field: 'training.schedule' }),
      (err: unknown) =>
        err instanceof ValidationError &&
        err.field === 'training.schedule' &&
        err.message.includes(`training.schedule`) &&
        err.message.includes(spec) &&
        why.test(err.message),
      spec,
    );
  }
  assert.throws(() => parseSchedule('0 3 * * *', { timezone: 'Nowhere/Bad' }), /Nowhere\/Bad/);
});

test('the scheduler never overlaps runs: a time that comes during a run is skipped', async () => {
  const clock = new FakeClock(new Date('2025-03-14T10:00:00Z'));
  const started: string[] = [];
  const finish: (() => void)[] = [];
  const skipped: string[] = [];
  const logs: string[] = [];
  const sched = new Scheduler(
    parseSchedule('10m'),
    (at) => {
      started.push(at.toISOString());
      return new Promise<void>((r) => finish.push(r));
    },
    {
      clock,
      onSkip: (at) => skipped.push(at.toISOString()),
      logger: { info: () => {}, warn: (m) => logs.push(m), error: (m) => logs.push(m) },
    },
  );
  sched.start();
  assert.equal(sched.nextAt()!.toISOString(), '2025-03-14T10:10:00.000Z');
  await clock.advance(10 * MIN);
  assert.deepEqual(started, ['2025-03-14T10:10:00.000Z']);
  assert.equal(sched.running, true);
  // The first run takes 25 minutes: 10:20 and 10:30 are skipped.
  await clock.advance(20 * MIN);
  assert.deepEqual(skipped, ['2025-03-14T10:20:00.000Z', '2025-03-14T10:30:00.000Z']);
  assert.match(logs[0]!, /10:20:00.000Z skipped: the run started 2025-03-14T10:10:00.000Z is still going/);
  finish[0]!();
  await sched.idle();
  assert.equal(sched.running, false);
  await clock.advance(10 * MIN);
  assert.deepEqual(started, ['2025-03-14T10:10:00.000Z', '2025-03-14T10:40:00.000Z']);
  assert.deepEqual(sched.stats, { started: 2, skipped: 2, failed: 0 });
  finish[1]!();
  await sched.idle();

  sched.stop();
  assert.equal(clock.pending, 0);
  assert.equal(sched.nextAt(), null);
  await clock.advance(60 * MIN);
  assert.equal(started.length, 2);
});

test('a failing job is logged and the schedule goes on; a late wake-up runs once', async () => {
  const clock = new FakeClock(new Date('2025-03-14T02:00:00Z'));
  const started: string[] = [];
  const errors: string[] = [];
  const sched = new Scheduler(
    parseSchedule('0 3 * * *', { timezone: 'UTC' }),
    async (at) => {
      started.push(at.toISOString());
      throw new Error('store locked');
    },
    { clock, logger: { info: () => {}, warn: () => {}, error: (m) => errors.push(m) } },
  );
  sched.start();
  await clock.advance(61 * MIN);
  assert.deepEqual(started, ['2025-03-14T03:00:00.000Z']);
  assert.deepEqual(errors, ['scheduled run at 2025-03-14T03:00:00.000Z failed: store locked']);
  assert.equal(sched.nextAt()!.toISOString(), '2025-03-15T03:00:00.000Z');
  assert.equal(sched.stats.failed, 1);
  sched.stop();

  // Interval scheduler whose timer fires 3 h late (a sleeping machine): one run, then one interval from then.
  const late = new FakeClock(new Date('2025-03-14T00:00:00Z'));
  const runs: number[] = [];
  const s2 = new Scheduler(
    parseSchedule('1h'),
    async () => {
      runs.push(late.now());
    },
    {
      clock: {
        now: () => late.now(),
        setTimeout: (fn, ms) => late.setTimeout(fn, ms + 3 * 60 * MIN),
        clearTimeout: (h) => late.clearTimeout(h),
      },
    },
  );
  s2.start();
  await late.advance(4 * 60 * MIN);
  assert.equal(runs.length, 1);
  assert.equal(s2.nextAt()!.toISOString(), '2025-03-14T05:00:00.000Z');
  s2.stop();
});
