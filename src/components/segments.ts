import { defineModel, defineStrategy, type SettingsOf } from './define.ts';
import { choice, group, int, num, section } from './params.ts';

/** Movie and user segments, k chosen from the data, and the segment strategy. */
export const SEGMENTS = section('segments', 'movie and user segments with k chosen from the data', {
  minK: int(2, { min: 2, max: 1000, doc: 'smallest k tried' }),
  maxK: int(30, { min: 2, max: 1000, doc: 'largest k tried' }),
  rule: choice(['silhouette', 'davies-bouldin', 'calinski-harabasz', 'elbow'], 'calinski-harabasz', 'how k is chosen'),
  seed: int(1, { min: 0, doc: 'random seed' }),
  restarts: int(2, { min: 1, max: 100, doc: 'seeded k-means restarts per k' }),
  users: group(
    {
      positiveRating: num(3.5, { doc: 'ratings above this are positive' }),
      hidden: int(32, { min: 1, max: 4096, doc: 'autoencoder hidden width' }),
      code: int(8, { min: 1, max: 1024, doc: 'autoencoder code size' }),
      epochs: int(300, { min: 0, max: 100000, doc: 'maximum autoencoder epochs' }),
      patience: int(20, { min: 1, doc: 'epochs without a validation improvement before stopping' }),
      batchSize: int(32, { min: 1, doc: 'mini-batch size' }),
      learningRate: num(0.003, { exclusiveMin: 0, doc: 'Adam learning rate' }),
      validationShare: num(0.1, { min: 0, max: 0.5, doc: 'share of the users held out to validate' }),
      meanShrinkage: num(2, {
        min: 0,
        doc: "pseudo-ratings pulling a user's mean in a movie segment towards their overall mean",
      }),
      smoothing: num(10, {
        min: 0,
        doc: "segment strategy: pseudo-members pulling a segment's score towards everyone's",
      }),
      movieSegmentWeight: num(0.5, {
        min: 0,
        max: 1,
        doc: "segment strategy: how much the viewer's liked movie segments reweight the list",
      }),
      lowRatingWeight: num(0.5, {
        min: 0,
        max: 1,
        doc: 'segment strategy: what a non-positive rating counts for (a positive one counts 1)',
      }),
    },
    'user segments (taste profiles → autoencoder → k-means) and the segment strategy',
  ),
});

type Segments = SettingsOf<[typeof SEGMENTS]>['segments'];

/** How many segments, chosen how (movie and user segments alike). */
function kSettings(s: Segments) {
  return { minK: s.minK, maxK: s.maxK, rule: s.rule, seed: s.seed, restarts: s.restarts };
}

export const movieSegmentsModel = defineModel({
  name: 'movie-segments',
  description: 'movie segments (genres, mean rating, rating count) with k chosen from the data',
  reads: [SEGMENTS],
  ignore: ['segments.users'],
  deps: [],
  served: true,
  module: import.meta.url,
  async fit({ data, settings, progress }) {
    const { segmentMovies } = await import('../models/movie-segments.ts');
    return segmentMovies(data.catalogue, data.interactions, kSettings(settings.segments), progress);
  },
  async save(seg, dir) {
    const { saveMovieSegments } = await import('../models/movie-segments.ts');
    saveMovieSegments(dir, seg);
  },
  async load(dir, { data }) {
    const { loadMovieSegments, placeMovie } = await import('../models/movie-segments.ts');
    const seg = loadMovieSegments(dir);
    const fitted = seg.assignment.length;
    if (fitted >= data.catalogue.size) return seg;
    // Movies added since training join the nearest trained segment; k, sizes and labels stay the version's.
    const assignment = new Int32Array(data.catalogue.size);
    assignment.set(seg.assignment);
    for (let i = fitted; i < assignment.length; i++) assignment[i] = placeMovie(seg, data.catalogue, i);
    return { ...seg, assignment };
  },
  report(seg) {
    const at = seg.scores.find((x) => x.k === seg.k);
    return {
      metrics: {
        k: seg.k,
        elbow: seg.elbow,
        ...(at ? { silhouette: at.silhouette, daviesBouldin: at.daviesBouldin } : {}),
      },
      curves: {
        inertia: seg.scores.map((x) => ({ step: x.k, value: x.inertia })),
        silhouette: seg.scores.map((x) => ({ step: x.k, value: x.silhouette })),
      },
    };
  },
});

export const userSegmentsModel = defineModel({
  name: 'user-segments',
  description: 'user segments: taste profiles → autoencoder → k-means, k chosen from the data',
  reads: [SEGMENTS],
  ignore: ['segments.users.smoothing', 'segments.users.movieSegmentWeight', 'segments.users.lowRatingWeight'],
  deps: ['movie-segments'],
  served: true,
  module: import.meta.url,
  async fit({ data, settings, models, progress }) {
    const { UserSegmentModel } = await import('../models/user-segments.ts');
    const s = settings.segments;
    return UserSegmentModel.fit(
      data.catalogue,
      data.interactions,
      await models.get('movie-segments'),
      { ...kSettings(s), ...s.users },
      progress,
    );
  },
  async save(model, dir) {
    model.save(dir);
  },
  async load(dir, { data }) {
    const { UserSegmentModel } = await import('../models/user-segments.ts');
    return UserSegmentModel.load(dir, data.catalogue);
  },
  report(m) {
    const at = m.scores.find((x) => x.k === m.k);
    return {
      metrics: {
        userK: m.k,
        ...(at ? { userSilhouette: at.silhouette } : {}),
        userAutoencoderLoss: m.report.validationLoss ?? m.report.trainLoss,
      },
      curves: {
        userInertia: m.scores.map((x) => ({ step: x.k, value: x.inertia })),
        userSilhouette: m.scores.map((x) => ({ step: x.k, value: x.silhouette })),
      },
    };
  },
});

export const segmentScoresModel = defineModel({
  name: 'segment-scores',
  description: "per user segment: how its members rated every movie (the segment strategy's tables)",
  reads: [SEGMENTS],
  deps: ['user-segments', 'movie-segments'],
  served: true,
  module: import.meta.url,
  async fit({ data, settings, models }) {
    const { SegmentScores } = await import('../models/segment-scores.ts');
    return SegmentScores.fit(
      data.interactions,
      await models.get('user-segments'),
      await models.get('movie-segments'),
      settings.segments.users,
    );
  },
  async save(model, dir) {
    model.save(dir);
  },
  async load(dir) {
    const { SegmentScores } = await import('../models/segment-scores.ts');
    return SegmentScores.load(dir);
  },
});

export const segmentStrategy = defineStrategy({
  name: 'segment',
  description:
    "what the viewer's user segment (autoencoder + k-means) liked, smoothed, by the movie segments they like",
  reads: [SEGMENTS],
  params: {
    smoothing: 'segments.users.smoothing',
    movieSegmentWeight: 'segments.users.movieSegmentWeight',
    lowRatingWeight: 'segments.users.lowRatingWeight',
  },
  models: ['user-segments', 'movie-segments', 'segment-scores'],
  async create({ data, settings, models }) {
    const { SegmentStrategy } = await import('../recommend/strategies/segment.ts');
    const u = settings.segments.users;
    return new SegmentStrategy(
      {
        positiveRating: u.positiveRating,
        smoothing: u.smoothing,
        movieSegmentWeight: u.movieSegmentWeight,
        lowRatingWeight: u.lowRatingWeight,
      },
      await models.get('user-segments'),
      await models.get('movie-segments'),
      await models.get('segment-scores'),
      data,
    );
  },
});
