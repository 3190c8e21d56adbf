import type { Command } from 'commander';
import type { Config } from '../../config/config.ts';
import { isReleaseName, RELEASES } from '../../data/releases.ts';
import { ConflictError, ValidationError } from '../../util/errors.ts';
import { terminalProgress } from '../../util/progress.ts';
import { httpClient } from '../client.ts';
import { configFor, emptyStoreMessage, openExistingStore, openStore, output, runningServer } from '../context.ts';
import { table } from '../format.ts';

export function registerData(program: Command): void {
  const data = program.command('data').description('get MovieLens data and import it into the store');

  data
    .command('fetch')
    .description(
      `download an official GroupLens release into <dataDir>/<release> (${Object.keys(RELEASES).join(', ')})`,
    )
    .argument('<release>', 'release name, e.g. ml-latest-small')
    .option('--force', 're-download even if the release is already there')
    .action(async (release: string, opts: { force?: boolean }, cmd: Command) => {
      if (!isReleaseName(release)) {
        throw new ValidationError(
          `unknown release "${release}"; choose one of: ${Object.keys(RELEASES).join(', ')}`,
          'release',
        );
      }
      const { config } = configFor(cmd);
      const { FetchError, fetchRelease, MOVIELENS_TERMS } = await import('../../data/fetch.ts');
      const result = await fetchRelease(release, {
        dataDir: config.dataDir,
        progress: terminalProgress(),
        ...(opts.force ? { force: true } : {}),
      }).catch((err: unknown) => {
        if (err instanceof FetchError) throw new ValidationError(err.message);
        throw err;
      });
      output(cmd, result, (r) =>
        [
          r.skipped
            ? `${r.release} is already in ${r.dir} (use --force to download again)`
            : `${r.release}: ${r.files.length} files in ${r.dir} (${(r.bytes / 1e6).toFixed(1)} MB, ${r.checksum?.algorithm} verified)`,
          `next: npx cinerec data import ${r.dir}`,
          '',
          MOVIELENS_TERMS,
        ].join('\n'),
      );
    });

  data
    .command('import')
    .description(
      'import a MovieLens directory (CSV, ml-1m/ml-10m ::, or ml-100k format) into the store, replacing its data',
    )
    .argument('<dir>', 'directory with the release files')
    .option('--lenient', 'skip and report bad lines instead of failing the whole import')
    .action(async (dir: string, opts: { lenient?: boolean }, cmd: Command) => {
      const { config } = configFor(cmd);
      const { detectFormat } = await import('../../data/formats.ts');
      const plan = detectFormat(dir);
      const server = await runningServer(config);
      if (server)
        throw new ConflictError(
          `a server (process ${server.pid}, ${server.url}) holds the store and serves its data: stop it before importing, since an import replaces the data set it serves`,
          'store',
        );
      const store = await openStore(config);
      try {
        const report = await store.importDataset(plan, {
          lenient: Boolean(opts.lenient),
          progress: terminalProgress(),
        });
        output(cmd, report, (r) => {
          const lines = [
            `imported ${r.dataset} (${r.format}) in ${r.seconds.toFixed(2)} s into ${config.store.path}`,
            table(
              ['movies', 'users', 'ratings', 'tags', 'genome tags', 'genome movies'],
              [
                [
                  r.counts.movies,
                  r.counts.users,
                  r.counts.ratings,
                  r.counts.tags,
                  r.counts.genomeTags,
                  r.counts.genomeMovies,
                ],
              ],
            ),
          ];
          if (r.skippedCount > 0) {
            lines.push(`skipped ${r.skippedCount} bad line(s):`);
            for (const i of r.skipped)
              lines.push(`  ${i.file}${i.line ? ` line ${i.line}` : ''}: ${i.field ? `${i.field}: ` : ''}${i.message}`);
            if (r.skippedCount > r.skipped.length) lines.push(`  … and ${r.skippedCount - r.skipped.length} more`);
          }
          return lines.join('\n');
        });
      } finally {
        await store.close();
      }
    });

  data
    .command('generate')
    .description(
      'write a seeded synthetic MovieLens-shaped release (CSV, as ml-25m) to try cinerec at any size; import it with `cinerec data import`',
    )
    .requiredOption('--ratings <n>', 'number of ratings, e.g. 200000, 200K or 25M')
    .option('--users <n>', 'users (default: 162,000 at 25 M ratings, scaled linearly)')
    .option('--movies <n>', 'movies (default: 62,423 at 25 M ratings, scaled with the square root)')
    .option('--genome', 'also write a tag genome (1,128 tags) for the most rated 22 % of the movies')
    .option('--seed <n>', 'random seed', '1')
    .option('--out <dir>', 'directory to write (default: <dataDir>/synthetic-<ratings>)')
    .action(
      async (
        opts: { ratings: string; users?: string; movies?: string; genome?: boolean; seed: string; out?: string },
        cmd: Command,
      ) => {
        const { config } = configFor(cmd);
        const ratings = countOption('ratings', opts.ratings);
        const size = syntheticSize(ratings);
        const users = opts.users === undefined ? size.users : countOption('users', opts.users);
        const movies = opts.movies === undefined ? size.movies : countOption('movies', opts.movies);
        const seed = countOption('seed', opts.seed, 0);
        const { join, resolve } = await import('node:path');
        const out = resolve(opts.out ?? join(config.dataDir, `synthetic-${opts.ratings.trim()}`));
        const { writeSyntheticMovieLens } = await import('../synthetic.ts');
        const summary = await writeSyntheticMovieLens(
          out,
          { users, movies, ratings, seed, ...(opts.genome ? { genome: {} } : {}) },
          terminalProgress(),
        ).catch((err: unknown) => {
          if (err instanceof RangeError) throw new ValidationError(err.message);
          throw err;
        });
        output(cmd, summary, (r) =>
          [
            `wrote ${r.ratings.toLocaleString('en-US')} ratings of ${r.users.toLocaleString('en-US')} users on ` +
              `${r.movies.toLocaleString('en-US')} movies, ${r.tags.toLocaleString('en-US')} tags` +
              (r.genome
                ? `, a genome of ${r.genome.tags.toLocaleString('en-US')} tags for ${r.genome.movies.toLocaleString('en-US')} movies`
                : '') +
              ` to ${r.dir} in ${r.seconds.toFixed(1)} s`,
            `next: npx cinerec data import ${r.dir}`,
          ].join('\n'),
        );
      },
    );

  data
    .command('info')
    .description('counts of movies, users, ratings, tags, genome coverage and the rating histogram')
    .action(async (_opts: unknown, cmd: Command) => {
      const { config } = configFor(cmd);
      const server = await runningServer(config);
      const info = server
        ? { store: config.store.path, ...(await httpClient(server.url, null).info()) }
        : await storeInfo(config);
      if (!info.dataset) throw new ValidationError(emptyStoreMessage(config));
      output(cmd, info, (i) => {
        if (!i.dataset) return '';
        const total = i.ratingHistogram.reduce((s, b) => s + b.count, 0);
        const maxCount = Math.max(1, ...i.ratingHistogram.map((b) => b.count));
        return [
          `data set ${i.dataset.name} (${i.dataset.format}), imported ${i.dataset.importedAt} from ${i.dataset.sourceDir}`,
          table(
            ['movies', 'users', 'ratings', 'tags', 'genome tags', 'genome coverage'],
            [
              [
                i.counts.movies,
                i.counts.users,
                i.counts.ratings,
                i.counts.tags,
                i.counts.genomeTags,
                `${i.counts.genomeMovies} movies (${((100 * i.counts.genomeMovies) / Math.max(1, i.counts.movies)).toFixed(1)}%)`,
              ],
            ],
          ),
          '',
          'rating histogram',
          ...i.ratingHistogram.map(
            (b) =>
              `${b.rating.toFixed(1).padStart(4)}  ${String(b.count).padStart(9)}  ${((100 * b.count) / total).toFixed(1).padStart(5)}%  ${'#'.repeat(Math.round((40 * b.count) / maxCount))}`,
          ),
        ].join('\n');
      });
    });
}

/** A count from the command line: digits (with optional _ or , separators) and an optional K or M suffix. */
function countOption(name: string, text: string, min = 1): number {
  const m = /^\s*([0-9][0-9_,]*(?:\.[0-9]+)?)\s*([kKmM]?)\s*$/.exec(text);
  const n = m
    ? Math.round(Number(m[1]!.replace(/[_,]/g, '')) * (m[2] ? (/k/i.test(m[2]) ? 1e3 : 1e6) : 1))
    : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min)
    throw new ValidationError(`--${name} must be a whole number ≥ ${min} (e.g. 200000, 200K, 25M), got ${text}`, name);
  return n;
}

/** ml-25m's shape scaled to `ratings`: users linearly, movies with the square root (density stays alike). */
export function syntheticSize(ratings: number): { users: number; movies: number } {
  const scale = ratings / 25_000_000;
  const users = Math.max(1, Math.min(ratings, Math.round(162_000 * scale)));
  const movies = Math.max(20, Math.round(62_423 * Math.sqrt(scale)));
  return { users, movies };
}

async function storeInfo(config: Config) {
  const store = await openExistingStore(config);
  try {
    return {
      store: config.store.path,
      dataset: await store.dataset(),
      counts: await store.counts(),
      ratingHistogram: await store.ratingHistogram(),
    };
  } finally {
    await store.close();
  }
}
