import type { Command } from 'commander';
import type { MovieSegmentShare, UserSegmentOverview } from '../../models/user-segments.ts';
import type { UserSegmentView } from '../../serving/views.ts';
import { output, withClient } from '../context.ts';
import { table } from '../format.ts';
import { positiveInt } from '../parse.ts';

const pct = (v: number) => `${Math.round(v * 100)}%`;
const movieSegment = (m: MovieSegmentShare) => `${m.segment} (${m.genres.slice(0, 2).join('/') || 'no genre'})`;

function renderSegments(r: UserSegmentOverview): string {
  const a = r.autoencoder;
  return [
    `${r.k} user segments of ${r.users} users, chosen by ${r.rule} (elbow of the inertia curve at k = ${r.elbow})`,
    `profiles: ${a.inputs} features over ${r.movieSegments} movie segments → autoencoder ${a.inputs} → ${a.hidden} → ${a.code}, ` +
      `${a.epochs} epochs (best ${a.bestEpoch}${a.validationLoss !== null ? `, validation MSE ${a.validationLoss.toFixed(3)}` : ''})`,
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
      ['segment', 'size', 'label', 'top genres (liked)', 'mean rating', 'favoured movie segments'],
      r.segments.map((s) => [
        s.segment,
        s.size,
        s.label,
        s.topGenres.map((g) => `${g.genre} ${pct(g.share)}`).join(', '),
        s.meanRating.toFixed(2),
        s.favouredMovieSegments.map((m) => `${movieSegment(m)} ×${m.lift.toFixed(1)}`).join(', '),
      ]),
    ),
  ].join('\n');
}

function renderUser(v: UserSegmentView): string {
  const p = v.profile;
  if (v.segment < 0 || !v.details) return `user ${v.userId}: no ratings yet, so no segment`;
  return [
    `user ${v.userId}: segment ${v.segment} (${v.details.label})${v.source === 'placed' ? ', placed from the current ratings' : ''}`,
    `segment: ${v.details.description}`,
    `profile: ${p.ratings} ratings, ${p.positive} positive${p.meanRating !== null ? `, mean ${p.meanRating.toFixed(2)}` : ''}` +
      (p.topGenres.length
        ? `; liked movies are ${p.topGenres.map((g) => `${g.genre} ${pct(g.share)} (×${g.lift.toFixed(1)})`).join(', ')}`
        : ''),
    table(
      ['movie segment', 'share of ratings', 'lift', 'mean rating'],
      p.movieSegments.map((m) => [movieSegment(m), pct(m.share), `×${m.lift.toFixed(1)}`, m.meanRating.toFixed(2)]),
    ),
  ].join('\n');
}

/** `segments users` and `segments show-user <id>`, beside `segments movies`. */
export function registerSegments(program: Command): void {
  const segments =
    program.commands.find((c) => c.name() === 'segments') ??
    program.command('segments').description('segments chosen from the data');
  segments
    .command('users')
    .description('user segments: taste profiles → autoencoder → k-means, k chosen by segments.rule, every k’s scores')
    .action(async (_opts: unknown, cmd: Command) => {
      await withClient(cmd, async (c) => output(cmd, await c.userSegments(), renderSegments));
    });
  segments
    .command('show-user')
    .description("a user's segment and the highlights of their profile (new or changed users are placed at once)")
    .argument('<userId>', 'user id', positiveInt('userId'))
    .action(async (id: number, _opts: unknown, cmd: Command) => {
      await withClient(cmd, async (c) => output(cmd, await c.userSegment(id), renderUser));
    });
}
