/**
 * The short importer fuzz run of `npm test` (issue 15): mutated real and fixture release files imported through the
 * real importer into a store holding a valid import, for at most ~15 s. `npm run fuzz:import` runs the long one
 * (bench/fuzz-import.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fuzzImport } from './import-fuzz.ts';

test('mutated release files: a success or a clear error, never a crash, the store unchanged on error', async () => {
  const report = await fuzzImport({
    cases: Number(process.env.CINEREC_FUZZ_IMPORTS ?? 400),
    seed: 15,
    timeLimitMs: Number(process.env.CINEREC_FUZZ_IMPORT_MS ?? 12_000),
    cliCases: 1,
  });
  const summary = JSON.stringify(report, null, 1);
  assert.ok(report.cases >= 10, `enough cases in the time: ${summary}`);
  assert.ok(report.successes > 0 && report.clearErrors > 0, `both outcomes seen: ${summary}`);
  assert.equal(report.crashes, 0, summary);
  assert.equal(report.storeChangedOnError, 0, summary);
  assert.equal(report.wrongReports, 0, summary);
  assert.equal(report.leakedStaging, 0, summary);
  assert.equal(report.cli.failures, 0, summary);
  assert.deepEqual(report.failures, [], summary);
});
