import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { FeatureRows, FeatureSpace } from '../../src/features/content-features.ts';
import { Rng } from '../../src/math/random.ts';
import { ContentModel, loadContentModel, type RawRow, saveContentModel } from '../../src/models/content.ts';

/** 40 movies: 5 genre flags (block), a year (standard), 8 genome values (block) that a third lack. */
function fixture(): { rows: FeatureRows; space: FeatureSpace; raw: RawRow[] } {
  const rng = new Rng(3);
  const n = 40;
  const space: FeatureSpace = {
    genres: ['a', 'b', 'c', 'd', 'e'],
    tagTerms: [],
    tagIdf: [],
    genomeTagIds: [1, 2, 3, 4, 5, 6, 7, 8],
    genomeTagNames: ['t1', 't2', 't3', 't4', 't5', 't6', 't7', 't8'],
    groups: [
      { name: 'genres', start: 0, end: 5, scaling: 'block', weight: 1 },
      { name: 'year', start: 5, end: 6, scaling: 'standard', weight: 0.5 },
      { name: 'genome', start: 6, end: 14, scaling: 'block', weight: 2 },
    ],
    cols: 14,
  };
  const raw: RawRow[] = [];
  for (let i = 0; i < n; i++) {
    const idx: number[] = [];
    const val: number[] = [];
    const family = i % 2; // two kinds of movie
    for (let g = 0; g < 5; g++)
      if ((family === 0 ? g < 2 : g >= 3) || rng.next() < 0.15) {
        idx.push(g);
        val.push(1);
      }
    idx.push(5);
    val.push(1950 + rng.int(70));
    const hasGenome = i % 3 !== 0;
    if (hasGenome)
      for (let t = 0; t < 8; t++) {
        idx.push(6 + t);
        val.push((family === 0) === t < 4 ? 0.6 + 0.4 * rng.next() : 0.3 * rng.next());
      }
    raw.push({
      indices: Int32Array.from(idx),
      values: Float32Array.from(val),
      present: Uint8Array.from([1, 1, hasGenome ? 1 : 0]),
    });
  }
  const indptr = new Int32Array(n + 1);
  raw.forEach((r, i) => {
    indptr[i + 1] = indptr[i]! + r.indices.length;
  });
  const rows: FeatureRows = {
    rows: n,
    cols: 14,
    indptr,
    indices: Int32Array.from(raw.flatMap((r) => Array.from(r.indices))),
    values: Float32Array.from(raw.flatMap((r) => Array.from(r.values))),
    present: Uint8Array.from(raw.flatMap((r) => Array.from(r.present))),
  };
  return { rows, space, raw };
}

/** The scaled, centred matrix written out densely: z_ij = (x_ij − μ_j)·s_j where j's group is present. */
function denseScaled(model: ContentModel, raw: RawRow[], space: FeatureSpace): number[][] {
  const { mean, scale } = model.state.scaler;
  return raw.map((r) => {
    const z = new Array<number>(space.cols).fill(0);
    space.groups.forEach((g, gi) => {
      if (!r.present[gi]) return;
      for (let j = g.start; j < g.end; j++) z[j] = -mean[j]! * scale[j]!;
    });
    r.indices.forEach((j, p) => {
      z[j] = (r.values[p]! - mean[j]!) * scale[j]!;
    });
    return z;
  });
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};
const cos = (a: number[], b: number[]) => dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b));

const tmp = mkdtempSync(join(tmpdir(), 'cinerec-content-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('ContentModel', () => {
  const { rows, space, raw } = fixture();
  const ids = Int32Array.from({ length: rows.rows }, (_, i) => 100 + i);

  it('scales each block group to total variance weight² and each standard column to weight²/width', () => {
    const model = ContentModel.fit(rows, ids, space, { dimensions: 14, clusters: 2, seed: 1, restarts: 2 });
    const z = denseScaled(model, raw, space);
    space.groups.forEach((g, gi) => {
      const present = z.filter((_, i) => raw[i]!.present[gi]);
      let total = 0;
      for (let j = g.start; j < g.end; j++) {
        const col = present.map((r) => r[j]!);
        const mean = col.reduce((a, b) => a + b, 0) / col.length;
        assert.ok(Math.abs(mean) < 1e-5, `column ${j} centred`);
        total += col.reduce((a, b) => a + (b - mean) ** 2, 0) / col.length;
      }
      assert.ok(Math.abs(total - g.weight ** 2) < 1e-4, `${g.name}: total variance ${total}`);
    });
  });

  it('at full rank, vector cosines equal the cosines of the scaled rows (PCA is a rotation)', () => {
    const model = ContentModel.fit(rows, ids, space, { dimensions: 14, clusters: 2, seed: 1, restarts: 2 });
    const z = denseScaled(model, raw, space);
    assert.ok(Math.abs(model.report.explainedVariance - 1) < 1e-4, `${model.report.explainedVariance}`);
    const d = model.dimensions;
    const v = model.vectors;
    for (let i = 0; i < rows.rows; i++) {
      assert.ok(Math.abs(Math.hypot(...v.subarray(i * d, (i + 1) * d)) - 1) < 1e-5, 'unit vector');
      for (let j = i + 1; j < rows.rows; j += 7) {
        assert.ok(Math.abs(model.similarity(i, j) - cos(z[i]!, z[j]!)) < 1e-4, `pair ${i},${j}`);
      }
    }
  });

  it('places a raw row exactly where fitting put it, and a twin in the same cluster', () => {
    const model = ContentModel.fit(rows, ids, space, { dimensions: 4, clusters: 2, seed: 1, restarts: 2 });
    const d = model.dimensions;
    const out = new Float32Array(d);
    for (let i = 0; i < rows.rows; i++) {
      model.transform(raw[i]!, out);
      for (let k = 0; k < d; k++) assert.ok(Math.abs(out[k]! - model.vectors[i * d + k]!) < 1e-4, `movie ${i}`);
    }
    // The two kinds of movie are the two clusters.
    const a = model.assignment;
    for (let i = 2; i < rows.rows; i++) assert.equal(a[i], a[i % 2], `movie ${i}`);
    const placed = model.append(999, raw[5]!);
    assert.equal(placed.index, rows.rows);
    assert.equal(placed.cluster, a[5]);
    assert.ok(Math.abs(model.similarity(placed.index, 5) - 1) < 1e-5);
    assert.equal(model.size, rows.rows + 1);
    assert.equal(model.movieIds[rows.rows], 999);
  });

  it('round-trips through disk and refuses a model fitted on other data', () => {
    const model = ContentModel.fit(rows, ids, space, { dimensions: 6, clusters: 3, seed: 2, restarts: 1 });
    const dir = join(tmp, 'content');
    saveContentModel(dir, model, 'abc');
    const loaded = loadContentModel(dir, 'abc');
    assert.ok(loaded);
    assert.deepEqual(loaded.vectors, model.vectors);
    assert.deepEqual(loaded.assignment, model.assignment);
    assert.deepEqual(loaded.movieIds, model.movieIds);
    assert.deepEqual(loaded.state.scaler, model.state.scaler);
    assert.deepEqual(loaded.report, model.report);
    const out1 = new Float32Array(model.dimensions);
    const out2 = new Float32Array(model.dimensions);
    model.transform(raw[3]!, out1);
    loaded.transform(raw[3]!, out2);
    assert.deepEqual(out1, out2);
    assert.equal(loadContentModel(dir, 'other'), null);
    assert.equal(loadContentModel(join(tmp, 'missing'), 'abc'), null);
    writeFileSync(join(dir, 'manifest.json'), '{ broken');
    assert.equal(loadContentModel(dir, 'abc'), null);
  });

  it('is deterministic for a seed', () => {
    const a = ContentModel.fit(rows, ids, space, { dimensions: 5, clusters: 3, seed: 9, restarts: 2 });
    const b = ContentModel.fit(rows, ids, space, { dimensions: 5, clusters: 3, seed: 9, restarts: 2 });
    assert.deepEqual(a.vectors, b.vectors);
    assert.deepEqual(a.assignment, b.assignment);
  });
});

describe('ContentModel title links', () => {
  /**
   * 30 movies of one genre mix with a year each; a link group of 3 columns: movies 0–2 share column 0 (a series),
   * 3–4 share column 1, movie 5 alone has column 2 (a term of one movie links it to nothing).
   */
  function linked(weight: number): { rows: FeatureRows; space: FeatureSpace; raw: RawRow[] } {
    const rng = new Rng(5);
    const n = 30;
    const space: FeatureSpace = {
      genres: ['a', 'b', 'c'],
      tagTerms: [],
      tagIdf: [],
      titleWords: [],
      titleIdf: [],
      series: ['s', 't', 'u'],
      genomeTagIds: [],
      genomeTagNames: [],
      groups: [
        { name: 'genres', start: 0, end: 3, scaling: 'block', weight: 1 },
        { name: 'year', start: 3, end: 4, scaling: 'standard', weight: 0.5 },
        { name: 'title', start: 4, end: 7, scaling: 'links', weight },
      ],
      cols: 7,
    };
    const link = [0, 0, 0, 1, 1, 2];
    const raw: RawRow[] = [];
    for (let i = 0; i < n; i++) {
      const idx: number[] = [];
      const val: number[] = [];
      for (let g = 0; g < 3; g++)
        if (rng.next() < 0.5) {
          idx.push(g);
          val.push(1);
        }
      idx.push(3);
      val.push(1950 + rng.int(70));
      if (i < link.length) {
        idx.push(4 + link[i]!);
        val.push(1);
      }
      raw.push({
        indices: Int32Array.from(idx),
        values: Float32Array.from(val),
        present: Uint8Array.from([1, 1, i < link.length ? 1 : 0]),
      });
    }
    const indptr = new Int32Array(n + 1);
    raw.forEach((r, i) => {
      indptr[i + 1] = indptr[i]! + r.indices.length;
    });
    const rows: FeatureRows = {
      rows: n,
      cols: 7,
      indptr,
      indices: Int32Array.from(raw.flatMap((r) => Array.from(r.indices))),
      values: Float32Array.from(raw.flatMap((r) => Array.from(r.values))),
      present: Uint8Array.from(raw.flatMap((r) => Array.from(r.present))),
    };
    return { rows, space, raw };
  }
  const params = { dimensions: 4, clusters: 2, seed: 1, restarts: 1 };
  const ids = Int32Array.from({ length: 30 }, (_, i) => 1 + i);

  it('pulls linked movies together and leaves the rest where the encoder put them', () => {
    const none = ContentModel.fit(linked(0).rows, ids, linked(0).space, params);
    const { rows, space } = linked(1);
    const model = ContentModel.fit(rows, ids, space, params);
    // The link group is not encoded: the same dimensions, and the unlinked movies keep their vectors.
    assert.equal(model.dimensions, none.dimensions);
    assert.deepEqual(model.report.links, { weight: 1, movies: 5 });
    assert.ok(!model.report.groups.some((g) => g.name === 'title'));
    const d = model.dimensions;
    for (let i = 5; i < 30; i++)
      for (let k = 0; k < d; k++) assert.ok(Math.abs(model.vectors[i * d + k]! - none.vectors[i * d + k]!) < 1e-5);
    for (const [a, b] of [
      [0, 1],
      [0, 2],
      [1, 2],
      [3, 4],
    ] as const) {
      assert.ok(model.similarity(a, b) > none.similarity(a, b), `${a}–${b} closer`);
      assert.ok(model.similarity(a, b) > 0.9, `${a}–${b}: ${model.similarity(a, b)}`);
    }
  });

  it('places a fitted row where fitting put it, and a new series member beside the series', () => {
    const { rows, space, raw } = linked(1);
    const model = ContentModel.fit(rows, ids, space, params);
    const d = model.dimensions;
    const out = new Float32Array(d);
    for (let i = 0; i < 6; i++) {
      model.transform(raw[i]!, out, 0, i);
      for (let k = 0; k < d; k++) assert.ok(Math.abs(out[k]! - model.vectors[i * d + k]!) < 1e-5, `movie ${i}`);
    }
    // A twin of movie 10 (unlinked) in series 0: closer to the series than movie 10 is.
    const twin: RawRow = {
      indices: Int32Array.from([...raw[10]!.indices, 4]),
      values: Float32Array.from([...raw[10]!.values, 1]),
      present: Uint8Array.from([1, 1, 1]),
    };
    const placed = model.append(99, twin);
    for (const s of [0, 1, 2]) assert.ok(model.similarity(placed.index, s) > model.similarity(10, s), `series ${s}`);
  });

  it('keeps the links through disk', () => {
    const { rows, space, raw } = linked(1);
    const model = ContentModel.fit(rows, ids, space, params);
    const dir = join(tmp, 'content-links');
    saveContentModel(dir, model, 'links');
    const loaded = loadContentModel(dir, 'links');
    assert.ok(loaded);
    assert.deepEqual(loaded.vectors, model.vectors);
    assert.deepEqual(loaded.state.links, model.state.links);
    assert.deepEqual(loaded.state.base, model.state.base);
    const a = new Float32Array(model.dimensions);
    const b = new Float32Array(model.dimensions);
    model.transform(raw[1]!, a);
    loaded.transform(raw[1]!, b);
    assert.deepEqual(a, b);
  });
});
