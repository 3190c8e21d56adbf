import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { RunParams, RunTracker } from '../tracking/runs.ts';
import type { ArtifactInfo, CurvePoint, Logger } from '../tracking/types.ts';
import { ValidationError } from '../util/errors.ts';
import { FileLock, fsyncDir, fsyncTree, listFiles, readJsonOrNull, sha256File, tmpSuffix } from '../util/fsutil.ts';
import { importClosure } from './import-closure.ts';

export type { Logger };

/**
 * A DAG of training stages with DVC-like caching.
 *
 * Each stage declares its dependencies (other stages), its parameters (plain JSON derived from the pipeline's input,
 * e.g. the config) and its code (source files). Its output is keyed by
 *   sha256(stage name, hash of its code files, canonical JSON of its params, the keys of its deps, an optional
 *          external fingerprint such as the data fingerprint)
 * and lives in `<root>/cache/<stage>/<key>/`. A stage whose key already has an output is skipped. Keys depend only
 * on declarations, never on outputs, so the whole plan is known before anything runs (`--dry-run`), and a stage is
 * assumed deterministic: rerunning it (`--force`) does not change its dependents' keys.
 *
 * A stage writes into a temporary directory; `stage.json` (key, params, metrics, artifacts with sizes, run id) is
 * written last, everything is fsynced and the directory renamed into place. A directory without a valid stage.json
 * is not an output, so a crash mid-stage never leaves a usable partial one.
 *
 * Runs: execute() records a parent run (kind 'train' unless told) and one run per stage, kind `stage:<name>`.
 * Stages skipped because their output is cached ARE recorded, with status 'skipped', the cache key, params and the
 * cached metrics (not curves) and a note naming the run that produced the output: a train's run page then lists
 * every stage and where each output came from. Skipped runs are not exported to MLflow.
 *
 * One execute() per root at a time, across processes (a lock file in the cache): a second gets a ConflictError.
 */

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/** The output of a stage that ran or was cached. */
export interface StageOutput {
  name: string;
  key: string;
  /** Final cache directory. */
  dir: string;
  params: Json;
  metrics: Record<string, number>;
  artifacts: ArtifactInfo[];
  /** The run that produced the output. */
  runId: string | null;
}

export interface StageContext<P> {
  readonly name: string;
  readonly params: P;
  /** Where the stage writes its outputs (a temporary directory renamed into the cache on success). */
  readonly outDir: string;
  /** Outputs of the declared dependencies by stage name. */
  readonly deps: Readonly<Record<string, StageOutput>>;
  /** The output directory of a declared dependency; throws for an undeclared one. */
  dep(name: string): string;
  /** Same as dep(). */
  input(name: string): string;
  readonly runId: string;
  readonly parentRunId: string | null;
  /** Aborted when the caller cancels (e.g. the server shuts down); long stages may check it between epochs. */
  readonly signal: AbortSignal;
  log(message: string): void;
  /**
   * Reports an epoch/iteration: appends each value to the run's curve of that name (whole curves are kept) and
   * emits a progress event. `total` is the planned number of steps, or null.
   */
  progress(step: number, total: number | null, values?: Record<string, number>): void;
}

export interface StageResult {
  /** Final metrics. */
  metrics?: Record<string, number>;
  /** Curves to store whole, replacing any reported through ctx.progress under the same name. */
  curves?: Record<string, CurvePoint[]>;
}

export interface Stage<P = unknown, C = unknown> {
  /** Letters, digits, '-' and '_' (it names a directory). */
  name: string;
  deps: string[];
  /** Source files or directories (relative to the pipeline's codeRoot) whose content is the stage's code version. */
  code: string[];
  /** The stage's parameters from the pipeline input: plain JSON (no undefined inside arrays, no NaN, no Dates). */
  params(input: C): P;
  /** A fingerprint of inputs from outside the DAG (e.g. the data fingerprint for the snapshot stage). */
  external?(input: C): string | null;
  run(ctx: StageContext<P>): Promise<StageResult>;
}

/** The file written last into every output directory. */
export interface StageManifest {
  format: 'cinerec-stage/1';
  stage: string;
  key: string;
  codeVersion: string;
  params: Json;
  deps: Record<string, string>;
  external: string | null;
  metrics: Record<string, number>;
  artifacts: ArtifactInfo[];
  runId: string | null;
  createdAt: string;
  durationMs: number;
}

export type PlanReason = 'cached' | 'forced' | 'new key' | 'missing';

export interface PlanStep {
  name: string;
  key: string;
  codeVersion: string;
  params: Json;
  deps: Record<string, string>;
  external: string | null;
  status: 'cached' | 'run';
  /** 'new key': outputs exist for other keys (detail says what changed); 'missing': none usable. */
  reason: PlanReason;
  detail: string;
  /** The output directory for this key. */
  dir: string;
}

export interface PlanOptions {
  /** Run only these stages and what they depend on. */
  only?: string | string[];
  /** Rerun cached stages: all (true) or the named ones. */
  force?: boolean | string[];
}

export type PipelineEvent =
  | { type: 'plan'; runId: string | null; steps: PlanStep[] }
  | { type: 'stage-cached'; stage: string; index: number; count: number; key: string; runId: string }
  | { type: 'stage-start'; stage: string; index: number; count: number; key: string; runId: string; reason: PlanReason }
  | { type: 'progress'; stage: string; step: number; total: number | null; values: Record<string, number> }
  | { type: 'log'; stage: string; message: string }
  | {
      type: 'stage-end';
      stage: string;
      index: number;
      count: number;
      status: 'finished' | 'failed';
      durationMs: number;
      metrics: Record<string, number>;
      peakRssBytes: number;
      error: string | null;
    };

export interface ExecuteOptions extends PlanOptions {
  /**
   * Attach the stage runs to this existing run (the caller starts and ends it, e.g. to create a version before
   * finishing). Omitted: execute() records its own parent run of `kind` and ends it.
   */
  parentId?: string;
  /** Kind of the parent run execute() records. Default 'train'. */
  kind?: string;
  /** Parameters of the parent run it records (default: only/force). */
  params?: RunParams;
  onEvent?: (e: PipelineEvent) => void;
  signal?: AbortSignal;
}

export type StageOutcomeStatus = 'cached' | 'finished' | 'failed' | 'not run';

export interface StageOutcome {
  name: string;
  key: string;
  status: StageOutcomeStatus;
  runId: string | null;
  durationMs: number | null;
  metrics: Record<string, number>;
  peakRssBytes: number | null;
  error: string | null;
}

export interface ExecuteResult {
  /** The parent run (the caller's when it passed parentId). */
  runId: string;
  status: 'finished' | 'failed';
  /** The first failure, "stage <name>: <message>". */
  error: string | null;
  codeVersion: string;
  stages: StageOutcome[];
  /** Outputs of every stage that finished or was cached. */
  outputs: Record<string, StageOutput>;
}

export interface PipelineOptions<C> {
  /** Holds cache/ (and usually runs/ and versions/ of the tracker and version store). */
  root: string;
  stages: Stage<unknown, C>[];
  input: C;
  tracker: RunTracker;
  /** Base of the stages' code paths. Default: the repository root. */
  codeRoot?: string;
  codeHasher?: CodeHasher;
  /** Recorded in every run. */
  dataFingerprint?: string | null;
  logger?: Logger;
  /** RSS sampling period while a stage runs (ms). Default 100. */
  sampleMs?: number;
}

const KEY_FORMAT = 1;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
export const REPO_ROOT = resolve(import.meta.dirname, '../..');

function sha256(s: string | Uint8Array): string {
  return createHash('sha256').update(s).digest('hex');
}

/**
 * JSON with object keys sorted, so equal values give equal text. Rejects what JSON cannot carry faithfully
 * (NaN, Infinity, functions, Dates, Maps, typed arrays…) with an error naming the path; undefined object properties
 * are dropped, as JSON.stringify does.
 */
export function canonicalJson(value: unknown, what = 'value'): string {
  const walk = (v: unknown, path: string): string => {
    if (v === null) return 'null';
    switch (typeof v) {
      case 'boolean':
        return v ? 'true' : 'false';
      case 'string':
        return JSON.stringify(v);
      case 'number':
        if (!Number.isFinite(v)) throw new ValidationError(`${path} is ${v}, not a finite number`, path);
        return JSON.stringify(v);
      case 'object': {
        if (Array.isArray(v)) return `[${v.map((x, i) => walk(x, `${path}[${i}]`)).join(',')}]`;
        const proto = Object.getPrototypeOf(v);
        if (proto !== Object.prototype && proto !== null) {
          throw new ValidationError(`${path} is a ${proto?.constructor?.name ?? 'object'}, not plain JSON`, path);
        }
        const o = v as Record<string, unknown>;
        const parts: string[] = [];
        for (const k of Object.keys(o).sort()) {
          if (o[k] === undefined) continue;
          parts.push(`${JSON.stringify(k)}:${walk(o[k], `${path}.${k}`)}`);
        }
        return `{${parts.join(',')}}`;
      }
      default:
        throw new ValidationError(`${path} is ${typeof v}, not plain JSON`, path);
    }
  };
  return walk(value, what);
}

/** Nested params as flat run parameters: {als: {factors: 64}} → {"als.factors": 64}; arrays as JSON text. */
export function flattenParams(value: Json, prefix = ''): RunParams {
  const out: RunParams = {};
  const walk = (v: Json, path: string): void => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const keys = Object.keys(v);
      if (keys.length === 0 && path) out[path] = '{}';
      for (const k of keys) walk(v[k], path ? `${path}.${k}` : k);
    } else if (Array.isArray(v)) out[path || 'value'] = JSON.stringify(v);
    else out[path || 'value'] = v;
  };
  walk(value, prefix);
  return out;
}

/**
 * Hashes source files once per hasher (the default one lives for the process: the code a process runs does not
 * change under it). A directory stands for every file below it, except dotfiles and node_modules.
 */
export class CodeHasher {
  private readonly files = new Map<string, string>();

  constructor(
    readonly root: string = REPO_ROOT,
    /** How a file's content is read (tests stand in an edited file without touching the tree). */
    private readonly read: (abs: string) => Uint8Array = (abs) => readFileSync(abs),
  ) {}

  private fileHash(abs: string): string {
    let h = this.files.get(abs);
    if (h === undefined) {
      h = sha256(this.read(abs));
      this.files.set(abs, h);
    }
    return h;
  }

  private expand(abs: string, out: string[]): void {
    if (statSync(abs).isDirectory()) {
      for (const e of readdirSync(abs).sort()) {
        if (e.startsWith('.') || e === 'node_modules') continue;
        this.expand(join(abs, e), out);
      }
    } else if (/\.(m?[jt]s)$/.test(abs)) out.push(...importClosure([abs]));
    else out.push(abs);
  }

  /**
   * The code version of a set of paths: sha256 over (relative path, content hash) of each file, sorted. A module
   * stands for its whole run-time import closure (import-closure.ts), a directory for every file below it.
   */
  hash(paths: string[], owner: string): string {
    const abs: string[] = [];
    for (const p of paths) {
      const a = isAbsolute(p) ? p : resolve(this.root, p);
      if (!existsSync(a)) {
        throw new ValidationError(`stage ${owner}: code path ${p} does not exist (paths are relative to ${this.root})`);
      }
      this.expand(a, abs);
    }
    const lines = [...new Set(abs)]
      .map((a) => `${relative(this.root, a).split('\\').join('/')}\0${this.fileHash(a)}`)
      .sort();
    return sha256(lines.join('\n'));
  }
}

export const defaultCodeHasher = new CodeHasher();

/** Samples the process's resident set while a stage runs; the OS's lifetime peak catches spikes between samples. */
class RssSampler {
  private peak = 0;
  private readonly maxRssAtStart: number;
  private timer: NodeJS.Timeout | null;

  constructor(periodMs: number, onTick: () => void) {
    this.maxRssAtStart = process.resourceUsage().maxRSS;
    this.sample();
    this.timer = setInterval(() => {
      this.sample();
      onTick();
    }, periodMs);
    this.timer.unref();
  }

  private sample(): void {
    const rss = process.memoryUsage.rss();
    if (rss > this.peak) this.peak = rss;
  }

  stop(): number {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sample();
    // maxRSS is in kilobytes and only grows: if it grew during the stage, the stage set the process peak.
    const maxRss = process.resourceUsage().maxRSS;
    if (maxRss > this.maxRssAtStart) this.peak = Math.max(this.peak, maxRss * 1024);
    return this.peak;
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message || err.name : String(err);
}

function readManifest(dir: string, key?: string): StageManifest | null {
  const m = readJsonOrNull<StageManifest>(join(dir, 'stage.json'));
  if (m?.format !== 'cinerec-stage/1' || (key !== undefined && m.key !== key)) return null;
  return m;
}

function toOutput(dir: string, m: StageManifest): StageOutput {
  return {
    name: m.stage,
    key: m.key,
    dir,
    params: m.params,
    metrics: m.metrics,
    artifacts: m.artifacts,
    runId: m.runId,
  };
}

interface Resolved {
  stage: Stage<unknown, unknown>;
  key: string;
  codeVersion: string;
  params: Json;
  deps: Record<string, string>;
  external: string | null;
}

export class Pipeline<C> {
  readonly cacheDir: string;
  private readonly stages: Stage<unknown, C>[];
  private readonly byName = new Map<string, Stage<unknown, C>>();
  /** Stage names in a topological order (declaration order where the graph allows). */
  readonly order: string[];
  private readonly hasher: CodeHasher;
  private readonly logger: Logger;
  private resolvedCache: Map<string, Resolved> | null = null;

  constructor(private readonly opts: PipelineOptions<C>) {
    this.cacheDir = join(opts.root, 'cache');
    this.stages = opts.stages;
    this.hasher = opts.codeHasher ?? (opts.codeRoot ? new CodeHasher(opts.codeRoot) : defaultCodeHasher);
    this.logger = opts.logger ?? silentLogger;
    for (const s of this.stages) {
      if (!NAME_RE.test(s.name)) {
        throw new ValidationError(`stage name "${s.name}" must be letters, digits, '-' or '_'`, 'stages');
      }
      if (this.byName.has(s.name)) throw new ValidationError(`stage ${s.name} is declared twice`, 'stages');
      this.byName.set(s.name, s);
    }
    for (const s of this.stages) {
      for (const d of s.deps) {
        if (!this.byName.has(d)) throw new ValidationError(`stage ${s.name} depends on unknown stage ${d}`, 'stages');
        if (d === s.name) throw new ValidationError(`stage ${s.name} depends on itself`, 'stages');
      }
    }
    this.order = this.topoOrder();
  }

  private topoOrder(): string[] {
    const state = new Map<string, 'visiting' | 'done'>();
    const out: string[] = [];
    const stack: string[] = [];
    const visit = (name: string): void => {
      const st = state.get(name);
      if (st === 'done') return;
      if (st === 'visiting') {
        const cycle = [...stack.slice(stack.indexOf(name)), name];
        throw new ValidationError(`stages form a cycle: ${cycle.join(' → ')}`, 'stages');
      }
      state.set(name, 'visiting');
      stack.push(name);
      for (const d of this.byName.get(name)!.deps) visit(d);
      stack.pop();
      state.set(name, 'done');
      out.push(name);
    };
    for (const s of this.stages) visit(s.name);
    return out;
  }

  /** Params, code versions and keys of every stage (computed once per pipeline). */
  private resolved(): Map<string, Resolved> {
    if (this.resolvedCache) return this.resolvedCache;
    const map = new Map<string, Resolved>();
    for (const name of this.order) {
      const stage = this.byName.get(name)!;
      if (stage.code.length === 0) {
        throw new ValidationError(`stage ${name} declares no code files: its outputs could never be invalidated`);
      }
      const codeVersion = this.hasher.hash(stage.code, name);
      const rawParams = stage.params(this.opts.input);
      const paramsText = canonicalJson(rawParams, `stage ${name}: params`);
      const params = JSON.parse(paramsText) as Json;
      const deps: Record<string, string> = {};
      for (const d of [...stage.deps].sort()) deps[d] = map.get(d)!.key;
      const external = stage.external?.(this.opts.input) ?? null;
      const key = sha256(
        canonicalJson({ format: KEY_FORMAT, stage: name, code: codeVersion, params, deps, external }, 'key'),
      );
      map.set(name, { stage: stage as Stage<unknown, unknown>, key, codeVersion, params, deps, external });
    }
    this.resolvedCache = map;
    return map;
  }

  /** A short code version of the whole pipeline (recorded on the parent run and in versions). */
  codeVersion(): string {
    const r = this.resolved();
    return sha256(this.order.map((n) => `${n}:${r.get(n)!.codeVersion}`).join('\n')).slice(0, 12);
  }

  private stageDir(name: string): string {
    return join(this.cacheDir, name);
  }

  private names(v: string | string[] | undefined, what: string): string[] {
    const list = v === undefined ? [] : Array.isArray(v) ? v : [v];
    for (const n of list) {
      if (!this.byName.has(n)) {
        throw new ValidationError(`${what}: unknown stage ${n} (stages: ${this.order.join(', ')})`, what);
      }
    }
    return list;
  }

  /** Stages selected by `only` with everything they depend on, in run order. */
  private selection(only: string | string[] | undefined): string[] {
    const roots = this.names(only, 'only');
    if (roots.length === 0) return this.order;
    const want = new Set<string>();
    const add = (n: string): void => {
      if (want.has(n)) return;
      want.add(n);
      for (const d of this.byName.get(n)!.deps) add(d);
    };
    for (const r of roots) add(r);
    return this.order.filter((n) => want.has(n));
  }

  /** Valid outputs of a stage for any key, newest first. */
  private entries(name: string): { dir: string; manifest: StageManifest }[] {
    const base = this.stageDir(name);
    if (!existsSync(base)) return [];
    const out: { dir: string; manifest: StageManifest }[] = [];
    for (const e of readdirSync(base)) {
      if (e.startsWith('.')) continue;
      const dir = join(base, e);
      const m = readManifest(dir, e);
      if (m) out.push({ dir, manifest: m });
    }
    return out.sort((a, b) => (a.manifest.createdAt < b.manifest.createdAt ? 1 : -1));
  }

  /** Why a stage's key is new, compared with its latest output. */
  private changes(r: Resolved, prev: StageManifest): string {
    const what: string[] = [];
    const a = flattenParams(prev.params);
    const b = flattenParams(r.params);
    const changed = [...new Set([...Object.keys(a), ...Object.keys(b)])]
      .filter((k) => a[k] !== b[k])
      .sort()
      .map((k) => `${k} ${k in a ? JSON.stringify(a[k]) : '(none)'} → ${k in b ? JSON.stringify(b[k]) : '(none)'}`);
    if (changed.length > 0) what.push(`params changed: ${changed.join(', ')}`);
    if (prev.codeVersion !== r.codeVersion) what.push('code changed');
    const inputs = [...new Set([...Object.keys(prev.deps), ...Object.keys(r.deps)])].filter(
      (d) => prev.deps[d] !== r.deps[d],
    );
    if (inputs.length > 0) what.push(`input${inputs.length > 1 ? 's' : ''} ${inputs.sort().join(', ')} changed`);
    if (prev.external !== r.external) what.push('external input changed');
    return what.length > 0 ? what.join('; ') : 'new key';
  }

  /** What execute() would do, in run order: each selected stage, cached or to run, and why. */
  plan(opts: PlanOptions = {}): PlanStep[] {
    const selected = this.selection(opts.only);
    const forced = opts.force === true ? new Set(selected) : new Set(this.names(opts.force || [], 'force'));
    const res = this.resolved();
    return selected.map((name) => {
      const r = res.get(name)!;
      const dir = join(this.stageDir(name), r.key);
      const base = {
        name,
        key: r.key,
        codeVersion: r.codeVersion,
        params: r.params,
        deps: r.deps,
        external: r.external,
        dir,
      };
      const have = readManifest(dir, r.key) !== null;
      if (forced.has(name)) {
        return {
          ...base,
          status: 'run',
          reason: 'forced',
          detail: have ? 'forced (output cached)' : 'forced',
        } as const;
      }
      if (have) return { ...base, status: 'cached', reason: 'cached', detail: 'output cached' } as const;
      if (existsSync(dir)) {
        return { ...base, status: 'run', reason: 'missing', detail: 'incomplete output, will be replaced' } as const;
      }
      const prev = this.entries(name)[0];
      if (!prev) return { ...base, status: 'run', reason: 'missing', detail: 'never run' } as const;
      return { ...base, status: 'run', reason: 'new key', detail: this.changes(r, prev.manifest) } as const;
    });
  }

  /** The cached output of a stage for the current key, or null. */
  output(name: string): StageOutput | null {
    this.names(name, 'stage');
    const r = this.resolved().get(name)!;
    const dir = join(this.stageDir(name), r.key);
    const m = readManifest(dir, r.key);
    return m ? toOutput(dir, m) : null;
  }

  private lock(): FileLock {
    return new FileLock(join(this.cacheDir, '.lock'), `training in ${this.opts.root}`);
  }

  /** Removes temporary directories left by a crashed execute (called under the lock, so none is live). */
  private cleanTemp(): void {
    if (!existsSync(this.cacheDir)) return;
    for (const s of readdirSync(this.cacheDir)) {
      const base = join(this.cacheDir, s);
      if (s.startsWith('.') || !statSync(base).isDirectory()) continue;
      for (const e of readdirSync(base)) {
        if (e.startsWith('.tmp-') || e.startsWith('.old-')) rmSync(join(base, e), { recursive: true, force: true });
      }
    }
  }

  /**
   * Runs the plan in topological order. Graph or option errors throw before anything runs; a stage failure does
   * not throw: it is recorded (run failed with the error, no cache entry), later stages are not run, and the
   * result says 'failed'.
   */
  async execute(opts: ExecuteOptions = {}): Promise<ExecuteResult> {
    this.plan(opts); // option and graph errors before taking the lock
    const lock = this.lock();
    mkdirSync(this.cacheDir, { recursive: true });
    lock.acquire();
    try {
      this.opts.tracker.recoverInterrupted();
      this.cleanTemp();
      // Planned again under the lock: another process may have published outputs meanwhile.
      return await this.executeLocked(this.plan(opts), opts);
    } finally {
      lock.release();
    }
  }

  private emit(opts: ExecuteOptions, e: PipelineEvent): void {
    if (!opts.onEvent) return;
    try {
      opts.onEvent(e);
    } catch (err) {
      this.logger.warn(`progress callback failed: ${errorText(err)}`);
    }
  }

  private async executeLocked(steps: PlanStep[], opts: ExecuteOptions): Promise<ExecuteResult> {
    const tracker = this.opts.tracker;
    const fp = this.opts.dataFingerprint ?? null;
    const codeVersion = this.codeVersion();
    const ownParent = opts.parentId === undefined;
    const parentId =
      opts.parentId ??
      tracker.start({
        kind: opts.kind ?? 'train',
        params: opts.params ?? {
          only: opts.only === undefined ? null : ([] as string[]).concat(opts.only).join(','),
          force: typeof opts.force === 'object' ? opts.force.join(',') : opts.force === true,
        },
        codeVersion,
        dataFingerprint: fp,
      }).id;
    this.emit(opts, { type: 'plan', runId: parentId, steps });

    const outputs: Record<string, StageOutput> = {};
    const outcomes: StageOutcome[] = [];
    let error: string | null = null;
    const count = steps.length;
    const signal = opts.signal ?? new AbortController().signal;

    for (let index = 0; index < count; index++) {
      const step = steps[index];
      if (error === null && signal.aborted) error = `stage ${step.name}: cancelled before start`;
      if (error !== null) {
        outcomes.push({
          name: step.name,
          key: step.key,
          status: 'not run',
          runId: null,
          durationMs: null,
          metrics: {},
          peakRssBytes: null,
          error: null,
        });
        continue;
      }
      const m = step.status === 'cached' ? readManifest(step.dir, step.key) : null;
      if (m) {
        const run = tracker.record({
          kind: `stage:${step.name}`,
          parentId,
          status: 'skipped',
          params: flattenParams(step.params),
          metrics: m.metrics,
          artifacts: m.artifacts,
          codeVersion: step.codeVersion.slice(0, 12),
          dataFingerprint: fp,
          cacheKey: step.key,
          note: `cached: output of run ${m.runId ?? 'unknown'}`,
        });
        outputs[step.name] = toOutput(step.dir, m);
        outcomes.push({
          name: step.name,
          key: step.key,
          status: 'cached',
          runId: run.id,
          durationMs: 0,
          metrics: m.metrics,
          peakRssBytes: null,
          error: null,
        });
        this.emit(opts, { type: 'stage-cached', stage: step.name, index, count, key: step.key, runId: run.id });
        continue;
      }
      const outcome = await this.runStage(step, index, count, parentId, outputs, signal, opts);
      outcomes.push(outcome);
      if (outcome.status === 'failed') error = `stage ${step.name}: ${outcome.error}`;
    }

    const metrics: Record<string, number> = {};
    for (const o of outcomes) for (const [k, v] of Object.entries(o.metrics)) metrics[`${o.name}.${k}`] = v;
    if (ownParent) {
      if (error === null) tracker.finish(parentId, { metrics });
      else tracker.fail(parentId, error, { metrics });
    }
    return {
      runId: parentId,
      status: error === null ? 'finished' : 'failed',
      error,
      codeVersion,
      stages: outcomes,
      outputs,
    };
  }

  private async runStage(
    step: PlanStep,
    index: number,
    count: number,
    parentId: string,
    outputs: Record<string, StageOutput>,
    signal: AbortSignal,
    opts: ExecuteOptions,
  ): Promise<StageOutcome> {
    const tracker = this.opts.tracker;
    const r = this.resolved().get(step.name)!;
    const run = tracker.start({
      kind: `stage:${step.name}`,
      parentId,
      params: flattenParams(step.params),
      codeVersion: step.codeVersion.slice(0, 12),
      dataFingerprint: this.opts.dataFingerprint ?? null,
      cacheKey: step.key,
    });
    const base = this.stageDir(step.name);
    const tmp = join(base, `.tmp-${step.key.slice(0, 16)}-${tmpSuffix()}`);
    mkdirSync(tmp, { recursive: true });
    const deps: Record<string, StageOutput> = {};
    for (const d of r.stage.deps) deps[d] = outputs[d]!;
    const depDir = (name: string): string => {
      const o = deps[name];
      if (!o) throw new Error(`stage ${step.name} reads ${name}, which is not among its deps`);
      return o.dir;
    };
    const log = (message: string): void => {
      this.logger.info(`[${step.name}] ${message}`);
      this.emit(opts, { type: 'log', stage: step.name, message });
    };
    const ctx: StageContext<unknown> = {
      name: step.name,
      params: structuredClone(step.params),
      outDir: tmp,
      deps,
      dep: depDir,
      input: depDir,
      runId: run.id,
      parentRunId: parentId,
      signal,
      log,
      progress: (s, total, values = {}) => {
        tracker.appendCurve(run.id, s, values);
        this.emit(opts, { type: 'progress', stage: step.name, step: s, total, values });
      },
    };
    this.emit(opts, {
      type: 'stage-start',
      stage: step.name,
      index,
      count,
      key: step.key,
      runId: run.id,
      reason: step.reason,
    });
    log(`running (${step.detail})`);
    const sampler = new RssSampler(this.opts.sampleMs ?? 100, () => tracker.flushDirty());
    const t0 = performance.now();
    try {
      const result = await r.stage.run(ctx);
      const metrics = result?.metrics ?? {};
      for (const [k, v] of Object.entries(metrics)) {
        if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`metric ${k} is ${v}, not a finite number`);
      }
      const durationMs = performance.now() - t0;
      // Hashed now, so a version assembled from this output later can tell if a file changed since.
      const artifacts = listFiles(tmp).map((a) => ({ ...a, sha256: sha256File(join(tmp, a.path)) }));
      const manifest: StageManifest = {
        format: 'cinerec-stage/1',
        stage: step.name,
        key: step.key,
        codeVersion: step.codeVersion,
        params: step.params,
        deps: step.deps,
        external: step.external,
        metrics,
        artifacts,
        runId: run.id,
        createdAt: new Date().toISOString(),
        durationMs,
      };
      writeFileSync(join(tmp, 'stage.json'), `${JSON.stringify(manifest, null, 1)}\n`);
      fsyncTree(tmp);
      this.publish(tmp, step.dir);
      const peakRssBytes = sampler.stop();
      tracker.finish(run.id, { metrics, curves: result?.curves, artifacts, peakRssBytes });
      outputs[step.name] = toOutput(step.dir, manifest);
      this.emit(opts, {
        type: 'stage-end',
        stage: step.name,
        index,
        count,
        status: 'finished',
        durationMs,
        metrics,
        peakRssBytes,
        error: null,
      });
      return {
        name: step.name,
        key: step.key,
        status: 'finished',
        runId: run.id,
        durationMs,
        metrics,
        peakRssBytes,
        error: null,
      };
    } catch (err) {
      const durationMs = performance.now() - t0;
      const peakRssBytes = sampler.stop();
      rmSync(tmp, { recursive: true, force: true });
      const message = errorText(err);
      tracker.fail(run.id, err, { peakRssBytes });
      this.logger.error(`[${step.name}] failed: ${err instanceof Error && err.stack ? err.stack : message}`);
      this.emit(opts, {
        type: 'stage-end',
        stage: step.name,
        index,
        count,
        status: 'failed',
        durationMs,
        metrics: {},
        peakRssBytes,
        error: message,
      });
      return {
        name: step.name,
        key: step.key,
        status: 'failed',
        runId: run.id,
        durationMs,
        metrics: {},
        peakRssBytes,
        error: message,
      };
    }
  }

  /** Renames a finished temporary directory into place, replacing an existing output (--force) if any. */
  private publish(tmp: string, dir: string): void {
    const base = join(dir, '..');
    if (existsSync(dir)) {
      const old = join(base, `.old-${tmpSuffix()}`);
      renameSync(dir, old);
      renameSync(tmp, dir);
      rmSync(old, { recursive: true, force: true });
    } else renameSync(tmp, dir);
    fsyncDir(base);
  }

  /**
   * Deletes cached outputs no longer needed: per stage, all but the `keepLatest` newest, except the outputs of the
   * current keys and those in `protect` (keys, e.g. the stages of existing versions). Returns what was removed.
   */
  prune(
    opts: { keepLatest?: number; protect?: Iterable<string> } = {},
  ): { stage: string; key: string; bytes: number }[] {
    const keepLatest = opts.keepLatest ?? 1;
    const protect = new Set(opts.protect ?? []);
    for (const r of this.resolved().values()) protect.add(r.key);
    const lock = this.lock();
    mkdirSync(this.cacheDir, { recursive: true });
    lock.acquire();
    const removed: { stage: string; key: string; bytes: number }[] = [];
    try {
      this.cleanTemp();
      for (const name of this.order) {
        this.entries(name).forEach((e, i) => {
          if (i < keepLatest || protect.has(e.manifest.key)) return;
          const bytes = e.manifest.artifacts.reduce((s, a) => s + a.bytes, 0);
          rmSync(e.dir, { recursive: true, force: true });
          removed.push({ stage: name, key: e.manifest.key, bytes });
        });
      }
    } finally {
      lock.release();
    }
    return removed;
  }
}

/** The plan as a text table for `--dry-run`. */
export function formatPlan(steps: PlanStep[]): string {
  const w = Math.max(5, ...steps.map((s) => s.name.length));
  const lines = [`${'stage'.padEnd(w)}  status  key           reason`];
  for (const s of steps) {
    lines.push(`${s.name.padEnd(w)}  ${s.status.padEnd(6)}  ${s.key.slice(0, 12)}  ${s.detail}`);
  }
  const run = steps.filter((s) => s.status === 'run').length;
  lines.push(`${run} to run, ${steps.length - run} cached`);
  return lines.join('\n');
}
