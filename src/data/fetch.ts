/** Download, verify and unpack an official MovieLens release into `<dataDir>/<name>`. */

import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import yauzl from 'yauzl';
import { type Progress, silentProgress } from '../util/progress.ts';
import { GROUPLENS_BASE, RELEASES, type Release, type ReleaseName } from './releases.ts';

export interface FetchOptions {
  /** e.g. ./data ; the release goes to <dataDir>/<release name>. */
  dataDir: string;
  /** Default GROUPLENS_BASE; tests point it at a local http server. */
  baseUrl?: string;
  /** Default silentProgress. */
  progress?: Progress;
  /** Re-download even if <dataDir>/<name> already has the release's files. */
  force?: boolean;
  /** Default globalThis.fetch. */
  fetchImpl?: typeof fetch;
  /** Replaces the release table's pinned checksums (tests). */
  expected?: { sha256?: string; md5?: string; bytes?: number };
}

export interface FetchChecksum {
  algorithm: 'sha256' | 'md5';
  value: string;
  /** 'pinned': release table or `options.expected`; 'published': GroupLens' `<archive>.md5`. */
  source: 'pinned' | 'published';
}

export interface FetchResult {
  release: ReleaseName;
  /** Absolute path of the unpacked release. */
  dir: string;
  /** Files in `dir`, relative, '/'-separated, sorted. */
  files: string[];
  /** Archive bytes downloaded (0 when skipped). */
  bytes: number;
  /** The verified checksum; null when skipped, as nothing was downloaded to verify. */
  checksum: FetchChecksum | null;
  skipped: boolean;
}

/** Lets the CLI pick an exit code or hint without parsing messages. */
export type FetchErrorCode = 'network' | 'checksum' | 'archive' | 'conflict' | 'filesystem';

export class FetchError extends Error {
  override readonly name = 'FetchError';
  readonly release: ReleaseName;
  readonly code: FetchErrorCode;
  constructor(message: string, release: ReleaseName, code: FetchErrorCode, options?: { cause?: unknown }) {
    super(message, options);
    this.release = release;
    this.code = code;
  }
}

export const MOVIELENS_TERMS =
  'The MovieLens data sets are provided by GroupLens Research (University of Minnesota) for research use. ' +
  'They may not be used for commercial purposes without permission, and may be redistributed only under ' +
  'the same terms. Publications using them must cite: F. Maxwell Harper and Joseph A. Konstan. 2015. ' +
  'The MovieLens Datasets: History and Context. ACM Transactions on Interactive Intelligent Systems (TiiS) ' +
  '5, 4: 19:1–19:19. https://doi.org/10.1145/2827872';

const CSV_FILES = ['ratings.csv', 'movies.csv', 'tags.csv', 'links.csv'];
const GENOME_FILES = [...CSV_FILES, 'genome-scores.csv', 'genome-tags.csv'];

/** The files of each unpacked release. The first is the ratings file, whose presence marks the release installed. */
export const RELEASE_FILES: Readonly<Record<ReleaseName, readonly string[]>> = {
  'ml-latest-small': CSV_FILES,
  'ml-100k': ['u.data', 'u.item', 'u.user', 'u.genre', 'u.occupation', 'u.info'],
  'ml-1m': ['ratings.dat', 'movies.dat', 'users.dat'],
  'ml-10m': ['ratings.dat', 'movies.dat', 'tags.dat'],
  'ml-20m': GENOME_FILES,
  'ml-25m': GENOME_FILES,
  'ml-32m': CSV_FILES,
  'ml-latest': GENOME_FILES,
};

function shellQuote(p: string): string {
  return /^[\w@%+=:,./-]+$/.test(p) ? p : `'${p.replaceAll("'", "'\\''")}'`;
}

function withSlash(base: string): string {
  return base.endsWith('/') ? base : `${base}/`;
}

/** How to do by hand what fetchRelease does; appended to network errors. */
export function manualInstructions(name: ReleaseName, dataDir: string, baseUrl: string = GROUPLENS_BASE): string {
  const release = RELEASES[name];
  const target = path.join(dataDir, name);
  const files = RELEASE_FILES[name];
  const renameHint =
    release.folder === name ? '' : ` (the archive's top folder is ${release.folder}/: rename it to ${name})`;
  return [
    `To install ${name} by hand:`,
    `  1. Download ${withSlash(baseUrl)}${release.archive}`,
    `  2. Unzip it so that its files are directly in ${target}${path.sep}${renameHint},`,
    `     e.g. ${path.join(target, files[0])} exists. Expected files: ${files.join(', ')}`,
    `  3. Run: npx cinerec data import ${shellQuote(target)}`,
  ].join('\n');
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort();
}

export async function fetchRelease(name: ReleaseName, options: FetchOptions): Promise<FetchResult> {
  const release = RELEASES[name];
  const dataDir = path.resolve(options.dataDir);
  const target = path.join(dataDir, name);
  const progress = options.progress ?? silentProgress;
  const fetchImpl = options.fetchImpl ?? globalThis.fetch;
  const baseUrl = withSlash(options.baseUrl ?? GROUPLENS_BASE);

  const targetExists = await exists(target);
  if (targetExists && !options.force) {
    if (await exists(path.join(target, RELEASE_FILES[name][0]))) {
      return { release: name, dir: target, files: await listFiles(target), bytes: 0, checksum: null, skipped: true };
    }
    // A non-empty folder without the ratings file was put there by someone else: don't silently replace it.
    if ((await readdir(target)).length > 0) {
      throw new FetchError(
        `${target} exists but does not hold ${name} (no ${RELEASE_FILES[name][0]}).\n` +
          'Remove it, or fetch again with --force to replace it.',
        name,
        'conflict',
      );
    }
  }

  const partPath = path.join(dataDir, `.${release.archive}.part`);
  const tmpDir = path.join(dataDir, `.${name}.tmp-${process.pid}`);
  const ctx: Ctx = { release, dataDir, baseUrl, fetchImpl, progress };
  try {
    // Fetch the published checksum first: if it is unavailable there is no point downloading hundreds of MB.
    const expected = await expectedChecksum(ctx, options.expected);
    await mkdir(dataDir, { recursive: true });
    const download = await downloadArchive(ctx, partPath);
    verify(release, expected, download);

    await rm(tmpDir, { recursive: true, force: true });
    await mkdir(tmpDir);
    const files = await unpack(ctx, partPath, tmpDir);
    if (!files.includes(RELEASE_FILES[name][0])) {
      throw new FetchError(
        `${release.archive} does not contain ${release.folder}/${RELEASE_FILES[name][0]}; it is not a ${name} archive.`,
        name,
        'archive',
      );
    }
    await install(tmpDir, target, `.${name}.old-${process.pid}`);
    await rm(partPath, { force: true });
    const checksum: FetchChecksum = expected.sha256
      ? { algorithm: 'sha256', value: download.sha256, source: expected.source }
      : { algorithm: 'md5', value: download.md5, source: expected.source };
    return { release: name, dir: target, files, bytes: download.bytes, checksum, skipped: false };
  } catch (err) {
    await rm(tmpDir, { recursive: true, force: true }).catch(() => {});
    await rm(partPath, { force: true }).catch(() => {});
    if (err instanceof FetchError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw new FetchError(`Could not install ${name} into ${target}: ${message}`, name, 'filesystem', { cause: err });
  }
}

interface Ctx {
  release: Release;
  dataDir: string;
  baseUrl: string;
  fetchImpl: typeof fetch;
  progress: Progress;
}

interface Expected {
  sha256?: string;
  md5?: string;
  bytes?: number;
  source: 'pinned' | 'published';
}

interface Download {
  bytes: number;
  sha256: string;
  md5: string;
}

function networkError(ctx: Ctx, url: string, what: string, cause?: unknown): FetchError {
  const reason = cause instanceof Error ? describeNetworkError(cause) : '';
  return new FetchError(
    `Could not download ${url}: ${what}${reason ? ` (${reason})` : ''}.\n` +
      'Check your internet connection (or proxy), or install the data set by hand.\n\n' +
      manualInstructions(ctx.release.name, ctx.dataDir),
    ctx.release.name,
    'network',
    { cause },
  );
}

/** undici hides the useful part (ENOTFOUND, ECONNREFUSED...) in `cause`. */
function describeNetworkError(err: Error): string {
  const cause = err.cause;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return code && !cause.message.includes(code) ? `${code} ${cause.message}`.trim() : cause.message;
  }
  return err.message;
}

/** A pass-through that lets `onChunk` look at every chunk on its way. */
function tap(onChunk: (chunk: Buffer) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
      onChunk(chunk);
      done(null, chunk);
    },
  });
}

async function get(ctx: Ctx, url: string): Promise<Response> {
  let res: Response;
  try {
    res = await ctx.fetchImpl(url);
  } catch (err) {
    throw networkError(ctx, url, 'request failed', err);
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel().catch(() => {});
    throw networkError(ctx, url, `HTTP ${res.status} ${res.statusText}`.trim());
  }
  return res;
}

async function expectedChecksum(ctx: Ctx, override: FetchOptions['expected']): Promise<Expected> {
  const { release } = ctx;
  const pinned = override ?? release;
  if (pinned.sha256 || pinned.md5) {
    return { sha256: pinned.sha256, md5: pinned.md5, bytes: pinned.bytes, source: 'pinned' };
  }
  if (!release.checksumUrl) {
    throw new FetchError(
      `No checksum known for ${release.name}; refusing to install it unverified.`,
      release.name,
      'checksum',
    );
  }
  // An overridden base (mirror, tests) must serve its own .md5 next to the archive.
  const url = ctx.baseUrl === GROUPLENS_BASE ? release.checksumUrl : `${ctx.baseUrl}${release.archive}.md5`;
  const text = await (await get(ctx, url)).text();
  // Accept both `<md5>  file` (md5sum) and `MD5 (file) = <md5>` (BSD md5) layouts.
  const md5 = /\b[0-9a-f]{32}\b/i.exec(text)?.[0].toLowerCase();
  if (!md5) {
    throw new FetchError(`${url} does not contain an md5 checksum.`, release.name, 'checksum');
  }
  return { md5, bytes: pinned.bytes, source: 'published' };
}

async function downloadArchive(ctx: Ctx, partPath: string): Promise<Download> {
  const url = `${ctx.baseUrl}${ctx.release.archive}`;
  const res = await get(ctx, url);
  const length = Number(res.headers.get('content-length'));
  const total = Number.isFinite(length) && length > 0 ? length : (ctx.release.bytes ?? 0);

  const sha256 = createHash('sha256');
  const md5 = createHash('md5');
  let bytes = 0;
  ctx.progress.start(total, `Downloading ${ctx.release.archive}`);
  try {
    const body = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
    // One pass: hash and count while streaming to disk, so the archive never sits in memory.
    const hashing = tap((chunk) => {
      sha256.update(chunk);
      md5.update(chunk);
      bytes += chunk.length;
      ctx.progress.update(bytes);
    });
    await pipeline(body, hashing, createWriteStream(partPath));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Local disk errors are not network errors: report them as they are.
    if (code && ['ENOSPC', 'EACCES', 'EPERM', 'EROFS', 'EDQUOT', 'EISDIR'].includes(code)) throw err;
    throw networkError(ctx, url, `connection lost after ${bytes} bytes`, err);
  } finally {
    ctx.progress.stop();
  }
  return { bytes, sha256: sha256.digest('hex'), md5: md5.digest('hex') };
}

function verify(release: Release, expected: Expected, actual: Download): void {
  const problems: string[] = [];
  if (expected.bytes !== undefined && expected.bytes !== actual.bytes) {
    problems.push(`size: expected ${expected.bytes} bytes, got ${actual.bytes}`);
  }
  if (expected.sha256 && expected.sha256.toLowerCase() !== actual.sha256) {
    problems.push(`sha256: expected ${expected.sha256.toLowerCase()}, got ${actual.sha256}`);
  }
  if (expected.md5 && expected.md5.toLowerCase() !== actual.md5) {
    problems.push(`md5: expected ${expected.md5.toLowerCase()}, got ${actual.md5}`);
  }
  if (problems.length > 0) {
    throw new FetchError(
      `Checksum mismatch for ${release.name} (${release.archive}, ${expected.source} checksum):\n` +
        problems.map((p) => `  ${p}`).join('\n') +
        '\nThe download is corrupt or was tampered with; nothing was installed. Try again later.',
      release.name,
      'checksum',
    );
  }
}

/** Maps an archive entry to its path below the release folder; null for entries to skip. Throws on zip-slip. */
function entryPath(release: Release, fileName: string): string | null {
  if (fileName.endsWith('/')) return null;
  const parts = fileName.split('/');
  if (
    fileName.startsWith('/') ||
    /^[a-zA-Z]:/.test(fileName) ||
    fileName.includes('\\') ||
    parts.includes('..') ||
    fileName.includes('\0')
  ) {
    throw new FetchError(
      `${release.archive} contains an unsafe path "${fileName}"; refusing to unpack it.`,
      release.name,
      'archive',
    );
  }
  // macOS Finder metadata, never data.
  if (parts[0] === '__MACOSX') return null;
  const rel = (parts[0] === release.folder ? parts.slice(1) : parts).filter((p) => p !== '' && p !== '.');
  return rel.length > 0 ? rel.join('/') : null;
}

async function unpack(ctx: Ctx, archivePath: string, destDir: string): Promise<string[]> {
  const { release, progress } = ctx;
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(archivePath, { lazyEntries: true, autoClose: false });
  } catch (err) {
    throw archiveError(release, err);
  }
  const files: string[] = [];
  // Progress in archive bytes: entry sizes are only known one at a time, but the archive size is known up front.
  progress.start(zip.fileSize, `Unpacking ${release.archive}`);
  let done = 0;
  try {
    for await (const entry of iterateEntries(release, zip)) {
      const rel = entryPath(release, entry.fileName);
      if (rel === null) continue;
      const dest = path.join(destDir, rel);
      if (path.relative(destDir, dest).startsWith('..')) {
        throw new FetchError(
          `${release.archive} contains an unsafe path "${entry.fileName}".`,
          release.name,
          'archive',
        );
      }
      await mkdir(path.dirname(dest), { recursive: true });
      let stream: Readable;
      try {
        stream = await zip.openReadStreamPromise(entry);
      } catch (err) {
        throw archiveError(release, err);
      }
      const ratio = entry.compressedSize / Math.max(1, entry.uncompressedSize);
      let written = 0;
      const counting = tap((chunk) => {
        written += chunk.length;
        progress.update(done + Math.floor(written * ratio));
      });
      try {
        await pipeline(stream, counting, createWriteStream(dest));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // yauzl's CRC/size/inflate failures carry no errno code; disk errors do.
        throw code ? err : archiveError(release, err);
      }
      done += entry.compressedSize;
      progress.update(done);
      files.push(rel);
    }
    // Headers and the central directory make up the rest of the archive.
    progress.update(zip.fileSize);
  } finally {
    zip.close();
    progress.stop();
  }
  return files.sort();
}

/** yauzl rejects unsafe names itself; this turns that into our zip-slip FetchError. */
async function* iterateEntries(release: Release, zip: yauzl.ZipFile): AsyncGenerator<yauzl.Entry> {
  const it = zip.eachEntry();
  while (true) {
    let next: IteratorResult<yauzl.Entry>;
    try {
      next = await it.next();
    } catch (err) {
      throw archiveError(release, err);
    }
    if (next.done) return;
    yield next.value;
  }
}

function archiveError(release: Release, err: unknown): FetchError {
  const message = err instanceof Error ? err.message : String(err);
  const unsafe = /invalid relative path|absolute path|invalid characters/.test(message);
  return new FetchError(
    unsafe
      ? `${release.archive} contains an unsafe path (${message}); refusing to unpack it.`
      : `${release.archive} is not a valid zip archive: ${message}`,
    release.name,
    'archive',
    { cause: err },
  );
}

/** Swap the unpacked folder in with renames, so `target` is never half-written. */
async function install(tmpDir: string, target: string, oldName: string): Promise<void> {
  const old = path.join(path.dirname(target), oldName);
  let moved = false;
  if (await exists(target)) {
    await rm(old, { recursive: true, force: true });
    await rename(target, old);
    moved = true;
  }
  try {
    await rename(tmpDir, target);
  } catch (err) {
    if (moved) await rename(old, target).catch(() => {});
    throw err;
  }
  if (moved) await rm(old, { recursive: true, force: true });
}
