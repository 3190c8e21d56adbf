import type { Interactions } from '../data/interactions.ts';
import { readModel, writeModel } from '../util/artifacts.ts';
import { assertMayFit } from '../util/fit-guard.ts';

export interface BiasParams {
  /** Regularisation of user and item biases, and sweeps (Surprise BaselineOnly's ALS defaults). */
  regUser: number;
  regItem: number;
  epochs: number;
}

export const BIAS_DEFAULTS: BiasParams = { regUser: 15, regItem: 10, epochs: 10 };

const BIAS_FORMAT = 'cinerec-bias/1';

/**
 * r̂_ui = μ + b_u + b_i, fitted by alternating least squares as Surprise's BaselineOnly does:
 * each sweep sets b_i = Σ_u (r − μ − b_u)/(λ_i + |U_i|), then b_u = Σ_i (r − μ − b_i)/(λ_u + |I_u|).
 */
export class BiasModel {
  mu = 0;
  bu = new Float64Array(0);
  bi = new Float64Array(0);

  constructor(readonly params: BiasParams = BIAS_DEFAULTS) {}

  fit(x: Interactions): void {
    assertMayFit('the bias baseline');
    const { regUser, regItem, epochs } = this.params;
    this.mu = x.meanRating();
    const bu = new Float64Array(x.nUsers);
    const bi = new Float64Array(x.nItems);
    const csc = x.byItem();
    const counts = x.itemCounts();
    for (let e = 0; e < epochs; e++) {
      for (let i = 0; i < x.nItems; i++) {
        let s = 0;
        for (let p = csc.indptr[i]!; p < csc.indptr[i + 1]!; p++) s += csc.ratings[p]! - this.mu - bu[csc.users[p]!]!;
        bi[i] = s / (regItem + counts[i]!);
      }
      for (let u = 0; u < x.nUsers; u++) {
        let s = 0;
        const from = x.indptr[u]!;
        const to = x.indptr[u + 1]!;
        for (let p = from; p < to; p++) s += x.ratings[p]! - this.mu - bi[x.items[p]!]!;
        bu[u] = s / (regUser + (to - from));
      }
    }
    this.bu = bu;
    this.bi = bi;
  }

  save(dir: string): void {
    writeModel(dir, BIAS_FORMAT, { params: this.params, mu: this.mu }, { bu: this.bu, bi: this.bi });
  }

  static load(dir: string): BiasModel {
    const a = readModel<{ params: BiasParams; mu: number }>(dir, BIAS_FORMAT);
    const model = new BiasModel(a.meta.params);
    model.mu = a.meta.mu;
    model.bu = a.array('bu', 'Float64Array');
    model.bi = a.array('bi', 'Float64Array');
    return model;
  }

  /** Unknown user or item (-1 or beyond the fitted range) contributes no bias. */
  predict(user: number, item: number): number {
    const u = user >= 0 && user < this.bu.length ? this.bu[user]! : 0;
    const i = item >= 0 && item < this.bi.length ? this.bi[item]! : 0;
    return this.mu + u + i;
  }
}
