import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { EvaluationReport } from '../../src/evaluation/report-types.ts';
import { SCENARIO_DEFAULTS } from '../../src/evaluation/scenarios.ts';
import { cli, json } from '../helpers/cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cinerec-scenario-eval-'));
const env = {
  CINEREC_STORE: join(tmp, 'store.duckdb'),
  CINEREC_DATA_DIR: tmp,
  CINEREC_REPORTS_DIR: join(tmp, 'reports'),
};
const run = (...args: string[]) => cli(args, env);

/** mulberry32: a small seeded generator, so the data set is the same on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A small synthetic release in the ml-latest CSV format: 160 movies over 6 genres (popularity falling with the id),
 * 120 viewers who each like one genre and rate 20–35 movies, mostly of that genre, high, and a few others, lower.
 */
function writeRelease(dir: string): void {
  const random = rng(18);
  const genres = ['Action', 'Comedy', 'Drama', 'Horror', 'Romance', 'Sci-Fi'];
  const movies = Array.from({ length: 160 }, (_, i) => ({
    id: i + 1,
    genre: i % genres.length,
    second: random() < 0.3 ? (i + 2) % genres.length : -1,
  }));
  const lines = ['movieId,title,genres'];
  for (const m of movies) {
    const g = [genres[m.genre]!, ...(m.second >= 0 ? [genres[m.second]!] : [])].join('|');
    lines.push(`${m.id},Movie ${m.id} (${1980 + (m.id % 40)}),${g}`);
  }
  writeFileSync(join(dir, 'movies.csv'), `${lines.join('\n')}\n`);
  const ratings = ['userId,movieId,rating,timestamp'];
  for (let u = 1; u <= 120; u++) {
    const liked = u % genres.length;
    const seen = new Set<number>();
    const n = 20 + Math.floor(random() * 16);
    while (seen.size < n) {
      // Popular movies (low ids) are picked more often; two picks in three come from the liked genre.
      const i = Math.floor(movies.length * random() ** 2);
      const m = movies[i]!;
      const fits = m.genre === liked || m.second === liked;
      if (!fits && random() < 0.67) continue;
      if (seen.has(m.id)) continue;
      seen.add(m.id);
      const rating = fits ? 4 + Math.round(random() * 2) / 2 : 1 + Math.round(random() * 5) / 2;
      ratings.push(`${u},${m.id},${rating.toFixed(1)},${1_500_000_000 + u * 1000 + seen.size}`);
    }
  }
  writeFileSync(join(dir, 'ratings.csv'), `${ratings.join('\n')}\n`);
}

before(async () => {
  const release = join(tmp, 'synthetic');
  mkdirSync(release);
  writeRelease(release);
  json(await run('data', 'import', release, '--json'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

function checkReports(reports: EvaluationReport[], scenario: 'watched' | 'few-ratings', given: number[]): void {
  assert.equal(reports.length, given.length, 'one report per given count');
  const expected = SCENARIO_DEFAULTS[scenario].strategies;
  assert.ok(expected.includes('most-popular'), 'the baseline is among the defaults');
  reports.forEach((report, v) => {
    assert.equal(report.protocol.scenario?.name, scenario);
    assert.equal(report.protocol.scenario?.given, given[v]);
    assert.deepEqual(
      report.strategies.map((s) => s.name),
      expected,
      'every default strategy of the scenario, most-popular included',
    );
    for (const s of report.strategies) {
      assert.equal(s.runs.length, 2, `${s.name}: one run per seed`);
      assert.ok(
        s.runs.every((r) => r.evaluated > 0),
        `${s.name}: test users were scored`,
      );
      for (const metric of ['ndcg', 'precision', 'coverage', 'novelty', 'popularity']) {
        const iv = s.metrics[metric]!;
        assert.ok(Number.isFinite(iv.mean) && iv.low <= iv.mean && iv.mean <= iv.high, `${s.name} ${metric}`);
        assert.equal(iv.n, 2, `${s.name} ${metric}: interval over the two seeds`);
      }
    }
    const md = join(env.CINEREC_REPORTS_DIR, 'evaluations', `${report.id}.md`);
    assert.ok(existsSync(md), `${report.id}: markdown report written`);
    const text = readFileSync(md, 'utf8');
    for (const name of expected) assert.match(text, new RegExp(`\\b${name}\\b`), `${name} in the markdown report`);
    assert.match(text, /±/, 'intervals in the markdown report');
  });
}

describe('cinerec eval --scenario on a synthetic release', () => {
  test('watched: a report per given count with every default strategy and most-popular, with intervals', async () => {
    const reports = json<EvaluationReport[]>(
      await run(
        'eval',
        '--scenario',
        'watched',
        '--given',
        '1,3',
        '--seeds',
        '1,2',
        '--user-folds',
        '3',
        '--folds-used',
        '1',
        '--json',
      ),
    );
    checkReports(reports, 'watched', [1, 3]);
  });

  test('few-ratings: the human table names every strategy; the reports it points to hold them all', async () => {
    const human = await run(
      'eval',
      '--scenario',
      'few-ratings',
      '--given',
      '2,4',
      '--seeds',
      '1,2',
      '--user-folds',
      '3',
      '--folds-used',
      '1',
    );
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /scenario few-ratings: given 2 ratings, 1 of 3 user folds/);
    assert.match(human.stdout, /scenario few-ratings: given 4 ratings, 1 of 3 user folds/);
    for (const name of SCENARIO_DEFAULTS['few-ratings'].strategies)
      assert.match(human.stdout, new RegExp(`\\n${name}\\s+\\d\\.\\d{3} ±`), `${name} row with an interval`);
    const files = [...human.stdout.matchAll(/^json: +(\S+)$/gm)].map((m) => m[1]!);
    assert.equal(files.length, 2, 'two reports written');
    checkReports(
      files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as EvaluationReport),
      'few-ratings',
      [2, 4],
    );
  });
});
