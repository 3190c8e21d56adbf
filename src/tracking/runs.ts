import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { NotFoundError, ValidationError } from '../util/errors.ts';
import { createFileExclusive, isProcessAlive, readJsonOrNull, SELF, writeJsonAtomic } from '../util/fsutil.ts';
import type { ArtifactInfo, CurvePoint, RunRecord, RunStatus, RunSummary } from './types.ts';

/**
 * Run tracking over plain files: one `<root>/runs/<id>.json` per run, rewritten atomically (tmp + fsync + rename)
 * on every change, so a server process can read runs while a training process writes them (DuckDB's single-process
 * lock rules it out here).
 *
 * Ids are UTC time + a sequence number ("20250314T101502123-000"): they sort by start time as plain strings, and
 * are created exclusively so two processes never take the same one.
 *
 * A run records the pid and start time of its process; `recoverInterrupted()` marks failed every run still
 * "running" whose process has ended, so a crash never leaves a run running forever.
 */

export type RunParams = RunRecord['params'];

export interface RunStart {
  /** e.g. 'train', 'stage:als', 'tune:als', 'retrain'. */
  kind: string;
  parentId?: string | null;
  params?: RunParams;
  codeVersion?: string;
  dataFingerprint?: string | null;
  cacheKey?: string | null;
  note?: string | null;
}

/** What a finish, a failure or an update may set. Curves named here replace the run's curves of that name. */
export interface RunEnd {
  metrics?: Record<string, number>;
  curves?: Record<string, CurvePoint[]>;
  artifacts?: ArtifactInfo[];
  peakRssBytes?: number | null;
  note?: string | null;
}

/** Observers of run starts and ends (the MLflow exporter). Called synchronously; must not throw. */
export interface RunSink {
  started?(run: RunRecord): void;
  ended?(run: RunRecord): void;
}

export interface RunFilter {
  kind?: string | string[];
  status?: RunStatus | RunStatus[];
  /** Only the runs of this parent; null for top-level runs. */
  parentId?: string | null;
  /** At most this many, newest first. */
  limit?: number;
}

export interface RunComparison {
  a: RunSummary;
  b: RunSummary;
  /** Parameters whose values differ (a parameter missing on one side is null there). */
  params: { name: string; a: RunParams[string]; b: RunParams[string] }[];
  /** Every metric of either run; delta = b − a when both have it. */
  metrics: { name: string; a: number | null; b: number | null; delta: number | null }[];
}

export interface RunTrackerOptions {
  /** Clock for timestamps and durations (tests). */
  now?: () => Date;
  /** Curve points are written at most this often (ms); finish/fail always write. Default 1000. */
  flushMs?: number;
  sinks?: RunSink[];
}

const ID_RE = /^\d{8}T\d{9}-\d{3,}$/;

function pad(n: number, w: number): string {
  return String(n).padStart(w, '0');
}

function stamp(d: Date): string {
  return (
    `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCDate(), 2)}T` +
    `${pad(d.getUTCHours(), 2)}${pad(d.getUTCMinutes(), 2)}${pad(d.getUTCSeconds(), 2)}${pad(d.getUTCMilliseconds(), 3)}`
  );
}

export function summarize(r: RunRecord): RunSummary {
  return {
    id: r.id,
    kind: r.kind,
    parentId: r.parentId,
    status: r.status,
    startedAt: r.startedAt,
    durationMs: r.durationMs,
    metrics: r.metrics,
  };
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

function matches<T>(want: T | T[] | undefined, v: T): boolean {
  if (want === undefined) return true;
  return Array.isArray(want) ? want.includes(v) : want === v;
}

export class RunTracker {
  readonly dir: string;
  private readonly now: () => Date;
  private readonly flushMs: number;
  private readonly sinks: RunSink[];
  /** Runs this tracker started and still owns, with the time of their last write. */
  private readonly owned = new Map<string, { run: RunRecord; flushedAt: number; dirty: boolean }>();
  private lastStamp = '';
  private seq = 0;

  constructor(root: string, opts: RunTrackerOptions = {}) {
    this.dir = join(root, 'runs');
    this.now = opts.now ?? (() => new Date());
    this.flushMs = opts.flushMs ?? 1000;
    this.sinks = opts.sinks ?? [];
    mkdirSync(this.dir, { recursive: true });
  }

  private path(id: string): string {
    return join(this.dir, `${id}.json`);
  }

  /** Creates the run file under a fresh id, exclusively. */
  private create(run: Omit<RunRecord, 'id'>): RunRecord {
    const s = stamp(new Date(run.startedAt));
    if (s !== this.lastStamp) {
      this.lastStamp = s;
      this.seq = 0;
    }
    for (;;) {
      const id = `${s}-${pad(this.seq++, 3)}`;
      const rec: RunRecord = { id, ...run };
      if (createFileExclusive(this.path(id), `${JSON.stringify(rec, null, 1)}\n`)) return rec;
    }
  }

  private notify(kind: 'started' | 'ended', run: RunRecord): void {
    for (const s of this.sinks) {
      try {
        s[kind]?.(structuredClone(run));
      } catch {
        // A sink is an optional export; it never breaks tracking.
      }
    }
  }

  /** Starts a run owned by this process; returns its record (with the id). */
  start(s: RunStart): RunRecord {
    if (!s.kind) throw new ValidationError('run kind is empty', 'kind');
    const run = this.create({
      kind: s.kind,
      parentId: s.parentId ?? null,
      status: 'running',
      startedAt: this.now().toISOString(),
      finishedAt: null,
      durationMs: null,
      pid: SELF.pid,
      pidStart: SELF.start,
      params: s.params ?? {},
      metrics: {},
      curves: {},
      artifacts: [],
      peakRssBytes: null,
      codeVersion: s.codeVersion ?? '',
      dataFingerprint: s.dataFingerprint ?? null,
      cacheKey: s.cacheKey ?? null,
      error: null,
      note: s.note ?? null,
    });
    this.owned.set(run.id, { run, flushedAt: performance.now(), dirty: false });
    this.notify('started', run);
    return structuredClone(run);
  }

  /** Records a run that is complete at once, e.g. a stage skipped because its output was cached. */
  record(s: RunStart & RunEnd & { status: Exclude<RunStatus, 'running'>; durationMs?: number; error?: string | null }) {
    const at = this.now().toISOString();
    const run = this.create({
      kind: s.kind,
      parentId: s.parentId ?? null,
      status: s.status,
      startedAt: at,
      finishedAt: at,
      durationMs: s.durationMs ?? 0,
      pid: SELF.pid,
      pidStart: SELF.start,
      params: s.params ?? {},
      metrics: s.metrics ?? {},
      curves: s.curves ?? {},
      artifacts: s.artifacts ?? [],
      peakRssBytes: s.peakRssBytes ?? null,
      codeVersion: s.codeVersion ?? '',
      dataFingerprint: s.dataFingerprint ?? null,
      cacheKey: s.cacheKey ?? null,
      error: s.error ?? null,
      note: s.note ?? null,
    });
    if (s.status !== 'skipped') this.notify('ended', run);
    return run;
  }

  private ownedRun(id: string): { run: RunRecord; flushedAt: number; dirty: boolean } {
    const o = this.owned.get(id);
    if (o) return o;
    const r = this.find(id);
    if (!r) throw new NotFoundError(`run ${id} not found`, 'id');
    throw new ValidationError(`run ${id} is not running in this process (status ${r.status})`, 'id');
  }

  private flush(o: { run: RunRecord; flushedAt: number; dirty: boolean }): void {
    writeJsonAtomic(this.path(o.run.id), o.run);
    o.flushedAt = performance.now();
    o.dirty = false;
  }

  private apply(run: RunRecord, p: RunEnd & { params?: RunParams }): void {
    if (p.params) Object.assign(run.params, p.params);
    if (p.metrics) Object.assign(run.metrics, p.metrics);
    if (p.curves) Object.assign(run.curves, structuredClone(p.curves));
    if (p.artifacts) run.artifacts = p.artifacts.map((a) => ({ ...a }));
    if (p.peakRssBytes !== undefined) run.peakRssBytes = p.peakRssBytes;
    if (p.note !== undefined) run.note = p.note;
  }

  /** Merges parameters/metrics, replaces named curves or artifacts of a running run; written at once. */
  update(id: string, patch: RunEnd & { params?: RunParams }): void {
    const o = this.ownedRun(id);
    this.apply(o.run, patch);
    this.flush(o);
  }

  /**
   * Appends points to curves (one per named value, all at this step). Whole curves are kept, every epoch; the file
   * is rewritten at most every flushMs so per-iteration reporting stays cheap, and always at the end.
   */
  appendCurve(id: string, step: number, values: Record<string, number>): void {
    const o = this.ownedRun(id);
    for (const [name, value] of Object.entries(values)) {
      if (!Number.isFinite(value)) continue;
      let c = o.run.curves[name];
      if (!c) {
        c = [];
        o.run.curves[name] = c;
      }
      c.push({ step, value });
    }
    o.dirty = true;
    if (performance.now() - o.flushedAt >= this.flushMs) this.flush(o);
  }

  /** Writes curve points still held back by the flush interval (called periodically while a stage runs). */
  flushDirty(): void {
    const t = performance.now();
    for (const o of this.owned.values()) if (o.dirty && t - o.flushedAt >= this.flushMs) this.flush(o);
  }

  private end(id: string, status: 'finished' | 'failed', end: RunEnd, error: string | null): RunRecord {
    const o = this.ownedRun(id);
    this.apply(o.run, end);
    const t = this.now();
    o.run.status = status;
    o.run.error = error;
    o.run.finishedAt = t.toISOString();
    o.run.durationMs = Math.max(0, t.getTime() - Date.parse(o.run.startedAt));
    this.flush(o);
    this.owned.delete(id);
    this.notify('ended', o.run);
    return structuredClone(o.run);
  }

  finish(id: string, end: RunEnd = {}): RunRecord {
    return this.end(id, 'finished', end, null);
  }

  fail(id: string, error: unknown, end: RunEnd = {}): RunRecord {
    return this.end(id, 'failed', end, errorText(error));
  }

  /** The run, or null when there is none with that id (or the id is malformed). */
  find(id: string): RunRecord | null {
    if (!ID_RE.test(id)) return null;
    const o = this.owned.get(id);
    if (o) return structuredClone(o.run);
    return readJsonOrNull<RunRecord>(this.path(id));
  }

  get(id: string): RunRecord {
    if (!ID_RE.test(id)) throw new ValidationError(`"${id}" is not a run id (e.g. 20250314T101502123-000)`, 'id');
    const r = this.find(id);
    if (!r) throw new NotFoundError(`run ${id} not found`, 'id');
    return r;
  }

  private ids(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.json') && ID_RE.test(f.slice(0, -5)))
      .map((f) => f.slice(0, -5))
      .sort()
      .reverse();
  }

  /** Full records, newest first, filtered; reads only as many files as the limit needs. */
  records(filter: RunFilter = {}): RunRecord[] {
    const limit = filter.limit ?? Number.POSITIVE_INFINITY;
    const out: RunRecord[] = [];
    for (const id of this.ids()) {
      if (out.length >= limit) break;
      const r = this.find(id);
      if (!r) continue;
      if (!matches(filter.kind, r.kind) || !matches(filter.status, r.status)) continue;
      if (filter.parentId !== undefined && r.parentId !== filter.parentId) continue;
      out.push(r);
    }
    return out;
  }

  list(filter: RunFilter = {}): RunSummary[] {
    return this.records(filter).map(summarize);
  }

  compare(aId: string, bId: string): RunComparison {
    const a = this.get(aId);
    const b = this.get(bId);
    const params: RunComparison['params'] = [];
    for (const name of [...new Set([...Object.keys(a.params), ...Object.keys(b.params)])].sort()) {
      const va = name in a.params ? a.params[name] : null;
      const vb = name in b.params ? b.params[name] : null;
      if (va !== vb) params.push({ name, a: va, b: vb });
    }
    const metrics: RunComparison['metrics'] = [];
    for (const name of [...new Set([...Object.keys(a.metrics), ...Object.keys(b.metrics)])].sort()) {
      const va = a.metrics[name] ?? null;
      const vb = b.metrics[name] ?? null;
      metrics.push({ name, a: va, b: vb, delta: va !== null && vb !== null ? vb - va : null });
    }
    return { a: summarize(a), b: summarize(b), params, metrics };
  }

  /**
   * Marks failed every run left "running" by a process that has ended (crash, kill -9, power loss), with the note
   * "interrupted (process <pid> ended)". Its finish time is the file's last write, the last sign of life. Call at
   * every start (server and training); runs of live processes are left alone.
   */
  recoverInterrupted(): RunRecord[] {
    const out: RunRecord[] = [];
    for (const id of this.ids()) {
      if (this.owned.has(id)) continue;
      const path = this.path(id);
      const r = readJsonOrNull<RunRecord>(path);
      if (r?.status !== 'running') continue;
      if (isProcessAlive(r.pid, r.pidStart)) continue;
      const lastWrite = statSync(path).mtime;
      const why = `interrupted (process ${r.pid} ended)`;
      r.status = 'failed';
      r.error = why;
      r.note = r.note ? `${r.note}; ${why}` : why;
      r.finishedAt = lastWrite.toISOString();
      r.durationMs = Math.max(0, lastWrite.getTime() - Date.parse(r.startedAt));
      writeJsonAtomic(path, r);
      out.push(r);
    }
    return out;
  }
}
