/**
 * The short API fuzz run of `npm test` (issue 15): a few hundred generated requests over every route of
 * /openapi.json against a real server. `npm run fuzz:api` runs the long one (bench/fuzz-api.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fuzzApi } from './api-fuzz.ts';

test('generated valid and invalid requests to every route: no 5xx, problems for errors, invalid ones change nothing', async () => {
  const report = await fuzzApi({ requests: Number(process.env.CINEREC_FUZZ_REQUESTS ?? 400), seed: 15 });
  const summary = JSON.stringify({ ...report, serverLog: report.serverLog.slice(0, 5) }, null, 1);
  assert.ok(report.routes >= 30, `every route is walked: ${report.routes}`);
  assert.ok(report.valid > 50 && report.invalid > 50, `both kinds sent: ${summary}`);
  assert.equal(report.serverErrors, 0, summary);
  assert.equal(report.notProblem, 0, summary);
  assert.equal(report.acceptedInvalid, 0, summary);
  assert.equal(report.changedByInvalid, 0, summary);
  assert.deepEqual(report.failures, [], summary);
});
