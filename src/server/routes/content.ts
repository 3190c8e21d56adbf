import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Services } from '../../serving/services.ts';
import {
  AddedMovie,
  MovieClusters,
  MovieId,
  MovieProjection,
  MovieSegmentOf,
  MovieSegments,
  NewMovieBody,
  problemResponses,
  RecommendationList,
  RecommendationRequest,
  SimilarList,
  SimilarMethodRequest,
} from '../schemas.ts';

/** Similar movies, recommendations from a viewer context, live movie addition, content clusters. */
export const contentRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { defaultK, maxK } = services.served.config.recommend;

  app.get(
    '/movies/:id/similar',
    {
      schema: {
        tags: ['movies'],
        summary: 'Movies similar in content',
        description:
          'Nearest neighbours by cosine similarity of content vectors (genres, year, tags, tag genome), exact over ' +
          'all movies, or only within the movie’s k-means cluster with method=cluster. Rules apply. Each item says ' +
          'what the two movies share.',
        params: Type.Object({ id: MovieId }),
        querystring: Type.Object({
          k: Type.Optional(Type.Integer({ minimum: 1, maximum: maxK, default: defaultK })),
          method: Type.Optional(SimilarMethodRequest),
        }),
        response: { 200: SimilarList, ...problemResponses(400, 404) },
      },
    },
    async (request) =>
      services.similar.similar(request.params.id, {
        k: request.query.k,
        ...(request.query.method ? { method: request.query.method } : {}),
      }),
  );

  app.post(
    '/recommendations',
    {
      // Public, but a userId asks for a user's history: that needs a token when the server has a reader token.
      config: { admin: false, readerField: 'userId' },
      schema: {
        tags: ['recommendations'],
        summary: 'Recommendations for any viewer: the scenario router',
        description:
          'The router decides from what is known: nothing → cold start (genres if given, else overall popular); ' +
          'watched movies only → content similarity; fewer than router.minRatings ratings or fewer than ' +
          'router.minPositive positive ones → content similarity to the liked movies blended with popularity; ' +
          'otherwise → the personalised strategy (router.personalised). `userId` brings a known user’s history; ' +
          '`ratings` and `watched` add to it. `strategy` overrides the choice. Unknown movie ids are ignored with a ' +
          'warning when at least one id is known, and are a 400 naming them otherwise. Rules apply to every list.',
        body: RecommendationRequest,
        response: { 200: RecommendationList, ...problemResponses(400, 404) },
      },
    },
    async (request) => {
      const b = request.body;
      const strategy =
        b.strategy ?? (b.method === 'cluster' ? 'content-cluster' : b.method === 'hybrid' ? 'hybrid' : undefined);
      return services.recommendations.recommend({
        ...(b.userId !== undefined ? { userId: b.userId } : {}),
        ...(b.watched ? { watched: b.watched } : {}),
        ...(b.ratings ? { ratings: b.ratings } : {}),
        ...(b.genres ? { genres: b.genres } : {}),
        ...(b.match ? { match: b.match } : {}),
        ...(b.k !== undefined ? { k: b.k } : {}),
        ...(b.exclude ? { exclude: b.exclude } : {}),
        ...(strategy ? { strategy } : {}),
      });
    },
  );

  app.post(
    '/movies',
    {
      schema: {
        tags: ['movies'],
        summary: 'Add a movie while serving',
        description:
          'Validated, stored, placed by the fitted content model (scaler, encoder, nearest cluster) without ' +
          'retraining; it appears at once in similar-movie results, genre lists (with the prior popularity C) and ' +
          'search, and survives a restart. Needs the admin token.',
        body: NewMovieBody,
        response: { 201: AddedMovie, ...problemResponses(400, 409) },
      },
    },
    async (request, reply) => {
      const added = await services.catalogue.addMovie(request.body);
      reply.code(201).header('location', `/v1/movies/${added.movie.movieId}`);
      return added;
    },
  );

  app.get(
    '/segments/movies',
    {
      schema: {
        tags: ['clusters'],
        summary: 'Movie segments, with the number of segments chosen from the data',
        description:
          'Genres, mean rating and log rating count, standardised, then k-means for every k in ' +
          '[segments.minK, segments.maxK]; k is chosen by segments.rule and every k’s inertia, silhouette, ' +
          'Davies–Bouldin and Calinski–Harabasz are returned.',
        response: { 200: MovieSegments },
      },
    },
    async () => services.segments.movieSegments(),
  );

  app.get(
    '/movies/:id/segment',
    {
      schema: {
        tags: ['movies', 'clusters'],
        summary: 'The segment of one movie',
        description: 'Its movie segment (see GET /v1/segments/movies) with the segment’s size, genres and description.',
        params: Type.Object({ id: MovieId }),
        response: { 200: MovieSegmentOf, ...problemResponses(400, 404) },
      },
    },
    async (request) => services.segments.movieSegment(request.params.id),
  );

  app.get(
    '/clusters/movies/projection',
    {
      schema: {
        tags: ['clusters'],
        summary: 'Movies in two dimensions, with their content cluster',
        description:
          'The first two principal components of the content vectors (fitted once per content model), for a ' +
          'scatter plot coloured by cluster. The most rated `limit` movies, or all of them.',
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'default: every movie' })),
        }),
        response: { 200: MovieProjection, ...problemResponses(400) },
      },
    },
    async (request) => services.segments.movieProjection(request.query.limit),
  );

  app.get(
    '/clusters/movies',
    {
      schema: {
        tags: ['clusters'],
        summary: 'Content clusters of movies',
        description: 'Per cluster: size, top genres, top shared tags, the most rated titles; and clustering quality.',
        querystring: Type.Object({
          examples: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: 5 })),
        }),
        response: { 200: MovieClusters },
      },
    },
    async (request) => services.segments.movieClusters(request.query.examples),
  );
};
