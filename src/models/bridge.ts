import { cholesky, choleskySolve } from '../math/cholesky.ts';
import { Rng } from '../math/random.ts';
import { readModel, writeModel } from '../util/artifacts.ts';
import { assertMayFit } from '../util/fit-guard.ts';

/**
 * Ridge regression from content vectors (d) to ALS item factors (f): W = (XᵀX + λI)⁻¹XᵀY. Gives a
 * movie nobody has rated yet estimated factors, so it can enter personalised lists at once.
 */
export interface BridgeReport {
  /** Movies the regression was fitted on (enough ratings to trust their factors). */
  trained: number;
  /** Held out for the out-of-sample check. */
  heldOut: number;
  /** 1 − SSE/SST over every factor of the held-out movies (SST around the training mean). */
  r2OutOfSample: number;
  r2InSample: number;
}

const BRIDGE_FORMAT = 'cinerec-bridge/1';

export interface BridgeMeta {
  d: number;
  f: number;
  report: BridgeReport;
}

export class Bridge {
  private constructor(
    /** (d + 1) × f: the last row is the intercept. */
    readonly weights: Float64Array,
    readonly d: number,
    readonly f: number,
    readonly report: BridgeReport,
  ) {}

  /**
   * Fits on the items in `items` (content row i ↔ factor row i), holding out `holdout` of them (seeded)
   * for R², then refits on all of them.
   */
  static fit(
    content: Float32Array,
    d: number,
    factors: Float32Array,
    f: number,
    items: ArrayLike<number>,
    options: { lambda: number; holdout: number; seed: number },
  ): Bridge {
    assertMayFit('the content → ALS bridge');
    const all = Array.from(items);
    const order = new Rng(options.seed).shuffle(Int32Array.from(all));
    const cut = Math.floor(order.length * (1 - options.holdout));
    const train = order.subarray(0, cut);
    const test = order.subarray(cut);
    const w1 = solve(content, d, factors, f, train, options.lambda);
    const r2Out = test.length > 0 ? r2(w1, content, d, factors, f, test, train) : Number.NaN;
    const wAll = solve(content, d, factors, f, order, options.lambda);
    const r2In = r2(wAll, content, d, factors, f, order, order);
    return new Bridge(wAll, d, f, {
      trained: order.length,
      heldOut: test.length,
      r2OutOfSample: r2Out,
      r2InSample: r2In,
    });
  }

  /** What to persist: sizes and report as meta, the weights as an array (a view, not a copy). */
  toArrays(): { meta: BridgeMeta; weights: Float64Array } {
    return { meta: { d: this.d, f: this.f, report: this.report }, weights: this.weights };
  }

  /** The inverse of toArrays (takes ownership of the weights). */
  static fromArrays(meta: BridgeMeta, weights: Float64Array): Bridge {
    if (weights.length !== (meta.d + 1) * meta.f)
      throw new Error(`bridge: ${weights.length} weights do not fit (${meta.d} + 1) × ${meta.f}`);
    return new Bridge(weights, meta.d, meta.f, meta.report);
  }

  save(dir: string): void {
    const { meta, weights } = this.toArrays();
    writeModel(dir, BRIDGE_FORMAT, meta, { weights });
  }

  static load(dir: string): Bridge {
    const a = readModel<BridgeMeta>(dir, BRIDGE_FORMAT);
    return Bridge.fromArrays(a.meta, a.array('weights', 'Float64Array'));
  }

  /** Estimated factors of a content vector. */
  predict(x: Float32Array, out: Float32Array = new Float32Array(this.f), offset = 0): Float32Array {
    predictInto(this.weights, this.d, this.f, x, offset, out);
    return out;
  }
}

function predictInto(w: Float64Array, d: number, f: number, x: Float32Array, offset: number, out: Float32Array): void {
  for (let t = 0; t < f; t++) {
    let s = w[d * f + t]!;
    for (let k = 0; k < d; k++) s += x[offset + k]! * w[k * f + t]!;
    out[t] = s;
  }
}

/** Normal equations with an unpenalised intercept column. */
function solve(
  x: Float32Array,
  d: number,
  y: Float32Array,
  f: number,
  rows: ArrayLike<number>,
  lambda: number,
): Float64Array {
  const p = d + 1;
  const a = new Float64Array(p * p);
  const b = new Float64Array(p * f);
  const row = new Float64Array(p);
  for (let r = 0; r < rows.length; r++) {
    const i = rows[r]!;
    for (let k = 0; k < d; k++) row[k] = x[i * d + k]!;
    row[d] = 1;
    for (let a1 = 0; a1 < p; a1++) {
      const v = row[a1]!;
      if (v === 0) continue;
      for (let a2 = 0; a2 < p; a2++) a[a1 * p + a2]! += v * row[a2]!;
      for (let t = 0; t < f; t++) b[a1 * f + t]! += v * y[i * f + t]!;
    }
  }
  for (let k = 0; k < d; k++) a[k * p + k]! += lambda;
  a[d * p + d]! += 1e-9;
  cholesky(a, p);
  const w = new Float64Array(p * f);
  const col = new Float64Array(p);
  for (let t = 0; t < f; t++) {
    for (let k = 0; k < p; k++) col[k] = b[k * f + t]!;
    choleskySolve(a, p, col);
    for (let k = 0; k < p; k++) w[k * f + t] = col[k]!;
  }
  return w;
}

function r2(
  w: Float64Array,
  x: Float32Array,
  d: number,
  y: Float32Array,
  f: number,
  rows: ArrayLike<number>,
  reference: ArrayLike<number>,
): number {
  const mean = new Float64Array(f);
  for (let r = 0; r < reference.length; r++) for (let t = 0; t < f; t++) mean[t]! += y[reference[r]! * f + t]!;
  for (let t = 0; t < f; t++) mean[t]! /= Math.max(1, reference.length);
  const out = new Float32Array(f);
  let sse = 0;
  let sst = 0;
  for (let r = 0; r < rows.length; r++) {
    const i = rows[r]!;
    predictInto(w, d, f, x, i * d, out);
    for (let t = 0; t < f; t++) {
      const v = y[i * f + t]!;
      sse += (v - out[t]!) ** 2;
      sst += (v - mean[t]!) ** 2;
    }
  }
  return sst > 0 ? 1 - sse / sst : 0;
}
