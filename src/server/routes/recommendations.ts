import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Services } from '../../serving/services.ts';
import { PopularList, problemResponses } from '../schemas.ts';

export const recommendationRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { defaultK, maxK } = services.served.config.recommend;
  app.get(
    '/recommendations/popular',
    {
      schema: {
        tags: ['recommendations'],
        summary: 'Most popular movies, optionally within genres',
        description:
          'Ranked by weighted (Bayesian) mean rating, after block and promote rules. ' +
          'Unknown genres are a 400 whose detail lists the valid ones.',
        querystring: Type.Object({
          // Ajv coerces a single value to a one-element list; each element may hold commas.
          genres: Type.Optional(
            Type.Array(Type.String({ maxLength: 500 }), {
              maxItems: 32,
              description: 'comma-separated and/or repeated, case-insensitive, e.g. Comedy,Romance',
            }),
          ),
          match: Type.Optional(
            Type.Enum(['any', 'all'], { default: 'any', description: 'any: one of the genres; all: every one' }),
          ),
          k: Type.Optional(
            Type.Integer({ minimum: 1, maximum: maxK, default: defaultK, description: 'number of movies' }),
          ),
        }),
        response: { 200: PopularList, ...problemResponses(400) },
      },
    },
    async (request) => {
      const { genres, match, k } = request.query;
      return services.catalogue.popularList({ genres: (genres ?? []).flatMap((g) => g.split(',')), match, k });
    },
  );
};
