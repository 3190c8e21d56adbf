import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { readGenomeFile } from '../../data/genome-file.ts';
import type { SimilarMethodRequest } from '../../serving/views.ts';
import { output, withClient } from '../context.ts';
import { table, yearTitle } from '../format.ts';
import { list, movieId, positiveInt } from '../parse.ts';

export function similarMethod(value: string): SimilarMethodRequest {
  if (value !== 'auto' && value !== 'content' && value !== 'cluster' && value !== 'hybrid')
    throw new InvalidArgumentError(`--method must be "auto", "content", "cluster" or "hybrid", not "${value}"`);
  return value;
}

function year(value: string): number {
  const n = Number(value);
  if (!/^\d{4}$/.test(value.trim()) || n < 1870 || n > 2100)
    throw new InvalidArgumentError(`--year must be a year from 1870 to 2100, not "${value}"`);
  return n;
}

/** `similar`, `movies add`, `clusters movies`: the content model from the command line. */
export function registerContent(program: Command): void {
  program
    .command('similar')
    .description('movies similar in content (genres, tags, genome): cosine over all movies, or within its cluster')
    .argument('<movieId>', 'movie id', movieId)
    .option('--k <n>', 'how many movies', positiveInt('--k'))
    .option(
      '--method <m>',
      'auto: hybrid for a movie with ratings, content for one without; content: all movies (exact); cluster: only its k-means cluster; hybrid: ALS ⊕ content',
      similarMethod,
      'auto',
    )
    .action(async (id: number, opts: { k?: number; method: SimilarMethodRequest }, cmd: Command) => {
      await withClient(cmd, async (c) => {
        const result = await c.similar(id, { method: opts.method, ...(opts.k ? { k: opts.k } : {}) });
        output(cmd, result, (r) =>
          [
            `similar to ${yearTitle(r.movie)} [${r.movie.movieId}], cluster ${r.movie.cluster}, by ${r.method === 'cluster' ? 'content within its cluster' : r.method === 'hybrid' ? 'viewers and content (ALS ⊕ content)' : 'content over all movies'}`,
            table(
              ['#', 'id', 'title', 'genres', 'cosine', 'cluster', 'why'],
              r.items.map((m, i) => [
                i + 1,
                m.movieId,
                yearTitle(m),
                m.genres.join('|'),
                m.score.toFixed(3),
                m.cluster,
                `${m.reason}${m.promoted ? ' (promoted)' : ''}`,
              ]),
            ),
          ].join('\n'),
        );
      });
    });

  const movies = program.commands.find((c) => c.name() === 'movies');
  if (!movies) throw new Error('register the catalogue commands first');
  movies
    .command('add')
    .description(
      'add a movie while the catalogue is live: stored, placed by the content model, at once similar and popular-listed',
    )
    .requiredOption('--title <title>', 'title, with the year: "Arrival (2016)"')
    .requiredOption(
      '--genres <names>',
      'genres separated by | or commas, e.g. "Action|Sci-Fi"',
      (v: string, prev: string[] = []) => [
        ...prev,
        ...v
          .split(/[|,]/)
          .map((s) => s.trim())
          .filter(Boolean),
      ],
    )
    .option('--year <yyyy>', 'release year, when the title has none', year)
    .option('--tags <list>', 'comma-separated tags, e.g. "space,robots"', list)
    .option('--genome <file.csv>', 'tag-genome relevance: CSV tagId,relevance (or movieId,tagId,relevance)')
    .option('--imdb <id>', 'IMDb id, e.g. tt0114709')
    .option('--tmdb <id>', 'TMDb id', positiveInt('--tmdb'))
    .action(
      async (
        opts: {
          title: string;
          genres: string[];
          year?: number;
          tags?: string[];
          genome?: string;
          imdb?: string;
          tmdb?: number;
        },
        cmd: Command,
      ) => {
        const genome = opts.genome ? readGenomeFile(opts.genome) : [];
        await withClient(cmd, async (c) => {
          const added = await c.addMovie({
            title: opts.title,
            genres: opts.genres,
            ...(opts.year !== undefined ? { year: opts.year } : {}),
            tags: opts.tags ?? [],
            genome,
            ...(opts.imdb ? { imdbId: opts.imdb } : {}),
            ...(opts.tmdb ? { tmdbId: opts.tmdb } : {}),
          });
          output(cmd, added, (a) =>
            [
              `added ${yearTitle(a.movie)} as movie ${a.movie.movieId}, content cluster ${a.cluster}`,
              'nearest by content:',
              table(
                ['id', 'title', 'genres', 'cosine', 'why'],
                a.similar.map((m) => [m.movieId, yearTitle(m), m.genres.join('|'), m.score.toFixed(3), m.reason]),
              ),
            ].join('\n'),
          );
        });
      },
    );

  program
    .command('segments')
    .description('segments chosen from the data')
    .command('movies')
    .description('movie segments: k chosen over a range by segments.rule, with every k’s four scores')
    .action(async (_opts: unknown, cmd: Command) => {
      await withClient(cmd, async (c) => {
        const s = await c.movieSegments();
        const out = { k: s.k, rule: s.rule, elbow: s.elbow, scores: s.scores, segments: s.segments };
        output(cmd, out, (r) =>
          [
            `${r.k} movie segments, chosen by ${r.rule} (elbow of the inertia curve at k = ${r.elbow})`,
            table(
              ['k', 'inertia', 'silhouette', 'Davies–Bouldin', 'Calinski–Harabasz'],
              r.scores.map((x) => [
                `${x.k}${x.k === r.k ? ' *' : ''}`,
                x.inertia.toFixed(0),
                x.silhouette.toFixed(3),
                x.daviesBouldin.toFixed(3),
                x.calinskiHarabasz.toFixed(1),
              ]),
            ),
            '',
            table(
              ['segment', 'size', 'description'],
              r.segments.map((x) => [x.segment, x.size, x.description]),
            ),
          ].join('\n'),
        );
      });
    });

  program
    .command('clusters')
    .description('clusters of the fitted models')
    .command('movies')
    .description('content clusters of movies: size, top genres, top tags, example titles, quality')
    .option('--examples <n>', 'example titles per cluster', positiveInt('--examples', 50), 5)
    .action(async (opts: { examples: number }, cmd: Command) => {
      await withClient(cmd, async (c) => {
        const o = await c.movieClusters(opts.examples);
        output(cmd, o, (r) =>
          [
            `${r.k} content clusters over ${r.dimensions}-d vectors (${r.groups.map((g) => `${g.name} ${g.dimensions > 0 ? `${g.dimensions} dims, ` : ''}${(100 * g.explained).toFixed(0)}% of its variance`).join('; ')}); silhouette ${r.silhouette.toFixed(3)}, Davies–Bouldin ${r.daviesBouldin.toFixed(3)}`,
            table(
              ['cluster', 'size', 'top genres', 'top tags', 'examples'],
              r.clusters.map((cl) => [
                cl.cluster,
                cl.size,
                cl.topGenres.map((g) => `${g.genre} ${Math.round(g.share * 100)}%`).join(', '),
                cl.topTags.join(', '),
                cl.examples.map((m) => yearTitle(m)).join('; '),
              ]),
            ),
          ].join('\n'),
        );
      });
    });
}
