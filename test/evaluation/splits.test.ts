import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatSplit,
  makeSplits,
  parseSplit,
  roundHalfEven,
  type Split,
  type SplitSpec,
} from '../../src/evaluation/splits.ts';
import { Rng } from '../../src/math/random.ts';
import type { RatingColumns } from '../../src/store/types.ts';
import { ValidationError } from '../../src/util/errors.ts';

interface Row {
  user: number;
  ts?: number;
}

function columns(rows: Row[]): RatingColumns {
  return {
    userId: Int32Array.from(rows, (r) => r.user),
    movieId: Int32Array.from(rows, (_, i) => 100 + i),
    rating: Float32Array.from(rows, () => 4),
    timestamp: Float64Array.from(rows, (r, i) => r.ts ?? 1_000 + i),
  };
}

/** Users with the given rating counts, rows interleaved across users (like an unsorted file). */
function usersWithCounts(counts: number[], ids = counts.map((_, i) => i + 1)): RatingColumns {
  const rows: Row[] = [];
  const left = [...counts];
  for (let round = 0; left.some((c) => c > 0); round++) {
    for (let u = 0; u < counts.length; u++) {
      if (left[u]! > 0) {
        rows.push({ user: ids[u]!, ts: 10_000 + round * 10 + u });
        left[u]!--;
      }
    }
  }
  return columns(rows);
}

function randomRows(n: number, users: number, seed: number): RatingColumns {
  const rng = new Rng(seed);
  const rows: Row[] = [];
  for (let i = 0; i < n; i++) rows.push({ user: 1 + rng.int(users), ts: 1e9 + rng.int(1000) });
  return columns(rows);
}

function perUser(data: RatingColumns, part: Uint32Array): Map<number, number> {
  const m = new Map<number, number>();
  for (const r of part) m.set(data.userId[r]!, (m.get(data.userId[r]!) ?? 0) + 1);
  return m;
}

function ratingsPerUser(data: RatingColumns): Map<number, number[]> {
  const m = new Map<number, number[]>();
  data.userId.forEach((u, r) => {
    const list = m.get(u) ?? [];
    list.push(r);
    m.set(u, list);
  });
  return m;
}

function assertSortedUnique(part: Uint32Array, label: string): void {
  for (let i = 1; i < part.length; i++) assert.ok(part[i - 1]! < part[i]!, `${label} sorted ascending at ${i}`);
}

/** train, test (and foldIn) are sorted, pairwise disjoint, and cover `expected` rows (all rows by default). */
function assertPartition(split: Split, n: number, expectedCovered = n): void {
  const seen = new Uint8Array(n);
  const parts: [string, Uint32Array | undefined][] = [
    ['train', split.train],
    ['test', split.test],
    ['foldIn', split.foldIn],
  ];
  let covered = 0;
  for (const [label, part] of parts) {
    if (!part) continue;
    assertSortedUnique(part, label);
    for (const r of part) {
      assert.ok(r < n, `${label} row ${r} in range`);
      assert.equal(seen[r], 0, `row ${r} appears once (${label})`);
      seen[r] = 1;
      covered++;
    }
  }
  assert.equal(covered, expectedCovered, 'rows covered');
}

function validationField(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ValidationError, `expected a ValidationError, got ${String(err)}`);
    return err.field;
  }
  assert.fail('expected a ValidationError');
}

describe('roundHalfEven', () => {
  it('rounds halves to even like Python', () => {
    assert.equal(roundHalfEven(7.5), 8);
    assert.equal(roundHalfEven(6.75), 7);
    assert.equal(roundHalfEven(1.5), 2);
    assert.equal(roundHalfEven(4.5), 4);
    assert.equal(roundHalfEven(2.5), 2);
    assert.equal(roundHalfEven(0.5), 0);
    assert.equal(roundHalfEven(0.75), 1);
    assert.equal(roundHalfEven(5.4999), 5);
    assert.equal(roundHalfEven(0.8 * 5), 4, '0.8 · 5 is 4 in binary floating point too');
  });
});

describe('stratified split', () => {
  const counts = [10, 9, 2, 6, 1, 4];
  const data = usersWithCounts(counts);
  const [split] = makeSplits(data, { kind: 'stratified', ratio: 0.75 }, 1);

  it('gives each user round(0.75 · n) train ratings, half to even', () => {
    // 10 → round(7.5) = 8; 9 → round(6.75) = 7; 2 → round(1.5) = 2 (all train); 6 → round(4.5) = 4;
    // 1 → round(0.75) = 1 (all train); 4 → round(3) = 3.
    const train = perUser(data, split!.train);
    const test = perUser(data, split!.test);
    assert.deepEqual(
      counts.map((_, u) => train.get(u + 1) ?? 0),
      [8, 7, 2, 4, 1, 3],
    );
    assert.deepEqual(
      counts.map((_, u) => test.get(u + 1) ?? 0),
      [2, 2, 0, 2, 0, 1],
    );
    assertPartition(split!, data.userId.length);
    assert.equal(split!.foldIn, undefined);
    assert.equal(split!.name, 'stratified:0.75 seed 1');
  });

  it('sends everything to test when round(ratio · n) is 0, as Microsoft Recommenders does', () => {
    // 1 rating at 0.2: round(0.2) = 0 train; 5 ratings: round(1) = 1 train.
    const d = usersWithCounts([1, 5]);
    const [s] = makeSplits(d, { kind: 'stratified', ratio: 0.2 }, 3);
    assert.equal(perUser(d, s!.train).get(1), undefined);
    assert.equal(perUser(d, s!.test).get(1), 1);
    assert.equal(perUser(d, s!.train).get(2), 1);
  });

  it('is deterministic per seed and differs across seeds', () => {
    const big = randomRows(5_000, 50, 9);
    const a = makeSplits(big, { kind: 'stratified', ratio: 0.75 }, 1)[0]!;
    const b = makeSplits(big, { kind: 'stratified', ratio: 0.75 }, 1)[0]!;
    const c = makeSplits(big, { kind: 'stratified', ratio: 0.75 }, 2)[0]!;
    assert.deepEqual(a, b);
    assert.notDeepEqual(Array.from(a.test), Array.from(c.test));
    assert.equal(a.test.length, c.test.length, 'shares do not depend on the seed');
    assertPartition(a, 5_000);
    const n = ratingsPerUser(big);
    const train = perUser(big, a.train);
    for (const [u, rows] of n) assert.equal(train.get(u) ?? 0, roundHalfEven(0.75 * rows.length), `user ${u}`);
  });

  it("draws a user's split independently of the other users", () => {
    const base = usersWithCounts([20, 20]);
    const more = usersWithCounts([20, 20, 20]);
    const testOf = (d: RatingColumns, user: number) => {
      const [s] = makeSplits(d, { kind: 'stratified', ratio: 0.5 }, 4);
      // Position of each test row among the user's own rows.
      const own = ratingsPerUser(d).get(user)!;
      return Array.from(s!.test)
        .filter((r) => d.userId[r] === user)
        .map((r) => own.indexOf(r));
    };
    assert.deepEqual(testOf(base, 2), testOf(more, 2));
  });

  it('groups sparse and negative user ids', () => {
    const d = usersWithCounts([4, 8, 2], [2_000_000_000, -7, 5]);
    const [s] = makeSplits(d, { kind: 'stratified', ratio: 0.75 }, 1);
    const train = perUser(d, s!.train);
    assert.equal(train.get(2_000_000_000), 3);
    assert.equal(train.get(-7), 6);
    assert.equal(train.get(5), 2);
    assertPartition(s!, d.userId.length);
  });
});

describe('temporal splits', () => {
  it('puts the latest (1 − ratio) share in test, ties broken by row index', () => {
    // One user, rows 0..4 with timestamps 5 1 3 3 2; ratio 0.6 → round(3) = 3 train, 2 test.
    // Stable order by time: r1(1) r4(2) r2(3) r3(3) r0(5) → the latest two are r3 and r0.
    const d = columns([5, 1, 3, 3, 2].map((ts) => ({ user: 1, ts })));
    const [s] = makeSplits(d, { kind: 'temporal', ratio: 0.6 }, 1);
    assert.deepEqual(Array.from(s!.test), [0, 3]);
    assert.deepEqual(Array.from(s!.train), [1, 2, 4]);
  });

  it('every test rating is at least as late as every train rating of the same user', () => {
    const d = randomRows(3_000, 40, 5);
    const [s] = makeSplits(d, { kind: 'temporal', ratio: 0.8 }, 1);
    assertPartition(s!, 3_000);
    const lastTrainTs = new Map<number, number>();
    for (const r of s!.train) {
      const u = d.userId[r]!;
      lastTrainTs.set(u, Math.max(lastTrainTs.get(u) ?? Number.NEGATIVE_INFINITY, d.timestamp[r]!));
    }
    for (const r of s!.test) {
      const u = d.userId[r]!;
      const t = lastTrainTs.get(u);
      if (t !== undefined) assert.ok(d.timestamp[r]! >= t, `row ${r} is no earlier than user ${u}'s training`);
    }
    const train = perUser(d, s!.train);
    for (const [u, rows] of ratingsPerUser(d)) assert.equal(train.get(u) ?? 0, roundHalfEven(0.8 * rows.length));
  });

  it('temporal-n holds out the latest n and keeps at least one rating in train', () => {
    // user 1: 5 ratings → 3 test; user 2: 2 ratings → 1 test; user 3: 1 rating → none.
    const d = usersWithCounts([5, 2, 1]);
    const [s] = makeSplits(d, { kind: 'temporal-n', n: 3 }, 1);
    const test = perUser(d, s!.test);
    assert.deepEqual([test.get(1), test.get(2), test.get(3)], [3, 1, undefined]);
    // usersWithCounts gives later rounds later timestamps: user 1's last three rows are its latest.
    const own = ratingsPerUser(d).get(1)!;
    assert.deepEqual(
      Array.from(s!.test).filter((r) => d.userId[r] === 1),
      own.slice(2),
    );
    assertPartition(s!, d.userId.length);
    assert.equal(s!.name, 'temporal:n=3 seed 1');
  });

  it('loo holds out the latest rating of users with at least two', () => {
    // user 1: timestamps 7 9 9 (rows 0, 2, 3) → row 3 (tie at 9, later row); user 2: one rating stays in train.
    const d = columns([
      { user: 1, ts: 7 },
      { user: 2, ts: 50 },
      { user: 1, ts: 9 },
      { user: 1, ts: 9 },
    ]);
    const [s] = makeSplits(d, { kind: 'loo' }, 1);
    assert.deepEqual(Array.from(s!.test), [3]);
    assert.deepEqual(Array.from(s!.train), [0, 1, 2]);
  });

  it('does not depend on the seed', () => {
    const d = randomRows(1_000, 10, 2);
    assert.deepEqual(
      makeSplits(d, { kind: 'temporal', ratio: 0.7 }, 1)[0]!.test,
      makeSplits(d, { kind: 'temporal', ratio: 0.7 }, 2)[0]!.test,
    );
  });
});

describe('kfold split', () => {
  const d = randomRows(23, 4, 1);
  const splits = makeSplits(d, { kind: 'kfold', folds: 5 }, 1);

  it('partitions all rows into near-equal folds', () => {
    // 23 = 5 + 5 + 5 + 4 + 4 (the first 23 mod 5 = 3 folds one larger, like sklearn's KFold)
    assert.deepEqual(
      splits.map((s) => s.test.length),
      [5, 5, 5, 4, 4],
    );
    const seen = new Uint8Array(23);
    for (const s of splits) {
      assertPartition(s, 23);
      for (const r of s.test) seen[r]!++;
    }
    assert.deepEqual(Array.from(seen), new Array(23).fill(1), 'every row is tested exactly once');
    assert.equal(splits[1]!.name, 'kfold:5 fold 2/5 seed 1');
  });

  it('is deterministic per seed and differs across seeds', () => {
    assert.deepEqual(makeSplits(d, { kind: 'kfold', folds: 5 }, 1), splits);
    assert.notDeepEqual(
      makeSplits(d, { kind: 'kfold', folds: 5 }, 2).map((s) => Array.from(s.test)),
      splits.map((s) => Array.from(s.test)),
    );
  });

  it('keeps test rows of users unseen in training', () => {
    // Two single-rating users, 2 folds: each fold's test user has no training row, and is kept.
    const two = columns([{ user: 1 }, { user: 2 }]);
    const s = makeSplits(two, { kind: 'kfold', folds: 2 }, 1);
    assert.deepEqual(
      s.map((x) => [x.train.length, x.test.length]),
      [
        [1, 1],
        [1, 1],
      ],
    );
  });

  it('supports leave-one-out over ratings (folds = rows)', () => {
    const s = makeSplits(d, { kind: 'kfold', folds: 23 }, 1);
    assert.equal(s.length, 23);
    for (const x of s) assert.equal(x.test.length, 1);
  });
});

describe('time split', () => {
  it('trains before the cutoff and tests at/after it, for users with training rows', () => {
    const d = columns([
      { user: 1, ts: 100 }, // 0 train
      { user: 1, ts: 200 }, // 1 test (at the cutoff)
      { user: 2, ts: 300 }, // 2 dropped: user 2 has nothing before the cutoff
      { user: 1, ts: 250 }, // 3 test
      { user: 3, ts: 199 }, // 4 train
    ]);
    const [s] = makeSplits(d, { kind: 'time', cutoff: 200 }, 1);
    assert.deepEqual(Array.from(s!.train), [0, 4]);
    assert.deepEqual(Array.from(s!.test), [1, 3]);
    assertPartition(s!, 5, 4);
    assert.equal(s!.name, 'time:200 seed 1');
  });
});

describe('strong generalisation', () => {
  const counts = Array.from({ length: 10 }, (_, i) => 2 + i * 3); // 2, 5, 8, …, 29
  const d = usersWithCounts(counts);
  const strong = { users: 0.2, foldIn: 0.8 };
  const [s] = makeSplits(d, { kind: 'stratified', ratio: 0.75 }, 1, strong);

  it('holds out round(0.2 · 10) = 2 users, none of whose rows is trained on', () => {
    assertPartition(s!, d.userId.length);
    const trainUsers = perUser(d, s!.train);
    const foldIn = perUser(d, s!.foldIn!);
    const test = perUser(d, s!.test);
    const heldOut = [...foldIn.keys()];
    assert.equal(heldOut.length, 2);
    for (const u of heldOut) {
      assert.equal(trainUsers.has(u), false, `held-out user ${u} is not in train`);
      const n = counts[u - 1]!;
      // fold-in = min(round(0.8 · n), n − 1), the rest to test
      const expected = Math.min(roundHalfEven(0.8 * n), n - 1);
      assert.equal(foldIn.get(u), expected, `user ${u} fold-in`);
      assert.equal(test.get(u), n - expected, `user ${u} test`);
    }
    // Everyone else is split as usual.
    for (let u = 1; u <= 10; u++) {
      if (heldOut.includes(u)) continue;
      assert.equal(trainUsers.get(u), roundHalfEven(0.75 * counts[u - 1]!), `user ${u} train`);
    }
    assert.equal(s!.name, 'stratified:0.75 strong users 0.2 fold-in 0.8 seed 1');
  });

  it('is deterministic per seed and picks other users for other seeds', () => {
    assert.deepEqual(makeSplits(d, { kind: 'stratified', ratio: 0.75 }, 1, strong), [s]);
    const heldOut = (seed: number) =>
      [...perUser(d, makeSplits(d, { kind: 'stratified', ratio: 0.75 }, seed, strong)[0]!.foldIn!).keys()].sort();
    const picks = new Set([1, 2, 3, 4, 5, 6].map((seed) => heldOut(seed).join()));
    assert.ok(picks.size > 1, 'different seeds hold out different users');
  });

  it('leaves at least one test rating for a tiny held-out user', () => {
    // 2 ratings at fold-in 0.8: round(1.6) = 2, capped to 1.
    const small = usersWithCounts([2, 2]);
    const [x] = makeSplits(small, { kind: 'loo' }, 1, { users: 0.5, foldIn: 0.8 });
    assert.equal(x!.foldIn!.length, 1);
    assert.equal(x!.test.length, 2, 'one held-out test row + the other user’s latest');
    assertPartition(x!, 4);
  });

  it('combines with temporal splits', () => {
    const [x] = makeSplits(d, { kind: 'temporal', ratio: 0.8 }, 3, strong);
    assertPartition(x!, d.userId.length);
  });

  it('rejects kfold and time splits and shares that hold out nobody or everybody', () => {
    assert.equal(
      validationField(() => makeSplits(d, { kind: 'kfold', folds: 5 }, 1, strong)),
      'split',
    );
    assert.equal(
      validationField(() => makeSplits(d, { kind: 'time', cutoff: 5 }, 1, strong)),
      'split',
    );
    assert.equal(
      validationField(() => makeSplits(d, { kind: 'loo' }, 1, { users: 0.01, foldIn: 0.8 })),
      'users',
    );
    assert.equal(
      validationField(() => makeSplits(d, { kind: 'loo' }, 1, { users: 0.99, foldIn: 0.8 })),
      'users',
    );
    assert.equal(
      validationField(() => makeSplits(d, { kind: 'loo' }, 1, { users: 0.2, foldIn: 1 })),
      'foldIn',
    );
  });
});

describe('makeSplits validation', () => {
  const d = usersWithCounts([3, 3]);
  it('names the parameter at fault', () => {
    const cases: [SplitSpec, string][] = [
      [{ kind: 'stratified', ratio: 1 }, 'ratio'],
      [{ kind: 'temporal', ratio: 0 }, 'ratio'],
      [{ kind: 'stratified', ratio: Number.NaN }, 'ratio'],
      [{ kind: 'temporal-n', n: 0 }, 'n'],
      [{ kind: 'temporal-n', n: 1.5 }, 'n'],
      [{ kind: 'kfold', folds: 1 }, 'folds'],
      [{ kind: 'kfold', folds: 7 }, 'folds'],
      [{ kind: 'time', cutoff: Number.POSITIVE_INFINITY }, 'cutoff'],
    ];
    for (const [spec, field] of cases) {
      assert.equal(
        validationField(() => makeSplits(d, spec, 1)),
        field,
        JSON.stringify(spec),
      );
    }
    assert.equal(
      validationField(() => makeSplits(d, { kind: 'loo' }, -1)),
      'seed',
    );
    assert.equal(
      validationField(() => makeSplits(d, { kind: 'loo' }, 0.5)),
      'seed',
    );
    const misaligned = { ...d, rating: new Float32Array(2) };
    assert.equal(
      validationField(() => makeSplits(misaligned, { kind: 'loo' }, 1)),
      'rows',
    );
    const noTime = { ...d, timestamp: Float64Array.from(d.timestamp, () => Number.NaN) };
    assert.equal(
      validationField(() => makeSplits(noTime, { kind: 'loo' }, 1)),
      'timestamp',
    );
  });

  it('handles no ratings', () => {
    const [s] = makeSplits(columns([]), { kind: 'stratified', ratio: 0.5 }, 1);
    assert.equal(s!.train.length + s!.test.length, 0);
  });
});

describe('parseSplit / formatSplit', () => {
  it('parses every accepted form', () => {
    const cases: [string, SplitSpec][] = [
      ['stratified:0.75', { kind: 'stratified', ratio: 0.75 }],
      ['temporal:0.8', { kind: 'temporal', ratio: 0.8 }],
      ['temporal:n=5', { kind: 'temporal-n', n: 5 }],
      ['loo', { kind: 'loo' }],
      ['kfold:5', { kind: 'kfold', folds: 5 }],
      ['time:2015-01-01', { kind: 'time', cutoff: 1_420_070_400 }],
      ['time:1420070400', { kind: 'time', cutoff: 1_420_070_400 }],
      ['time:2015-01-01T12:00:00Z', { kind: 'time', cutoff: 1_420_113_600 }],
      ['time:2015-01-01T12:00:00+02:00', { kind: 'time', cutoff: 1_420_106_400 }],
      [' Stratified: .5 ', { kind: 'stratified', ratio: 0.5 }],
    ];
    for (const [text, spec] of cases) {
      assert.deepEqual(parseSplit(text), spec, text);
      assert.deepEqual(parseSplit(formatSplit(spec)), spec, `round trip of ${text}`);
    }
    assert.equal(formatSplit({ kind: 'time', cutoff: 1_420_070_400 }), 'time:2015-01-01');
    assert.equal(formatSplit({ kind: 'time', cutoff: 1_420_113_600 }), 'time:1420113600');
    assert.equal(formatSplit({ kind: 'temporal-n', n: 5 }), 'temporal:n=5');
  });

  it('rejects anything else with the accepted forms', () => {
    const bad = [
      '',
      'random',
      'stratified',
      'stratified:',
      'stratified:1',
      'stratified:0',
      'stratified:-0.5',
      'stratified:abc',
      'temporal:n=0',
      'temporal:n=2.5',
      'kfold:1',
      'kfold:2.5',
      'loo:3',
      'time:yesterday',
      'time:2015-02-30',
      'time:2015-01-01T00:00:00',
    ];
    for (const text of bad) {
      try {
        parseSplit(text);
        assert.fail(`"${text}" should be rejected`);
      } catch (err) {
        assert.ok(err instanceof ValidationError, `"${text}" → ValidationError`);
        assert.equal(err.field, 'split');
        assert.ok(err.message.includes('temporal:n=<count>'), `"${text}" lists the accepted forms`);
      }
    }
  });
});
