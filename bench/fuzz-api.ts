/**
 * The long API fuzz run (issue 15): `npm run fuzz:api [-- <requests> <seed>]`, default 20 000 requests. Prints the
 * report; exits 1 on any 5xx, non-problem error, accepted invalid request or change made by an invalid one.
 */
import { fuzzApi } from '../test/fuzz/api-fuzz.ts';

const requests = Number(process.argv[2] ?? 20_000);
const seed = Number(process.argv[3] ?? Date.now() % 1_000_000);
if (!Number.isSafeInteger(requests) || requests < 1 || !Number.isSafeInteger(seed))
  throw new Error('usage: npm run fuzz:api -- [requests] [seed]');
const report = await fuzzApi({ requests, seed, log: (line) => process.stderr.write(`${line}\n`) });
console.log(JSON.stringify({ seed, ...report, serverLog: report.serverLog.slice(0, 20) }, null, 2));
const bad = report.serverErrors + report.notProblem + report.acceptedInvalid + report.changedByInvalid;
process.exit(bad > 0 || report.failures.length > 0 ? 1 : 0);
