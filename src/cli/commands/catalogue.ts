import type { Command } from 'commander';
import { output, withClient } from '../context.ts';
import { table, yearTitle } from '../format.ts';
import { movieId, nonNegativeInt, positiveInt } from '../parse.ts';

export function registerCatalogue(program: Command): void {
  program
    .command('genres')
    .description('list the genres with their movie counts')
    .action(async (_opts: unknown, cmd: Command) => {
      await withClient(cmd, async (c) => {
        output(cmd, await c.genres(), (g) =>
          table(
            ['genre', 'movies'],
            g.map((x) => [x.genre, x.movies]),
          ),
        );
      });
    });

  const movies = program.command('movies').description('look at the catalogue');

  movies
    .command('show')
    .description('details of one movie: title, year, genres, top tags, links, popularity')
    .argument('<movieId>', 'movie id', movieId)
    .action(async (id: number, _opts: unknown, cmd: Command) => {
      await withClient(cmd, async (c) => {
        const m = await c.movie(id);
        output(cmd, m, (d) =>
          [
            `${yearTitle(d)}  [${d.movieId}]`,
            `published title: ${d.title}`,
            `genres: ${d.genres.join(', ') || '(none)'}`,
            `popularity: score ${d.popularity.score.toFixed(3)}, ${d.popularity.votes} ratings${d.popularity.meanRating !== null ? `, mean ${d.popularity.meanRating.toFixed(2)}` : ''}, rank #${d.popularity.rank}`,
            `content cluster: ${d.cluster}`,
            `top tags: ${d.topTags.map((t) => (t.count > 1 ? `${t.tag} (${t.count})` : t.tag)).join(', ') || '(none)'}`,
            ...(d.imdbUrl ? [`IMDb: ${d.imdbUrl}`] : []),
            ...(d.tmdbUrl ? [`TMDb: ${d.tmdbUrl}`] : []),
            ...(d.rule
              ? [
                  `rule: ${d.rule.action}${d.rule.action === 'promote' ? ` ×${d.rule.boost}` : ''}${d.rule.until ? ` until ${d.rule.until}` : ''}`,
                ]
              : []),
          ].join('\n'),
        );
      });
    });

  movies
    .command('search')
    .description('search titles (case- and accent-insensitive), best matches first')
    .argument('<query...>', 'words of the title')
    .option('--limit <n>', 'results per page', positiveInt('--limit', 100), 20)
    .option('--offset <n>', 'results to skip', nonNegativeInt('--offset'), 0)
    .action(async (words: string[], opts: { limit: number; offset: number }, cmd: Command) => {
      await withClient(cmd, async (c) => {
        const result = await c.search(words.join(' '), opts);
        output(cmd, result, (r) =>
          r.total === 0
            ? `no movie matches "${r.query}"`
            : `${r.total} match${r.total === 1 ? '' : 'es'} for "${r.query}"\n${table(
                ['id', 'title', 'genres', 'ratings'],
                r.items.map((m) => [m.movieId, yearTitle(m), m.genres.join('|'), m.votes]),
              )}`,
        );
      });
    });
}
