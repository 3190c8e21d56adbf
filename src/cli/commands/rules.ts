import type { Command } from 'commander';
import { output, withClient } from '../context.ts';
import { table } from '../format.ts';
import { movieId, positiveNumber } from '../parse.ts';

export function registerRules(program: Command): void {
  const rules = program.command('rules').description('promote or block titles in every recommendation list');

  rules
    .command('block')
    .description('never recommend this movie')
    .argument('<movieId>', 'movie id', movieId)
    .option('--reason <text>', 'why (shown to operators)')
    .option('--until <date>', 'ISO date after which the rule stops applying')
    .action(async (id: number, opts: { reason?: string; until?: string }, cmd: Command) => {
      await withClient(cmd, async (c) => {
        const rule = await c.putRule({
          movieId: id,
          action: 'block',
          ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
          ...(opts.until !== undefined ? { until: opts.until } : {}),
        });
        output(cmd, rule, (r) => `blocked movie ${r.movieId}${r.until ? ` until ${r.until}` : ''}`);
      });
    });

  rules
    .command('promote')
    .description("multiply this movie's score in every list by the boost")
    .argument('<movieId>', 'movie id', movieId)
    .option('--boost <factor>', 'score multiplier above 0', positiveNumber('--boost'), 1.5)
    .option('--until <date>', 'ISO date after which the rule stops applying, e.g. 2026-12-31')
    .option('--reason <text>', 'why (shown to operators)')
    .action(async (id: number, opts: { boost: number; until?: string; reason?: string }, cmd: Command) => {
      await withClient(cmd, async (c) => {
        const rule = await c.putRule({
          movieId: id,
          action: 'promote',
          boost: opts.boost,
          ...(opts.until !== undefined ? { until: opts.until } : {}),
          ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
        });
        output(cmd, rule, (r) => `promoted movie ${r.movieId} ×${r.boost}${r.until ? ` until ${r.until}` : ''}`);
      });
    });

  rules
    .command('list')
    .description('list the rules')
    .action(async (_opts: unknown, cmd: Command) => {
      await withClient(cmd, async (c) => {
        output(cmd, await c.rules(), (rs) =>
          rs.length === 0
            ? 'no rules'
            : table(
                ['movie', 'title', 'action', 'boost', 'until', 'active', 'reason'],
                rs.map((r) => [
                  r.movieId,
                  r.title,
                  r.action,
                  r.action === 'promote' ? r.boost : '',
                  r.until ?? '',
                  r.active ? 'yes' : 'expired',
                  r.reason ?? '',
                ]),
              ),
        );
      });
    });

  rules
    .command('remove')
    .description('remove the rule of a movie')
    .argument('<movieId>', 'movie id', movieId)
    .action(async (id: number, _opts: unknown, cmd: Command) => {
      await withClient(cmd, async (c) => {
        await c.removeRule(id);
        output(cmd, { removed: id }, () => `removed the rule of movie ${id}`);
      });
    });
}
