/**
 * What one personalised request costs, in-process: a trained ml-latest-small version is loaded (the test fixture
 * under ./tmp/test-fixtures, trained once per checkout), every model warmed, then for every strategy (and the
 * router) and three kinds of viewer, the mean and p99 milliseconds per call:
 *
 * - trained: a user of the training data, `recommend({ userId })`;
 * - anonymous: six of a trained user's ratings in the body, no user id;
 * - live: a user created while serving (`viewers.addUser`) with a trained user's ratings.
 *
 * "with reasons" is `services.recommendations.recommend()` (the API's path: checks, ranking, reasons, views; the
 * served result cache is off, so each call computes its list); "no reasons" is the ranking pipeline alone with
 * `explain: false`. A last table times a live user's write (`rate()`) and their next request.
 *
 *   npm run bench:request [-- --users 300 --k 10 --only ease,als --json out.json]
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { STRATEGIES } from '../src/components/index.ts';
import type { RatedMovie, Strategy, ViewerContext } from '../src/recommend/strategy.ts';
import { loadServices } from '../src/serving/services.ts';
import { DuckDbStore } from '../src/store/duckdb/duckdb-store.ts';
import { forbidFitting } from '../src/util/fit-guard.ts';
import { realData } from '../test/helpers/real-data.ts';
import { trained } from '../test/helpers/trained.ts';

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '300' },
    k: { type: 'string', default: '10' },
    only: { type: 'string' },
    json: { type: 'string' },
  },
});
const nUsers = Number(values.users);
const k = Number(values.k);

const fixture = await trained('ml-latest-small', await realData('ml-latest-small'));
const store = await DuckDbStore.open(fixture.config.store.path);
forbidFitting('bench:request serves a trained version');
// The served result cache (server.cacheSize) would answer repeated requests without computing them: off, so every
// call below is computed.
const services = await loadServices(store, { ...fixture.config, server: { ...fixture.config.server, cacheSize: 0 } });
const { served } = services;
await served.warm();

const data = served.data;
const x = data.interactions;
const catalogue = data.catalogue;
// Every other trained user (spread over the id range), up to nUsers.
const step = Math.max(1, Math.floor(x.nUsers / nUsers));
const userIds: number[] = [];
for (let u = 0; u < x.nUsers && userIds.length < nUsers; u += step) userIds.push(x.userIds[u]!);

/** A trained user's ratings as movie ids. */
function ratingsOf(userId: number): RatedMovie[] {
  const h = served.historyOf(userId);
  return Array.from(h.items, (i, t) => ({ movieId: catalogue.movies[i]!.movieId, rating: h.ratings[t]! }));
}

/** Six of the user's ratings: their best, ties by catalogue order (enough for the personalised path). */
function sixOf(userId: number): RatedMovie[] {
  return ratingsOf(userId)
    .sort((a, b) => b.rating - a.rating || a.movieId - b.movieId)
    .slice(0, 6);
}

const names = ['router', ...[...STRATEGIES.keys()].filter((n) => n !== 'router')].filter(
  (n) => !values.only || values.only.split(',').includes(n),
);
const strategies = new Map<string, Strategy>();
for (const n of names) strategies.set(n, await served.strategy(n));

interface Row {
  strategy: string;
  viewer: string;
  reasons: { mean: number; p99: number };
  plain: { mean: number; p99: number };
}

function stats(ms: number[]): { mean: number; p99: number } {
  const sorted = ms.slice().sort((a, b) => a - b);
  const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
  return { mean, p99: sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)]! };
}

async function measure(name: string, viewer: string, contexts: ViewerContext[]): Promise<Row> {
  const strategy = strategies.get(name)!;
  const override = name === 'router' ? {} : { strategy: name };
  const request = (ctx: ViewerContext) => ({
    ...(ctx.userId !== undefined ? { userId: ctx.userId } : {}),
    ...(ctx.ratings ? { ratings: ctx.ratings } : {}),
    k,
    ...override,
  });
  // Warm-up: the first calls grow scratch buffers and let V8 optimise.
  for (const ctx of contexts.slice(0, 20)) {
    await services.recommendations.recommend(request(ctx));
    served.pipeline.rank(strategy, { ctx, k, explain: false });
  }
  const withReasons: number[] = [];
  const plain: number[] = [];
  for (const ctx of contexts) {
    const t0 = performance.now();
    await services.recommendations.recommend(request(ctx));
    const t1 = performance.now();
    served.pipeline.rank(strategy, { ctx, k, explain: false });
    const t2 = performance.now();
    withReasons.push(t1 - t0);
    plain.push(t2 - t1);
  }
  const row = { strategy: name, viewer, reasons: stats(withReasons), plain: stats(plain) };
  process.stderr.write(
    `${name} ${viewer}: ${row.reasons.mean.toFixed(2)} ms, ${row.plain.mean.toFixed(2)} ms without reasons\n`,
  );
  return row;
}

const rows: Row[] = [];
const trainedContexts: ViewerContext[] = userIds.map((userId) => ({ userId }));
const anonymousContexts: ViewerContext[] = userIds.map((userId) => ({ ratings: sixOf(userId) }));
for (const n of names) rows.push(await measure(n, 'trained', trainedContexts));
for (const n of names) rows.push(await measure(n, 'anonymous 6', anonymousContexts));

// Live users: created while serving with a trained user's ratings (after the trained runs: refolding movies with
// few ratings moves their ALS factors). Each write refolds the rarely rated movies it touches, which moves item
// factors under every live user's folded-in state: a state is brought up to date on that user's next write or read.
// Here all of them are brought up to date at once (timed) before the reads, as after a burst of writes.
const t0 = performance.now();
const liveContexts: ViewerContext[] = [];
for (const userId of userIds) {
  const view = await services.viewers.addUser(ratingsOf(userId));
  liveContexts.push({ userId: view.userId });
}
const addMs = (performance.now() - t0) / userIds.length;
const t1 = performance.now();
const liveUsers = served.live as { refresh?: (userId: number) => void };
if (typeof liveUsers.refresh === 'function') for (const ctx of liveContexts) liveUsers.refresh(ctx.userId!);
const refreshMs = (performance.now() - t1) / userIds.length;
for (const n of names) rows.push(await measure(n, 'live', liveContexts));

// A write, then that user's next request: rate() one more movie (a popular one for even users, one rated once in
// training, which is refolded, for odd ones), then one recommend() with reasons.
const counts = x.itemCounts();
const rare = catalogue.movies[counts.indexOf(1)]!.movieId;
const popular = catalogue.movies[counts.reduce((best, c, i) => (c > counts[best]! ? i : best), 0)]!.movieId;
const afterWrite: { strategy: string; write: { mean: number; p99: number }; next: { mean: number; p99: number } }[] =
  [];
for (const n of ['router', 'als', 'user-cluster', 'segment', 'neural'].filter((n) => names.includes(n))) {
  const writes: number[] = [];
  const next: number[] = [];
  for (const [t, ctx] of liveContexts.slice(0, 60).entries()) {
    const w0 = performance.now();
    await services.viewers.rate(ctx.userId!, [{ movieId: t % 2 ? rare : popular, rating: 3.5 + (t % 3) * 0.5 }]);
    const w1 = performance.now();
    await services.recommendations.recommend({ userId: ctx.userId!, k, ...(n === 'router' ? {} : { strategy: n }) });
    next.push(performance.now() - w1);
    writes.push(w1 - w0);
  }
  afterWrite.push({ strategy: n, write: stats(writes), next: stats(next) });
  process.stderr.write(`${n} right after a write: ${stats(next).mean.toFixed(2)} ms\n`);
}

const f = (v: number) => (v >= 10 ? v.toFixed(1) : v.toFixed(2));
console.log(
  `ml-latest-small, ${userIds.length} users per row, k = ${k}; addUser ${f(addMs)} ms per live user (mean); ` +
    `bringing a live user's state up to date after the writes: ${f(refreshMs)} ms per user\n` +
    '| strategy | viewer | mean ms | p99 ms | mean ms, no reasons | p99 ms, no reasons |\n|---|---|---:|---:|---:|---:|',
);
for (const r of rows)
  console.log(
    `| ${r.strategy} | ${r.viewer} | ${f(r.reasons.mean)} | ${f(r.reasons.p99)} | ${f(r.plain.mean)} | ${f(r.plain.p99)} |`,
  );
console.log(
  '\nA live user rates one more movie, then asks for recommendations (60 users):\n' +
    '| strategy | rate() mean ms | p99 ms | next recommend() mean ms | p99 ms |\n|---|---:|---:|---:|---:|',
);
for (const r of afterWrite)
  console.log(`| ${r.strategy} | ${f(r.write.mean)} | ${f(r.write.p99)} | ${f(r.next.mean)} | ${f(r.next.p99)} |`);
if (values.json)
  writeFileSync(values.json, JSON.stringify({ users: userIds.length, k, addMs, refreshMs, rows, afterWrite }, null, 2));
await store.close();
await fixture.cleanup();
