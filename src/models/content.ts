import type { FeatureGroup, FeatureRows, FeatureSpace } from '../features/content-features.ts';
import { daviesBouldin, kmeans, nearestCentroid, silhouette } from '../math/kmeans.ts';
import { DenseRows } from '../math/matvec.ts';
import { type LinearOperator, randomizedSvd } from '../math/pca.ts';
import { type Artifact, readArtifact, writeArtifact } from './artifacts.ts';

/**
 * The content model: raw features → scaler → encoder → unit vectors → k-means clusters.
 * Every fitted object is kept so that a movie added later is placed without refitting.
 */

export interface ContentModelParams {
  /** Encoder output size. */
  dimensions: number;
  clusters: number;
  seed: number;
  restarts: number;
}

/** Centring and per-column scale, fitted over the movies that have data for each column's group. */
export interface Scaler {
  mean: Float32Array;
  scale: Float32Array;
}

/** Turns one scaled row (dense, length inputDim) into outputDim numbers. PCA now; an autoencoder later. */
export interface Encoder {
  readonly kind: string;
  readonly inputDim: number;
  readonly outputDim: number;
  encode(z: Float64Array, out: Float32Array, offset: number): void;
}

export class PcaEncoder implements Encoder {
  readonly kind = 'pca';
  constructor(
    /** outputDim × inputDim, orthonormal rows. */
    readonly components: Float32Array,
    readonly inputDim: number,
    readonly outputDim: number,
    /** Variance of the data along each component. */
    readonly variance: Float64Array,
  ) {}

  encode(z: Float64Array, out: Float32Array, offset: number): void {
    const c = this.components;
    const n = this.inputDim;
    for (let k = 0; k < this.outputDim; k++) {
      let s = 0;
      const row = k * n;
      for (let j = 0; j < n; j++) s += c[row + j]! * z[j]!;
      out[offset + k] = s;
    }
  }
}

export interface ClusterQuality {
  k: number;
  inertia: number;
  silhouette: number;
  daviesBouldin: number;
  sizes: number[];
}

export interface ContentFitReport {
  movies: number;
  inputDim: number;
  outputDim: number;
  /** Share of the scaled data's variance the encoder keeps. */
  explainedVariance: number;
  /** Per feature group: its output dimensions and the share of its own variance they keep. */
  groups: { name: string; dimensions: number; explained: number }[];
  clusters: ClusterQuality;
  seconds: { scale: number; encode: number; cluster: number };
}

/** A sparse raw row of one movie. */
export interface RawRow {
  indices: Int32Array;
  values: Float32Array;
  present: Uint8Array;
}

function fitScaler(rows: FeatureRows, groups: readonly FeatureGroup[]): Scaler {
  const { cols, indptr, indices, values, present } = rows;
  const G = groups.length;
  const sum = new Float64Array(cols);
  const sq = new Float64Array(cols);
  const count = new Float64Array(G);
  const groupOf = new Int32Array(cols);
  groups.forEach((g, gi) => {
    groupOf.fill(gi, g.start, g.end);
  });
  for (let i = 0; i < rows.rows; i++) {
    for (let g = 0; g < G; g++) if (present[i * G + g]) count[g]!++;
    for (let p = indptr[i]!; p < indptr[i + 1]!; p++) {
      const v = values[p]!;
      sum[indices[p]!]! += v;
      sq[indices[p]!]! += v * v;
    }
  }
  const mean = new Float32Array(cols);
  const variance = new Float64Array(cols);
  for (let j = 0; j < cols; j++) {
    const n = count[groupOf[j]!]!;
    if (n === 0) continue;
    const m = sum[j]! / n;
    mean[j] = m;
    variance[j] = Math.max(0, sq[j]! / n - m * m);
  }
  const scale = new Float32Array(cols);
  for (const g of groups) {
    const width = g.end - g.start;
    if (g.scaling === 'block') {
      let total = 0;
      for (let j = g.start; j < g.end; j++) total += variance[j]!;
      const s = total > 0 ? g.weight / Math.sqrt(total) : 0;
      scale.fill(s, g.start, g.end);
    } else {
      for (let j = g.start; j < g.end; j++) {
        const sd = Math.sqrt(variance[j]!);
        scale[j] = sd > 0 ? g.weight / (sd * Math.sqrt(width)) : 0;
      }
    }
  }
  return { mean, scale };
}

/**
 * Z = scaled, centred rows, as a linear operator: z_ij = (x_ij − μ_j)·s_j where the movie has data
 * for column j's group, 0 where it has not. Nothing dense of size rows × cols is ever built.
 */
function scaledOperator(rows: FeatureRows, groups: readonly FeatureGroup[], scaler: Scaler): LinearOperator {
  const { indptr, indices, values, present } = rows;
  const G = groups.length;
  const n = rows.rows;
  const cols = rows.cols;
  const { mean, scale } = scaler;
  return {
    rows: n,
    cols,
    multiply(b, l, out) {
      // out_i = Σ_nz x_ij s_j b_j − Σ_{g present} c_g, with c_g = Σ_{j∈g} μ_j s_j b_j.
      const c = new Float64Array(G * l);
      groups.forEach((g, gi) => {
        for (let j = g.start; j < g.end; j++) {
          const f = mean[j]! * scale[j]!;
          if (f === 0) continue;
          for (let t = 0; t < l; t++) c[gi * l + t]! += f * b[j * l + t]!;
        }
      });
      out.fill(0, 0, n * l);
      for (let i = 0; i < n; i++) {
        const o = i * l;
        for (let p = indptr[i]!; p < indptr[i + 1]!; p++) {
          const j = indices[p]!;
          const f = values[p]! * scale[j]!;
          const bj = j * l;
          for (let t = 0; t < l; t++) out[o + t]! += f * b[bj + t]!;
        }
        for (let g = 0; g < G; g++) {
          if (!present[i * G + g]) continue;
          for (let t = 0; t < l; t++) out[o + t]! -= c[g * l + t]!;
        }
      }
    },
    multiplyTranspose(y, l, out) {
      // out_j = s_j (Σ_i x_ij y_i − μ_j S_g), S_g = Σ_{i: g present} y_i.
      const S = new Float64Array(G * l);
      out.fill(0, 0, cols * l);
      for (let i = 0; i < n; i++) {
        const o = i * l;
        for (let g = 0; g < G; g++) {
          if (!present[i * G + g]) continue;
          for (let t = 0; t < l; t++) S[g * l + t]! += y[o + t]!;
        }
        for (let p = indptr[i]!; p < indptr[i + 1]!; p++) {
          const v = values[p]!;
          const oj = indices[p]! * l;
          for (let t = 0; t < l; t++) out[oj + t]! += v * y[o + t]!;
        }
      }
      groups.forEach((g, gi) => {
        for (let j = g.start; j < g.end; j++) {
          const s = scale[j]!;
          const m = mean[j]!;
          for (let t = 0; t < l; t++) out[j * l + t] = s * (out[j * l + t]! - m * S[gi * l + t]!);
        }
      });
    },
  };
}

/** The columns of one group as their own CSR matrix (column indices relative to the group). */
function groupRows(rows: FeatureRows, g: FeatureGroup, gi: number, groups: number): FeatureRows {
  const n = rows.rows;
  const indptr = new Int32Array(n + 1);
  let nnz = 0;
  for (let i = 0; i < n; i++) {
    for (let p = rows.indptr[i]!; p < rows.indptr[i + 1]!; p++) {
      const j = rows.indices[p]!;
      if (j >= g.start && j < g.end) nnz++;
    }
    indptr[i + 1] = nnz;
  }
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  const present = new Uint8Array(n);
  let o = 0;
  for (let i = 0; i < n; i++) {
    present[i] = rows.present[i * groups + gi]!;
    for (let p = rows.indptr[i]!; p < rows.indptr[i + 1]!; p++) {
      const j = rows.indices[p]!;
      if (j >= g.start && j < g.end) {
        indices[o] = j - g.start;
        values[o++] = rows.values[p]!;
      }
    }
  }
  return { rows: n, cols: g.end - g.start, indptr, indices, values, present };
}

function normalizeRows(v: Float32Array, n: number, d: number): void {
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += v[i * d + k]! * v[i * d + k]!;
    if (s === 0) continue;
    const inv = 1 / Math.sqrt(s);
    for (let k = 0; k < d; k++) v[i * d + k]! *= inv;
  }
}

const seconds = (from: number) => (performance.now() - from) / 1000;

/**
 * Output dimensions per group: the budget is shared equally among the groups not yet planned, narrowest
 * first; a group that fits in its share keeps all its columns, a wider one gets its share by PCA.
 */
export function blockPlan(groups: readonly FeatureGroup[], budget: number): number[] {
  const plan = new Array<number>(groups.length).fill(0);
  const order = groups
    .map((_g, i) => i)
    .sort((a, b) => groups[a]!.end - groups[a]!.start - (groups[b]!.end - groups[b]!.start) || a - b);
  let remaining = budget;
  order.forEach((gi, pos) => {
    const width = groups[gi]!.end - groups[gi]!.start;
    const share = Math.max(1, Math.floor(remaining / (order.length - pos)));
    plan[gi] = Math.min(width, share);
    remaining = Math.max(0, remaining - plan[gi]!);
  });
  return plan;
}

export interface ContentModelState {
  params: ContentModelParams;
  space: FeatureSpace;
  scaler: Scaler;
  encoder: PcaEncoder;
  /** Movie id of each row of vectors. */
  movieIds: Int32Array;
  /** n × d unit vectors (zero for a movie with no usable features). */
  vectors: Float32Array;
  centroids: Float32Array;
  assignment: Int32Array;
  report: ContentFitReport;
}

/**
 * Fitted state plus growth: rows appended for movies added while serving. Row order is the
 * catalogue's index order at fit time; later additions are appended in catalogue order.
 */
export class ContentModel {
  private n: number;
  /** The served vectors: in WebAssembly memory, scored with the SIMD kernel. */
  private readonly rowsV: DenseRows;
  private assignmentBuf: Int32Array;
  private movieIdsBuf: Int32Array;
  private readonly z: Float64Array;

  constructor(readonly state: ContentModelState) {
    this.n = state.movieIds.length;
    const d = state.encoder.outputDim;
    this.rowsV = DenseRows.create(Math.max(16, Math.ceil(this.n * 1.1)), d);
    this.rowsV.set(state.vectors.subarray(0, this.n * d), this.n);
    this.assignmentBuf = state.assignment;
    this.movieIdsBuf = state.movieIds;
    this.z = new Float64Array(state.space.cols);
  }

  get size(): number {
    return this.n;
  }
  get dimensions(): number {
    return this.state.encoder.outputDim;
  }
  get clusters(): number {
    return this.state.params.clusters;
  }
  get space(): FeatureSpace {
    return this.state.space;
  }
  get report(): ContentFitReport {
    return this.state.report;
  }
  /** Live view of n × d vectors. */
  get vectors(): Float32Array {
    return this.rowsV.view().subarray(0, this.n * this.dimensions);
  }
  get assignment(): Int32Array {
    return this.assignmentBuf.subarray(0, this.n);
  }
  get movieIds(): Int32Array {
    return this.movieIdsBuf.subarray(0, this.n);
  }

  static fit(rows: FeatureRows, movieIds: Int32Array, space: FeatureSpace, params: ContentModelParams): ContentModel {
    const n = rows.rows;
    if (n === 0) throw new Error('content model: no movies to fit');
    let t = performance.now();
    const scaler = fitScaler(rows, space.groups);
    const scaleSeconds = seconds(t);

    t = performance.now();
    // Block-wise PCA: each group is reduced on its own, so a sparse group spread over many directions (tag
    // terms) keeps its structure instead of losing every direction to a denser one (genres) in a joint PCA.
    const G = space.groups.length;
    const plan = blockPlan(space.groups, Math.max(1, Math.min(params.dimensions, rows.cols)));
    const planned = plan.reduce((a, b) => a + b, 0);
    const components = new Float32Array(planned * rows.cols);
    const variance = new Float64Array(planned);
    let row = 0;
    const ranges: { from: number; to: number }[] = [];
    plan.forEach((dims, gi) => {
      const g = space.groups[gi]!;
      const from = row;
      if (dims === g.end - g.start) {
        // Narrow group: its scaled columns as they are (an identity block of the projection).
        for (let j = g.start; j < g.end; j++, row++) components[row * rows.cols + j] = 1;
        ranges.push({ from, to: row });
        return;
      }
      // The group's own columns as a smaller CSR matrix: no pass over the other groups' values.
      const sub = groupRows(rows, g, gi, G);
      const local: FeatureGroup = { ...g, start: 0, end: g.end - g.start };
      const subScaler: Scaler = {
        mean: scaler.mean.subarray(g.start, g.end),
        scale: scaler.scale.subarray(g.start, g.end),
      };
      const svd = randomizedSvd(scaledOperator(sub, [local], subScaler), Math.min(dims, n), {
        seed: params.seed + gi,
      });
      const width = g.end - g.start;
      for (let k = 0; k < svd.rank; k++, row++) {
        components.set(svd.vt.subarray(k * width, (k + 1) * width), row * rows.cols + g.start);
        variance[row] = (svd.s[k]! * svd.s[k]!) / n;
      }
      ranges.push({ from, to: row });
    });
    const out = Math.max(1, row);
    const encoder = new PcaEncoder(components.subarray(0, out * rows.cols), rows.cols, out, variance.subarray(0, out));
    // Vectors = Z·Cᵀ through the operator (the identity blocks included), then normalised: cosine = dot product.
    const op = scaledOperator(rows, space.groups, scaler);
    const ct = new Float64Array(rows.cols * out);
    for (let k = 0; k < out; k++)
      for (let j = 0; j < rows.cols; j++) ct[j * out + k] = encoder.components[k * rows.cols + j]!;
    const projected = new Float64Array(n * out);
    op.multiply(ct, out, projected);
    const vectors = Float32Array.from(projected);
    // Variance kept: per component, the variance of the projection (identity blocks included).
    for (let k = 0; k < out; k++) {
      let sq = 0;
      for (let i = 0; i < n; i++) sq += projected[i * out + k]! ** 2;
      variance[k] = sq / n;
    }
    // Total variance of Z = Σ_g weight² × share of movies with the group (scaler makes each group's total weight²).
    let total = 0;
    const groupReport: ContentFitReport['groups'] = [];
    space.groups.forEach((g, gi) => {
      let present = 0;
      for (let i = 0; i < n; i++) present += rows.present[i * G + gi]!;
      const width = g.end - g.start;
      let active = 0;
      for (let j = g.start; j < g.end; j++) if (scaler.scale[j] !== 0) active++;
      const groupVar = g.scaling === 'block' ? (active > 0 ? g.weight ** 2 : 0) : (g.weight ** 2 * active) / width;
      total += (groupVar * present) / n;
      let keptG = 0;
      for (let k = ranges[gi]!.from; k < ranges[gi]!.to; k++) keptG += variance[k]!;
      const totalG = (groupVar * present) / n;
      groupReport.push({
        name: g.name,
        dimensions: ranges[gi]!.to - ranges[gi]!.from,
        explained: totalG > 0 ? Math.min(1, keptG / totalG) : 0,
      });
    });
    let kept = 0;
    for (let k = 0; k < out; k++) kept += variance[k]!;
    normalizeRows(vectors, n, out);
    const encodeSeconds = seconds(t);

    t = performance.now();
    const k = Math.max(1, Math.min(params.clusters, n));
    const km = kmeans(vectors, n, out, { k, seed: params.seed, restarts: params.restarts, miniBatch: 'auto' });
    const quality: ClusterQuality = {
      k,
      inertia: km.inertia,
      // Sampled silhouette costs sample·n·d: the sample shrinks on large catalogues to keep fitting fast.
      silhouette:
        k > 1 && k < n
          ? silhouette(vectors, n, out, km.assignment, k, {
              seed: params.seed,
              sample: Math.max(300, Math.min(1000, Math.floor(3e8 / (n * out)))),
            })
          : 0,
      daviesBouldin: k > 1 && k < n ? daviesBouldin(vectors, n, out, km.assignment, km.centroids, k) : 0,
      sizes: Array.from(km.sizes),
    };
    const clusterSeconds = seconds(t);
    return new ContentModel({
      params: { ...params, clusters: k },
      space,
      scaler,
      encoder,
      movieIds: Int32Array.from(movieIds),
      vectors,
      centroids: km.centroids,
      assignment: km.assignment,
      report: {
        movies: n,
        inputDim: rows.cols,
        outputDim: out,
        explainedVariance: total > 0 ? Math.min(1, kept / total) : 0,
        groups: groupReport,
        clusters: quality,
        seconds: { scale: scaleSeconds, encode: encodeSeconds, cluster: clusterSeconds },
      },
    });
  }

  /** The unit vector of a raw row, through the fitted scaler and encoder, into out[offset..]. */
  transform(row: RawRow, out: Float32Array, offset = 0): void {
    const { mean, scale } = this.state.scaler;
    const z = this.z;
    z.fill(0);
    this.state.space.groups.forEach((g, gi) => {
      if (!row.present[gi]) return;
      for (let j = g.start; j < g.end; j++) z[j] = -mean[j]! * scale[j]!;
    });
    for (let p = 0; p < row.indices.length; p++) {
      const j = row.indices[p]!;
      z[j] = (row.values[p]! - mean[j]!) * scale[j]!;
    }
    const d = this.dimensions;
    this.state.encoder.encode(z, out, offset);
    let s = 0;
    for (let k = 0; k < d; k++) s += out[offset + k]! * out[offset + k]!;
    if (s > 0) {
      const inv = 1 / Math.sqrt(s);
      for (let k = 0; k < d; k++) out[offset + k]! *= inv;
    }
  }

  /** Nearest cluster of a unit vector. */
  clusterOf(vector: Float32Array, offset = 0): number {
    return nearestCentroid(this.state.centroids, this.clusters, this.dimensions, vector, offset);
  }

  /** Places a movie added after fitting: its vector from the stored scaler and encoder, its nearest cluster. */
  append(movieId: number, row: RawRow): { index: number; cluster: number } {
    const d = this.dimensions;
    if (this.n >= this.assignmentBuf.length) {
      const cap = Math.max(16, Math.ceil(this.n * 1.25));
      const a = new Int32Array(cap);
      a.set(this.assignmentBuf.subarray(0, this.n));
      this.assignmentBuf = a;
      const ids = new Int32Array(cap);
      ids.set(this.movieIdsBuf.subarray(0, this.n));
      this.movieIdsBuf = ids;
    }
    const v = new Float32Array(d);
    this.transform(row, v, 0);
    const index = this.rowsV.append(v);
    const cluster = this.clusterOf(v, 0);
    this.assignmentBuf[index] = cluster;
    this.movieIdsBuf[index] = movieId;
    this.n++;
    return { index, cluster };
  }

  /** scores[i] = cos(vector i, q) for every row; q is a unit (or any) vector of length d. */
  scoreAgainst(q: Float32Array, scores: Float32Array): void {
    this.rowsV.multiply(q, scores);
  }

  similarity(a: number, b: number): number {
    const v = this.rowsV.view();
    const d = this.dimensions;
    let s = 0;
    for (let k = 0; k < d; k++) s += v[a * d + k]! * v[b * d + k]!;
    return s;
  }
}

const FORMAT = 'cinerec-content/1';

interface ContentMeta {
  params: ContentModelParams;
  space: FeatureSpace;
  report: ContentFitReport;
  /** Identifies the data and settings the model was fitted on. */
  fingerprint: string;
  encoder: { kind: string; inputDim: number; outputDim: number };
}

export function saveContentModel(dir: string, model: ContentModel, fingerprint: string): void {
  const s = model.state;
  const meta: ContentMeta = {
    params: s.params,
    space: s.space,
    report: s.report,
    fingerprint,
    encoder: { kind: s.encoder.kind, inputDim: s.encoder.inputDim, outputDim: s.encoder.outputDim },
  };
  // Only the fitted rows: movies added later are placed again from their stored features at load.
  const n = s.movieIds.length;
  writeArtifact(dir, FORMAT, meta, {
    mean: s.scaler.mean,
    scale: s.scaler.scale,
    components: s.encoder.components,
    variance: s.encoder.variance,
    movieIds: s.movieIds,
    vectors: s.vectors.subarray(0, n * s.encoder.outputDim),
    centroids: s.centroids,
    assignment: s.assignment.subarray(0, n),
  });
}

/** The saved model, or null when there is none or it was fitted on other data or settings. */
export function loadContentModel(dir: string, fingerprint: string): ContentModel | null {
  let a: Artifact<ContentMeta>;
  try {
    a = readArtifact<ContentMeta>(dir, FORMAT);
  } catch {
    return null;
  }
  if (a.meta.fingerprint !== fingerprint) return null;
  const { inputDim, outputDim } = a.meta.encoder;
  return new ContentModel({
    params: a.meta.params,
    space: a.meta.space,
    report: a.meta.report,
    scaler: { mean: a.array('mean', 'Float32Array'), scale: a.array('scale', 'Float32Array') },
    encoder: new PcaEncoder(
      a.array('components', 'Float32Array'),
      inputDim,
      outputDim,
      a.array('variance', 'Float64Array'),
    ),
    movieIds: a.array('movieIds', 'Int32Array'),
    vectors: a.array('vectors', 'Float32Array'),
    centroids: a.array('centroids', 'Float32Array'),
    assignment: a.array('assignment', 'Int32Array'),
  });
}
