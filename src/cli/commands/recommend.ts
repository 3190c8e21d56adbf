import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { ValidationError } from '../../util/errors.ts';
import { output, withCinerec } from '../context.ts';
import { table, yearTitle } from '../format.ts';
import { list, positiveInt } from '../parse.ts';
import { similarMethod } from './content.ts';

function ids(value: string, previous: number[] = []): number[] {
  const out = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const bad = out.find((s) => !/^\d+$/.test(s) || Number(s) < 1);
  if (bad !== undefined || out.length === 0)
    throw new InvalidArgumentError(`--watched must be movie ids separated by commas (e.g. 1,2,3), not "${value}"`);
  return [...previous, ...out.map(Number)];
}

function match(value: string): 'any' | 'all' {
  if (value !== 'any' && value !== 'all')
    throw new InvalidArgumentError(`--match must be "any" or "all", not "${value}"`);
  return value;
}

export function registerRecommend(program: Command): void {
  program
    .command('recommend')
    .description(
      'recommend movies; --watched: similar in content to movies you watched; --genres: the most popular titles of those genres (cold start)',
    )
    .option('--watched <ids>', 'movie ids you watched, e.g. 1,2,3', ids)
    .option(
      '--method <m>',
      'with --watched: content (all movies) or cluster (their k-means clusters)',
      similarMethod,
      'content',
    )
    .option('--genres <names>', 'comma-separated genres, e.g. Comedy,Romance', list)
    .option('--match <mode>', 'any: at least one genre (more matches rank first); all: every genre', match, 'any')
    .option('--k <n>', 'how many movies', positiveInt('--k', 10000))
    .action(
      async (
        opts: {
          genres?: string[];
          match: 'any' | 'all';
          k?: number;
          watched?: number[];
          method: 'content' | 'cluster';
        },
        cmd: Command,
      ) => {
        await withCinerec(cmd, async (c) => {
          if (opts.watched) {
            if (opts.genres) throw new ValidationError('give --watched or --genres, not both', '--watched');
            const result = await c.recommendFromWatched({
              watched: opts.watched,
              method: opts.method,
              ...(opts.k ? { k: opts.k } : {}),
            });
            for (const w of result.warnings) process.stderr.write(`cinerec: warning: ${w}\n`);
            output(cmd, result, (r) =>
              [
                `similar in content to what you watched (${r.strategy})`,
                table(
                  ['#', 'id', 'title', 'genres', 'score', 'why'],
                  r.items.map((m, i) => [
                    i + 1,
                    m.movieId,
                    yearTitle(m),
                    m.genres.join('|'),
                    m.score.toFixed(3),
                    `${m.reason ?? ''}${m.promoted ? ' (promoted)' : ''}`,
                  ]),
                ),
              ].join('\n'),
            );
            return;
          }
          const result = c.popularList({
            genres: opts.genres ?? [],
            match: opts.match,
            ...(opts.k ? { k: opts.k } : {}),
          });
          output(cmd, result, (r) =>
            [
              `most popular${r.genres.length ? ` in ${r.genres.join(r.match === 'all' ? ' and ' : ' or ')}` : ''} (weighted rating, m = ${r.minVotes.toFixed(1)} votes, C = ${r.meanRating.toFixed(3)})`,
              table(
                ['#', 'id', 'title', 'genres', 'score', 'votes', ''],
                r.items.map((m, i) => [
                  i + 1,
                  m.movieId,
                  yearTitle(m),
                  m.genres.join('|'),
                  m.score.toFixed(3),
                  m.votes,
                  m.promoted ? 'promoted' : '',
                ]),
              ),
            ].join('\n'),
          );
        });
      },
    );
}
