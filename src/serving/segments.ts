import type { MovieSegmentation } from '../models/movie-segments.ts';
import { type MovieProjection, project } from '../models/projection.ts';
import type { SegmentStrategy } from '../recommend/strategies/segment.ts';
import { NotFoundError } from '../util/errors.ts';
import type { Served } from './served.ts';
import { type ClusterOverview, round4, summary, type UserSegmentOverview, type UserSegmentView } from './views.ts';

export interface MovieSegmentsView {
  k: number;
  rule: MovieSegmentation['rule'];
  elbow: number;
  scores: MovieSegmentation['scores'];
  segments: MovieSegmentation['segments'];
}

export interface MovieSegmentOf {
  movieId: number;
  segment: number | null;
  size: number | null;
  description: string | null;
  topGenres: { genre: string; share: number }[];
}

/**
 * Segments and clusters as trained: movie segments, user segments (a new or changed user is placed by the
 * trained encoder and centroids), content clusters and their 2-D projection. k, sizes and labels are the
 * version's until the next training.
 */
export class SegmentService {
  constructor(private readonly served: Served) {}

  async movieSegments(): Promise<MovieSegmentsView> {
    const s = await this.served.models.get('movie-segments');
    return { k: s.k, rule: s.rule, elbow: s.elbow, scores: s.scores, segments: s.segments };
  }

  async movieSegment(movieId: number): Promise<MovieSegmentOf> {
    const index = this.served.catalogue.indexOf(movieId);
    if (index < 0) throw new NotFoundError(`no movie with id ${movieId}`, 'id');
    const s = await this.served.models.get('movie-segments');
    const segment = index < s.assignment.length ? s.assignment[index]! : -1;
    const info = segment >= 0 ? s.segments.find((x) => x.segment === segment) : undefined;
    return {
      movieId,
      segment: info ? segment : null,
      size: info?.size ?? null,
      description: info?.description ?? null,
      topGenres: info?.topGenres ?? [],
    };
  }

  /** User segments (autoencoder codes of taste profiles → k-means, k by the rule), as trained. */
  async userSegments(): Promise<UserSegmentOverview> {
    return ((await this.served.strategy('segment')) as SegmentStrategy).overview();
  }

  /** A stored or live user's segment; a user created or changed since training is placed from their ratings. */
  async userSegment(userId: number): Promise<UserSegmentView> {
    this.served.requireUser(userId);
    const segments = (await this.served.strategy('segment')) as SegmentStrategy;
    const view = segments.viewer({ ctx: { userId }, history: this.served.historyOf(userId) });
    return { userId, live: this.served.live.has(userId), ...view };
  }

  async movieClusters(examples = 5): Promise<ClusterOverview> {
    const content = await this.served.models.get('content');
    const model = content.model;
    const k = model.clusters;
    const members: number[][] = Array.from({ length: k }, () => []);
    const assignment = model.assignment;
    for (let i = 0; i < assignment.length; i++) members[assignment[i]!]!.push(i);
    const votes = (i: number) => this.served.votes(i);
    const report = model.report;
    return {
      k,
      dimensions: model.dimensions,
      inertia: round4(report.clusters.inertia),
      silhouette: round4(report.clusters.silhouette),
      daviesBouldin: round4(report.clusters.daviesBouldin),
      explainedVariance: round4(report.explainedVariance),
      groups: (report.groups ?? []).map((g) => ({ ...g, explained: round4(g.explained) })),
      clusters: members.map((idx, cluster) => {
        const genreCount = new Map<string, number>();
        const tagWeight = new Map<string, number>();
        for (const i of idx) {
          for (const g of this.served.catalogue.movies[i]!.genres) genreCount.set(g, (genreCount.get(g) ?? 0) + 1);
        }
        // Tags: the strongest shared content of the cluster's most rated members with their centroid neighbours.
        const top = [...idx].sort((a, b) => votes(b) - votes(a) || a - b);
        for (let a = 0; a < Math.min(top.length, 20); a++) {
          for (let b = a + 1; b < Math.min(top.length, 20); b++) {
            for (const t of content.shared(top[a]!, top[b]!, 5).tags) tagWeight.set(t, (tagWeight.get(t) ?? 0) + 1);
          }
        }
        return {
          cluster,
          size: idx.length,
          topGenres: [...genreCount.entries()]
            .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
            .slice(0, 3)
            .map(([genre, n]) => ({ genre, share: round4(n / Math.max(1, idx.length)) })),
          topTags: [...tagWeight.entries()]
            .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
            .slice(0, 5)
            .map(([t]) => t),
          examples: top.slice(0, examples).map((i) => summary(this.served.catalogue.movies[i]!)),
        };
      }),
    };
  }

  async movieProjection(limit?: number): Promise<MovieProjection> {
    const model = (await this.served.models.get('content')).model;
    const plane = await this.served.models.get('projection');
    const votes = (i: number) => this.served.votes(i);
    const n = model.size;
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => votes(b) - votes(a) || a - b);
    const vectors = model.vectors;
    const assignment = model.assignment;
    return {
      total: n,
      explained: plane.explained.map(round4),
      points: order.slice(0, limit ?? n).map((i) => {
        const [x, y] = project(plane, vectors, i);
        const m = summary(this.served.catalogue.movies[i]!);
        return {
          movieId: m.movieId,
          displayTitle: m.displayTitle,
          year: m.year,
          cluster: assignment[i]!,
          x: round4(x),
          y: round4(y),
        };
      }),
    };
  }
}
