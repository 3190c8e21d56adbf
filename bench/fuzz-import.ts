/**
 * The long importer fuzz run (issue 15): `npm run fuzz:import [-- <cases> <seed> <cli cases>]`, default 2000 cases
 * and 20 of them also through the real CLI. Prints a summary and the report; exits 1 on any crash, a store changed
 * by a failed import, a wrong report, a leaked staging table or a wrong CLI exit.
 */
import { fuzzImport } from '../test/fuzz/import-fuzz.ts';

const cases = Number(process.argv[2] ?? 2000);
const seed = Number(process.argv[3] ?? Date.now() % 1_000_000);
const cliCases = Number(process.argv[4] ?? 20);
if (!Number.isSafeInteger(cases) || cases < 1 || !Number.isSafeInteger(seed) || !Number.isSafeInteger(cliCases))
  throw new Error('usage: npm run fuzz:import -- [cases] [seed] [cli cases]');
const report = await fuzzImport({ cases, seed, cliCases, log: (line) => process.stderr.write(`${line}\n`) });
console.log(JSON.stringify({ seed, ...report }, null, 2));
const rows: [string, number | string][] = [
  ['seed', seed],
  ['cases', report.cases],
  ['successes', report.successes],
  ['clear errors', report.clearErrors],
  ['crashes', report.crashes],
  ['store changed on error', report.storeChangedOnError],
  ['wrong reports', report.wrongReports],
  ['leaked staging tables', report.leakedStaging],
  ['CLI cases (failures)', `${report.cli.cases} (${report.cli.failures})`],
  ['longest error message', report.longestMessage],
  ['seconds', report.seconds],
];
console.log(`\n${rows.map(([k, v]) => `${k.padEnd(24)} ${v}`).join('\n')}`);
const bad =
  report.crashes + report.storeChangedOnError + report.wrongReports + report.leakedStaging + report.cli.failures;
process.exit(bad > 0 ? 1 : 0);
