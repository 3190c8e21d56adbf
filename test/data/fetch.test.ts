import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import yazl from 'yazl';
import { FetchError, fetchRelease, MOVIELENS_TERMS, manualInstructions } from '../../src/data/fetch.ts';
import type { Progress } from '../../src/util/progress.ts';

function buildZip(entries: Record<string, string | null>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, content] of Object.entries(entries)) {
    if (content === null) zip.addEmptyDirectory(name);
    else zip.addBuffer(Buffer.from(content), name);
  }
  zip.end();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const md5 = (b: Buffer): string => createHash('md5').update(b).digest('hex');

const MOVIES = 'movieId,title,genres\n1,Toy Story (1995),Animation|Children\n';
const RATINGS = 'userId,movieId,rating,timestamp\n1,1,4.0,964982703\n';

describe('fetchRelease', () => {
  const routes = new Map<string, Buffer | string>();
  let server: Server;
  let baseUrl: string;
  let root: string;
  let small: Buffer;
  let tenM: Buffer;

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'cinerec-fetch-'));
    small = await buildZip({
      'ml-latest-small/': null,
      'ml-latest-small/movies.csv': MOVIES,
      'ml-latest-small/ratings.csv': RATINGS,
      'ml-latest-small/README.txt': 'readme',
    });
    tenM = await buildZip({
      'ml-10M100K/': null,
      'ml-10M100K/movies.dat': '1::Toy Story (1995)::Animation\n',
      'ml-10M100K/ratings.dat': '1::1::5::838985046\n',
      'ml-10M100K/tags.dat': '15::4973::excellent!::1215184630\n',
    });
    // yazl refuses to write '..' names, so write a same-length placeholder and patch the bytes.
    const slip = await buildZip({ 'ml-latest-small/ratings.csv': RATINGS, 'ml-latest-small/XX/evil.txt': 'pwned' });
    const from = Buffer.from('ml-latest-small/XX/evil.txt');
    const to = Buffer.from('ml-latest-small/../evil.txt');
    for (let i = slip.indexOf(from); i !== -1; i = slip.indexOf(from, i + 1)) to.copy(slip, i);

    routes.set('/ml-latest-small.zip', small);
    routes.set('/ml-10m.zip', tenM);
    routes.set('/ml-10m.zip.md5', `${md5(tenM)}  ml-10m.zip\n`);
    routes.set('/bad/ml-10m.zip', tenM);
    routes.set('/bad/ml-10m.zip.md5', `MD5 (ml-10m.zip) = ${'0'.repeat(32)}\n`);
    routes.set('/slip/ml-latest-small.zip', slip);

    server = createServer((req, res) => {
      const body = routes.get(req.url ?? '');
      if (body === undefined) {
        res.writeHead(404).end('not found');
        return;
      }
      res.writeHead(200, { 'content-length': Buffer.byteLength(body) }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(root, { recursive: true, force: true });
  });

  let n = 0;
  const freshDataDir = (): string => path.join(root, `data-${++n}`);

  it('downloads, verifies and unpacks with the top folder flattened', async () => {
    const dataDir = freshDataDir();
    // Each phase reports as start, its final update, stop.
    const calls: string[] = [];
    let last = -1;
    const progress: Progress = {
      start: (total, label) => calls.push(`start ${total} ${label}`),
      update: (done) => {
        last = done;
      },
      stop: () => calls.push(`update ${last}`, 'stop'),
    };
    const result = await fetchRelease('ml-latest-small', {
      dataDir,
      baseUrl,
      progress,
      expected: { sha256: sha256(small), bytes: small.length },
    });
    const dir = path.join(dataDir, 'ml-latest-small');
    assert.deepEqual(result, {
      release: 'ml-latest-small',
      dir,
      files: ['README.txt', 'movies.csv', 'ratings.csv'],
      bytes: small.length,
      checksum: { algorithm: 'sha256', value: sha256(small), source: 'pinned' },
      skipped: false,
    });
    assert.equal(await readFile(path.join(dir, 'ratings.csv'), 'utf8'), RATINGS);
    assert.equal(await readFile(path.join(dir, 'movies.csv'), 'utf8'), MOVIES);
    // No archive temp, no unpack temp left behind.
    assert.deepEqual(await readdir(dataDir), ['ml-latest-small']);
    assert.deepEqual(calls, [
      `start ${small.length} Downloading ml-latest-small.zip`,
      `update ${small.length}`,
      'stop',
      `start ${small.length} Unpacking ml-latest-small.zip`,
      `update ${small.length}`,
      'stop',
    ]);
  });

  it('rejects a checksum mismatch and leaves nothing behind', async () => {
    const dataDir = freshDataDir();
    const wrong = 'f'.repeat(64);
    await assert.rejects(
      fetchRelease('ml-latest-small', { dataDir, baseUrl, expected: { sha256: wrong } }),
      (err: unknown) => {
        assert.ok(err instanceof FetchError);
        assert.equal(err.code, 'checksum');
        assert.match(err.message, /ml-latest-small/);
        assert.ok(err.message.includes(wrong));
        assert.ok(err.message.includes(sha256(small)));
        return true;
      },
    );
    assert.deepEqual(await readdir(dataDir), []);
  });

  it('rejects a size mismatch', async () => {
    const dataDir = freshDataDir();
    await assert.rejects(
      fetchRelease('ml-latest-small', {
        dataDir,
        baseUrl,
        expected: { sha256: sha256(small), bytes: small.length + 1 },
      }),
      (err: unknown) => err instanceof FetchError && err.code === 'checksum' && err.message.includes('bytes'),
    );
    assert.deepEqual(await readdir(dataDir), []);
  });

  it("verifies against GroupLens' published .md5 and flattens ml-10M100K into ml-10m", async () => {
    const dataDir = freshDataDir();
    const result = await fetchRelease('ml-10m', { dataDir, baseUrl });
    assert.equal(result.dir, path.join(dataDir, 'ml-10m'));
    assert.deepEqual(result.files, ['movies.dat', 'ratings.dat', 'tags.dat']);
    assert.deepEqual(result.checksum, { algorithm: 'md5', value: md5(tenM), source: 'published' });
    assert.equal(await readFile(path.join(dataDir, 'ml-10m', 'ratings.dat'), 'utf8'), '1::1::5::838985046\n');
    assert.deepEqual(await readdir(dataDir), ['ml-10m']);
  });

  it('rejects an archive whose published .md5 does not match', async () => {
    const dataDir = freshDataDir();
    await assert.rejects(
      fetchRelease('ml-10m', { dataDir, baseUrl: `${baseUrl}bad` }),
      (err: unknown) =>
        err instanceof FetchError &&
        err.code === 'checksum' &&
        err.message.includes('0'.repeat(32)) &&
        err.message.includes(md5(tenM)),
    );
    assert.deepEqual(await readdir(dataDir), []);
  });

  it('skips without network when the release is already there', async () => {
    const dataDir = freshDataDir();
    await mkdir(path.join(dataDir, 'ml-latest-small'), { recursive: true });
    await writeFile(path.join(dataDir, 'ml-latest-small', 'ratings.csv'), RATINGS);
    const noNetwork: typeof fetch = () => Promise.reject(new Error('network used'));
    const result = await fetchRelease('ml-latest-small', { dataDir, baseUrl, fetchImpl: noNetwork });
    assert.equal(result.skipped, true);
    assert.equal(result.checksum, null);
    assert.deepEqual(result.files, ['ratings.csv']);
  });

  it('replaces an existing release with force', async () => {
    const dataDir = freshDataDir();
    const dir = path.join(dataDir, 'ml-latest-small');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'ratings.csv'), 'old');
    await writeFile(path.join(dir, 'stale.txt'), 'old');
    const result = await fetchRelease('ml-latest-small', {
      dataDir,
      baseUrl,
      force: true,
      expected: { sha256: sha256(small) },
    });
    assert.equal(result.skipped, false);
    assert.deepEqual(await readdir(dir), ['README.txt', 'movies.csv', 'ratings.csv']);
    assert.equal(await readFile(path.join(dir, 'ratings.csv'), 'utf8'), RATINGS);
    assert.deepEqual(await readdir(dataDir), ['ml-latest-small']);
  });

  it('refuses to overwrite an unrelated non-empty folder without force', async () => {
    const dataDir = freshDataDir();
    await mkdir(path.join(dataDir, 'ml-latest-small'), { recursive: true });
    await writeFile(path.join(dataDir, 'ml-latest-small', 'notes.txt'), 'mine');
    await assert.rejects(
      fetchRelease('ml-latest-small', { dataDir, baseUrl, expected: { sha256: sha256(small) } }),
      (err: unknown) => err instanceof FetchError && err.code === 'conflict' && /--force/.test(err.message),
    );
    assert.deepEqual(await readdir(path.join(dataDir, 'ml-latest-small')), ['notes.txt']);
  });

  it('explains how to install by hand when the connection is refused', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const dataDir = freshDataDir();
    await assert.rejects(
      fetchRelease('ml-latest-small', { dataDir, baseUrl: `http://127.0.0.1:${port}/` }),
      (err: unknown) => {
        assert.ok(err instanceof FetchError);
        assert.equal(err.code, 'network');
        assert.ok(err.message.includes(`http://127.0.0.1:${port}/ml-latest-small.zip`));
        assert.match(err.message, /ECONNREFUSED/);
        assert.ok(err.message.includes(manualInstructions('ml-latest-small', dataDir)));
        assert.ok(err.message.includes('https://files.grouplens.org/datasets/movielens/ml-latest-small.zip'));
        assert.ok(err.message.includes(path.join(dataDir, 'ml-latest-small', 'ratings.csv')));
        assert.ok(err.message.includes(`cinerec data import ${path.join(dataDir, 'ml-latest-small')}`));
        return true;
      },
    );
    assert.deepEqual(await readdir(dataDir), []);
  });

  it('treats an HTTP error status as a network failure', async () => {
    const dataDir = freshDataDir();
    await assert.rejects(
      fetchRelease('ml-1m', { dataDir, baseUrl }),
      (err: unknown) =>
        err instanceof FetchError &&
        err.code === 'network' &&
        err.message.includes('HTTP 404') &&
        err.message.includes('cinerec data import'),
    );
  });

  it('rejects zip-slip entries', async () => {
    const dataDir = freshDataDir();
    const archive = routes.get('/slip/ml-latest-small.zip') as Buffer;
    await assert.rejects(
      fetchRelease('ml-latest-small', { dataDir, baseUrl: `${baseUrl}slip/`, expected: { sha256: sha256(archive) } }),
      (err: unknown) => err instanceof FetchError && err.code === 'archive' && /unsafe path/.test(err.message),
    );
    assert.deepEqual(await readdir(dataDir), []);
    await assert.rejects(readFile(path.join(root, 'evil.txt')));
    await assert.rejects(readFile(path.join(dataDir, 'evil.txt')));
  });
});

describe('manualInstructions', () => {
  it('names the URL, the target folder, the files and the import command', () => {
    const text = manualInstructions('ml-10m', '/srv/data');
    assert.match(text, /https:\/\/files\.grouplens\.org\/datasets\/movielens\/ml-10m\.zip/);
    assert.match(text, /ml-10M100K\/: rename it to ml-10m/);
    assert.match(text, /\/srv\/data\/ml-10m\/ratings\.dat/);
    assert.match(text, /ratings\.dat, movies\.dat, tags\.dat/);
    assert.match(text, /cinerec data import \/srv\/data\/ml-10m/);
    assert.match(manualInstructions('ml-25m', 'data'), /genome-scores\.csv, genome-tags\.csv/);
    assert.match(manualInstructions('ml-100k', 'data'), /u\.data, u\.item, u\.user/);
  });

  it('quotes paths with spaces for the shell', () => {
    assert.match(manualInstructions('ml-1m', '/my data'), /cinerec data import '\/my data\/ml-1m'/);
  });
});

describe('MOVIELENS_TERMS', () => {
  it('states the usage terms and the citation', () => {
    assert.match(MOVIELENS_TERMS, /GroupLens/);
    assert.match(MOVIELENS_TERMS, /commercial/);
    assert.match(MOVIELENS_TERMS, /Harper and Joseph A\. Konstan/);
    assert.match(MOVIELENS_TERMS, /https:\/\/doi\.org\/10\.1145\/2827872/);
  });
});
