import { basename } from 'node:path';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Services } from '../../serving/services.ts';
import { GenreList, Health, StoreInfo } from '../schemas.ts';

/** Health at the root (for probes); info and genres under /v1 (see app.ts for the prefixes). */
export const healthRoute: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const started = performance.now();
  app.get(
    '/health',
    {
      schema: {
        tags: ['system'],
        summary: 'Liveness and what is loaded',
        response: { 200: Health },
      },
    },
    async () => {
      // Reads the store, so a broken store shows up here as a 500 rather than as a false "ok".
      const [dataset, counts] = await Promise.all([services.served.store.dataset(), services.served.store.counts()]);
      return {
        status: 'ok' as const,
        dataset: dataset?.name ?? null,
        movies: counts.movies,
        ratings: counts.ratings,
        uptimeSeconds: Math.round((performance.now() - started) / 100) / 10,
      };
    },
  );
};

export const systemRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.get(
    '/info',
    {
      schema: {
        tags: ['system'],
        summary: 'Dataset, counts, rating histogram and genome coverage',
        response: { 200: StoreInfo },
      },
    },
    async () => {
      const info = await services.catalogue.info();
      // The release's folder name only: a server path never leaves the server.
      return info.dataset
        ? { ...info, dataset: { ...info.dataset, sourceDir: basename(info.dataset.sourceDir) } }
        : info;
    },
  );

  app.get(
    '/genres',
    {
      schema: {
        tags: ['system'],
        summary: 'Genres with their number of movies, most common first',
        response: { 200: GenreList },
      },
    },
    async () => ({ items: services.catalogue.genres() }),
  );
};
