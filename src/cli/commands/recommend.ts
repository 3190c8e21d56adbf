import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { output, withCinerec } from '../context.ts';
import { table, yearTitle } from '../format.ts';
import { list, positiveInt } from '../parse.ts';

function match(value: string): 'any' | 'all' {
  if (value !== 'any' && value !== 'all')
    throw new InvalidArgumentError(`--match must be "any" or "all", not "${value}"`);
  return value;
}

export function registerRecommend(program: Command): void {
  program
    .command('recommend')
    .description('recommend movies; with --genres: the most popular titles of those genres (cold start)')
    .option('--genres <names>', 'comma-separated genres, e.g. Comedy,Romance', list)
    .option('--match <mode>', 'any: at least one genre (more matches rank first); all: every genre', match, 'any')
    .option('--k <n>', 'how many movies', positiveInt('--k', 10000))
    .action(async (opts: { genres?: string[]; match: 'any' | 'all'; k?: number }, cmd: Command) => {
      await withCinerec(cmd, async (c) => {
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
    });
}
