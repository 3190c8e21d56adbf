/**
 * The contract every registered strategy meets, run over each one in the registry (as LensKit's ScorerTests and
 * implicit's RecommenderBaseTestMixin): created from fitted models it scores every catalogue movie, the ranking
 * never returns what the viewer has seen, rules are obeyed, every item says why, and a save/load round trip of
 * its models gives identical scores. A strategy added to the registry is covered without a line here.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FittingModels } from '../../src/components/fitting.ts';
import { closureOf, MODELS, SERVED_STRATEGIES, STRATEGIES } from '../../src/components/index.ts';
import type { ModelName } from '../../src/components/models.ts';
import { StoredModels } from '../../src/components/stored.ts';
import { StrategyBook } from '../../src/components/strategy-book.ts';
import { loadConfig } from '../../src/config/config.ts';
import { historyOf } from '../../src/recommend/history.ts';
import { RankingPipeline } from '../../src/recommend/pipeline.ts';
import { RuleSet } from '../../src/recommend/rules.ts';
import type { ViewerContext } from '../../src/recommend/strategy.ts';
import { fixture } from '../models/persistence-fixture.ts';

const root = mkdtempSync(join(tmpdir(), 'cinerec-conformance-'));
after(() => rmSync(root, { recursive: true, force: true }));

const { config } = loadConfig({
  env: {},
  cwd: root,
  overrides: {
    'content.dimensions': '8',
    'content.clusters': '5',
    'content.restarts': '1',
    'content.tagVocabulary': '100',
    'als.factors': '8',
    'als.iterations': '4',
    'als.threads': '1',
    'hybrid.clusters': '5',
    'hybrid.restarts': '1',
    'userClusters.clusters': '4',
    'userClusters.restarts': '1',
    'segments.maxK': '5',
    'segments.restarts': '1',
    'segments.users.epochs': '20',
    'neural.userHidden': '16',
    'neural.code': '8',
    'neural.itemHidden': '16',
    'neural.itemCode': '8',
    'neural.aeEpochs': '3',
    'neural.hidden': '16',
    'neural.hidden2': '8',
    'neural.epochs': '3',
    'neural.crossFolds': '2',
    'mf.factors': '8',
    'mf.epochs': '5',
  },
});

const f = fixture({ users: 80, movies: 60, unrated: 4 });
const data = f.data;
const n = data.catalogue.size;
const user = data.interactions.userIds[0]!;
const queries: ViewerContext[] = [
  { userId: user },
  {
    ratings: [
      { movieId: 1, rating: 5 },
      { movieId: 6, rating: 4.5 },
      { movieId: 11, rating: 4 },
      { movieId: 2, rating: 2 },
      { movieId: 16, rating: 4.5 },
      { movieId: 21, rating: 5 },
    ],
  },
  { watched: [3, 8] },
];

/** A movie the first query's strategy ranks highly: the one the rules act on. */
function ranked(book: StrategyBook, name: string, ctx: ViewerContext, rules = new RuleSet([]), k = 10) {
  const pipeline = new RankingPipeline(
    () => data,
    () => rules,
  );
  return book.get(name).then((s) => pipeline.rank(s, { ctx, k }));
}

const rule = (movieId: number, action: 'block' | 'promote', boost = 1) => ({
  movieId,
  action,
  boost,
  until: null,
  reason: null,
  createdAt: new Date(0).toISOString(),
});

for (const name of STRATEGIES.keys()) {
  describe(`strategy ${name}`, () => {
    const models = new FittingModels(data, config);
    const book = new StrategyBook(data, config, models);

    it('scores every catalogue movie with a number or −∞', async () => {
      const strategy = await book.get(name);
      for (const ctx of queries) {
        const scores = new Float32Array(n).fill(Number.NaN);
        strategy.score({ ctx, history: historyOf(ctx, data) }, scores);
        assert.equal(scores.length, n);
        for (let i = 0; i < n; i++)
          assert.ok(!Number.isNaN(scores[i]!), `${name}: score of movie index ${i} is NaN for ${JSON.stringify(ctx)}`);
      }
    });

    it('never recommends what the viewer has seen, and says why for every item', async () => {
      for (const ctx of queries.slice(0, 2)) {
        const seen = new Set(Array.from(historyOf(ctx, data).items, (i) => data.catalogue.movies[i]!.movieId));
        const list = await ranked(book, name, ctx);
        assert.ok(list.length > 0, `${name}: an empty list`);
        for (const item of list) {
          assert.ok(!seen.has(item.movieId), `${name}: recommended movie ${item.movieId}, which the viewer rated`);
          assert.ok(item.reason && item.reason.length > 0, `${name}: movie ${item.movieId} has no reason`);
        }
      }
    });

    it('obeys block and promote rules', async () => {
      const ctx = queries[0]!;
      const before = await ranked(book, name, ctx);
      const blocked = before[0]!.movieId;
      const last = before.at(-1)!.movieId;
      const rules = new RuleSet([rule(blocked, 'block'), rule(last, 'promote', 1e6)]);
      const after = await ranked(book, name, ctx, rules);
      assert.ok(!after.some((r) => r.movieId === blocked), `${name}: a blocked movie was recommended`);
      const promoted = after.find((r) => r.movieId === last);
      assert.ok(promoted?.promoted, `${name}: the promoted movie is not flagged`);
    });

    it('gives identical scores from its saved and loaded models (a version refuses an evaluation-only one)', async () => {
      const needed = closureOf(name, config).models;
      const dirs = new Map<ModelName, string>();
      for (const m of needed) await models.get(m);
      for (const m of needed) {
        const dir = join(root, name, m);
        await MODELS.get(m)!.save(await models.get(m), dir);
        dirs.set(m, dir);
      }
      const loaded = new StrategyBook(
        data,
        config,
        new StoredModels((m) => (dirs.has(m) ? { dir: dirs.get(m)! } : null), data, config),
      );
      const a = await book.get(name);
      if (!SERVED_STRATEGIES.includes(name)) {
        await assert.rejects(loaded.get(name), /evaluation only/);
        return;
      }
      const b = await loaded.get(name);
      for (const ctx of queries) {
        const history = historyOf(ctx, data);
        const sa = new Float32Array(n);
        const sb = new Float32Array(n);
        a.score({ ctx, history }, sa);
        b.score({ ctx, history }, sb);
        assert.deepEqual(sb, sa, `${name}: scores differ after a save/load round trip for ${JSON.stringify(ctx)}`);
      }
    });
  });
}
