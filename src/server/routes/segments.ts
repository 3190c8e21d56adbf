import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Services } from '../../serving/services.ts';
import { problemResponses, UserId, UserSegments, UserSegmentView } from '../schemas.ts';

/** User segments: the segmentation, and any stored or live user's segment. */
export const segmentRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.get(
    '/segments/users',
    {
      schema: {
        tags: ['clusters', 'users'],
        summary: 'User segments, with the number of segments chosen from the data',
        description:
          'Per user a taste profile (genre shares of the positive ratings, mean rating and share of ratings in every ' +
          'movie segment, log rating count), standardised and compressed by a small autoencoder ' +
          '(segments.users.hidden → segments.users.code); k-means on the codes for every k in [segments.minK, ' +
          'segments.maxK], k chosen by segments.rule, every k’s four scores returned. Each segment is described by ' +
          'its size, top genres, mean rating and the movie segments it favours. Computed on first use.',
        response: { 200: UserSegments },
      },
    },
    async () => services.segments.userSegments(),
  );

  app.get(
    '/users/:id/segment',
    {
      schema: {
        tags: ['users', 'clusters'],
        summary: 'The segment of a user, with the highlights of their profile',
        description:
          'A user segmented at fitting keeps their segment; a user created or changed since is placed at once from ' +
          'their current ratings (fitted scaler → encoder → nearest centroid), without refitting.',
        params: Type.Object({ id: UserId }),
        response: { 200: UserSegmentView, ...problemResponses(400, 404) },
      },
    },
    async (request) => services.segments.userSegment(request.params.id),
  );
};
