import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Services } from '../../serving/services.ts';
import { MovieDetails, MovieId, problemResponses, SearchResult, Text } from '../schemas.ts';

export const movieRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.get(
    '/movies',
    {
      schema: {
        tags: ['movies'],
        summary: 'Search movies by title',
        description: 'Case- and accent-insensitive; exact and prefix matches first, then by number of ratings.',
        querystring: Type.Object({
          q: Text(200, { minLength: 1, description: 'title words, e.g. "matrix"' }),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
          offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 })),
        }),
        response: { 200: SearchResult, ...problemResponses(400) },
      },
    },
    async (request) =>
      services.catalogue.search(request.query.q, { limit: request.query.limit, offset: request.query.offset }),
  );

  app.get(
    '/movies/:id',
    {
      schema: {
        tags: ['movies'],
        summary: 'Movie details',
        description: 'Titles, links, top tags, popularity and any rule on the movie.',
        params: Type.Object({ id: MovieId }),
        response: { 200: MovieDetails, ...problemResponses(400, 404) },
      },
    },
    async (request) => services.catalogue.movie(request.params.id),
  );
};
