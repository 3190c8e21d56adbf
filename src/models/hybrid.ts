import { daviesBouldin, kmeans, nearestCentroid, silhouette } from '../math/kmeans.ts';
import { DenseRows } from '../math/matvec.ts';
import { readModel, writeModel } from '../util/artifacts.ts';
import { assertMayFit } from '../util/fit-guard.ts';
import { type Progress, silentProgress } from '../util/progress.ts';
import type { AlsModel } from './als.ts';
import { Bridge, type BridgeMeta, type BridgeReport } from './bridge.ts';
import type { ContentModel } from './content.ts';

/**
 * The hybrid item space: per movie, its normalised ALS factors ⊕ its normalised content vector,
 * block-weighted, then k-means. A movie without ratings gets its ALS block from the bridge (ridge
 * regression content → factors); those bridged factors are kept so that they can be written into an ALS
 * model loaded separately (applyBridgedFactors), and a movie added later is placed from its content
 * vector alone (place), without refitting.
 */

/** What shapes the fitted vectors and clusters. */
export interface HybridModelSettings {
  /** Block weights: each block is unit-normalised, then scaled, so neither drowns the other. */
  alsWeight: number;
  contentWeight: number;
  clusters: number;
  restarts: number;
  seed: number;
  /** Ridge penalty of the content → factors bridge, and the ratings a movie needs to train it. */
  bridgeLambda: number;
  bridgeMinRatings: number;
}

export interface HybridReport {
  bridge: BridgeReport;
  clusters: { k: number; inertia: number; silhouette: number; daviesBouldin: number };
  /** Movies whose ALS block came from the bridge (no ratings in training). */
  bridged: number;
}

function normalize(v: Float32Array, from: number, to: number, scale: number): void {
  let s = 0;
  for (let k = from; k < to; k++) s += v[k]! * v[k]!;
  const f = s > 0 ? scale / Math.sqrt(s) : 0;
  for (let k = from; k < to; k++) v[k]! *= f;
}

const HYBRID_FORMAT = 'cinerec-hybrid/1';

interface HybridMeta {
  settings: HybridModelSettings;
  f: number;
  d: number;
  k: number;
  /** Fitted movies (rows of vectors). */
  n: number;
  report: HybridReport;
  bridge: BridgeMeta;
}

export class HybridModel {
  /** The hybrid vectors, fitted rows then movies placed since, in WebAssembly memory for scoring. */
  private readonly rowsV: DenseRows;
  private assignmentBuf: Int32Array;

  private constructor(
    readonly settings: HybridModelSettings,
    /** ALS factors and content dimensions: the two blocks. */
    readonly f: number,
    readonly d: number,
    readonly bridge: Bridge,
    vectors: Float32Array,
    /** Movies fitted (catalogue indices 0 … fitted − 1). */
    readonly fitted: number,
    assignment: Int32Array,
    readonly centroids: Float32Array,
    readonly k: number,
    readonly report: HybridReport,
    /** Catalogue indices (ascending) whose ALS factors came from the bridge at fitting, and those factors (× f). */
    readonly bridgedItems: Int32Array,
    readonly bridgedFactors: Float32Array,
  ) {
    const dim = f + d;
    this.rowsV = DenseRows.create(Math.ceil(fitted * 1.1) + 16, dim);
    this.rowsV.set(vectors, fitted);
    this.assignmentBuf = assignment;
  }

  static fit(
    als: AlsModel,
    content: ContentModel,
    /** Ratings per catalogue index in the training interactions. */
    counts: Int32Array,
    /** Catalogue size. */
    n: number,
    settings: HybridModelSettings,
    progress: Progress = silentProgress,
  ): HybridModel {
    assertMayFit('the hybrid model');
    // Phases: the bridge, the joint vectors, the clusters, their quality.
    progress.start(4, 'hybrid: bridge, vectors, clusters, quality');
    const own: HybridModelSettings = {
      alsWeight: settings.alsWeight,
      contentWeight: settings.contentWeight,
      clusters: settings.clusters,
      restarts: settings.restarts,
      seed: settings.seed,
      bridgeLambda: settings.bridgeLambda,
      bridgeMinRatings: settings.bridgeMinRatings,
    };
    const f = als.factors;
    const d = content.dimensions;
    const trained: number[] = [];
    for (let i = 0; i < Math.min(n, als.nItems); i++) if ((counts[i] ?? 0) >= own.bridgeMinRatings) trained.push(i);
    const bridge = Bridge.fit(content.vectors, d, als.itemFactors, f, trained, {
      lambda: own.bridgeLambda,
      holdout: 0.2,
      seed: own.seed,
    });
    progress.update(1);
    const dim = f + d;
    const vectors = new Float32Array(n * dim);
    const bridgedItems: number[] = [];
    const bridgedFactors = new Float32Array(n * f);
    const est = new Float32Array(f);
    for (let i = 0; i < n; i++) {
      if (i < als.nItems && (counts[i] ?? 0) > 0) {
        vectors.set(als.itemFactors.subarray(i * f, (i + 1) * f), i * dim);
      } else {
        bridge.predict(content.vectors, est, i * d);
        vectors.set(est, i * dim);
        bridgedFactors.set(est, bridgedItems.length * f);
        bridgedItems.push(i);
      }
      if (i < content.size) vectors.set(content.vectors.subarray(i * d, (i + 1) * d), i * dim + f);
      finish(own, vectors, i * dim, f, d);
    }
    progress.update(2);
    const k = Math.max(1, Math.min(own.clusters, n));
    const km = kmeans(vectors, n, dim, { k, seed: own.seed, restarts: own.restarts, miniBatch: 'auto' });
    progress.update(3);
    const report: HybridReport = {
      bridge: bridge.report,
      bridged: bridgedItems.length,
      clusters: {
        k,
        inertia: km.inertia,
        silhouette:
          k > 1 && k < n
            ? silhouette(vectors, n, dim, km.assignment, k, {
                seed: own.seed,
                sample: Math.max(300, Math.min(1000, Math.floor(3e8 / (n * dim)))),
              })
            : 0,
        daviesBouldin: k > 1 && k < n ? daviesBouldin(vectors, n, dim, km.assignment, km.centroids, k) : 0,
      },
    };
    progress.update(4);
    progress.stop();
    return new HybridModel(
      own,
      f,
      d,
      bridge,
      vectors,
      n,
      km.assignment,
      km.centroids,
      k,
      report,
      Int32Array.from(bridgedItems),
      bridgedFactors.slice(0, bridgedItems.length * f),
    );
  }

  get dimensions(): number {
    return this.f + this.d;
  }

  /** Movies with a hybrid vector: the fitted ones and those placed since. */
  get size(): number {
    return this.rowsV.rows;
  }

  /** Cluster of each movie with a hybrid vector. */
  get assignment(): Int32Array {
    return this.assignmentBuf.subarray(0, this.rowsV.rows);
  }

  /** Live view of the size × dimensions hybrid vectors. */
  get vectors(): Float32Array {
    return this.rowsV.view();
  }

  /**
   * Writes the bridged ALS factors of the fitted movies without ratings into an ALS model, in index order,
   * exactly as fitting did to the model it was fitted with: an ALS model saved before the hybrid was fitted
   * (and loaded separately) then ranks those movies too. Applying twice changes nothing.
   */
  applyBridgedFactors(als: AlsModel): void {
    const f = this.f;
    if (als.factors !== f) throw new Error(`hybrid: the ALS model has ${als.factors} factors, the hybrid ${f}`);
    for (let b = 0; b < this.bridgedItems.length; b++)
      als.setItemFactor(this.bridgedItems[b]!, this.bridgedFactors.subarray(b * f, (b + 1) * f));
  }

  /**
   * Places a movie added after fitting (catalogue index = the next row; its content vector already in
   * `content`): bridged factors, hybrid vector, nearest cluster. The caller writes the factors into ALS.
   */
  place(index: number, content: ContentModel): { cluster: number; factors: Float32Array } {
    const rows = this.rowsV;
    if (index !== rows.rows) throw new Error(`hybrid: movie index ${index} is not the next row ${rows.rows}`);
    const { f, d } = this;
    const est = this.bridge.predict(content.vectors, new Float32Array(f), index * d);
    const v = new Float32Array(f + d);
    v.set(est, 0);
    v.set(content.vectors.subarray(index * d, (index + 1) * d), f);
    finish(this.settings, v, 0, f, d);
    rows.append(v);
    const cluster = nearestCentroid(this.centroids, this.k, f + d, v, 0);
    if (index >= this.assignmentBuf.length) {
      const grown = new Int32Array(Math.max(16, Math.ceil((index + 1) * 1.25)));
      grown.set(this.assignmentBuf.subarray(0, index));
      this.assignmentBuf = grown;
    }
    this.assignmentBuf[index] = cluster;
    return { cluster, factors: est };
  }

  clusterOf(index: number): number {
    return index >= 0 && index < this.rowsV.rows ? this.assignmentBuf[index]! : -1;
  }

  /** Dot product of two hybrid vectors. */
  similarity(a: number, b: number): number {
    const v = this.rowsV.view();
    const dim = this.dimensions;
    let s = 0;
    for (let k = 0; k < dim; k++) s += v[a * dim + k]! * v[b * dim + k]!;
    return s;
  }

  /** scores[i] = similarity(index, i) for every movie with a vector, −∞ beyond. */
  similarTo(index: number, scores: Float32Array): void {
    const rows = this.rowsV;
    rows.multiply(rows.row(index), scores);
    for (let i = rows.rows; i < scores.length; i++) scores[i] = Number.NEGATIVE_INFINITY;
  }

  /** Writes the fitted state into dir (the fitted movies only: movies placed later are placed again at load). */
  save(dir: string): void {
    const n = this.fitted;
    const bridge = this.bridge.toArrays();
    const meta: HybridMeta = {
      settings: this.settings,
      f: this.f,
      d: this.d,
      k: this.k,
      n,
      report: this.report,
      bridge: bridge.meta,
    };
    writeModel(dir, HYBRID_FORMAT, meta, {
      vectors: this.rowsV.view().subarray(0, n * this.dimensions),
      assignment: this.assignmentBuf.subarray(0, n),
      centroids: this.centroids,
      bridgedItems: this.bridgedItems,
      bridgedFactors: this.bridgedFactors,
      bridgeWeights: bridge.weights,
    });
  }

  static load(dir: string): HybridModel {
    const a = readModel<HybridMeta>(dir, HYBRID_FORMAT);
    const { settings, f, d, k, n, report } = a.meta;
    const vectors = a.array('vectors', 'Float32Array');
    const assignment = a.array('assignment', 'Int32Array');
    const centroids = a.array('centroids', 'Float32Array');
    const bridgedItems = a.array('bridgedItems', 'Int32Array');
    const bridgedFactors = a.array('bridgedFactors', 'Float32Array');
    if (
      vectors.length !== n * (f + d) ||
      assignment.length !== n ||
      centroids.length !== k * (f + d) ||
      bridgedFactors.length !== bridgedItems.length * f
    )
      throw new Error(`${dir}: hybrid arrays do not fit ${n} movies × (${f} + ${d}) in ${k} clusters`);
    const bridge = Bridge.fromArrays(a.meta.bridge, a.array('bridgeWeights', 'Float64Array'));
    return new HybridModel(
      settings,
      f,
      d,
      bridge,
      vectors,
      n,
      assignment,
      centroids,
      k,
      report,
      bridgedItems,
      bridgedFactors,
    );
  }
}

/** Block normalisation and weighting of one hybrid row in place. */
function finish(settings: HybridModelSettings, v: Float32Array, at: number, f: number, d: number): void {
  const { alsWeight: wa, contentWeight: wc } = settings;
  const norm = Math.sqrt(wa * wa + wc * wc) || 1;
  normalize(v, at, at + f, wa / norm);
  normalize(v, at + f, at + f + d, wc / norm);
}
