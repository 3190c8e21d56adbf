/**
 * Published train/test split protocols over rating rows (a row index identifies a rating). Every split is
 * seeded and deterministic; outputs are sorted ascending. Per-user work runs over a CSR grouping by user
 * built with a counting sort, so 25 M rows split in a few seconds without per-row objects.
 * The protocols are described in docs/evaluation.md.
 */
import { Rng } from '../math/random.ts';
import type { RatingColumns } from '../store/types.ts';
import { ValidationError } from '../util/errors.ts';

export type SplitSpec =
  /** Train share per user (Microsoft Recommenders' python_stratified_split, filter_by="user"). */
  | { kind: 'stratified'; ratio: number }
  /** Per user, the latest (1 − ratio) share to test (ratio = train share). */
  | { kind: 'temporal'; ratio: number }
  /** Per user, the latest n to test (at least one rating stays in train). */
  | { kind: 'temporal-n'; n: number }
  /** Leave-one-out: each user's latest rating to test, for users with ≥ 2 ratings. */
  | { kind: 'loo' }
  /** k-fold over ratings (Surprise's RMSE protocol). */
  | { kind: 'kfold'; folds: number }
  /** Global cutoff (unix seconds): before → train, at/after → test. */
  | { kind: 'time'; cutoff: number };

export interface StrongGeneralization {
  /** Share of users held out, e.g. 0.2. */
  users: number;
  /** Share of each held-out user's ratings given as history at test time, e.g. 0.8. */
  foldIn: number;
}

export interface Split {
  /** e.g. "stratified:0.75 seed 1" or "kfold:5 fold 2/5 seed 1". */
  name: string;
  train: Uint32Array;
  test: Uint32Array;
  /** Strong generalisation only: held-out users' history rows, given to the recommender at test time but never trained on. */
  foldIn?: Uint32Array;
}

const TWO_32 = 4294967296;

const ACCEPTED =
  'accepted forms: stratified:<ratio>, temporal:<ratio>, temporal:n=<count>, loo, kfold:<folds>, ' +
  'time:<YYYY-MM-DD | ISO date-time with Z or offset | unix seconds>, with 0 < ratio < 1 (e.g. stratified:0.75)';

/** Python's round(): nearest integer, halves to even. x − floor(x) is exact in binary floating point. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing and formatting

const DECIMAL = /^(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;
const INTEGER = /^\d+$/;
const UNIX_SECONDS = /^-?\d+(?:\.\d+)?$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/i;

function badSplit(text: string, why: string): ValidationError {
  return new ValidationError(`Invalid split "${text}": ${why}; ${ACCEPTED}`, 'split');
}

function parseRatio(text: string, arg: string): number {
  const ratio = DECIMAL.test(arg) ? Number(arg) : Number.NaN;
  if (!(ratio > 0 && ratio < 1)) throw badSplit(text, `the ratio must be a number strictly between 0 and 1`);
  return ratio;
}

function parseCount(text: string, arg: string, what: string, min: number): number {
  const value = INTEGER.test(arg) ? Number(arg) : Number.NaN;
  if (!(Number.isSafeInteger(value) && value >= min)) throw badSplit(text, `${what} must be an integer ≥ ${min}`);
  return value;
}

/** ISO dates are UTC midnight; date-times need an explicit zone so the cutoff does not depend on the machine. */
function parseCutoff(text: string, arg: string): number {
  if (UNIX_SECONDS.test(arg)) return Number(arg);
  if (ISO_DATE.test(arg)) {
    const ms = Date.parse(`${arg}T00:00:00Z`);
    // Date.parse may roll 2015-02-30 over to March: require the date to survive a round trip.
    if (Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === arg) return ms / 1000;
    throw badSplit(text, `"${arg}" is not a calendar date`);
  }
  if (ISO_DATE_TIME.test(arg)) {
    const ms = Date.parse(arg);
    if (Number.isFinite(ms)) return ms / 1000;
  }
  throw badSplit(text, 'the cutoff must be an ISO date (UTC), an ISO date-time with Z or an offset, or unix seconds');
}

export function parseSplit(text: string): SplitSpec {
  const trimmed = text.trim();
  const colon = trimmed.indexOf(':');
  const kind = (colon < 0 ? trimmed : trimmed.slice(0, colon)).trim().toLowerCase();
  const arg = colon < 0 ? undefined : trimmed.slice(colon + 1).trim();
  const needArg = (): string => {
    if (arg === undefined || arg === '') throw badSplit(text, `"${kind}" needs a parameter`);
    return arg;
  };
  switch (kind) {
    case 'stratified':
      return { kind: 'stratified', ratio: parseRatio(text, needArg()) };
    case 'temporal': {
      const a = needArg();
      if (/^n\s*=/i.test(a)) return { kind: 'temporal-n', n: parseCount(text, a.replace(/^n\s*=\s*/i, ''), 'n', 1) };
      return { kind: 'temporal', ratio: parseRatio(text, a) };
    }
    case 'loo':
      if (arg !== undefined) throw badSplit(text, '"loo" takes no parameter');
      return { kind: 'loo' };
    case 'kfold':
      return { kind: 'kfold', folds: parseCount(text, needArg(), 'the number of folds', 2) };
    case 'time':
      return { kind: 'time', cutoff: parseCutoff(text, needArg()) };
    default:
      throw badSplit(text, kind === '' ? 'empty' : `unknown kind "${kind}"`);
  }
}

/** Inverse of parseSplit: parseSplit(formatSplit(s)) deep-equals s. */
export function formatSplit(spec: SplitSpec): string {
  switch (spec.kind) {
    case 'stratified':
    case 'temporal':
      return `${spec.kind}:${spec.ratio}`;
    case 'temporal-n':
      return `temporal:n=${spec.n}`;
    case 'loo':
      return 'loo';
    case 'kfold':
      return `kfold:${spec.folds}`;
    case 'time': {
      // Whole UTC days read best as dates; anything else stays in unix seconds.
      if (Number.isInteger(spec.cutoff) && spec.cutoff % 86400 === 0 && Math.abs(spec.cutoff) < 8.64e12) {
        const date = new Date(spec.cutoff * 1000).toISOString().slice(0, 10);
        if (ISO_DATE.test(date)) return `time:${date}`;
      }
      return `time:${spec.cutoff}`;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Validation

function invalid(field: string, message: string): ValidationError {
  return new ValidationError(message, field);
}

function checkShare(value: number, field: string): void {
  if (!(typeof value === 'number' && value > 0 && value < 1)) {
    throw invalid(field, `${field} must be strictly between 0 and 1, got ${value}`);
  }
}

function validate(rows: RatingColumns, spec: SplitSpec, seed: number, strong: StrongGeneralization | undefined): void {
  const n = rows.userId.length;
  if (rows.movieId.length !== n || rows.rating.length !== n || rows.timestamp.length !== n) {
    throw invalid('rows', 'rating columns must have the same length');
  }
  if (!(Number.isInteger(seed) && seed >= 0 && seed < TWO_32)) {
    throw invalid('seed', `seed must be an integer in [0, 2^32), got ${seed}`);
  }
  switch (spec.kind) {
    case 'stratified':
    case 'temporal':
      checkShare(spec.ratio, 'ratio');
      break;
    case 'temporal-n':
      if (!(Number.isSafeInteger(spec.n) && spec.n >= 1)) throw invalid('n', `n must be an integer ≥ 1, got ${spec.n}`);
      break;
    case 'loo':
      break;
    case 'kfold':
      if (!(Number.isSafeInteger(spec.folds) && spec.folds >= 2)) {
        throw invalid('folds', `folds must be an integer ≥ 2, got ${spec.folds}`);
      }
      if (spec.folds > n) throw invalid('folds', `folds (${spec.folds}) cannot exceed the number of ratings (${n})`);
      break;
    case 'time':
      if (!Number.isFinite(spec.cutoff))
        throw invalid('cutoff', `cutoff must be finite unix seconds, got ${spec.cutoff}`);
      break;
    default:
      throw invalid('split', `unknown split kind; ${ACCEPTED}`);
  }
  if (strong) {
    if (spec.kind === 'kfold' || spec.kind === 'time') {
      throw invalid('split', `strong generalisation needs a per-user split, not "${spec.kind}"`);
    }
    checkShare(strong.users, 'users');
    checkShare(strong.foldIn, 'foldIn');
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Randomness: one independent generator per purpose (and per user where the work is per user), so a user's split
// depends only on the seed, its id and its own rows, never on how many users came before it.

const PURPOSE_USER_SHUFFLE = 1;
const PURPOSE_HOLD_OUT = 2;
const PURPOSE_FOLD_IN = 3;
const PURPOSE_KFOLD = 4;

/** Seeds are < 2^32, so the purpose sits in the seed's high word, which Rng mixes in. */
function rngFor(seed: number, purpose: number, stream = 0): Rng {
  return new Rng(seed + purpose * TWO_32, stream >>> 0);
}

// ---------------------------------------------------------------------------------------------------------------
// Grouping by user

/** CSR by user: group g (users ascending by id) owns rows[start[g] .. start[g + 1]), in ascending row order. */
interface UserGroups {
  ids: Int32Array;
  start: Uint32Array;
  rows: Uint32Array;
}

/** Stable counting sort of row indices by key − offset, keys in [offset, offset + range). */
function countingGroups(keys: Int32Array, offset: number, range: number): UserGroups {
  const n = keys.length;
  const cursor = new Uint32Array(range);
  for (let r = 0; r < n; r++) cursor[keys[r]! - offset]!++;
  let groups = 0;
  for (let k = 0; k < range; k++) if (cursor[k] !== 0) groups++;
  const start = new Uint32Array(groups + 1);
  let g = 0;
  let sum = 0;
  for (let k = 0; k < range; k++) {
    const c = cursor[k]!;
    if (c === 0) continue;
    start[g++] = sum;
    cursor[k] = sum;
    sum += c;
  }
  start[groups] = sum;
  const rows = new Uint32Array(n);
  for (let r = 0; r < n; r++) rows[cursor[keys[r]! - offset]!++] = r;
  return { ids: new Int32Array(groups), start, rows };
}

function groupByUser(userId: Int32Array): UserGroups {
  const n = userId.length;
  if (n === 0) return { ids: new Int32Array(0), start: new Uint32Array(1), rows: new Uint32Array(0) };
  let min = userId[0]!;
  let max = min;
  for (let r = 1; r < n; r++) {
    const u = userId[r]!;
    if (u < min) min = u;
    else if (u > max) max = u;
  }
  const range = max - min + 1;
  let groups: UserGroups;
  if (range <= n + 1_048_576) {
    // Dense enough (MovieLens ids are 1..#users): count directly over the id range.
    groups = countingGroups(userId, min, range);
  } else {
    // Sparse ids: map each to its rank among the distinct ids first.
    const sorted = Int32Array.from(userId).sort();
    let distinct = 0;
    for (let i = 0; i < n; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[distinct++] = sorted[i]!;
    const uniq = sorted.subarray(0, distinct);
    const dense = new Int32Array(n);
    for (let r = 0; r < n; r++) {
      const u = userId[r]!;
      let lo = 0;
      let hi = distinct - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (uniq[mid]! < u) lo = mid + 1;
        else hi = mid;
      }
      dense[r] = lo;
    }
    groups = countingGroups(dense, 0, distinct);
  }
  for (let g = 0; g < groups.ids.length; g++) groups.ids[g] = userId[groups.rows[groups.start[g]!]!]!;
  return groups;
}

// ---------------------------------------------------------------------------------------------------------------
// Per-user splitting

const TRAIN = 0;
const TEST = 1;
const FOLD_IN = 2;
const DROP = 3;

/**
 * Marks the latest `k` of a user's rows as test: order by timestamp, ties by row index (stable), so among equal
 * timestamps the higher row index counts as later. A native numeric sort of the timestamps finds the k-th latest
 * value; only ties at that value need the row order.
 */
function markLatest(seg: Uint32Array, k: number, timestamp: Float64Array, side: Uint8Array, scratch: Float64Array) {
  const count = seg.length;
  if (k <= 0) return;
  if (k >= count) {
    for (let i = 0; i < count; i++) side[seg[i]!] = TEST;
    return;
  }
  if (k === 1) {
    let best = 0;
    for (let i = 1; i < count; i++) if (timestamp[seg[i]!]! >= timestamp[seg[best]!]!) best = i;
    side[seg[best]!] = TEST;
    return;
  }
  const ts = scratch.subarray(0, count);
  for (let i = 0; i < count; i++) ts[i] = timestamp[seg[i]!]!;
  ts.sort();
  const threshold = ts[count - k]!;
  let marked = 0;
  for (let i = 0; i < count; i++) {
    if (timestamp[seg[i]!]! > threshold) {
      side[seg[i]!] = TEST;
      marked++;
    }
  }
  for (let i = count - 1; i >= 0 && marked < k; i--) {
    if (timestamp[seg[i]!] === threshold) {
      side[seg[i]!] = TEST;
      marked++;
    }
  }
}

function checkTimestamps(timestamp: Float64Array): void {
  for (let r = 0; r < timestamp.length; r++) {
    if (Number.isNaN(timestamp[r]!)) throw invalid('timestamp', `row ${r} has no valid timestamp`);
  }
}

/** Number of a user's `count` rows that go to test under a per-user spec. */
function testCount(spec: SplitSpec, count: number): number {
  switch (spec.kind) {
    case 'stratified':
    case 'temporal':
      return count - Math.min(count, roundHalfEven(spec.ratio * count));
    case 'temporal-n':
      return Math.max(0, Math.min(spec.n, count - 1));
    case 'loo':
      return count >= 2 ? 1 : 0;
    default:
      return 0;
  }
}

function collect(side: Uint8Array, strong: boolean): { train: Uint32Array; test: Uint32Array; foldIn?: Uint32Array } {
  const counts = [0, 0, 0, 0];
  for (let r = 0; r < side.length; r++) counts[side[r]!]!++;
  const out = [new Uint32Array(counts[TRAIN]!), new Uint32Array(counts[TEST]!), new Uint32Array(counts[FOLD_IN]!)];
  const at = [0, 0, 0];
  for (let r = 0; r < side.length; r++) {
    const s = side[r]!;
    if (s !== DROP) out[s]![at[s]!++] = r;
  }
  return strong
    ? { train: out[TRAIN]!, test: out[TEST]!, foldIn: out[FOLD_IN]! }
    : { train: out[TRAIN]!, test: out[TEST]! };
}

function kfoldSplits(n: number, folds: number, seed: number, label: string): Split[] {
  // Like sklearn's KFold(shuffle=True) and Surprise's KFold: permute, then cut into contiguous parts whose sizes
  // differ by at most one, the first n % folds parts one larger.
  const perm = new Uint32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  rngFor(seed, PURPOSE_KFOLD).shuffle(perm);
  const foldOf = folds <= 256 ? new Uint8Array(n) : new Uint32Array(n);
  const sizes: number[] = [];
  let pos = 0;
  for (let f = 0; f < folds; f++) {
    const size = Math.floor(n / folds) + (f < n % folds ? 1 : 0);
    sizes.push(size);
    for (let i = pos; i < pos + size; i++) foldOf[perm[i]!] = f;
    pos += size;
  }
  const splits: Split[] = [];
  for (let f = 0; f < folds; f++) {
    const test = new Uint32Array(sizes[f]!);
    const train = new Uint32Array(n - sizes[f]!);
    let t = 0;
    let k = 0;
    for (let r = 0; r < n; r++) {
      if (foldOf[r] === f) test[t++] = r;
      else train[k++] = r;
    }
    splits.push({ name: `${label} fold ${f + 1}/${folds} seed ${seed}`, train, test });
  }
  return splits;
}

/**
 * Splits rating rows by `spec`. kfold returns `folds` splits, every other kind one. With `strong`, a seeded
 * round(users × #users) users are held out: none of their rows is trained on; a random foldIn share of each one's
 * rows (at most all but one) is returned as `foldIn`, the rest as `test`.
 */
export function makeSplits(rows: RatingColumns, spec: SplitSpec, seed: number, strong?: StrongGeneralization): Split[] {
  validate(rows, spec, seed, strong);
  const n = rows.userId.length;
  const label = formatSplit(spec);
  if (spec.kind === 'kfold') return kfoldSplits(n, spec.folds, seed, label);
  if (spec.kind === 'temporal' || spec.kind === 'temporal-n' || spec.kind === 'loo' || spec.kind === 'time') {
    checkTimestamps(rows.timestamp);
  }

  const { ids, start, rows: byUser } = groupByUser(rows.userId);
  const users = ids.length;
  const side = new Uint8Array(n); // all TRAIN

  if (spec.kind === 'time') {
    const { timestamp } = rows;
    for (let g = 0; g < users; g++) {
      const seg = byUser.subarray(start[g]!, start[g + 1]!);
      let hasTrain = false;
      for (let i = 0; i < seg.length; i++) if (timestamp[seg[i]!]! < spec.cutoff) hasTrain = true;
      for (let i = 0; i < seg.length; i++) {
        if (timestamp[seg[i]!]! >= spec.cutoff) side[seg[i]!] = hasTrain ? TEST : DROP;
      }
    }
    const { train, test } = collect(side, false);
    return [{ name: `${label} seed ${seed}`, train, test }];
  }

  const heldOut = new Uint8Array(users);
  let name = `${label} seed ${seed}`;
  if (strong) {
    const count = roundHalfEven(strong.users * users);
    if (count < 1 || count >= users) {
      throw invalid(
        'users',
        `holding out ${strong.users} of ${users} users leaves ${count < 1 ? 'none held out' : 'no users to train on'}`,
      );
    }
    const order = new Uint32Array(users);
    for (let g = 0; g < users; g++) order[g] = g;
    rngFor(seed, PURPOSE_HOLD_OUT).shuffle(order);
    for (let i = 0; i < count; i++) heldOut[order[i]!] = 1;
    name = `${label} strong users ${strong.users} fold-in ${strong.foldIn} seed ${seed}`;
  }

  let longest = 0;
  for (let g = 0; g < users; g++) longest = Math.max(longest, start[g + 1]! - start[g]!);
  const scratch = new Float64Array(spec.kind === 'stratified' ? 0 : longest);

  for (let g = 0; g < users; g++) {
    const seg = byUser.subarray(start[g]!, start[g + 1]!);
    const count = seg.length;
    if (heldOut[g]) {
      // At least one row is left to test, so every held-out user can be scored.
      const history = Math.min(roundHalfEven(strong!.foldIn * count), count - 1);
      rngFor(seed, PURPOSE_FOLD_IN, ids[g]!).shuffle(seg);
      for (let i = 0; i < count; i++) side[seg[i]!] = i < history ? FOLD_IN : TEST;
      continue;
    }
    const toTest = testCount(spec, count);
    if (toTest === 0) continue;
    if (spec.kind === 'stratified') {
      // Shuffle the user's rows (pandas' sample(frac=1)); the first round(ratio·n) stay in train.
      rngFor(seed, PURPOSE_USER_SHUFFLE, ids[g]!).shuffle(seg);
      for (let i = count - toTest; i < count; i++) side[seg[i]!] = TEST;
    } else {
      markLatest(seg, toTest, rows.timestamp, side, scratch);
    }
  }
  const parts = collect(side, strong !== undefined);
  return [{ name, ...parts }];
}
