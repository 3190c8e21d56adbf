/**
 * Movie content autoencoder benchmark:
 * `npx tsx bench/nn-movie.ts [--hidden 512,256] [--epochs 60] [--batch 512] [--lr 0.002] [--patience 5] [--seed 1]`.
 *
 * Imports ml-latest-small into a temporary store, builds the content features (default settings) and fits
 * the content model twice, with the autoencoder and with block-wise PCA. Prints, for the autoencoder:
 * seconds per epoch and training rows per second (wall and CPU: the machine may be shared), the epoch
 * curve, and the relative reconstruction error ‖z − ẑ‖²/‖z‖² on the held-out movies next to PCA fitted on
 * the same training movies (overall and per feature group); for PCA its fit time and in-sample error.
 * Prints figures; asserts nothing. The temporary directory is removed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULTS } from '../src/config/config.ts';
import { Catalogue } from '../src/data/catalogue.ts';
import { detectFormat } from '../src/data/formats.ts';
import { contentByIndex, FeatureEncoder, fitFeatureSpace } from '../src/features/content-features.ts';
import { simdAvailable } from '../src/math/matvec.ts';
import { ContentModel, type ContentModelParams, type ReconstructionError } from '../src/models/content.ts';
import { AUTOENCODER_DEFAULTS, type AutoencoderSettings } from '../src/models/content-autoencoder.ts';
import { DuckDbStore } from '../src/store/duckdb/duckdb-store.ts';
import { realData } from '../test/helpers/real-data.ts';

const { values } = parseArgs({
  options: {
    hidden: { type: 'string' },
    epochs: { type: 'string' },
    batch: { type: 'string' },
    lr: { type: 'string' },
    patience: { type: 'string' },
    seed: { type: 'string' },
  },
});
const num = (name: string, text: string | undefined, fallback: number): number => {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got ${text}`);
  return n;
};
const settings: AutoencoderSettings = {
  ...AUTOENCODER_DEFAULTS,
  hidden:
    values.hidden === undefined
      ? AUTOENCODER_DEFAULTS.hidden
      : values.hidden === ''
        ? []
        : values.hidden.split(',').map((h) => num('hidden', h, 0)),
  epochs: num('epochs', values.epochs, AUTOENCODER_DEFAULTS.epochs),
  batchSize: num('batch', values.batch, AUTOENCODER_DEFAULTS.batchSize),
  learningRate: num('lr', values.lr, AUTOENCODER_DEFAULTS.learningRate),
  patience: num('patience', values.patience, AUTOENCODER_DEFAULTS.patience),
  seed: values.seed === undefined ? AUTOENCODER_DEFAULTS.seed : Number(values.seed),
};

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const groups = (e: ReconstructionError) => e.groups.map((g) => `${g.name} ${pct(g.error)}`).join(', ');
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

const work = await mkdtemp(path.join(os.tmpdir(), 'cinerec-nn-movie-'));
try {
  const storePath = path.join(work, 'store.duckdb');
  const store = await DuckDbStore.open(storePath);
  await store.importDataset(detectFormat(await realData('ml-latest-small')));
  const catalogue = new Catalogue(await store.listMovies());
  const inputs = {
    tags: await store.movieTagCounts(),
    genomeTags: await store.genomeTags(),
    genome: await store.genomeColumns(),
  };
  await store.close();
  const c = DEFAULTS.content;
  const byIndex = contentByIndex(catalogue, inputs);
  const space = fitFeatureSpace(catalogue, byIndex.tags, inputs.genomeTags, inputs.genome.movieId.length > 0, c);
  const rows = new FeatureEncoder(space).rows(catalogue, byIndex.tags, byIndex.genome);
  const ids = Int32Array.from(catalogue.movies, (m) => m.movieId);
  const base: ContentModelParams = {
    dimensions: c.dimensions,
    clusters: c.clusters,
    seed: c.seed,
    restarts: c.restarts,
  };
  console.log(
    `ml-latest-small: ${rows.rows} movies × ${rows.cols} features (${space.groups.map((g) => `${g.name} ${g.end - g.start}`).join(', ')}), ` +
      `${(rows.indptr[rows.rows]! / rows.rows).toFixed(1)} stored values per movie; SIMD kernel ${simdAvailable ? 'on' : 'off'}; ` +
      `load average ${os.loadavg()[0]!.toFixed(2)} on ${os.cpus().length} cores`,
  );

  let wall = performance.now();
  let cpu = cpuSeconds();
  const pca = ContentModel.fit(rows, ids, space, { ...base, encoder: 'pca' });
  console.log(
    `PCA: encode ${pca.report.seconds.encode.toFixed(2)} s, in-sample relative error ${pct(pca.report.reconstruction.error)} (${groups(pca.report.reconstruction)}); ` +
      `whole fit ${((performance.now() - wall) / 1000).toFixed(1)} s wall, ${(cpuSeconds() - cpu).toFixed(1)} s CPU`,
  );

  wall = performance.now();
  cpu = cpuSeconds();
  const model = ContentModel.fit(rows, ids, space, { ...base, encoder: 'autoencoder', autoencoder: settings });
  const wallSeconds = (performance.now() - wall) / 1000;
  const cpuUsed = cpuSeconds() - cpu;
  const r = model.report;
  const a = r.autoencoder!;
  console.log(
    `autoencoder ${[r.inputDim, ...a.hidden, r.outputDim].join('→')}→…→${r.inputDim}, ${a.parameters.toLocaleString('en')} parameters, ` +
      `batch ${settings.batchSize}, lr ${settings.learningRate}, ${a.trainMovies} training / ${a.heldOutMovies} held-out movies`,
  );
  for (const e of a.history)
    console.log(
      `  epoch ${String(e.epoch).padStart(3)}: train ${e.trainLoss.toFixed(4)}  held-out ${e.validationLoss?.toFixed(4) ?? '-'}  ${e.seconds.toFixed(2)} s`,
    );
  console.log(
    `  ${a.epochs} epochs (best ${a.bestEpoch}${a.stoppedEarly ? ', stopped early' : ''}): ${a.secondsPerEpoch.toFixed(2)} s/epoch, ` +
      `${a.samplesPerSecond.toFixed(0)} samples/s (wall); whole fit ${wallSeconds.toFixed(1)} s wall, ${cpuUsed.toFixed(1)} s CPU ` +
      `(CPU/wall ${(cpuUsed / wallSeconds).toFixed(2)}: below 1 means the machine was shared)`,
  );
  const rec = r.reconstruction;
  console.log(`held-out relative reconstruction error (${rec.movies} movies):`);
  console.log(`  autoencoder ${pct(rec.error)} (${groups(rec)})`);
  if (rec.pca) console.log(`  PCA, same split ${pct(rec.pca.error)} (${groups(rec.pca)})`);
  console.log(
    `clusters: autoencoder silhouette ${r.clusters.silhouette.toFixed(3)}, PCA ${pca.report.clusters.silhouette.toFixed(3)}`,
  );
} finally {
  await rm(work, { recursive: true, force: true });
}
