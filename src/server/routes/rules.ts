import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Services } from '../../serving/services.ts';
import { MovieId, problemResponses, RuleAction, RuleView, Text } from '../schemas.ts';

// Date or date-time; the service turns a bare date into the end of that day.
const ISO_DATE = '^\\d{4}-\\d{2}-\\d{2}([Tt ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?([Zz]|[+-]\\d{2}:?\\d{2})?)?$';

const RuleBody = Type.Object(
  {
    action: RuleAction,
    boost: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, maximum: 1000, description: 'score multiplier for promote; default 1.5' }),
    ),
    until: Type.Optional(
      Type.String({
        pattern: ISO_DATE,
        // Also the error message for a mismatch ("body property until must be ...").
        description: 'an ISO 8601 date or date-time such as 2026-12-31 or 2026-12-31T18:00:00Z',
      }),
    ),
    reason: Type.Optional(Text(500)),
  },
  { additionalProperties: false },
);

const MovieParams = Type.Object({ movieId: MovieId });

export const ruleRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.get(
    '/rules',
    {
      schema: {
        tags: ['rules'],
        summary: 'Block and promote rules, including expired ones',
        response: { 200: Type.Object({ items: Type.Array(RuleView) }, { description: 'all rules' }) },
      },
    },
    async () => ({ items: services.rules.list() }),
  );

  // PUT and DELETE need the admin token: auth.ts marks every mutating /v1 route.
  app.put(
    '/rules/:movieId',
    {
      schema: {
        tags: ['rules'],
        summary: 'Create or replace the rule for a movie',
        params: MovieParams,
        body: RuleBody,
        response: { 200: RuleView, ...problemResponses(400, 404) },
      },
    },
    async (request) => {
      const { movieId } = request.params;
      await services.rules.put({ movieId, ...request.body });
      const rule = services.rules.list().find((r) => r.movieId === movieId);
      if (!rule) throw new Error(`rule for movie ${movieId} vanished after it was written`);
      return rule;
    },
  );

  app.delete(
    '/rules/:movieId',
    {
      schema: {
        tags: ['rules'],
        summary: 'Remove the rule for a movie',
        params: MovieParams,
        response: { 204: Type.Null({ description: 'rule removed' }), ...problemResponses(400, 404) },
      },
    },
    async (request, reply) => {
      await services.rules.remove(request.params.movieId);
      return reply.code(204).send(null);
    },
  );
};
