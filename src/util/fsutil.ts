import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ConflictError } from './errors.ts';
import type { ArtifactInfo } from './shapes.ts';

export type { ArtifactInfo };

/**
 * File helpers for the pipeline's plain-file stores. The stores are shared between processes (a server reading,
 * a retrain writing), so every write is tmp + fsync + rename: a reader sees the old file or the whole new one, and a
 * crash never leaves a half-written file under the real name.
 */

export function tmpSuffix(): string {
  return `${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** Best effort: makes a rename durable. Some platforms cannot open a directory; the rename itself is still atomic. */
export function fsyncDir(dir: string): void {
  let fd: number | null = null;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // EISDIR/EPERM on platforms without directory fsync.
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

function writeSynced(path: string, data: string | Uint8Array): void {
  const fd = openSync(path, 'w');
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes a file atomically: a temporary file beside it, fsync, rename over the real name. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.tmp-${tmpSuffix()}`);
  try {
    writeSynced(tmp, data);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDir(dir);
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 1)}\n`);
}

/**
 * Creates a file that must not exist yet, whole: written beside it, then hard-linked to the real name (link fails
 * with EEXIST instead of replacing). Returns false when the name is taken.
 */
export function createFileExclusive(path: string, data: string): boolean {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.tmp-${tmpSuffix()}`);
  writeSynced(tmp, data);
  try {
    linkSync(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    unlinkSync(tmp);
    fsyncDir(dir);
  }
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** The parsed file, or null when it is missing or not valid JSON (a torn file from another writer's crash). */
export function readJsonOrNull<T>(path: string): T | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return null;
  }
}

/** Every regular file under dir, relative paths with '/' separators, sorted; entries starting with '.' are skipped. */
export function listFiles(dir: string): ArtifactInfo[] {
  const out: ArtifactInfo[] = [];
  const walk = (abs: string, rel: string): void => {
    for (const e of readdirSync(abs, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      const a = join(abs, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(a, r);
      else if (e.isFile()) out.push({ path: r, bytes: statSync(a).size });
    }
  };
  walk(dir, '');
  out.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
  return out;
}

/** sha256 of a file, read in chunks: a model file of a 25 M-rating version need not fit in memory twice. */
export function sha256File(path: string): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 22);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** fsyncs every file and directory under dir, so a rename of dir afterwards publishes durable content. */
export function fsyncTree(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const a = join(dir, e.name);
    if (e.isDirectory()) fsyncTree(a);
    else if (e.isFile()) {
      const fd = openSync(a, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
  }
  fsyncDir(dir);
}

/**
 * Hard-links src to dest (no copy, and safe because cache outputs are never modified in place: a rerun writes new
 * files), falling back to a copy across file systems.
 */
export function linkOrCopy(src: string, dest: string): void {
  mkdirSync(dirname(dest), { recursive: true });
  try {
    linkSync(src, dest);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EMLINK') throw err;
    copyFileSync(src, dest);
  }
}

/**
 * The start time of a process in clock ticks since boot (Linux /proc), or null where unknown. With the pid it names
 * a process for good: a pid reused after a crash (common in containers, where the server is often pid 1 or 7 on
 * every start) has another start time.
 */
export function processStart(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: count fields after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(rest[19]); // field 22 overall; rest starts at field 3
    return Number.isFinite(ticks) ? ticks : null;
  } catch {
    return null;
  }
}

/** Whether the process that recorded (pid, start) still runs. */
export function isProcessAlive(pid: number, start: number | null | undefined): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (start == null) return true;
  const now = processStart(pid);
  return now === null || now === start;
}

/** This process's identity as recorded in runs and locks. */
export const SELF = { pid: process.pid, start: processStart(process.pid) };

interface LockOwner {
  pid: number;
  start: number | null;
  purpose: string;
  acquiredAt: string;
}

/**
 * A lock between processes: an exclusively created file naming its owner. A lock whose owner died is taken over.
 * (Two processes taking over the same stale lock at the same instant could both win; the window is a few
 * microseconds after a crash, which we accept for plain files.)
 */
export class FileLock {
  private held = false;

  constructor(
    readonly path: string,
    private readonly purpose: string,
  ) {}

  /** Takes the lock or throws ConflictError naming the owner. */
  acquire(): void {
    if (this.held) throw new Error(`lock ${this.path} is already held by this object`);
    const owner: LockOwner = {
      pid: SELF.pid,
      start: SELF.start,
      purpose: this.purpose,
      acquiredAt: new Date().toISOString(),
    };
    for (let attempt = 0; attempt < 3; attempt++) {
      if (createFileExclusive(this.path, JSON.stringify(owner))) {
        this.held = true;
        return;
      }
      const cur = readJsonOrNull<LockOwner>(this.path);
      if (cur && isProcessAlive(cur.pid, cur.start)) {
        throw new ConflictError(`${cur.purpose} is already running (process ${cur.pid}, since ${cur.acquiredAt})`);
      }
      // The owner ended without releasing (a crash), or the file is unreadable: take it over.
      rmSync(this.path, { force: true });
    }
    throw new ConflictError(`could not take the lock ${this.path}`);
  }

  /** Retries acquire() for up to waitMs (a short critical section such as updating active.json). */
  acquireWaiting(waitMs: number): void {
    const deadline = Date.now() + waitMs;
    for (;;) {
      try {
        this.acquire();
        return;
      } catch (err) {
        if (!(err instanceof ConflictError) || Date.now() >= deadline) throw err;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
      }
    }
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    rmSync(this.path, { force: true });
  }
}
