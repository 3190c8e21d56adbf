/**
 * The PostgreSQL deployment (issue 16): `npm run bench:cluster [-- --ratings 5000000 --seconds 10]`.
 * 1. Import rate of `cinerec data import` into PostgreSQL (and into DuckDB, for comparison) on a synthetic release.
 * 2. ml-latest-small in PostgreSQL, trained; personalised requests (GET /v1/users/:id/recommendations, random
 *    trained users, result cache off) through nginx (deploy/nginx.conf) with 1 and then 2 replicas (one process
 *    each), by wrk at 16 connections.
 * 3. Write-to-visible across replicas: a rating added through replica A, polled on replica B until served; p50/p99.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeSyntheticMovieLens } from '../src/cli/synthetic.ts';
import { cli, json } from '../test/helpers/cli.ts';
import { call, deployment, type Replica, replica, startNginx, TOKEN } from '../test/helpers/cluster.ts';
import { SMALL_TRAINING } from '../test/helpers/pipeline-fixture.ts';
import { startPostgres } from '../test/helpers/postgres.ts';
import { realData } from '../test/helpers/real-data.ts';

const { values } = parseArgs({
  options: { ratings: { type: 'string', default: '5000000' }, seconds: { type: 'string', default: '10' } },
});
const ratings = Number(values.ratings);
const dir = mkdtempSync(join(tmpdir(), 'cinerec-bench-cluster-'));
deployment.dir = dir;
const pg = await startPostgres();
const quantile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor(p * (xs.length - 1))]!;

try {
  // 1. Import.
  const users = Math.round(ratings / 150);
  const movies = Math.max(500, Math.round(ratings / 400));
  await writeSyntheticMovieLens(join(dir, 'synthetic'), { users, movies, ratings, seed: 16 });
  const importInto = async (env: Record<string, string>) => {
    const t = performance.now();
    json(
      await cli(['--json', 'data', 'import', join(dir, 'synthetic')], { CINEREC_MODELS_DIR: join(dir, 'm'), ...env }),
    );
    return (performance.now() - t) / 1000;
  };
  const pgSeconds = await importInto({ CINEREC_DATABASE_URL: await pg.database() });
  const duckSeconds = await importInto({ CINEREC_STORE: join(dir, 'bench.duckdb') });
  const rate = (s: number) => `${s.toFixed(1)} s, ${Math.round(ratings / s).toLocaleString('en-US')} ratings/s`;
  console.log(
    `import of ${ratings.toLocaleString('en-US')} ratings (${users} users, ${movies} movies), whole command:`,
  );
  console.log(`  PostgreSQL: ${rate(pgSeconds)}\n  DuckDB:     ${rate(duckSeconds)}`);
  rmSync(join(dir, 'synthetic'), { recursive: true, force: true });

  // 2. A deployment on ml-latest-small.
  const configFile = join(dir, 'cinerec.config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      ...SMALL_TRAINING,
      store: { url: await pg.database() },
      modelsDir: join(dir, 'models'),
      reportsDir: join(dir, 'reports'),
      server: { cacheSize: 0, rateLimit: { writes: 0, publicPosts: 0 } },
    }),
  );
  deployment.env = {
    CINEREC_CONFIG: configFile,
    CINEREC_STORE: '',
    CINEREC_MODELS_DIR: '',
    CINEREC_ADMIN_TOKEN: TOKEN,
  };
  json(await cli(['--json', 'data', 'import', await realData('ml-latest-small')], deployment.env));
  json(await cli(['--json', 'train'], deployment.env));
  const script = join(dir, 'users.lua');
  writeFileSync(
    script,
    'request = function() return wrk.format("GET", "/v1/users/" .. math.random(1, 610) .. "/recommendations") end',
  );
  const load = (front: Replica) => {
    const out = execFileSync('wrk', ['-t2', '-c16', `-d${values.seconds}s`, '--latency', '-s', script, front.url], {
      encoding: 'utf8',
    });
    const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? '0';
    return `${Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]).toFixed(0)} req/s, p50 ${/\s50%\s+(\S+)/.exec(out)?.[1]}, p99 ${/\s99%\s+(\S+)/.exec(out)?.[1]}, non-2xx ${non2xx}`;
  };
  const a = await replica(1);
  const one = await startNginx([a]);
  console.log(`personalised GET /v1/users/:id/recommendations through nginx, 16 connections, ${values.seconds} s:`);
  console.log(`  1 replica:  ${load(one)}`);
  one.child.kill('SIGTERM');
  const b = await replica(1);
  const two = await startNginx([a, b]);
  console.log(`  2 replicas: ${load(two)}`);

  // 3. Write on A → served by B.
  const created = await call<{ userId: number }>(a, 'POST', '/v1/users', { ratings: [{ movieId: 1, rating: 4 }] });
  const id = created.body.userId;
  const popular = (await call<{ items: { movieId: number }[] }>(a, 'GET', '/v1/recommendations/popular?k=200')).body
    .items;
  const delays: number[] = [];
  for (let i = 0; i < 100; i++) {
    const t = performance.now();
    await call(a, 'POST', `/v1/users/${id}/ratings`, { ratings: [{ movieId: popular[i]!.movieId, rating: 5 }] });
    const acknowledged = performance.now();
    for (;;) {
      const seen = await call<{ ratings: number }>(b, 'GET', `/v1/users/${id}`);
      if (seen.body.ratings >= i + 2) break;
    }
    delays.push(performance.now() - acknowledged);
    if (i === 0) console.log(`  (first write acknowledged in ${(acknowledged - t).toFixed(1)} ms)`);
  }
  console.log(
    `write acknowledged by replica A → served by replica B (100 writes): p50 ${quantile(delays, 0.5).toFixed(1)} ms, p99 ${quantile(delays, 0.99).toFixed(1)} ms`,
  );
} finally {
  for (const c of deployment.children) if (c.exitCode === null) c.kill('SIGKILL');
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
}
