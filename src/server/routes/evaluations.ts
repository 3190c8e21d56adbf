import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { listReports, readChart, readReport } from '../../evaluation/report.ts';
import type { Services } from '../../serving/services.ts';
import { NotFoundError } from '../../util/errors.ts';
import {
  EvaluationChartParams,
  EvaluationList,
  EvaluationParams,
  EvaluationReport,
  problemResponses,
} from '../schemas.ts';

const SVG_CONTENT_TYPE = 'image/svg+xml';

/** Reports written by `cinerec eval` into config.reportsDir, read from disk on every request (they are small). */
export const evaluationRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const dir = services.served.config.reportsDir;

  app.get(
    '/evaluations',
    {
      schema: {
        tags: ['evaluations'],
        summary: 'Stored evaluation reports, newest first',
        description: 'One summary per report: protocol, strategies and the headline metric (NDCG or RMSE).',
        response: { 200: EvaluationList },
      },
    },
    async () => ({ items: await listReports(dir) }),
  );

  app.get(
    '/evaluations/:id',
    {
      schema: {
        tags: ['evaluations'],
        summary: 'One evaluation report',
        description: 'Every strategy with its metric intervals, per-run values and timings.',
        params: EvaluationParams,
        response: { 200: EvaluationReport, ...problemResponses(400, 404) },
      },
    },
    async (request) => {
      const report = await readReport(dir, request.params.id);
      if (!report) throw new NotFoundError(`no evaluation report ${request.params.id}`, 'id');
      return report;
    },
  );

  app.get(
    '/evaluations/:id/charts/:metric.svg',
    {
      schema: {
        tags: ['evaluations'],
        summary: 'Bar chart of one metric',
        description: 'Mean per strategy with 95% confidence intervals, as SVG.',
        params: EvaluationChartParams,
        response: {
          200: {
            description: 'the chart',
            content: { [SVG_CONTENT_TYPE]: { schema: Type.String() } },
          },
          ...problemResponses(400, 404),
        },
      },
    },
    async (request, reply) => {
      const { id, metric } = request.params;
      const svg = await readChart(dir, id, metric);
      if (svg === null) throw new NotFoundError(`evaluation report ${id} has no chart for ${metric}`, 'metric');
      // A string with a non-JSON content type is sent as is, past the response serialiser.
      return reply.type(SVG_CONTENT_TYPE).send(svg);
    },
  );
};
