/**
 * Neural rating predictor benchmark: `npm run bench:nn [-- --seed 1]`.
 *
 * Imports ml-latest-small into a temporary store and fits the neural rating predictor with the default
 * `neural` settings on all ratings. Prints, for the user autoencoder, the item autoencoder and the MLP:
 * epochs run (best), seconds per training epoch and samples per second (ratings for the autoencoders,
 * rating samples for the MLP), then the cost of predicting a whole catalogue for one user (encode from
 * their ratings + MLP over every movie). Wall and CPU time are both printed: the machine may be shared
 * (see the load average line). Prints figures; asserts nothing. The temporary directory is removed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { predictorParams } from '../src/components/neural.ts';
import { DEFAULTS } from '../src/config/config.ts';
import { Catalogue } from '../src/data/catalogue.ts';
import { detectFormat } from '../src/data/formats.ts';
import { Interactions } from '../src/data/interactions.ts';
import { RatingPredictor } from '../src/models/rating-predictor.ts';
import type { AutoencoderReport } from '../src/models/user-autoencoder.ts';
import { DuckDbStore } from '../src/store/duckdb/duckdb-store.ts';
import { realData } from '../test/helpers/real-data.ts';

const { values } = parseArgs({ options: { seed: { type: 'string', default: '1' } } });
const seed = Number(values.seed);
if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`--seed must be a whole number, got ${values.seed}`);

const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

const work = await mkdtemp(path.join(os.tmpdir(), 'cinerec-nn-'));
try {
  const store = await DuckDbStore.open(path.join(work, 'store.duckdb'));
  await store.importDataset(detectFormat(await realData('ml-latest-small')));
  const catalogue = new Catalogue(await store.listMovies());
  const x = Interactions.build(await store.ratingColumns(), catalogue);
  await store.close();
  const params = await predictorParams({ ...DEFAULTS.neural, seed });
  console.log(
    `ml-latest-small: ${x.nUsers} users × ${x.nItems} movies, ${x.nnz} ratings; load average ${os.loadavg()[0]!.toFixed(2)} on ${os.cpus().length} cores`,
  );
  console.log(
    `user autoencoder ${x.nItems} → ${params.user.hidden} → ${params.user.code} → ${params.user.hidden} → ${x.nItems}; ` +
      `item autoencoder ${x.nUsers} → ${params.item.hidden} → ${params.item.code} → ${params.item.hidden} → ${x.nUsers}; ` +
      `MLP ${params.hidden}${params.hidden2 ? `-${params.hidden2}` : ''} over ${params.itemVectors} movie vectors`,
  );

  const wall = performance.now();
  const cpu = cpuSeconds();
  const model = new RatingPredictor(params);
  const report = model.fit(x, catalogue, { min: 0.5, max: 5, step: 0.5 });
  const fitWall = (performance.now() - wall) / 1000;
  const fitCpu = cpuSeconds() - cpu;

  const rows: string[][] = [];
  const ae = (name: string, r: AutoencoderReport | null) => {
    if (!r) return;
    const s = r.curve.reduce((a, c) => a + c.seconds, 0) / r.curve.length;
    rows.push([
      name,
      `${r.curve.length} (best ${r.bestEpoch})`,
      s.toFixed(2),
      Math.round(r.trainRatings / s).toLocaleString('en-US'),
    ]);
  };
  ae('user autoencoder', model.userAe.report);
  ae('item autoencoder', model.itemAe.report);
  const mlpEpoch = report.curve.reduce((a, c) => a + c.seconds, 0) / report.curve.length;
  rows.push([
    'MLP',
    `${report.curve.length} (best ${report.bestEpoch})`,
    mlpEpoch.toFixed(2),
    Math.round(report.trainSamples / mlpEpoch).toLocaleString('en-US'),
  ]);

  // Whole-catalogue prediction for a viewer known only by ratings: encode + MLP over every movie.
  const scores = new Float32Array(catalogue.size);
  const times: number[] = [];
  for (let u = 0; u < Math.min(200, x.nUsers); u++) {
    const t = performance.now();
    model.predictMany(model.userVector(x.rowItems(u), x.rowRatings(u)), null, scores);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]!;

  console.log(`\nwhole fit: ${fitWall.toFixed(1)} s wall, ${fitCpu.toFixed(1)} s CPU\n`);
  console.log('| part | epochs | s / epoch (wall) | samples / s |');
  console.log('|---|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  console.log(
    `\nencode + predict all ${catalogue.size} movies for one user: p50 ${q(0.5).toFixed(1)} ms, p99 ${q(0.99).toFixed(1)} ms (${times.length} users)`,
  );
} finally {
  await rm(work, { recursive: true, force: true });
}
