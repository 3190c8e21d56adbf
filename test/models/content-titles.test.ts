import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { contentSettingsOf } from '../../src/components/content.ts';
import { loadConfig } from '../../src/config/config.ts';
import { Catalogue } from '../../src/data/catalogue.ts';
import { detectFormat } from '../../src/data/formats.ts';
import type { ContentInputs } from '../../src/features/content-features.ts';
import { ContentIndex } from '../../src/models/content-index.ts';
import { DuckDbStore } from '../../src/store/duckdb/duckdb-store.ts';
import { realData } from '../helpers/real-data.ts';

/**
 * Similar movies people recognise: on ml-latest-small (no genome), the content model with its default settings puts
 * the other films of a series in a film's top 10, and says why.
 */
describe('content model title features on ml-latest-small', { concurrency: false }, () => {
  let root: string;
  let catalogue: Catalogue;
  let inputs: ContentInputs;
  let index: ContentIndex;

  before(async () => {
    const dir = await realData('ml-latest-small');
    root = await mkdtemp(path.join(os.tmpdir(), 'cinerec-titles-'));
    const store = await DuckDbStore.open(path.join(root, 'store.duckdb'));
    try {
      await store.importDataset(detectFormat(dir));
      catalogue = new Catalogue(await store.listMovies());
      inputs = {
        tags: await store.movieTagCounts(),
        genomeTags: await store.genomeTags(),
        genome: await store.genomeColumns(),
      };
    } finally {
      await store.close();
    }
    const { config } = loadConfig({ env: {}, cwd: root });
    index = ContentIndex.fit(catalogue, inputs, contentSettingsOf(config.content));
  });
  after(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  /** Movie ids of the k most similar movies by content. */
  function top(movieId: number, k = 10): number[] {
    const model = index.model;
    const i = catalogue.indexOf(movieId);
    const d = model.dimensions;
    const scores = new Float32Array(model.size);
    model.scoreAgainst(model.vectors.subarray(i * d, (i + 1) * d), scores);
    scores[i] = Number.NEGATIVE_INFINITY;
    return Array.from(scores.keys())
      .sort((a, b) => scores[b]! - scores[a]! || a - b)
      .slice(0, k)
      .map((j) => catalogue.movies[j]!.movieId);
  }
  const title = (ids: number[]) => ids.map((id) => catalogue.get(id)!.displayTitle).join(' | ');

  // movieId → other films of its series, at least one of which must be in its top 10 (ids from movies.csv).
  const series: Array<[number, string, number[]]> = [
    [1, 'Toy Story', [3114, 78499]],
    [2571, 'The Matrix', [6365, 6934]],
    [260, 'Star Wars IV', [1196, 1210]],
    [4993, 'The Lord of the Rings: The Fellowship of the Ring', [5952, 7153]],
    [1954, 'Rocky', [2409, 2410, 2411, 2412]],
  ];
  for (const [id, name, others] of series) {
    it(`puts the series of ${name} in its content top 10`, () => {
      const list = top(id);
      assert.ok(
        others.some((o) => list.includes(o)),
        `${name}: ${title(list)}`,
      );
    });
  }

  it('puts Toy Story 2 in the top 10 of Toy Story', () => {
    assert.ok(top(1).includes(3114), title(top(1)));
  });

  it('names the series and the title words a pair shares', () => {
    const at = (id: number) => catalogue.indexOf(id);
    const toy = index.shared(at(1), at(3114));
    assert.equal(toy.series, 'Toy Story');
    assert.ok(toy.genres.includes('Animation'));
    // The words of the series name say nothing more.
    assert.equal(toy.titleWords, undefined);
    assert.equal(index.shared(at(260), at(1196)).series, 'Star Wars');
    assert.equal(index.shared(at(4993), at(5952)).series, 'The Lord of the Rings');
    // No series by the stem rule, but the rare title word.
    const matrix = index.shared(at(2571), at(6365));
    assert.equal(matrix.series, undefined);
    assert.deepEqual(matrix.titleWords, ['matrix']);
    // Unrelated titles share nothing of their titles.
    const none = index.shared(at(1), at(2571));
    assert.equal(none.series, undefined);
    assert.equal(none.titleWords, undefined);
  });

  it('places a movie added later by its title too, beside its series', () => {
    const added = catalogue.add({
      movieId: 999_001,
      title: 'Toy Story 5 (2026)',
      displayTitle: 'Toy Story 5',
      year: 2026,
      genres: ['Adventure', 'Animation', 'Children', 'Comedy', 'Fantasy'],
      imdbId: null,
      tmdbId: null,
      source: 'live',
    });
    // The content of a change carries no title: the index reads it from the catalogue.
    index.add(added, {
      genres: catalogue.movies[added]!.genres,
      year: 2026,
      tags: new Map(),
      genome: { tagIds: [], relevance: [] },
    });
    const list = top(999_001);
    for (const id of [1, 3114, 78499]) assert.ok(list.includes(id), title(list));
    assert.equal(index.shared(added, catalogue.indexOf(1)).series, 'Toy Story');
  });
});
