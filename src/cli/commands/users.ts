import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { PredictionModel, UserView } from '../../serving/views.ts';
import { output, withClient } from '../context.ts';
import { table, yearTitle } from '../format.ts';
import { positiveInt } from '../parse.ts';
import { ratingList } from './recommend.ts';

function render(u: UserView): string {
  return [
    `user ${u.userId}: ${u.ratings} rating${u.ratings === 1 ? '' : 's'}, ${u.positive} positive${u.meanRating !== null ? `, mean ${u.meanRating.toFixed(2)}` : ''}; taste cluster ${u.cluster}; scenario ${u.scenario}${u.live ? ' (live: folded in until the next training)' : ''}`,
    table(
      ['id', 'title', 'rating', 'rated at'],
      u.history.map((h) => [
        h.movieId,
        yearTitle(h),
        h.rating.toFixed(1),
        new Date(h.timestamp * 1000).toISOString().slice(0, 10),
      ]),
    ),
  ].join('\n');
}

/** `users add|rate|show`, `predict`: viewers created and changed while the catalogue is live. */
export function registerUsers(program: Command): void {
  program
    .command('predict')
    .description('predicted rating of movies by a user (biased MF by default, or --model neural)')
    .requiredOption('--user <id>', 'user id', positiveInt('--user'))
    .requiredOption('--movie <ids>', 'movie id(s), comma-separated', (v: string) => {
      if (!/^\d+(,\d+)*$/.test(v.trim()))
        throw new InvalidArgumentError(`--movie must be movie ids such as 2 or 1,2,3, not "${v}"`);
      return v.trim().split(',').map(Number);
    })
    .option(
      '--model <name>',
      'mf (biased matrix factorisation, the lower RMSE) or neural (autoencoder codes + MLP; live users encoded at once)',
      (v: string): PredictionModel => {
        if (v !== 'mf' && v !== 'neural') throw new InvalidArgumentError(`--model must be mf or neural, not "${v}"`);
        return v;
      },
      'mf',
    )
    .action(async (opts: { user: number; movie: number[]; model: PredictionModel }, cmd: Command) => {
      await withClient(cmd, async (c) =>
        output(cmd, await c.predictions(opts.user, opts.movie, opts.model), (r) =>
          [
            `predicted ratings for user ${r.userId} (${r.model})`,
            table(
              ['id', 'title', 'predicted', 'rated'],
              r.items.map((m) => [
                m.movieId,
                yearTitle(m),
                m.predicted.toFixed(2),
                m.rating === null ? '' : m.rating.toFixed(1),
              ]),
            ),
          ].join('\n'),
        ),
      );
    });

  const users = program.command('users').description('viewers: create, rate, show');
  users
    .command('add')
    .description('create a user with ratings; prints the new id')
    .requiredOption('--ratings <list>', 'movieId:rating pairs, e.g. "1:5,32:4.5,260:4"', ratingList)
    .action(async (opts: { ratings: { movieId: number; rating: number }[] }, cmd: Command) => {
      await withClient(cmd, async (c) => output(cmd, await c.addUser(opts.ratings), render));
    });
  users
    .command('rate')
    .description("add or change a user's ratings")
    .argument('<userId>', 'user id', positiveInt('userId'))
    .requiredOption('--ratings <list>', 'movieId:rating pairs, e.g. "1:5,32:4.5"', ratingList)
    .action(async (id: number, opts: { ratings: { movieId: number; rating: number }[] }, cmd: Command) => {
      await withClient(cmd, async (c) => output(cmd, await c.rate(id, opts.ratings), render));
    });
  users
    .command('show')
    .description("a user's ratings (latest first), counts and the router's scenario")
    .argument('<userId>', 'user id', positiveInt('userId'))
    .option('--limit <n>', 'history rows', positiveInt('--limit', 10000), 20)
    .action(async (id: number, opts: { limit: number }, cmd: Command) => {
      await withClient(cmd, async (c) => output(cmd, await c.user(id, opts.limit), render));
    });
}
