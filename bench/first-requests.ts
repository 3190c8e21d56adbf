/**
 * A fresh `cinerec serve` on a trained ml-latest-small version: time from spawn to /health, then the first-request
 * latency of every strategy and of every page's API calls (nothing may be fitted on a request path, so each should
 * be fast on its first call), then CLI wall times of the commands that used to refit models.
 *
 *   npm run bench:first-requests [-- --config cinerec.config.json]
 *
 * With no --config it trains (or reuses) the test fixture under ./tmp/test-fixtures.
 */
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { STRATEGIES } from '../src/components/index.ts';
import { realData } from '../test/helpers/real-data.ts';
import { trained } from '../test/helpers/trained.ts';

const { values } = parseArgs({ options: { config: { type: 'string' } } });
const root = join(import.meta.dirname, '..');
const bin = join(root, 'bin', 'cinerec.js');

const fixture = values.config ? null : await trained('ml-latest-small', await realData('ml-latest-small'));
const env = { ...process.env, ...(fixture ? fixture.env : { CINEREC_CONFIG: values.config! }) };

function run(args: string[]): Promise<number> {
  const t = performance.now();
  return new Promise((resolve, reject) =>
    execFile(process.execPath, [bin, ...args], { env }, (err) => (err ? reject(err) : resolve(performance.now() - t))),
  );
}

const started = performance.now();
const server = spawn(process.execPath, [bin, 'serve', '--port', '0'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
const url = await new Promise<string>((resolve, reject) => {
  let err = '';
  server.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    const m = /serving \d+ movies at (http:\/\/[^\s]+)/.exec(err);
    if (m) resolve(m[1]!);
  });
  server.on('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
});
const health = await fetch(`${url}/health`);
const toHealth = performance.now() - started;
if (!health.ok) throw new Error(`/health ${health.status}`);

const rows: [string, number, number][] = [];
async function first(label: string, path: string, init?: RequestInit): Promise<void> {
  const t = performance.now();
  const res = await fetch(`${url}${path}`, init);
  await res.arrayBuffer();
  rows.push([label, res.status, performance.now() - t]);
}

for (const name of STRATEGIES.keys()) await first(`strategy ${name}`, `/v1/users/5/recommendations?strategy=${name}`);
const pages: [string, string][] = [
  ['Discover', '/v1/recommendations/popular?genres=Comedy'],
  ['Discover', '/v1/genres'],
  ['Search', '/v1/movies?q=matrix'],
  ['Movie', '/v1/movies/2571'],
  ['Movie', '/v1/movies/2571/similar?method=content'],
  ['Movie', '/v1/movies/2571/similar?method=hybrid'],
  ['Movie', '/v1/movies/2571/segment'],
  ['Users', '/v1/users/5'],
  ['Users', '/v1/users/5/recommendations'],
  ['Users', '/v1/users/5/segment'],
  ['Users', '/v1/users/5/predictions?movies=1,2,3&model=mf'],
  ['Users', '/v1/users/5/predictions?movies=1,2,3&model=neural'],
  ['Clusters', '/v1/clusters/movies?examples=5'],
  ['Clusters', '/v1/clusters/movies/projection?limit=2500'],
  ['Clusters', '/v1/segments/movies'],
  ['Clusters', '/v1/segments/users'],
  ['Experiments', '/v1/runs'],
  ['Experiments', '/v1/models'],
  ['Experiments', '/v1/evaluations'],
  ['Operations', '/v1/rules'],
];
for (const [page, path] of pages) await first(`${page} ${path}`, path);
await first('Start by rating POST /v1/recommendations', '/v1/recommendations', {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ ratings: [1, 260, 1196, 2571, 4993, 5952].map((movieId) => ({ movieId, rating: 4.5 })) }),
});
server.kill('SIGTERM');

const cli: [string, number][] = [];
for (const args of [
  ['--help'],
  ['predict', '--user', '1', '--movie', '2,318', '--model', 'neural'],
  ['segments', 'movies'],
  ['similar', '1', '--method', 'hybrid'],
  ['recommend', '--user', '1'],
]) {
  await run(args); // warm the page cache
  cli.push([`cinerec ${args.join(' ')}`, await run(args)]);
}

console.log(`fresh serve → /health: ${(toHealth / 1000).toFixed(2)} s`);
console.log('| first request | status | ms |\n|---|---:|---:|');
for (const [label, status, ms] of rows) console.log(`| ${label} | ${status} | ${ms.toFixed(1)} |`);
console.log(`\nslowest first request: ${Math.max(...rows.map((r) => r[2])).toFixed(1)} ms`);
console.log('\n| CLI command | wall s |\n|---|---:|');
for (const [label, ms] of cli) console.log(`| ${label} | ${(ms / 1000).toFixed(2)} |`);
await fixture?.cleanup();
