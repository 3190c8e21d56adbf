import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Services } from '../../serving/services.ts';
import {
  PredictionList,
  problemResponses,
  RatingsBody,
  RecommendationList,
  StrategyName,
  UserId,
  UserView,
} from '../schemas.ts';

const UserParams = Type.Object({ id: UserId });

/** Users created and rated while serving, and their recommendations through the router. */
export const userRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { defaultK, maxK } = services.served.config.recommend;

  app.get(
    '/users/:id',
    {
      schema: {
        tags: ['users'],
        summary: 'A user: ratings (latest first), counts and the router’s scenario',
        params: UserParams,
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000, default: 50 })) }),
        response: { 200: UserView, ...problemResponses(400, 404) },
      },
    },
    async (request) => services.viewers.user(request.params.id, request.query.limit),
  );

  app.get(
    '/users/:id/recommendations',
    {
      schema: {
        tags: ['users', 'recommendations'],
        summary: 'Recommendations for a known user, through the router',
        description: 'Reflects ratings added a moment ago (folded in). `strategy` overrides the router for comparison.',
        params: UserParams,
        querystring: Type.Object({
          k: Type.Optional(Type.Integer({ minimum: 1, maximum: maxK, default: defaultK })),
          strategy: Type.Optional(StrategyName),
        }),
        response: { 200: RecommendationList, ...problemResponses(400, 404) },
      },
    },
    async (request) =>
      services.recommendations.recommend({
        userId: request.params.id,
        ...(request.query.k !== undefined ? { k: request.query.k } : {}),
        ...(request.query.strategy ? { strategy: request.query.strategy } : {}),
      }),
  );

  app.get(
    '/users/:id/predictions',
    {
      schema: {
        tags: ['users'],
        summary: 'Predicted ratings of movies by a user',
        description:
          'Predicted ratings clipped to the rating scale. `model=mf` (default): biased matrix factorisation, 5-fold RMSE 0.847 on ml-latest-small. ' +
          '`model=neural`: MLP over autoencoder codes of the user and the movie; a user created or changed since fitting is encoded from their ratings at once.',
        params: UserParams,
        querystring: Type.Object({
          movies: Type.String({
            pattern: '^\\d{1,10}(,\\d{1,10}){0,499}$',
            description: 'comma-separated movie ids (at most 500), e.g. 1,2,3',
          }),
          model: Type.Optional(Type.Enum(['mf', 'neural'], { description: 'rating predictor (default mf)' })),
        }),
        response: { 200: PredictionList, ...problemResponses(400, 404) },
      },
    },
    async (request) =>
      services.predictions.predictions(
        request.params.id,
        request.query.movies.split(',').map(Number),
        request.query.model ?? 'mf',
      ),
  );

  app.post(
    '/users',
    {
      schema: {
        tags: ['users'],
        summary: 'Create a user with ratings (admin)',
        description: 'The user gets the next free id; the ratings are stored and served at once.',
        body: RatingsBody,
        response: { 201: UserView, ...problemResponses(400) },
      },
    },
    async (request, reply) => {
      const user = await services.viewers.addUser(request.body.ratings);
      reply.code(201).header('location', `/v1/users/${user.userId}`);
      return user;
    },
  );

  app.post(
    '/users/:id/ratings',
    {
      schema: {
        tags: ['users'],
        summary: 'Add or change a user’s ratings (admin)',
        params: UserParams,
        body: RatingsBody,
        response: { 200: UserView, ...problemResponses(400, 404) },
      },
    },
    async (request) => services.viewers.rate(request.params.id, request.body.ratings),
  );
};
