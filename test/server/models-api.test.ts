/**
 * Model versions over real HTTP: runs and versions listed, retraining in a child process that picks up
 * a user added through the API, a hot swap under concurrent requests with none failing, rollback, and a
 * failed training that leaves the served version untouched.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { type Config, loadConfig } from '../../src/config/config.ts';
import { train } from '../../src/pipeline/train.ts';
import { buildServer } from '../../src/server/app.ts';
import { ModelManager, type RetrainOutcome } from '../../src/server/model-manager.ts';
import { ServiceHolder } from '../../src/server/service-holder.ts';
import { loadServices } from '../../src/serving/services.ts';
import type { UserView } from '../../src/serving/views.ts';
import { DuckDbStore } from '../../src/store/duckdb/duckdb-store.ts';
import { takeSnapshot } from '../../src/store/snapshot.ts';
import type { ModelsState, RunRecord, RunSummary } from '../../src/tracking/types.ts';
import { forbidFitting } from '../../src/util/fit-guard.ts';
import { type PipelineFixture, pipelineFixture } from '../helpers/pipeline-fixture.ts';

const TOKEN = 'models-admin-token-0123456789';
/** The stages of `cinerec train`, each run once by the first training. */
const STAGES = [
  'snapshot',
  'popularity',
  'content',
  'projection',
  'als',
  'ease',
  'itemknn',
  'rp3beta',
  'hybrid',
  'user-clusters',
  'movie-segments',
  'user-segments',
  'segment-scores',
  'mf',
  'neural',
  'evaluation',
];
const admin = { authorization: `Bearer ${TOKEN}` };

let f: PipelineFixture;
let config: Config;
let store: DuckDbStore;
let server: FastifyInstance;
let models: ModelManager;
let holder: ServiceHolder;
let base: string;
const lines: string[] = [];

async function call<T>(method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

function ok<T>(r: { status: number; body: T }, status = 200): T {
  assert.equal(r.status, status, JSON.stringify(r.body));
  return r.body;
}

before(async () => {
  f = await pipelineFixture('models-api');
  config = loadConfig({ env: {}, file: f.configFile, cwd: f.dir }).config;
  store = await DuckDbStore.open(f.storePath);
  const first = await train(config, await takeSnapshot(store), { activate: 'always' });
  assert.equal(first.version, 'v0001');
  // The server only loads what training saved (retraining runs in a child process): any fit from here on in
  // this process fails the test.
  forbidFitting('the model versions API tests');
  const services = await loadServices(store, config);
  assert.equal(services.served.version?.id, 'v0001', 'the active version is served');
  await services.served.warm();
  holder = new ServiceHolder(services);
  models = ModelManager.local(holder, store, config, (l) => lines.push(l));
  server = await buildServer(holder.view(), { adminToken: TOKEN, logger: false, models });
  await server.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
});

after(async () => {
  models?.close();
  await server?.close();
  await store?.close();
  if (f) await rm(f.dir, { recursive: true, force: true });
});

describe('model versions over HTTP', () => {
  let userId: number;

  it('GET /v1/models and /v1/runs show the trained version and its run', async () => {
    const state = ok(await call<ModelsState & { served: string }>('GET', '/v1/models'));
    assert.equal(state.active, 'v0001');
    assert.equal(state.served, 'v0001');
    assert.equal(state.versions[0]!.active, true);
    assert.ok(state.versions[0]!.metrics['router.ndcg']! > 0);
    const runs = ok(await call<{ runs: RunSummary[] }>('GET', '/v1/runs')).runs;
    assert.equal(runs.length, 1);
    const run = ok(await call<RunRecord & { stages: RunSummary[] }>('GET', `/v1/runs/${runs[0]!.id}`));
    assert.equal(run.status, 'finished');
    assert.deepEqual(run.stages.map((s) => s.kind.replace(/^stage:/, '')).sort(), [...STAGES].sort());
    assert.equal((await call('GET', '/v1/runs/20990101T000000000-000')).status, 404);
  });

  it('a user added through the API is served live, folded in', async () => {
    assert.equal((await call('POST', '/v1/models/retrain')).status, 401);
    const user = ok(
      await call<UserView>(
        'POST',
        '/v1/users',
        {
          ratings: holder.current.served.catalogue.movies.slice(0, 6).map((m) => ({ movieId: m.movieId, rating: 4.5 })),
        },
        admin,
      ),
      201,
    );
    userId = user.userId;
    assert.equal(user.live, true);
  });

  it('retraining picks the user up and swaps the new version in while requests keep succeeding', async () => {
    let stop = false;
    let okCount = 0;
    const failures: string[] = [];
    const load = (async () => {
      while (!stop) {
        const rs = await Promise.all([
          fetch(`${base}/v1/users/${userId}/recommendations?k=5`),
          fetch(`${base}/v1/users/1/recommendations?k=5`),
          fetch(`${base}/v1/movies/1/similar?k=5`),
          fetch(`${base}/v1/recommendations`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ genres: ['Comedy'] }),
          }),
        ]);
        for (const r of rs) {
          if (r.ok) okCount++;
          else failures.push(`${r.url} ${r.status} ${await r.text()}`);
          await r.body?.cancel().catch(() => {});
        }
      }
    })();
    const outcome = ok(await call<RetrainOutcome>('POST', '/v1/models/retrain', undefined, admin));
    // Keep firing across the swap's tail, then stop.
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await load;
    assert.equal(outcome.status, 'activated', outcome.message);
    assert.equal(outcome.version, 'v0002');
    assert.deepEqual(failures, []);
    assert.ok(okCount > 20, `${okCount} requests answered`);
    const state = ok(await call<ModelsState & { served: string }>('GET', '/v1/models'));
    assert.equal(state.active, 'v0002');
    assert.equal(state.served, 'v0002');
    // Trained on now: no longer live.
    assert.equal(ok(await call<UserView>('GET', `/v1/users/${userId}`)).live, false);
    assert.ok(holder.current.served.version!.snapshot.ratings.userId.includes(userId));
    const runs = ok(await call<{ runs: RunSummary[] }>('GET', '/v1/runs?kind=retrain')).runs;
    assert.equal(runs[0]?.status, 'finished');
  });

  it('rollback serves the previous version again, with the newer user live again', async () => {
    const state = ok(await call<ModelsState & { served: string }>('POST', '/v1/models/rollback', undefined, admin));
    assert.equal(state.active, 'v0001');
    assert.equal(state.served, 'v0001');
    assert.equal(ok(await call<UserView>('GET', `/v1/users/${userId}`)).live, true);
    const recs = ok(await call<{ items: unknown[] }>('GET', `/v1/users/${userId}/recommendations?k=5`));
    assert.equal(recs.items.length, 5);
    const activated = ok(
      await call<ModelsState & { served: string }>('POST', '/v1/models/v0002/activate', undefined, admin),
    );
    assert.equal(activated.served, 'v0002');
    assert.equal((await call('POST', '/v1/models/v0042/activate', undefined, admin)).status, 404);
  });

  it('a failed training activates nothing and leaves the served version untouched', async () => {
    const broken = ModelManager.local(
      holder,
      store,
      {
        ...config,
        pipeline: {
          ...config.pipeline,
          evaluation: { ...config.pipeline.evaluation, strategies: ['no-such-strategy'] },
        },
      },
      (l) => lines.push(l),
    );
    const outcome = await broken.retrain();
    assert.equal(outcome.status, 'failed');
    assert.match(outcome.message, /no-such-strategy/);
    const state = ok(await call<ModelsState & { served: string }>('GET', '/v1/models'));
    assert.equal(state.active, 'v0002');
    assert.equal(state.served, 'v0002');
    assert.equal(state.versions.length, 2);
    const failed = ok(await call<{ runs: RunSummary[] }>('GET', '/v1/runs?kind=retrain')).runs[0]!;
    assert.equal(failed.status, 'failed');
  });
});
