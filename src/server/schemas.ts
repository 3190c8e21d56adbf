/**
 * TypeBox schemas shared by the routes. Each one drives request validation (Ajv), response
 * serialisation (fast-json-stringify) and the OpenAPI document, so the three cannot drift apart.
 */
import { type TSchema, Type } from 'typebox';
import { MAX_ID, MIN_YEAR, maxYear } from '../serving/checks.ts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const Problem = Type.Object(
  {
    type: Type.String({ description: 'URI identifying the kind of problem' }),
    title: Type.String({ description: 'short summary of the kind of problem' }),
    status: Type.Integer({ description: 'HTTP status code' }),
    detail: Type.String({ description: 'what went wrong with this request, and how to fix it' }),
    instance: Type.Optional(Type.String({ description: 'path of the request' })),
    field: Type.Optional(Type.String({ description: 'the parameter or body property at fault' })),
  },
  { description: 'RFC 9457 problem details' },
);

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: 'invalid parameter or body',
  401: 'missing or wrong bearer token',
  403: 'mutations are disabled on this server',
  404: 'not found',
  409: 'conflicts with the current state',
  413: 'request body too large',
  415: 'unsupported content type',
  500: 'internal error',
};

/** Error responses for a route's schema, served as application/problem+json. */
export function problemResponses<const C extends number>(
  ...codes: C[]
): Record<C, { description: string; content: { [PROBLEM_CONTENT_TYPE]: { schema: typeof Problem } } }> {
  const out = {} as Record<C, { description: string; content: { [PROBLEM_CONTENT_TYPE]: { schema: typeof Problem } } }>;
  for (const code of codes) {
    out[code] = {
      description: PROBLEM_DESCRIPTIONS[code] ?? 'error',
      content: { [PROBLEM_CONTENT_TYPE]: { schema: Problem } },
    };
  }
  return out;
}

export const MovieId = Type.Integer({ minimum: 1, maximum: MAX_ID, description: 'MovieLens movie id' });

export const UserId = Type.Integer({ minimum: 1, maximum: MAX_ID, description: 'user id' });

/** Text as people type it: no control characters (C0, DEL, C1), no unpaired surrogates (Ajv compiles with "u"). */
export const PLAIN_TEXT = '^[^\\p{Cc}\\p{Cs}]*$';

/** A text field: at most `maxLength` characters, without control characters. */
export const Text = (maxLength: number, options: { minLength?: number; description?: string } = {}) =>
  Type.String({ maxLength, pattern: PLAIN_TEXT, ...options });

/** A registered strategy's name (`?strategy=`, `strategy` in a body). */
export const StrategyName = Type.String({
  minLength: 1,
  maxLength: 50,
  pattern: '^[A-Za-z0-9._-]+$',
  description: 'a strategy name such as ease, itemknn or content (override the router for comparison)',
});

export const MovieSummary = Type.Object({
  movieId: MovieId,
  title: Type.String({ description: 'title as published, e.g. "Matrix, The (1999)"' }),
  displayTitle: Type.String({ description: 'readable title, e.g. "The Matrix"' }),
  year: Nullable(Type.Integer()),
  genres: Type.Array(Type.String()),
});

export const RuleAction = Type.Enum(['block', 'promote'], {
  description: 'block removes the movie from lists; promote multiplies its score by boost',
});

export const Rule = Type.Object({
  movieId: MovieId,
  action: RuleAction,
  boost: Type.Number({ description: 'score multiplier; 1 for blocks' }),
  until: Nullable(Type.String({ format: 'date-time', description: 'the rule stops applying after this instant' })),
  reason: Nullable(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
});

export const RuleView = Type.Object(
  {
    ...Rule.properties,
    active: Type.Boolean({ description: 'false once until has passed' }),
    title: Nullable(Type.String({ description: 'display title of the movie' })),
  },
  { description: 'the rule' },
);

export const MovieDetails = Type.Object(
  {
    ...MovieSummary.properties,
    imdbId: Nullable(Type.String({ examples: ['tt0133093'] })),
    tmdbId: Nullable(Type.Integer()),
    imdbUrl: Nullable(Type.String({ format: 'uri' })),
    tmdbUrl: Nullable(Type.String({ format: 'uri' })),
    topTags: Type.Array(Type.Object({ tag: Type.String(), count: Type.Integer() }), {
      description: 'most frequent user tags',
    }),
    popularity: Type.Object({
      score: Type.Number({ description: 'weighted (Bayesian) mean rating' }),
      votes: Type.Integer(),
      meanRating: Nullable(Type.Number()),
      rank: Type.Integer({ minimum: 1, description: '1-based rank in the catalogue by score' }),
    }),
    rule: Nullable(Rule),
    source: Type.Enum(['import', 'live']),
    cluster: Type.Integer({ description: 'content cluster' }),
  },
  { description: 'movie details' },
);

export const RecommendedMovie = Type.Object({
  ...MovieSummary.properties,
  score: Type.Number(),
  votes: Type.Integer(),
  meanRating: Nullable(Type.Number()),
  promoted: Type.Boolean({ description: 'a promote rule raised this movie' }),
  reason: Type.Optional(Type.String({ description: 'why the movie is here, when a rule says so' })),
});

export const PopularList = Type.Object(
  {
    strategy: Type.Literal('popular'),
    genres: Type.Array(Type.String(), { description: 'canonical genre names used as the filter' }),
    match: Type.Enum(['any', 'all']),
    minVotes: Type.Number({ description: 'm of the weighted rating' }),
    meanRating: Type.Number({ description: 'C of the weighted rating' }),
    items: Type.Array(RecommendedMovie),
  },
  { description: 'popular movies' },
);

export const SearchResult = Type.Object(
  {
    query: Type.String(),
    total: Type.Integer(),
    offset: Type.Integer(),
    limit: Type.Integer(),
    items: Type.Array(Type.Object({ ...MovieSummary.properties, votes: Type.Integer() })),
  },
  { description: 'a page of search results' },
);

export const GenreList = Type.Object(
  {
    items: Type.Array(Type.Object({ genre: Type.String(), movies: Type.Integer() })),
  },
  { description: 'genres with movie counts' },
);

export const StoreInfo = Type.Object(
  {
    dataset: Nullable(
      Type.Object({
        name: Type.String(),
        sourceDir: Type.String({ description: 'the name of the imported release folder (never a server path)' }),
        format: Type.String(),
        scale: Type.Object({ min: Type.Number(), max: Type.Number(), step: Type.Number() }),
        importedAt: Type.String(),
        hasGenome: Type.Boolean(),
      }),
    ),
    counts: Type.Object({
      movies: Type.Integer(),
      users: Type.Integer(),
      ratings: Type.Integer(),
      tags: Type.Integer(),
      genomeTags: Type.Integer(),
      genomeMovies: Type.Integer(),
    }),
    ratingHistogram: Type.Array(Type.Object({ rating: Type.Number(), count: Type.Integer() })),
    genomeCoverage: Type.Number({ description: 'share of movies with genome scores, 0..1' }),
  },
  { description: 'dataset information' },
);

export const Health = Type.Object(
  {
    status: Type.Literal('ok'),
    dataset: Nullable(Type.String()),
    movies: Type.Integer(),
    ratings: Type.Integer(),
    uptimeSeconds: Type.Number(),
  },
  { description: 'the service is up' },
);

const ReportId = Type.String({
  pattern: '^[A-Za-z0-9._-]+$',
  maxLength: 200,
  description: 'letters, digits, ".", "_" or "-", e.g. 2026-11-25T11-40-05Z-ranking-3f9a',
});

export const EvaluationParams = Type.Object({ id: ReportId });

export const EvaluationChartParams = Type.Object({
  id: ReportId,
  metric: Type.String({
    pattern: '^[A-Za-z0-9._-]+$',
    maxLength: 200,
    description: 'a metric name from the report, e.g. ndcg or rmse',
  }),
});

const MetricInterval = Type.Object(
  {
    mean: Type.Number(),
    low: Type.Number({ description: 'lower bound of the 95% confidence interval' }),
    high: Type.Number({ description: 'upper bound of the 95% confidence interval' }),
    n: Type.Integer({ description: 'values behind the interval: users, or runs when there are several' }),
  },
  { description: 'mean with its 95% confidence interval' },
);

const EvaluationRun = Type.Object({
  split: Type.String({ examples: ['stratified:0.75 seed 1'] }),
  seed: Type.Integer(),
  evaluated: Type.Integer({ description: 'users scored (ranking) or test ratings predicted (rating)' }),
  metrics: Type.Record(Type.String(), Type.Number()),
  fitSeconds: Type.Number(),
  predictSeconds: Type.Number(),
});

const StrategyResult = Type.Object({
  name: Type.String(),
  description: Type.String(),
  params: Type.Record(Type.String(), Type.Union([Type.Number(), Type.String(), Type.Boolean()])),
  metrics: Type.Record(Type.String(), MetricInterval, { description: 'per metric name, over users or runs' }),
  runs: Type.Array(EvaluationRun),
  fitSeconds: Type.Number(),
  predictSeconds: Type.Number(),
});

const EvaluationKind = Type.Enum(['ranking', 'rating'], {
  description: 'ranking: top-k lists against held-out movies; rating: predicted against held-out ratings',
});

export const EvaluationReport = Type.Object(
  {
    id: Type.String(),
    kind: EvaluationKind,
    createdAt: Type.String({ format: 'date-time' }),
    dataset: Type.Object({
      name: Type.String(),
      users: Type.Integer(),
      movies: Type.Integer(),
      ratings: Type.Integer(),
    }),
    protocol: Type.Object({
      split: Type.String(),
      seeds: Type.Array(Type.Integer()),
      k: Type.Optional(Type.Integer({ description: 'list length (ranking only)' })),
      relevance: Type.Optional(
        Type.Union([
          Type.Object({ kind: Type.Literal('all') }),
          Type.Object({ kind: Type.Literal('min-rating'), minRating: Type.Number() }),
        ]),
      ),
      strongGeneralization: Type.Optional(Type.Object({ users: Type.Integer(), foldIn: Type.Integer() })),
    }),
    metricOrder: Type.Array(Type.String(), { description: 'metric names in display order' }),
    strategies: Type.Array(StrategyResult),
    elapsedSeconds: Type.Number(),
  },
  { description: 'an evaluation report, as written by `cinerec eval`' },
);

export const EvaluationSummary = Type.Object({
  id: Type.String(),
  kind: EvaluationKind,
  createdAt: Type.String({ format: 'date-time' }),
  dataset: Type.String(),
  split: Type.String(),
  k: Type.Optional(Type.Integer()),
  strategies: Type.Array(Type.String()),
  headline: Type.Object(
    {
      metric: Type.String({ examples: ['ndcg', 'rmse'] }),
      values: Type.Record(Type.String(), Type.Number(), { description: 'mean per strategy' }),
    },
    { description: 'the headline metric per strategy' },
  ),
});

export const EvaluationList = Type.Object(
  { items: Type.Array(EvaluationSummary, { description: 'newest first' }) },
  { description: 'stored evaluation reports' },
);

export const SharedContent = Type.Object({
  genres: Type.Array(Type.String(), { description: 'genres both movies have' }),
  tags: Type.Array(Type.String(), { description: 'strongest shared tags (genome or users’ tags)' }),
  series: Type.Optional(
    Type.String({ description: 'the series both titles belong to (e.g. "Star Wars"), when their titles say so' }),
  ),
  titleWords: Type.Optional(
    Type.Array(Type.String(), { description: 'title words both titles have, beyond the series name' }),
  ),
});

export const SimilarMovie = Type.Object({
  ...MovieSummary.properties,
  score: Type.Number({ description: 'cosine similarity of the content vectors (times a promotion’s boost)' }),
  cluster: Type.Integer({ description: 'content cluster' }),
  promoted: Type.Boolean(),
  shared: SharedContent,
  reason: Type.String({ description: 'why it is similar' }),
});

export const SimilarMethod = Type.Enum(['content', 'cluster', 'hybrid'], {
  description:
    'content: exact cosine over all movies; cluster: only the movie’s k-means cluster (the original method); ' +
    'hybrid: cosine over ALS factors ⊕ content vectors (viewers and content alike)',
});

export const SimilarMethodRequest = Type.Enum(['auto', 'content', 'cluster', 'hybrid'], {
  description:
    'auto (default): hybrid for a movie with ratings, content for a movie without any (what evaluates best for ' +
    'each); or one method: ' +
    'content: exact cosine over all movies; cluster: only the movie’s k-means cluster (the original method); ' +
    'hybrid: cosine over ALS factors ⊕ content vectors (viewers and content alike)',
});

export const SimilarList = Type.Object(
  {
    movie: Type.Object({ ...MovieSummary.properties, cluster: Type.Integer() }),
    method: SimilarMethod,
    items: Type.Array(SimilarMovie),
  },
  { description: 'movies similar in content' },
);

export const RecommendationList = Type.Object(
  {
    scenario: Type.Enum(['cold-start', 'watched', 'few-ratings', 'personalised', 'override'], {
      description: 'what the router decided from what is known about the viewer (override: ?strategy= given)',
    }),
    reason: Type.String({ description: 'why this scenario' }),
    strategy: Type.String({ description: 'the strategy that ranked the list' }),
    items: Type.Array(RecommendedMovie),
    warnings: Type.Array(Type.String(), { description: 'e.g. unknown movie ids that were ignored' }),
  },
  { description: 'recommended movies' },
);

export const RecommendationRequest = Type.Object(
  {
    userId: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_ID,
        description: 'a known user: their history counts (needs a token when the server has a reader token)',
      }),
    ),
    strategy: Type.Optional(StrategyName),
    watched: Type.Optional(
      Type.Array(MovieId, { maxItems: 1000, description: 'movies the viewer watched (no rating)' }),
    ),
    ratings: Type.Optional(
      Type.Array(Type.Object({ movieId: MovieId, rating: Type.Number() }, { additionalProperties: false }), {
        maxItems: 1000,
        description: 'anonymous ratings; those at or above content.positiveRating are the seeds',
      }),
    ),
    genres: Type.Optional(Type.Array(Text(100), { maxItems: 32, description: 'cold start: genres to pick from' })),
    match: Type.Optional(Type.Enum(['any', 'all'])),
    method: Type.Optional(SimilarMethodRequest),
    k: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: 'number of movies (at most recommend.maxK, checked against the served configuration)',
      }),
    ),
    exclude: Type.Optional(Type.Array(MovieId, { maxItems: 10000, description: 'movie ids never to return' })),
  },
  { additionalProperties: false },
);

export const NewMovieBody = Type.Object(
  {
    title: Text(500, { minLength: 1, description: 'title, with the year: "Arrival (2016)"' }),
    year: Type.Optional(
      Type.Integer({ minimum: MIN_YEAR, maximum: maxYear(), description: 'release year, up to ten years ahead' }),
    ),
    genres: Type.Array(Text(100), { maxItems: 32, description: 'known genre names' }),
    tags: Type.Optional(Type.Array(Text(100), { maxItems: 200 })),
    genome: Type.Optional(
      Type.Array(
        Type.Object(
          {
            tagId: Type.Integer({ minimum: 1, maximum: MAX_ID }),
            relevance: Type.Number({ minimum: 0, maximum: 1 }),
          },
          { additionalProperties: false },
        ),
        { maxItems: 5000, description: 'tag-genome relevance by genome tag id' },
      ),
    ),
    imdbId: Type.Optional(Type.String({ pattern: '^tt\\d{7,9}$' })),
    tmdbId: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_ID })),
  },
  { additionalProperties: false },
);

export const AddedMovie = Type.Object(
  {
    movie: MovieDetails,
    cluster: Type.Integer({ description: 'nearest content cluster' }),
    similar: Type.Array(SimilarMovie, { description: 'nearest movies by content' }),
  },
  { description: 'the added movie, placed by the content model' },
);

export const MovieClusters = Type.Object(
  {
    k: Type.Integer(),
    dimensions: Type.Integer(),
    inertia: Type.Number(),
    silhouette: Type.Number({ description: 'mean silhouette of a seeded sample, -1 to 1' }),
    daviesBouldin: Type.Number({ description: 'Davies–Bouldin index, lower is better' }),
    explainedVariance: Type.Number({ description: 'share of the scaled features’ variance the encoder keeps' }),
    groups: Type.Array(Type.Object({ name: Type.String(), dimensions: Type.Integer(), explained: Type.Number() }), {
      description: 'per feature group: output dimensions and the share of its own variance kept',
    }),
    clusters: Type.Array(
      Type.Object({
        cluster: Type.Integer(),
        size: Type.Integer(),
        topGenres: Type.Array(Type.Object({ genre: Type.String(), share: Type.Number() })),
        topTags: Type.Array(Type.String()),
        examples: Type.Array(MovieSummary),
      }),
    ),
  },
  { description: 'content clusters of movies' },
);

export const UserRating = Type.Object(
  {
    movieId: MovieId,
    rating: Type.Number({ description: 'on the data set’s scale, e.g. 0.5–5 in half stars' }),
  },
  { additionalProperties: false },
);

export const RatingsBody = Type.Object(
  { ratings: Type.Array(UserRating, { minItems: 1, maxItems: 10000 }) },
  { additionalProperties: false },
);

export const UserView = Type.Object(
  {
    userId: Type.Integer(),
    ratings: Type.Integer({ description: 'number of ratings' }),
    positive: Type.Integer({ description: 'ratings at or above router.positiveRating' }),
    meanRating: Nullable(Type.Number()),
    scenario: Type.Enum(['cold-start', 'watched', 'few-ratings', 'personalised']),
    live: Type.Boolean({ description: 'changed since the last training: served by fold-in' }),
    cluster: Type.Integer({ description: 'taste cluster (k-means over ALS user factors), -1 without ratings' }),
    history: Type.Array(Type.Object({ ...MovieSummary.properties, rating: Type.Number(), timestamp: Type.Integer() }), {
      description: 'latest first',
    }),
  },
  { description: 'a user' },
);

export const PredictionList = Type.Object(
  {
    userId: Type.Integer(),
    model: Type.String({ description: 'the rating predictor' }),
    items: Type.Array(
      Type.Object({
        ...MovieSummary.properties,
        predicted: Type.Number({ description: 'predicted rating' }),
        rating: Nullable(Type.Number({ description: 'the user’s own rating, if any' })),
      }),
    ),
  },
  { description: 'predicted ratings' },
);

export const MovieSegments = Type.Object(
  {
    k: Type.Integer({ description: 'chosen number of segments' }),
    rule: Type.String({ description: 'the rule that chose k (segments.rule)' }),
    elbow: Type.Integer({ description: 'the knee of the inertia curve' }),
    scores: Type.Array(
      Type.Object({
        k: Type.Integer(),
        inertia: Type.Number(),
        silhouette: Type.Number(),
        daviesBouldin: Type.Number(),
        calinskiHarabasz: Type.Number(),
      }),
      { description: 'every k tried, with all four scores' },
    ),
    segments: Type.Array(
      Type.Object({
        segment: Type.Integer(),
        size: Type.Integer(),
        topGenres: Type.Array(Type.Object({ genre: Type.String(), share: Type.Number() })),
        meanRating: Nullable(Type.Number()),
        medianVotes: Type.Integer(),
        description: Type.String(),
      }),
    ),
  },
  { description: 'movie segments' },
);

export const MovieProjection = Type.Object(
  {
    total: Type.Integer({ description: 'movies in the content model' }),
    explained: Type.Array(Type.Number(), { description: 'share of the content variance along each axis, 0..1' }),
    points: Type.Array(
      Type.Object({
        movieId: MovieId,
        displayTitle: Type.String(),
        year: Nullable(Type.Integer()),
        cluster: Type.Integer({ description: 'content cluster' }),
        x: Type.Number({ description: 'first principal component' }),
        y: Type.Number({ description: 'second principal component' }),
      }),
      { description: 'most rated first' },
    ),
  },
  { description: 'movies on the first two principal components of their content vectors' },
);

export const MovieSegmentOf = Type.Object(
  {
    movieId: MovieId,
    segment: Nullable(Type.Integer({ description: 'null for a movie added after the segments were computed' })),
    size: Nullable(Type.Integer({ description: 'movies in the segment' })),
    description: Nullable(Type.String()),
    topGenres: Type.Array(Type.Object({ genre: Type.String(), share: Type.Number() })),
  },
  { description: 'the segment of one movie' },
);

const KScore = Type.Object({
  k: Type.Integer(),
  inertia: Type.Number(),
  silhouette: Type.Number(),
  daviesBouldin: Type.Number(),
  calinskiHarabasz: Type.Number(),
});

const GenreShare = Type.Object({
  genre: Type.String(),
  share: Type.Number({ description: 'share of the positive ratings that went to this genre' }),
  lift: Type.Number({ description: 'share ÷ the share over all users' }),
});

const MovieSegmentShare = Type.Object({
  segment: Type.Integer({ description: 'movie segment (GET /v1/segments/movies)' }),
  genres: Type.Array(Type.String(), { description: 'its top genres' }),
  share: Type.Number({ description: 'share of the ratings in this movie segment' }),
  lift: Type.Number({ description: 'share ÷ the share over all users' }),
  meanRating: Type.Number({ description: 'mean rating given to it (shrunk towards the overall mean)' }),
});

export const UserSegment = Type.Object({
  segment: Type.Integer(),
  size: Type.Integer({ description: 'users in it at fitting' }),
  label: Type.String({ description: 'short name from its most distinctive genres' }),
  topGenres: Type.Array(GenreShare),
  meanRating: Type.Number({ description: 'mean of the members’ mean ratings' }),
  medianRatings: Type.Integer({ description: 'median number of ratings of the members' }),
  favouredMovieSegments: Type.Array(MovieSegmentShare, {
    description: 'movie segments the members rate more often than everyone does',
  }),
  description: Type.String(),
});

export const UserSegments = Type.Object(
  {
    k: Type.Integer({ description: 'chosen number of segments' }),
    rule: Type.String({ description: 'the rule that chose k (segments.rule)' }),
    elbow: Type.Integer({ description: 'the knee of the inertia curve' }),
    scores: Type.Array(KScore, { description: 'every k tried, with all four scores' }),
    users: Type.Integer({ description: 'users segmented (with at least one rating)' }),
    movieSegments: Type.Integer({ description: 'movie segments the profiles are built on' }),
    autoencoder: Type.Object({
      inputs: Type.Integer(),
      hidden: Type.Integer(),
      code: Type.Integer(),
      trainUsers: Type.Integer(),
      validationUsers: Type.Integer(),
      epochs: Type.Integer(),
      bestEpoch: Type.Integer(),
      stoppedEarly: Type.Boolean(),
      trainLoss: Type.Number(),
      validationLoss: Nullable(Type.Number()),
    }),
    segments: Type.Array(UserSegment),
  },
  { description: 'user segments' },
);

export const UserSegmentView = Type.Object(
  {
    userId: Type.Integer(),
    segment: Type.Integer({ description: 'the user’s segment, -1 without ratings' }),
    source: Type.Enum(['fitted', 'placed'], {
      description: 'fitted: segmented with everyone; placed: placed now from the current ratings (new or changed user)',
    }),
    live: Type.Boolean({ description: 'changed since the last training' }),
    details: Nullable(UserSegment),
    profile: Type.Object({
      ratings: Type.Integer(),
      positive: Type.Integer({ description: 'ratings above segments.users.positiveRating' }),
      meanRating: Nullable(Type.Number()),
      topGenres: Type.Array(GenreShare),
      movieSegments: Type.Array(MovieSegmentShare, { description: 'the movie segments this user rates most' }),
    }),
  },
  { description: 'a user’s segment and profile highlights' },
);
