/**
 * Web page budgets: `npm run bench:web [-- --runs 10]` (after `npm run build`).
 *
 * 1. Size: the built JavaScript gzipped (level 9, as served pre-compressed), all of it and the part
 *    the first page (Discover, /) needs: the entry, its static imports and the Discover chunk.
 * 2. First load: a real server on a model version trained on ml-latest-small (the tests' shared trained
 *    fixture under ./tmp/test-fixtures, trained on first use; models warmed as `cinerec serve` does),
 *    Debian's Chromium headless through playwright-core, a fresh browser context (empty cache) per
 *    run; navigation start → load event from the Navigation Timing entry, and → the first title card
 *    on screen (what a person waits for).
 *
 * Budgets: first load ≤ 1 s on localhost, JavaScript ≤ 300 KB gzipped. Prints figures and whether
 * each budget holds; exits 1 when one does not.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { buildServer } from '../src/server/app.ts';
import { DEFAULT_WEB_ROOT } from '../src/server/web.ts';
import { loadServices } from '../src/serving/services.ts';
import { DuckDbStore } from '../src/store/duckdb/duckdb-store.ts';
import { forbidFitting } from '../src/util/fit-guard.ts';
import { realData } from '../test/helpers/real-data.ts';
import { trained } from '../test/helpers/trained.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${values.runs}`);

const JS_BUDGET = 300 * 1024;
const LOAD_BUDGET_MS = 1000;
const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;

// 1. Sizes.
const assets = path.join(DEFAULT_WEB_ROOT, 'assets');
let files: string[];
try {
  files = readdirSync(assets);
} catch {
  throw new Error(`no built page in ${DEFAULT_WEB_ROOT}: run \`npm run build\` first`);
}
const gz = (file: string) => gzipSync(readFileSync(path.join(assets, file)), { level: 9 }).length;
const js = files.filter((f) => f.endsWith('.js'));
const totalJs = js.reduce((s, f) => s + gz(f), 0);
const rawJs = js.reduce((s, f) => s + readFileSync(path.join(assets, f)).length, 0);
const css = files.filter((f) => f.endsWith('.css')).reduce((s, f) => s + gz(f), 0);
/** The entry and everything it imports statically (Vite lists them as modulepreload links). */
const html = readFileSync(path.join(DEFAULT_WEB_ROOT, 'index.html'), 'utf8');
const initial = [...html.matchAll(/(?:src|href)="\/assets\/([^"]+\.js)"/g)].map((m) => m[1]!);
const discover = js.filter((f) => f.startsWith('discover-'));
const firstPage = [...new Set([...initial, ...discover])].reduce((s, f) => s + gz(f), 0);

// 2. First load.
const fixture = await trained('ml-latest-small', await realData('ml-latest-small'));
const store = await DuckDbStore.open(fixture.config.store.path);
// As `cinerec serve`: only load what training saved, every model before the first request.
forbidFitting('the web bench');
const services = await loadServices(store, fixture.config);
await services.served.warm();
const server = await buildServer(services, { adminToken: null, logger: false });
await server.listen({ port: 0, host: '127.0.0.1' });
const base = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
});
const load: number[] = [];
const content: number[] = [];
const transferred: number[] = [];
try {
  for (let i = 0; i <= runs; i++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${base}/`, { waitUntil: 'load' });
    await page.locator('article.card').first().waitFor();
    // Evaluated as a string: this script is typed for Node, without the DOM library.
    const t = (await page.evaluate(`(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const card = performance.now();
      const js = performance.getEntriesByType('resource').filter((r) => r.name.endsWith('.js'));
      return { load: nav.loadEventEnd - nav.startTime, card, bytes: js.reduce((s, r) => s + r.transferSize, 0) + nav.transferSize };
    })()`)) as { load: number; card: number; bytes: number };
    // Run 0 warms the server's and the OS's caches; it is not counted.
    if (i > 0) {
      load.push(t.load);
      content.push(t.card);
      transferred.push(t.bytes);
    }
    await context.close();
  }
} finally {
  await browser.close();
  await server.close();
  await store.close();
  await fixture.cleanup();
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: number[]) => sorted(xs)[Math.floor((xs.length - 1) / 2)]!;
const max = (xs: number[]) => Math.max(...xs);
const ms = (x: number) => `${x.toFixed(0)} ms`;

console.log('web page budgets (npm run bench:web)');
console.log(
  `  JavaScript, all chunks: ${kb(totalJs)} gzipped (${kb(rawJs)} raw, ${js.length} files); CSS ${kb(css)} gzipped`,
);
console.log(`  JavaScript for the first page (entry, its imports, Discover): ${kb(firstPage)} gzipped`);
console.log(`  first load over ${runs} cold runs (fresh context, empty cache), localhost:`);
console.log(`    navigation → load event: median ${ms(median(load))}, max ${ms(max(load))}`);
console.log(`    navigation → first title card: median ${ms(median(content))}, max ${ms(max(content))}`);
console.log(`    bytes transferred (document and JS, pre-compressed): median ${kb(median(transferred))}`);
const jsOk = totalJs <= JS_BUDGET;
const loadOk = max(load) <= LOAD_BUDGET_MS;
console.log(`  budget JS ≤ ${kb(JS_BUDGET)} gzipped: ${jsOk ? 'met' : 'MISSED'}`);
console.log(`  budget first load ≤ ${LOAD_BUDGET_MS} ms (worst run): ${loadOk ? 'met' : 'MISSED'}`);
if (!jsOk || !loadOk) process.exitCode = 1;
