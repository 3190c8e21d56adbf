import { kmeans, nearestCentroid } from '../math/kmeans.ts';
import { readModel, writeModel } from '../util/artifacts.ts';
import { assertMayFit } from '../util/fit-guard.ts';
import type { AlsModel } from './als.ts';

/**
 * User clusters: k-means over the unit-normalised ALS user factors, with each cluster's members and
 * every movie's overall popularity (the share of users who rated it), which is what "what similar viewers
 * watched" scores from. A viewer is placed by the nearest centroid of their (unit) factor vector.
 */

export interface UserClusterModelSettings {
  clusters: number;
  restarts: number;
  seed: number;
}

const USER_CLUSTERS_FORMAT = 'cinerec-user-clusters/1';

interface UserClusterMeta {
  settings: UserClusterModelSettings;
  f: number;
  nUsers: number;
  k: number;
}

export class UserClusterModel {
  private constructor(
    readonly settings: UserClusterModelSettings,
    /** ALS factors. */
    readonly f: number,
    readonly nUsers: number,
    readonly k: number,
    /** nUsers × f unit user vectors (row u = dense user index u of the ALS model). */
    readonly unit: Float32Array,
    readonly centroids: Float32Array,
    readonly assignment: Int32Array,
    /** Members of each cluster (dense user indices), CSR: cluster c holds members[memberPtr[c] … memberPtr[c+1]). */
    readonly memberPtr: Int32Array,
    readonly members: Int32Array,
    /** Per catalogue index: ratings ÷ users. */
    readonly popularity: Float32Array,
  ) {}

  static fit(als: AlsModel, counts: Int32Array, settings: UserClusterModelSettings): UserClusterModel {
    assertMayFit('user clusters');
    const f = als.factors;
    const n = als.nUsers;
    const unit = Float32Array.from(als.userFactors.subarray(0, n * f));
    for (let u = 0; u < n; u++) {
      let s = 0;
      for (let t = 0; t < f; t++) s += unit[u * f + t]! ** 2;
      const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
      for (let t = 0; t < f; t++) unit[u * f + t]! *= inv;
    }
    const k = Math.max(1, Math.min(settings.clusters, n));
    const km = kmeans(unit, n, f, { k, seed: settings.seed, restarts: settings.restarts });
    const memberPtr = new Int32Array(k + 1);
    for (let u = 0; u < n; u++) memberPtr[km.assignment[u]! + 1]!++;
    for (let c = 0; c < k; c++) memberPtr[c + 1]! += memberPtr[c]!;
    const fill = memberPtr.slice(0, k);
    const members = new Int32Array(n);
    for (let u = 0; u < n; u++) members[fill[km.assignment[u]!]!++] = u;
    const popularity = Float32Array.from(counts, (c) => c / Math.max(1, n));
    const own = { clusters: settings.clusters, restarts: settings.restarts, seed: settings.seed };
    return new UserClusterModel(own, f, n, k, unit, km.centroids, km.assignment, memberPtr, members, popularity);
  }

  /** The nearest cluster of a unit vector of length f. */
  nearest(unit: Float32Array): number {
    return nearestCentroid(this.centroids, this.k, this.f, unit, 0);
  }

  clusterSize(c: number): number {
    return this.memberPtr[c + 1]! - this.memberPtr[c]!;
  }

  save(dir: string): void {
    const meta: UserClusterMeta = { settings: this.settings, f: this.f, nUsers: this.nUsers, k: this.k };
    writeModel(dir, USER_CLUSTERS_FORMAT, meta, {
      unit: this.unit,
      centroids: this.centroids,
      assignment: this.assignment,
      memberPtr: this.memberPtr,
      members: this.members,
      popularity: this.popularity,
    });
  }

  static load(dir: string): UserClusterModel {
    const a = readModel<UserClusterMeta>(dir, USER_CLUSTERS_FORMAT);
    const { settings, f, nUsers, k } = a.meta;
    const model = new UserClusterModel(
      settings,
      f,
      nUsers,
      k,
      a.array('unit', 'Float32Array'),
      a.array('centroids', 'Float32Array'),
      a.array('assignment', 'Int32Array'),
      a.array('memberPtr', 'Int32Array'),
      a.array('members', 'Int32Array'),
      a.array('popularity', 'Float32Array'),
    );
    if (
      model.unit.length !== nUsers * f ||
      model.centroids.length !== k * f ||
      model.assignment.length !== nUsers ||
      model.memberPtr.length !== k + 1 ||
      model.members.length !== nUsers
    )
      throw new Error(`${dir}: user cluster arrays do not fit ${nUsers} users × ${f} factors in ${k} clusters`);
    return model;
  }
}
