import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { RoutedList } from '../../serving/views.ts';
import { ValidationError } from '../../util/errors.ts';
import { output, withClient } from '../context.ts';
import { table, yearTitle } from '../format.ts';
import { list, positiveInt } from '../parse.ts';
import { similarMethod } from './content.ts';

function match(value: string): 'any' | 'all' {
  if (value !== 'any' && value !== 'all')
    throw new InvalidArgumentError(`--match must be "any" or "all", not "${value}"`);
  return value;
}

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

/** "1:5,32:4.5" → ratings; shared by `recommend --ratings` and `users add/rate`. */
export function ratingList(value: string, previous: { movieId: number; rating: number }[] = []) {
  const out = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((pair) => {
      const m = /^(\d+)\s*:\s*(\d+(?:\.\d+)?)$/.exec(pair);
      if (!m) throw new InvalidArgumentError(`ratings must look like 1:5,32:4.5 (movieId:rating), not "${pair}"`);
      return { movieId: Number(m[1]), rating: Number(m[2]) };
    });
  if (out.length === 0) throw new InvalidArgumentError('ratings must name at least one movieId:rating');
  return [...previous, ...out];
}

function userId(value: string): number {
  return positiveInt('--user')(value);
}

export function renderRouted(r: RoutedList): string {
  return [
    `${r.scenario === 'override' ? 'strategy override' : `scenario ${r.scenario}`}: ${r.reason} (${r.strategy})`,
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
  ].join('\n');
}

interface RecommendOptions {
  genres?: string[];
  match: 'any' | 'all';
  k?: number;
  watched?: number[];
  ratings?: { movieId: number; rating: number }[];
  user?: number;
  method: 'content' | 'cluster' | 'hybrid';
  strategy?: string;
}

export function registerRecommend(program: Command): void {
  program
    .command('recommend')
    .description(
      'recommend movies; the router picks the path from what you give: --user (a known user), --ratings (anonymous), --watched (content), --genres (cold start)',
    )
    .option('--user <id>', 'a known user: their history decides the scenario', userId)
    .option('--ratings <list>', 'anonymous ratings, e.g. 1:5,32:4.5', ratingList)
    .option('--watched <ids>', 'movie ids you watched, e.g. 1,2,3', ids)
    .option('--genres <names>', 'comma-separated genres, e.g. Comedy,Romance', list)
    .option('--match <mode>', 'any: at least one genre (more matches rank first); all: every genre', match, 'any')
    .option(
      '--method <m>',
      'with --watched: content (all movies), cluster (their k-means clusters) or hybrid (ALS ⊕ content)',
      similarMethod,
      'content',
    )
    .option('--strategy <name>', 'override the router, e.g. ease, itemknn, content, popular')
    .option('--k <n>', 'how many movies', positiveInt('--k'))
    .action(async (opts: RecommendOptions, cmd: Command) => {
      await withClient(cmd, async (c) => {
        const personal = opts.user !== undefined || opts.ratings !== undefined || opts.watched !== undefined;
        if (!personal && opts.strategy === undefined) {
          // Genres only (or nothing): the cold-start list with its weighted-rating details.
          const result = await c.popular({
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
          return;
        }
        if (opts.watched && opts.genres && !opts.user && !opts.ratings)
          throw new ValidationError('give --watched or --genres, not both', '--watched');
        const methodStrategy =
          opts.method === 'cluster' ? 'content-cluster' : opts.method === 'hybrid' ? 'hybrid' : undefined;
        const strategy = opts.strategy ?? (opts.watched ? methodStrategy : undefined);
        const result = await c.recommend({
          ...(opts.user !== undefined ? { userId: opts.user } : {}),
          ...(opts.ratings ? { ratings: opts.ratings } : {}),
          ...(opts.watched ? { watched: opts.watched } : {}),
          ...(opts.genres ? { genres: opts.genres, match: opts.match } : {}),
          ...(opts.k ? { k: opts.k } : {}),
          ...(strategy ? { strategy } : {}),
        });
        for (const w of result.warnings) process.stderr.write(`cinerec: warning: ${w}\n`);
        output(cmd, result, renderRouted);
      });
    });
}
