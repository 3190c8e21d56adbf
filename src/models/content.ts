import type { FeatureGroup, FeatureRows, FeatureSpace } from '../features/content-features.ts';
import { daviesBouldin, kmeans, nearestCentroid, silhouette } from '../math/kmeans.ts';
import { DenseRows } from '../math/matvec.ts';
import { type LinearOperator, randomizedSvd } from '../math/pca.ts';
import { type Artifact, readArtifact, writeArtifact } from '../util/artifacts.ts';
import { assertMayFit } from '../util/fit-guard.ts';
import { type Progress, silentProgress } from '../util/progress.ts';
import {
  AUTOENCODER_DEFAULTS,
  type AutoencoderMeta,
  type AutoencoderReport,
  type AutoencoderSettings,
  ContentAutoencoder,
  type ErrorSums,
  fitAutoencoder,
  relativeErrors,
} from './content-autoencoder.ts';
import { addLinks, type LinkIndex, LinkScratch, linkIndexOf } from './content-links.ts';
import type { Encoder, EncoderKind, ScaledRow, Scaler } from './content-types.ts';

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
  /** What reduces the scaled rows to `dimensions` numbers: block-wise PCA (the default) or the autoencoder. */
  encoder?: EncoderKind;
  /** Autoencoder settings (AUTOENCODER_DEFAULTS when absent); used when encoder is 'autoencoder'. */
  autoencoder?: AutoencoderSettings;
}

export class PcaEncoder implements Encoder {
  readonly kind = 'pca' as const;
  constructor(
    /** outputDim × inputDim, orthonormal rows. */
    readonly components: Float32Array,
    readonly inputDim: number,
    readonly outputDim: number,
    /** Variance of the data along each component. */
    readonly variance: Float64Array,
  ) {}

  encode(row: ScaledRow, out: Float32Array, offset: number): void {
    const c = this.components;
    const z = row.dense;
    const n = this.inputDim;
    for (let k = 0; k < this.outputDim; k++) {
      let s = 0;
      const r = k * n;
      for (let j = 0; j < n; j++) s += c[r + j]! * z[j]!;
      out[offset + k] = s;
    }
  }

  save(): { meta: object; arrays: Record<string, Float32Array | Float64Array> } {
    return { meta: {}, arrays: { components: this.components, variance: this.variance } };
  }
}

export interface ClusterQuality {
  k: number;
  inertia: number;
  silhouette: number;
  daviesBouldin: number;
  sizes: number[];
}

/** Relative squared reconstruction error Σ‖z − ẑ‖² / Σ‖z‖² in the scaled space, overall and per group. */
export interface ReconstructionError {
  error: number;
  groups: { name: string; error: number }[];
}

export interface ReconstructionReport extends ReconstructionError {
  /**
   * Movies the errors are measured on: the autoencoder's held-out movies (never trained on), or every
   * movie for PCA (in-sample: PCA is fitted on all of them, and its error is 1 − explainedVariance).
   */
  movies: number;
  heldOut: boolean;
  /** Autoencoder only: block-wise PCA fitted on the same training movies, on the same held-out movies. */
  pca?: ReconstructionError;
}

export interface ContentFitReport {
  movies: number;
  inputDim: number;
  outputDim: number;
  encoder: EncoderKind;
  /** Share of the scaled data's variance the encoder keeps (autoencoder: 1 − held-out reconstruction error). */
  explainedVariance: number;
  /**
   * Per feature group: its output dimensions (PCA; 0 for the autoencoder, whose code is shared) and the
   * share of its own variance kept (autoencoder: 1 − the group's held-out reconstruction error).
   */
  groups: { name: string; dimensions: number; explained: number }[];
  reconstruction: ReconstructionReport;
  /** Autoencoder only: training figures. */
  autoencoder?: AutoencoderReport;
  /** Title links: their weight and how many movies at least one link pulled. */
  links?: { weight: number; movies: number };
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
    // Link columns stay 0 in the scaled rows: the encoder never sees them.
    if (g.scaling === 'links') continue;
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
    .filter((i) => groups[i]!.scaling !== 'links')
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

/** The rows ids (ascending) of a CSR feature matrix as their own matrix. */
function selectRows(rows: FeatureRows, ids: Int32Array): FeatureRows {
  const G = rows.present.length / Math.max(1, rows.rows);
  const m = ids.length;
  const indptr = new Int32Array(m + 1);
  for (let r = 0; r < m; r++) {
    const i = ids[r]!;
    indptr[r + 1] = indptr[r]! + rows.indptr[i + 1]! - rows.indptr[i]!;
  }
  const indices = new Int32Array(indptr[m]!);
  const values = new Float32Array(indptr[m]!);
  const present = new Uint8Array(m * G);
  for (let r = 0; r < m; r++) {
    const i = ids[r]!;
    indices.set(rows.indices.subarray(rows.indptr[i]!, rows.indptr[i + 1]!), indptr[r]!);
    values.set(rows.values.subarray(rows.indptr[i]!, rows.indptr[i + 1]!), indptr[r]!);
    present.set(rows.present.subarray(i * G, (i + 1) * G), r * G);
  }
  return { rows: m, cols: rows.cols, indptr, indices, values, present };
}

interface BlockPca {
  encoder: PcaEncoder;
  /** n × outputDim projections of the fitted rows (not normalised). */
  projected: Float64Array;
  /** Share of the scaled data's variance kept, overall and per group. */
  explained: number;
  groups: ContentFitReport['groups'];
}

/**
 * Block-wise PCA: each group is reduced on its own, so a sparse group spread over many directions (tag
 * terms) keeps its structure instead of losing every direction to a denser one (genres) in a joint PCA.
 */
function fitBlockPca(
  rows: FeatureRows,
  groups: readonly FeatureGroup[],
  scaler: Scaler,
  budget: number,
  seed: number,
): BlockPca {
  const n = rows.rows;
  const G = groups.length;
  const plan = blockPlan(groups, budget);
  const planned = plan.reduce((a, b) => a + b, 0);
  const components = new Float32Array(planned * rows.cols);
  const variance = new Float64Array(planned);
  let row = 0;
  const ranges: { from: number; to: number }[] = [];
  plan.forEach((dims, gi) => {
    const g = groups[gi]!;
    const from = row;
    if (dims === 0) {
      ranges.push({ from, to: row });
      return;
    }
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
    const svd = randomizedSvd(scaledOperator(sub, [local], subScaler), Math.min(dims, n), { seed: seed + gi });
    const width = g.end - g.start;
    for (let k = 0; k < svd.rank; k++, row++) {
      components.set(svd.vt.subarray(k * width, (k + 1) * width), row * rows.cols + g.start);
      variance[row] = (svd.s[k]! * svd.s[k]!) / n;
    }
    ranges.push({ from, to: row });
  });
  const out = Math.max(1, row);
  const encoder = new PcaEncoder(components.subarray(0, out * rows.cols), rows.cols, out, variance.subarray(0, out));
  // Projections = Z·Cᵀ through the operator (the identity blocks included).
  const op = scaledOperator(rows, groups, scaler);
  const ct = new Float64Array(rows.cols * out);
  for (let k = 0; k < out; k++)
    for (let j = 0; j < rows.cols; j++) ct[j * out + k] = encoder.components[k * rows.cols + j]!;
  const projected = new Float64Array(n * out);
  op.multiply(ct, out, projected);
  // Variance kept: per component, the variance of the projection (identity blocks included).
  for (let k = 0; k < out; k++) {
    let sq = 0;
    for (let i = 0; i < n; i++) sq += projected[i * out + k]! ** 2;
    variance[k] = sq / n;
  }
  // Total variance of Z = Σ_g weight² × share of movies with the group (scaler makes each group's total weight²).
  let total = 0;
  const groupReport: ContentFitReport['groups'] = [];
  groups.forEach((g, gi) => {
    if (g.scaling === 'links') return;
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
  return { encoder, projected, explained: total > 0 ? Math.min(1, kept / total) : 0, groups: groupReport };
}

/**
 * Reconstruction errors of PCA components on rows (scaled with the given scaler): the components are
 * orthonormal and each lies in one group, so a group's error is ‖z_g‖² − Σ_{k in g} (c_k·z)².
 */
function pcaErrors(encoder: PcaEncoder, rows: FeatureRows, groups: readonly FeatureGroup[], scaler: Scaler): ErrorSums {
  const n = rows.rows;
  const G = groups.length;
  const D = rows.cols;
  const out = encoder.outputDim;
  const { mean, scale } = scaler;
  const groupOf = new Int32Array(D);
  const background = new Float64Array(G);
  groups.forEach((g, gi) => {
    groupOf.fill(gi, g.start, g.end);
    for (let j = g.start; j < g.end; j++) background[gi] += (mean[j]! * scale[j]!) ** 2;
  });
  const componentGroup = new Int32Array(out).fill(-1);
  const ct = new Float64Array(D * out);
  for (let k = 0; k < out; k++)
    for (let j = 0; j < D; j++) {
      const c = encoder.components[k * D + j]!;
      ct[j * out + k] = c;
      if (c !== 0) componentGroup[k] = groupOf[j]!;
    }
  const projected = new Float64Array(n * out);
  scaledOperator(rows, groups, scaler).multiply(ct, out, projected);
  const sums: ErrorSums = { error: new Float64Array(G), norm: new Float64Array(G), movies: n };
  for (let i = 0; i < n; i++) {
    for (let g = 0; g < G; g++) if (rows.present[i * G + g]) sums.norm[g] += background[g]!;
    for (let p = rows.indptr[i]!; p < rows.indptr[i + 1]!; p++) {
      const j = rows.indices[p]!;
      const b = mean[j]! * scale[j]!;
      const z = (rows.values[p]! - mean[j]!) * scale[j]!;
      sums.norm[groupOf[j]!] += z * z - b * b;
    }
    for (let k = 0; k < out; k++) {
      const g = componentGroup[k]!;
      if (g >= 0) sums.error[g] -= projected[i * out + k]! ** 2;
    }
  }
  for (let g = 0; g < G; g++) sums.error[g] = Math.max(0, sums.error[g]! + sums.norm[g]!);
  return sums;
}

export interface ContentModelState {
  params: ContentModelParams;
  space: FeatureSpace;
  scaler: Scaler;
  encoder: Encoder;
  /** Movie id of each row of vectors. */
  movieIds: Int32Array;
  /** n × d unit vectors (zero for a movie with no usable features). */
  vectors: Float32Array;
  /** With title links: the fitted movies' encoded unit vectors before the links pulled them (what links add). */
  base?: Float32Array;
  links?: LinkIndex;
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
  /** The row being transformed, as encoders read it (views z; reused). */
  private readonly scaled: ScaledRow;
  private linkScratch: LinkScratch | undefined;

  constructor(readonly state: ContentModelState) {
    this.n = state.movieIds.length;
    const d = state.encoder.outputDim;
    this.rowsV = DenseRows.create(Math.max(16, Math.ceil(this.n * 1.1)), d);
    this.rowsV.set(state.vectors.subarray(0, this.n * d), this.n);
    this.assignmentBuf = state.assignment;
    this.movieIdsBuf = state.movieIds;
    this.z = new Float64Array(state.space.cols);
    this.scaled = {
      dense: this.z,
      indices: new Int32Array(state.space.cols),
      values: new Float64Array(state.space.cols),
      nnz: 0,
      present: new Uint8Array(state.space.groups.length),
    };
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

  static fit(
    rows: FeatureRows,
    movieIds: Int32Array,
    space: FeatureSpace,
    params: ContentModelParams,
    progress: Progress = silentProgress,
  ): ContentModel {
    assertMayFit('the content model');
    const n = rows.rows;
    if (n === 0) throw new Error('content model: no movies to fit');
    // Three phases (scaler, encoder, clusters) after the features the caller built: a step each.
    progress.start(4, 'content: features, scaler, encoder, clusters');
    progress.update(1);
    let t = performance.now();
    const scaler = fitScaler(rows, space.groups);
    const scaleSeconds = seconds(t);
    progress.update(2);

    t = performance.now();
    const kind = params.encoder ?? 'pca';
    const budget = Math.max(1, Math.min(params.dimensions, rows.cols));
    let encoder: Encoder;
    let vectors: Float32Array;
    let explainedVariance: number;
    let groupReport: ContentFitReport['groups'];
    let reconstruction: ReconstructionReport;
    let autoencoder: AutoencoderReport | undefined;
    if (kind === 'autoencoder') {
      const settings = params.autoencoder ?? AUTOENCODER_DEFAULTS;
      const ae = fitAutoencoder(rows, space.groups, scaler, params.dimensions, settings);
      encoder = ae.encoder;
      vectors = ae.codes;
      autoencoder = ae.report;
      const own = relativeErrors(ae.heldOutErrors, space.groups);
      reconstruction = { movies: ae.heldOut.length, heldOut: ae.heldOut.length > 0, ...own };
      if (ae.heldOut.length > 0) {
        // The baseline on the same split: block-wise PCA fitted on the training movies only.
        const held = new Uint8Array(n);
        for (const i of ae.heldOut) held[i] = 1;
        const trainIds = Int32Array.from({ length: n - ae.heldOut.length });
        for (let i = 0, o = 0; i < n; i++) if (!held[i]) trainIds[o++] = i;
        const base = fitBlockPca(selectRows(rows, trainIds), space.groups, scaler, budget, params.seed);
        const errors = pcaErrors(base.encoder, selectRows(rows, ae.heldOut), space.groups, scaler);
        reconstruction.pca = relativeErrors(errors, space.groups);
      }
      explainedVariance = 1 - own.error;
      // Link groups are not encoded: nothing of theirs to reconstruct.
      const encoded = (g: { name: string }) => space.groups.find((x) => x.name === g.name)?.scaling !== 'links';
      reconstruction.groups = reconstruction.groups.filter(encoded);
      if (reconstruction.pca) reconstruction.pca.groups = reconstruction.pca.groups.filter(encoded);
      groupReport = own.groups.filter(encoded).map((g) => ({ name: g.name, dimensions: 0, explained: 1 - g.error }));
    } else {
      const pca = fitBlockPca(rows, space.groups, scaler, budget, params.seed);
      encoder = pca.encoder;
      vectors = Float32Array.from(pca.projected);
      explainedVariance = pca.explained;
      groupReport = pca.groups;
      reconstruction = {
        movies: n,
        heldOut: false,
        error: 1 - pca.explained,
        groups: pca.groups.map((g) => ({ name: g.name, error: 1 - g.explained })),
      };
    }
    const out = encoder.outputDim;
    normalizeRows(vectors, n, out);
    let base: Float32Array | undefined;
    let links: LinkIndex | undefined;
    let linked = 0;
    const linkGroup = space.groups.find((g) => g.scaling === 'links' && g.weight > 0);
    if (linkGroup) {
      links = linkIndexOf(rows, linkGroup);
      base = vectors;
      vectors = Float32Array.from(base);
      const scratch = new LinkScratch(n, out);
      for (let i = 0; i < n; i++) {
        const row = {
          indices: rows.indices.subarray(rows.indptr[i]!, rows.indptr[i + 1]!),
          values: rows.values.subarray(rows.indptr[i]!, rows.indptr[i + 1]!),
        };
        if (addLinks(links, base, out, row, i, vectors, i * out, scratch)) linked++;
      }
    }
    const encodeSeconds = seconds(t);
    progress.update(3);

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
    progress.update(4);
    progress.stop();
    return new ContentModel({
      params: { ...params, clusters: k },
      space,
      scaler,
      encoder,
      movieIds: Int32Array.from(movieIds),
      vectors,
      ...(base && links ? { base, links } : {}),
      centroids: km.centroids,
      assignment: km.assignment,
      report: {
        movies: n,
        inputDim: rows.cols,
        outputDim: out,
        encoder: kind,
        explainedVariance,
        groups: groupReport,
        reconstruction,
        ...(autoencoder ? { autoencoder } : {}),
        ...(links ? { links: { weight: links.weight, movies: linked } } : {}),
        clusters: quality,
        seconds: { scale: scaleSeconds, encode: encodeSeconds, cluster: clusterSeconds },
      },
    });
  }

  /**
   * The unit vector of a raw row, through the fitted scaler and encoder and the pull of the fitted movies its title
   * links it to, into out[offset..]. `self`: the row is fitted movie `self`'s own, which does not link to itself.
   */
  transform(row: RawRow, out: Float32Array, offset = 0, self = -1): void {
    const { mean, scale } = this.state.scaler;
    const z = this.z;
    z.fill(0);
    this.state.space.groups.forEach((g, gi) => {
      if (!row.present[gi]) return;
      for (let j = g.start; j < g.end; j++) z[j] = -mean[j]! * scale[j]!;
    });
    const scaled = this.scaled;
    for (let p = 0; p < row.indices.length; p++) {
      const j = row.indices[p]!;
      const v = (row.values[p]! - mean[j]!) * scale[j]!;
      z[j] = v;
      scaled.indices[p] = j;
      scaled.values[p] = v;
    }
    scaled.nnz = row.indices.length;
    scaled.present = row.present;
    const d = this.dimensions;
    this.state.encoder.encode(scaled, out, offset);
    let s = 0;
    for (let k = 0; k < d; k++) s += out[offset + k]! * out[offset + k]!;
    if (s > 0) {
      const inv = 1 / Math.sqrt(s);
      for (let k = 0; k < d; k++) out[offset + k]! *= inv;
    }
    const { links, base } = this.state;
    if (links && base) {
      this.linkScratch ??= new LinkScratch(base.length / d, d);
      addLinks(links, base, d, row, self, out, offset, this.linkScratch);
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

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

/** One line for logs: features, encoder, reconstruction error, clusters. */
export function contentFitSummary(r: ContentFitReport): string {
  const rec = r.reconstruction;
  const groups = (e: ReconstructionError) => e.groups.map((g) => `${g.name} ${pct(g.error)}`).join(', ');
  let encoder: string;
  if (r.encoder === 'autoencoder' && r.autoencoder) {
    const a = r.autoencoder;
    encoder =
      `autoencoder ${[r.inputDim, ...a.hidden, r.outputDim].join('→')} (${a.epochs} epochs, best ${a.bestEpoch}, ` +
      `${a.secondsPerEpoch.toFixed(2)} s/epoch), ` +
      (rec.heldOut
        ? `relative reconstruction error on ${rec.movies} held-out movies ${pct(rec.error)} (${groups(rec)})` +
          (rec.pca ? `, PCA on the same split ${pct(rec.pca.error)} (${groups(rec.pca)})` : '')
        : 'no held-out movies');
  } else {
    encoder =
      `PCA (${r.groups.map((g) => `${g.name} ${g.dimensions}`).join(', ')} dimensions), ` +
      `relative reconstruction error ${pct(rec.error)} in-sample (${groups(rec)})`;
  }
  const links = r.links ? `; title links pull ${r.links.movies} movies (weight ${r.links.weight})` : '';
  return (
    `${r.inputDim} features → ${r.outputDim} dimensions by ${encoder}${links}; ` +
    `${r.clusters.k} clusters (silhouette ${r.clusters.silhouette.toFixed(3)})`
  );
}

const FORMAT = 'cinerec-content/1';

interface ContentMeta {
  params: ContentModelParams;
  space: FeatureSpace;
  report: ContentFitReport;
  /** Identifies the data and settings the model was fitted on. */
  fingerprint: string;
  /** meta: the encoder's own description (the autoencoder's layer spec; empty for PCA). */
  encoder: { kind: string; inputDim: number; outputDim: number; meta?: object };
  /** Title links (arrays linkPtr, linkMovies, linkValues, base); absent in models without them. */
  links?: { start: number; end: number; weight: number };
}

export function saveContentModel(dir: string, model: ContentModel, fingerprint: string): void {
  const s = model.state;
  const meta: ContentMeta = {
    params: s.params,
    space: s.space,
    report: s.report,
    fingerprint,
    encoder: { kind: s.encoder.kind, inputDim: s.encoder.inputDim, outputDim: s.encoder.outputDim },
    ...(s.links ? { links: { start: s.links.start, end: s.links.end, weight: s.links.weight } } : {}),
  };
  const saved = s.encoder.save();
  meta.encoder.meta = saved.meta;
  // Only the fitted rows: movies added later are placed again from their stored features at load.
  const n = s.movieIds.length;
  writeArtifact(dir, FORMAT, meta, {
    mean: s.scaler.mean,
    scale: s.scaler.scale,
    ...saved.arrays,
    movieIds: s.movieIds,
    vectors: s.vectors.subarray(0, n * s.encoder.outputDim),
    centroids: s.centroids,
    assignment: s.assignment.subarray(0, n),
    ...(s.links && s.base
      ? { linkPtr: s.links.ptr, linkMovies: s.links.movies, linkValues: s.links.values, base: s.base }
      : {}),
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
  const { kind, inputDim, outputDim } = a.meta.encoder;
  // The fingerprint covers the encoder settings; the kind is checked too, so a foreign file is refitted.
  if (kind !== (a.meta.params.encoder ?? 'pca')) return null;
  let encoder: Encoder;
  if (kind === 'pca') {
    encoder = new PcaEncoder(
      a.array('components', 'Float32Array'),
      inputDim,
      outputDim,
      a.array('variance', 'Float64Array'),
    );
  } else if (kind === 'autoencoder') {
    encoder = ContentAutoencoder.load(inputDim, outputDim, a.meta.encoder.meta as AutoencoderMeta, (name) =>
      a.array(name, 'Float32Array'),
    );
  } else {
    return null;
  }
  const l = a.meta.links;
  const links: LinkIndex | undefined = l
    ? {
        ...l,
        ptr: a.array('linkPtr', 'Int32Array'),
        movies: a.array('linkMovies', 'Int32Array'),
        values: a.array('linkValues', 'Float32Array'),
      }
    : undefined;
  return new ContentModel({
    params: a.meta.params,
    space: a.meta.space,
    report: a.meta.report,
    ...(links ? { links, base: a.array('base', 'Float32Array') } : {}),
    scaler: { mean: a.array('mean', 'Float32Array'), scale: a.array('scale', 'Float32Array') },
    encoder,
    movieIds: a.array('movieIds', 'Int32Array'),
    vectors: a.array('vectors', 'Float32Array'),
    centroids: a.array('centroids', 'Float32Array'),
    assignment: a.array('assignment', 'Int32Array'),
  });
}

export type { Encoder, EncoderKind, ScaledRow, Scaler };
