/**
 * The evaluation report routes over real HTTP: fixtures/genome trained (the server loads the version), a
 * reports directory with one written report and one corrupt file.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { writeReport } from '../../src/evaluation/report.ts';
import type { EvaluationReport, EvaluationSummary } from '../../src/evaluation/report-types.ts';
import { buildServer } from '../../src/server/app.ts';
import { loadServices } from '../../src/serving/services.ts';
import { DuckDbStore } from '../../src/store/duckdb/duckdb-store.ts';
import { forbidFitting } from '../../src/util/fit-guard.ts';
import { trainedGenome } from '../helpers/genome-trained.ts';
import type { Trained } from '../helpers/trained.ts';

interface Problem {
  type: string;
  status: number;
  detail: string;
  field?: string;
}

const REPORT: EvaluationReport = {
  id: '2026-11-25T11-40-05Z-ranking-abcd',
  kind: 'ranking',
  createdAt: '2026-11-25T11:40:05.000Z',
  dataset: { name: 'genome', users: 5, movies: 6, ratings: 15 },
  protocol: { split: 'stratified:0.8', seeds: [1], k: 5, relevance: { kind: 'all' } },
  metricOrder: ['ndcg', 'precision'],
  strategies: ['popular', 'random'].map((name, i) => ({
    name,
    description: `${name} strategy`,
    params: { k: 5, genre: 'Drama', exclude: true },
    metrics: {
      ndcg: { mean: 0.3 - i / 10, low: 0.25 - i / 10, high: 0.35 - i / 10, n: 5 },
      precision: { mean: 0.2 - i / 10, low: 0.15 - i / 10, high: 0.25 - i / 10, n: 5 },
    },
    runs: [
      {
        split: 'stratified:0.8 seed 1',
        seed: 1,
        evaluated: 5,
        metrics: { ndcg: 0.3 - i / 10, precision: 0.2 - i / 10 },
        fitSeconds: 0.01,
        predictSeconds: 0.02,
      },
    ],
    fitSeconds: 0.01,
    predictSeconds: 0.02,
  })),
  elapsedSeconds: 1.5,
};

let fixture: Trained;
let store: DuckDbStore;
let server: FastifyInstance;
let base: string;

async function get<T>(url: string): Promise<{ status: number; body: T; res: Response; text: string }> {
  const res = await fetch(url);
  const text = await res.text();
  const json = /json/.test(res.headers.get('content-type') ?? '');
  return { status: res.status, body: (json && text ? JSON.parse(text) : null) as T, res, text };
}

async function expectProblem(url: string, status: number): Promise<Problem> {
  const { status: got, body, res, text } = await get<Problem>(url);
  assert.equal(got, status, `expected ${status}, got ${got}: ${text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(body.status, status);
  return body;
}

before(async () => {
  fixture = await trainedGenome();
  const { config } = fixture;
  const reportsDir = path.join(fixture.dir, 'reports');
  assert.equal(config.reportsDir, reportsDir);
  await writeReport(reportsDir, REPORT);
  await writeFile(path.join(reportsDir, 'evaluations', 'corrupt.json'), '{ not json');
  store = await DuckDbStore.open(config.store.path);
  // The server only loads what training saved: any fit from here on fails the test.
  forbidFitting('the evaluation API tests');
  server = await buildServer(await loadServices(store, config), { adminToken: null, logger: false });
  await server.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
});

after(async () => {
  await server?.close();
  await store?.close();
  await fixture?.cleanup();
});

describe('evaluation routes', () => {
  it('GET /v1/evaluations lists the valid reports', async () => {
    const { status, body } = await get<{ items: EvaluationSummary[] }>(`${base}/v1/evaluations`);
    assert.equal(status, 200);
    assert.deepEqual(body.items, [
      {
        id: REPORT.id,
        kind: 'ranking',
        createdAt: REPORT.createdAt,
        dataset: 'genome',
        split: 'stratified:0.8',
        k: 5,
        strategies: ['popular', 'random'],
        headline: { metric: 'ndcg', values: { popular: 0.3, random: REPORT.strategies[1]!.metrics.ndcg!.mean } },
      },
    ]);
  });

  it('GET /v1/evaluations/:id returns the whole report', async () => {
    const { status, body } = await get<EvaluationReport>(`${base}/v1/evaluations/${REPORT.id}`);
    assert.equal(status, 200);
    assert.deepEqual(body, REPORT);
  });

  it('404 for an unknown or corrupt report, 400 for an id that is not a file name', async () => {
    const missing = await expectProblem(`${base}/v1/evaluations/nope`, 404);
    assert.match(missing.detail, /no evaluation report nope/);
    await expectProblem(`${base}/v1/evaluations/corrupt`, 404);
    const bad = await expectProblem(`${base}/v1/evaluations/..%2Fetc`, 400);
    assert.equal(bad.field, 'id');
    await expectProblem(`${base}/v1/evaluations/..%2Fetc/charts/ndcg.svg`, 400);
  });

  it('GET /v1/evaluations/:id/charts/:metric.svg serves the SVG', async () => {
    const { status, res, text } = await get(`${base}/v1/evaluations/${REPORT.id}/charts/ndcg.svg`);
    assert.equal(status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^image\/svg\+xml/);
    assert.match(text, /^<svg/);
    assert.ok(text.includes('popular') && text.includes('random'), 'both strategies drawn');
    await expectProblem(`${base}/v1/evaluations/${REPORT.id}/charts/rmse.svg`, 404);
    await expectProblem(`${base}/v1/evaluations/nope/charts/ndcg.svg`, 404);
  });

  it('documents the routes in OpenAPI', async () => {
    const { body } = await get<{ paths: Record<string, Record<string, { responses: Record<string, unknown> }>> }>(
      `${base}/openapi.json`,
    );
    const paths = Object.keys(body.paths).filter((p) => p.startsWith('/v1/evaluations'));
    assert.deepEqual(paths.sort(), [
      '/v1/evaluations',
      '/v1/evaluations/{id}',
      '/v1/evaluations/{id}/charts/{metric}.svg',
    ]);
    const chart = body.paths['/v1/evaluations/{id}/charts/{metric}.svg']!.get!.responses['200'];
    assert.ok(JSON.stringify(chart).includes('image/svg+xml'), 'chart documented as SVG');
  });
});
