import { chmodSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ArtifactInfo, ModelsState, ModelVersion } from '../tracking/types.ts';
import { ConflictError, NotFoundError, ValidationError } from '../util/errors.ts';
import {
  FileLock,
  fsyncDir,
  fsyncTree,
  isProcessAlive,
  linkOrCopy,
  listFiles,
  readJsonOrNull,
  sha256File,
  tmpSuffix,
  writeJsonAtomic,
} from '../util/fsutil.ts';

/**
 * Immutable model versions over plain files:
 *
 *   <root>/versions/v0001/manifest.json      the ModelVersion (+ format, extra)
 *   <root>/versions/v0001/<stage>/...        each stage's output files (hard links into the cache when possible)
 *   <root>/active.json                       { active, history, activatedAt }
 *
 * A version is assembled in `versions/.staging-<pid>-<rand>/`, fsynced, and renamed to the next `vNNNN`: a crash
 * leaves only a staging directory, which is never listed nor activatable and is removed by the next create() or
 * cleanup(). Files are made read-only; a version is never modified after the rename.
 *
 * active.json is replaced atomically under a lock file. Activation checks that the version is complete (manifest
 * present, every artifact there with its recorded size), so a failed or partial training never becomes active.
 * `history` is a stack of previously active versions; rollback() pops it.
 */

export interface VersionManifest extends ModelVersion {
  format: 'cinerec-version/1';
  /** Caller's extra fields (e.g. the config that trained it). */
  extra: Record<string, unknown>;
}

export interface CreateVersionInput {
  /**
   * Stage outputs to include, by stage name (a StageOutput fits): copied under `<stage>/`. Files whose recorded
   * sha256 no longer matches (a damaged cache) are refused.
   */
  stages: Record<string, { dir: string; key: string; artifacts?: ArtifactInfo[] }>;
  /** Extra single files: src (absolute) → path inside the version. */
  files?: { src: string; path: string }[];
  runId?: string | null;
  dataFingerprint: string;
  codeVersion: string;
  metrics?: Record<string, number>;
  extra?: Record<string, unknown>;
}

export interface ActiveState {
  active: string | null;
  /** Previously active versions, the most recent last. */
  history: string[];
  activatedAt: string | null;
}

export interface VersionStoreOptions {
  now?: () => Date;
}

const VERSION_RE = /^v(\d{4,})$/;
const HISTORY_MAX = 100;
/** Staging directories of a live process are left alone unless older than this (a hung or reused pid). */
const STAGING_MAX_AGE_MS = 24 * 3600 * 1000;

function checkName(v: string): void {
  if (!VERSION_RE.test(v)) throw new ValidationError(`"${v}" is not a version name (e.g. v0003)`, 'version');
}

export class VersionStore {
  readonly dir: string;
  readonly activePath: string;
  private readonly now: () => Date;

  constructor(
    readonly root: string,
    opts: VersionStoreOptions = {},
  ) {
    this.dir = join(root, 'versions');
    this.activePath = join(root, 'active.json');
    this.now = opts.now ?? (() => new Date());
  }

  /** The directory of a version (complete or not). */
  path(v: string): string {
    checkName(v);
    return join(this.dir, v);
  }

  /** The directory holding a stage's files inside a complete version. */
  stageDir(v: string, stage: string): string {
    const m = this.get(v);
    if (!(stage in m.stages)) {
      throw new NotFoundError(
        `version ${v} has no stage ${stage} (it has ${Object.keys(m.stages).join(', ')})`,
        'stage',
      );
    }
    return join(this.path(v), stage);
  }

  private names(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((e) => VERSION_RE.test(e))
      .sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
  }

  private manifest(v: string): VersionManifest | null {
    const m = readJsonOrNull<VersionManifest>(join(this.dir, v, 'manifest.json'));
    return m && m.format === 'cinerec-version/1' && m.version === v ? m : null;
  }

  /** Removes staging directories left by crashed creates; returns their names. */
  cleanup(): string[] {
    if (!existsSync(this.dir)) return [];
    const removed: string[] = [];
    for (const e of readdirSync(this.dir)) {
      const m = /^\.staging-(\d+)-/.exec(e);
      if (!m) continue;
      const p = join(this.dir, e);
      const old = this.now().getTime() - statSync(p).mtimeMs > STAGING_MAX_AGE_MS;
      if (Number(m[1]) === process.pid && !old) continue;
      if (isProcessAlive(Number(m[1]), null) && !old) continue;
      rmSync(p, { recursive: true, force: true });
      removed.push(e);
    }
    return removed;
  }

  /** Assembles a new immutable version from stage outputs and returns its manifest. */
  create(input: CreateVersionInput): VersionManifest {
    mkdirSync(this.dir, { recursive: true });
    this.cleanup();
    const staging = join(this.dir, `.staging-${tmpSuffix()}`);
    try {
      mkdirSync(staging);
      const stages: Record<string, string> = {};
      for (const [name, out] of Object.entries(input.stages)) {
        if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(name)) throw new ValidationError(`bad stage name "${name}"`, 'stages');
        if (!existsSync(out.dir)) throw new NotFoundError(`output of stage ${name} is missing: ${out.dir}`, 'stages');
        stages[name] = out.key;
        for (const f of listFiles(out.dir)) linkOrCopy(join(out.dir, f.path), join(staging, name, f.path));
      }
      for (const f of input.files ?? []) {
        if (f.path.startsWith('/') || f.path.split('/').some((p) => p === '..' || p === '' || p.startsWith('.'))) {
          throw new ValidationError(`bad file path "${f.path}" in a version`, 'files');
        }
        if (f.path === 'manifest.json') throw new ValidationError('manifest.json is written by the store', 'files');
        linkOrCopy(f.src, join(staging, f.path));
      }
      const artifacts: ArtifactInfo[] = listFiles(staging).map((a) => ({
        ...a,
        sha256: sha256File(join(staging, a.path)),
      }));
      const recorded = new Map<string, string>();
      for (const [name, out] of Object.entries(input.stages))
        for (const a of out.artifacts ?? []) if (a.sha256) recorded.set(`${name}/${a.path}`, a.sha256);
      for (const a of artifacts) {
        const want = recorded.get(a.path);
        if (want && want !== a.sha256)
          throw new ConflictError(
            `the cached output of stage ${a.path.split('/')[0]} is damaged (${a.path} changed after it was written): retrain it with \`cinerec train --force ${a.path.split('/')[0]}\``,
            'stages',
          );
      }
      for (const a of artifacts) chmodSync(join(staging, a.path), 0o444);
      for (let attempt = 0; ; attempt++) {
        const last = this.names().at(-1);
        const version = `v${String((last ? Number(last.slice(1)) : 0) + 1 + attempt).padStart(4, '0')}`;
        const manifest: VersionManifest = {
          format: 'cinerec-version/1',
          version,
          createdAt: this.now().toISOString(),
          runId: input.runId ?? null,
          dataFingerprint: input.dataFingerprint,
          codeVersion: input.codeVersion,
          stages,
          metrics: input.metrics ?? {},
          artifacts,
          bytes: artifacts.reduce((s, a) => s + a.bytes, 0),
          extra: input.extra ?? {},
        };
        writeJsonAtomic(join(staging, 'manifest.json'), manifest);
        chmodSync(join(staging, 'manifest.json'), 0o444);
        fsyncTree(staging);
        try {
          renameSync(staging, join(this.dir, version));
        } catch (err) {
          // Another process took this number between our scan and the rename: try the next one.
          const code = (err as NodeJS.ErrnoException).code;
          if ((code === 'ENOTEMPTY' || code === 'EEXIST') && attempt < 100) continue;
          throw err;
        }
        fsyncDir(this.dir);
        return manifest;
      }
    } catch (err) {
      rmSync(staging, { recursive: true, force: true });
      throw err;
    }
  }

  /** Complete versions, newest first (directories without a valid manifest are not versions). */
  list(): VersionManifest[] {
    return this.names()
      .reverse()
      .map((v) => this.manifest(v))
      .filter((m): m is VersionManifest => m !== null);
  }

  get(v: string): VersionManifest {
    checkName(v);
    const m = this.manifest(v);
    if (m) return m;
    if (existsSync(join(this.dir, v))) {
      throw new ConflictError(`version ${v} is incomplete (no valid manifest.json)`, 'version');
    }
    throw new NotFoundError(`version ${v} not found`, 'version');
  }

  /**
   * Throws unless every artifact of the version is present with its recorded size and, with `content`, its
   * recorded sha256 (a same-size overwrite is caught only by the hash). Without `content` it costs one stat per
   * file. With `prefix`, only the files under it (serving checks each model's files as it loads that model).
   */
  verify(v: string, opts: { content?: boolean; prefix?: string } = {}): VersionManifest {
    const m = this.get(v);
    for (const a of m.artifacts) {
      if (opts.prefix && !a.path.startsWith(opts.prefix)) continue;
      const p = join(this.dir, v, a.path);
      let bytes = -1;
      try {
        bytes = statSync(p).size;
      } catch {}
      if (bytes !== a.bytes) {
        throw new ConflictError(
          `version ${v} is damaged: ${a.path} ${bytes < 0 ? 'is missing' : `has ${bytes} bytes, expected ${a.bytes}`}`,
          'version',
        );
      }
      if (opts.content && a.sha256 && sha256File(p) !== a.sha256)
        throw new ConflictError(
          `version ${v} is damaged: ${a.path} does not match its recorded sha256 (the file was changed after training)`,
          'version',
        );
    }
    return m;
  }

  activeState(): ActiveState {
    const s = readJsonOrNull<ActiveState>(this.activePath);
    return s && (s.active === null || typeof s.active === 'string') && Array.isArray(s.history)
      ? s
      : { active: null, history: [], activatedAt: null };
  }

  /** The active version's name, or null. */
  active(): string | null {
    return this.activeState().active;
  }

  state(): ModelsState {
    const active = this.active();
    return { active, versions: this.list().map((m) => ({ ...m, active: m.version === active })) };
  }

  private withActiveLock<T>(fn: () => T): T {
    mkdirSync(this.dir, { recursive: true });
    const lock = new FileLock(join(this.dir, '.active.lock'), 'a model activation');
    lock.acquireWaiting(5000);
    try {
      return fn();
    } finally {
      lock.release();
    }
  }

  private write(active: string | null, history: string[]): ActiveState {
    const s: ActiveState = { active, history: history.slice(-HISTORY_MAX), activatedAt: this.now().toISOString() };
    writeJsonAtomic(this.activePath, s);
    return s;
  }

  /** Makes v the active version (refused for a missing, partial or damaged one). */
  activate(v: string): ActiveState {
    this.verify(v, { content: true });
    return this.withActiveLock(() => {
      const cur = this.activeState();
      if (cur.active === v) return cur;
      return this.write(v, cur.active === null ? cur.history : [...cur.history, cur.active]);
    });
  }

  /** Activates the previously active version (skipping any since deleted); ConflictError when there is none. */
  rollback(): ActiveState {
    return this.withActiveLock(() => {
      const cur = this.activeState();
      const history = [...cur.history];
      while (history.length > 0) {
        const prev = history.pop()!;
        try {
          this.verify(prev);
        } catch {
          continue;
        }
        return this.write(prev, history);
      }
      throw new ConflictError(
        `no previous version to roll back to${cur.active ? ` (active: ${cur.active})` : ''}`,
        'version',
      );
    });
  }

  /** Deletes a version that is not active. */
  remove(v: string): void {
    checkName(v);
    if (this.active() === v) throw new ConflictError(`version ${v} is active; activate another first`, 'version');
    const p = join(this.dir, v);
    if (!existsSync(p)) throw new NotFoundError(`version ${v} not found`, 'version');
    // Renamed out of the version namespace first, so no reader sees it half-deleted.
    const trash = join(this.dir, `.staging-${tmpSuffix()}-removed`);
    renameSync(p, trash);
    rmSync(trash, { recursive: true, force: true });
  }

  /**
   * Calls onChange(active) whenever another process (or this one) changes the active version. Polls active.json's
   * stat (fs.watch loses a file replaced by rename on some platforms); close() stops it.
   */
  watch(onChange: (active: string | null) => void, opts: { intervalMs?: number } = {}): { close(): void } {
    let last = this.active();
    let sig = '';
    const stamp = (): string => {
      try {
        const st = statSync(this.activePath);
        return `${st.ino}:${st.mtimeMs}:${st.size}`;
      } catch {
        return 'none';
      }
    };
    sig = stamp();
    const timer = setInterval(() => {
      const s = stamp();
      if (s === sig) return;
      sig = s;
      const now = this.active();
      if (now === last) return;
      last = now;
      try {
        onChange(now);
      } catch {
        // The watcher keeps going; the callback owns its errors.
      }
    }, opts.intervalMs ?? 1000);
    timer.unref();
    return { close: () => clearInterval(timer) };
  }
}

/** The version store of a configuration (versions and active.json live under modelsDir). */
export function versionsFor(config: { modelsDir: string }): VersionStore {
  return new VersionStore(config.modelsDir);
}
