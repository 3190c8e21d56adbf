/**
 * The web page end to end: Debian's Chromium (through playwright-core) against the real server on
 * ml-latest-small serving a trained model version, one test per flow of the page, asserting on what the page shows and comparing it
 * with what the API says. Each test writes a screenshot to reports/screenshots.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type {
  EvaluationList,
  ModelsView,
  MovieClusters,
  MovieDetails,
  MovieSegments,
  RecommendationList,
  RunDetail,
  RunSummary,
  SimilarList,
  UserSegments,
  UserSegmentView,
  UserView,
} from '../../web/src/types.ts';
import {
  apiJson,
  launchBrowser,
  screenshot,
  startWebServer,
  TOKEN,
  TRAININGS,
  unnamedControls,
  type WebServer,
  watchPage,
} from './harness.ts';
import { controlOffsets, layoutProblems, textLines } from './layout.ts';

// Every assert.ok carries a message: without one, Node re-parses the source to build it (slow under tsx).

/** The desktop width every test runs at; phones are checked at PHONE. */
const DESKTOP = 1280;
const PHONE = 390;

let web: WebServer;
let browser: Browser;
let context: BrowserContext;

/** Chromium logs every non-2xx fetch; the page shows those itself, so only other errors count. */
const realErrors = (errors: string[]) => errors.filter((e) => !/Failed to load resource/.test(e));

async function open(path: string): Promise<{ page: Page; seen: ReturnType<typeof watchPage> }> {
  const page = await context.newPage();
  const seen = watchPage(page, web.base);
  await page.goto(`${web.base}${path}`);
  return { page, seen };
}

async function finish(page: Page, seen: ReturnType<typeof watchPage>, name: string): Promise<void> {
  await screenshot(page, name);
  assert.deepEqual(await layoutProblems(page, DESKTOP), [], `${name}: nothing cut off, hidden or unreadable`);
  assert.deepEqual(await unnamedControls(page), [], `${name}: every control has an accessible name`);
  assert.deepEqual(seen.external, [], `${name}: no request leaves the server (works offline)`);
  // The server sends a content security policy (helmet): Chromium logs anything it refuses ("Refused to ...").
  assert.deepEqual(
    seen.errors.filter((e) => /Content Security Policy|Refused to/i.test(e)),
    [],
    `${name}: no content security policy violations`,
  );
  assert.deepEqual(realErrors(seen.errors), [], `${name}: no script errors`);
  await page.close();
}

before(async () => {
  [web, browser] = await Promise.all([startWebServer(), launchBrowser()]);
  context = await browser.newContext({ viewport: { width: DESKTOP, height: 900 } });
  context.setDefaultTimeout(60_000);
});

after(async () => {
  await browser?.close();
  await web?.close();
});

describe('web page', () => {
  it('discover: genres give the cold-start list as title cards, on desktop and phone, by keyboard', async () => {
    const { page, seen } = await open('/');
    await page.getByRole('heading', { name: 'Discover', level: 1 }).waitFor();
    assert.equal(await page.title(), 'Discover · cinerec', 'title');
    await page.getByRole('checkbox', { name: /^Comedy/ }).check();
    // Keyboard: Tab to the next genre and tick it with the space bar.
    await page.getByRole('checkbox', { name: /^Romance/ }).focus();
    await page.keyboard.press('Space');
    await page.waitForURL(/genres=Comedy%2CRomance|genres=Comedy,Romance/);
    const expected = await apiJson<RecommendationList>(web.base, '/v1/recommendations', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ genres: ['Comedy', 'Romance'], match: 'any', k: 24 }),
    });
    const cards = page.getByRole('region', { name: 'Recommended movies' }).getByRole('article');
    await page.getByTestId('scenario').getByText('cold-start').waitFor();
    await page
      .locator('article.card')
      .first()
      .getByRole('heading', { name: expected.items[0]!.displayTitle, exact: true })
      .waitFor();
    assert.equal(await cards.count(), expected.items.length, 'one card per movie');
    const first = cards.first();
    const m = expected.items[0]!;
    assert.equal(await first.getByRole('heading').textContent(), m.displayTitle, 'title');
    assert.match((await first.textContent()) ?? '', new RegExp(String(m.year)), 'year on the card');
    assert.deepEqual(
      await first.getByRole('list', { name: 'genres' }).getByRole('listitem').allTextContents(),
      m.genres,
    );
    assert.match((await first.textContent()) ?? '', /weighted rating \d\.\d\d/, 'score on the card');
    // The "match" radios sit on their labels' line, centred on the text (not above its baseline).
    const radios = await controlOffsets(page, 'fieldset.inline input[type=radio]');
    assert.equal(radios.length, 2, 'any genre / all genres');
    for (const { label, offset } of radios)
      assert.ok(Math.abs(offset) <= 2, `the "${label}" radio is ${offset}px off the middle of its label's text`);
    for (const item of expected.items)
      assert.ok(
        item.genres.includes('Comedy') || item.genres.includes('Romance'),
        `${item.displayTitle} has a chosen genre`,
      );
    await finish(page, seen, 'discover');

    // A phone: nothing wider than the screen, the menu still reachable.
    const phone = await browser.newContext({ viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true });
    const small = await phone.newPage();
    await small.goto(`${web.base}/?genres=Drama`);
    await small.getByRole('region', { name: 'Recommended movies' }).getByRole('article').first().waitFor();
    // With isMobile the layout viewport grows to fit wide content, so compare with the device width.
    const overflow = Number(await small.evaluate('document.documentElement.scrollWidth - 375'));
    assert.ok(overflow <= 0, `no horizontal scrolling on a phone (${overflow}px too wide)`);
    assert.ok(await small.getByRole('link', { name: 'Clusters' }).isVisible(), 'menu on a phone');
    await screenshot(small, 'discover-phone', false);
    await phone.close();
  });

  it('search as you type, then the movie page: details, tags, links, cluster, segment, similar side by side', async () => {
    const { page, seen } = await open('/search');
    await page.getByLabel('Movie title').pressSequentially('matrix', { delay: 30 });
    const results = page.getByRole('list', { name: 'Search results' });
    await results.getByRole('link', { name: 'The Matrix', exact: true }).waitFor();
    assert.ok(page.url().endsWith('/search?q=matrix'), `the query is in the address: ${page.url()}`);
    await screenshot(page, 'search');
    await results.getByRole('link', { name: 'The Matrix', exact: true }).click();
    await page.waitForURL(/\/movies\/2571$/);

    const movie = await apiJson<MovieDetails>(web.base, '/v1/movies/2571');
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'The Matrix', 'heading');
    assert.equal(await page.getByRole('link', { name: 'IMDb' }).getAttribute('href'), movie.imdbUrl, 'IMDb link');
    assert.equal(await page.getByRole('link', { name: 'TMDb' }).getAttribute('href'), movie.tmdbUrl, 'TMDb link');
    assert.equal(await page.getByTestId('cluster').textContent(), `cluster ${movie.cluster}`, 'cluster');
    await page
      .getByTestId('segment')
      .getByText(/segment \d+/)
      .waitFor();
    const tags = await page
      .getByRole('heading', { name: 'Top tags' })
      .locator('..')
      .getByRole('listitem')
      .allTextContents();
    assert.equal(tags.length, movie.topTags.length, 'every top tag');
    assert.match(tags[0]!, new RegExp(movie.topTags[0]!.tag), 'the top tag first');

    for (const method of ['content', 'hybrid'] as const) {
      const expected = await apiJson<SimilarList>(web.base, `/v1/movies/2571/similar?method=${method}&k=10`);
      const list = page.getByRole('list', { name: `Similar by ${method}` });
      await list.waitFor();
      const items = list.getByRole('listitem');
      assert.equal(await items.count(), expected.items.length, `${method}: every neighbour`);
      assert.equal(
        await items.first().getByRole('link').textContent(),
        expected.items[0]!.displayTitle,
        `${method}: nearest first`,
      );
      assert.match((await items.first().textContent()) ?? '', /similarity \d/, `${method}: score`);
      assert.ok(((await items.first().locator('.reason').textContent()) ?? '').length > 5, `${method}: a reason`);
    }
    const [content, hybrid] = await Promise.all([
      page.getByRole('region', { name: 'Similar by content' }).boundingBox(),
      page.getByRole('region', { name: /Similar by hybrid/ }).boundingBox(),
    ]);
    assert.ok(
      content && hybrid && content.x > hybrid.x && Math.abs(hybrid.y - content.y) < 2,
      'side by side, hybrid (the better-evaluated list) first',
    );
    await finish(page, seen, 'movie');
  });

  it('start by rating: watched and rated movies update the list live with the scenario; saved as a new user', async () => {
    const { page, seen } = await open('/start');
    const scenario = page.getByTestId('scenario');
    await scenario.getByText('cold-start').waitFor();

    const search = page.getByLabel('Find a movie to rate');
    await search.fill('toy story');
    const toy = page
      .getByRole('list', { name: 'Movies to rate' })
      .getByRole('listitem')
      .filter({ hasText: /^Toy Story 1995/ });
    await toy.getByRole('button', { name: 'Watched' }).click();
    await scenario.getByText('watched', { exact: true }).waitFor();

    await search.fill('heat');
    const heat = page
      .getByRole('list', { name: 'Movies to rate' })
      .getByRole('listitem')
      .filter({ hasText: /^Heat 1995/ });
    await heat.getByRole('radio', { name: '4.5 stars' }).check();
    await scenario.getByText('few-ratings').waitFor();
    assert.equal(await heat.getByRole('radio', { name: '4.5 stars' }).isChecked(), true, 'half star kept');

    const expected = await apiJson<RecommendationList>(web.base, '/v1/recommendations', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ratings: [{ movieId: 6, rating: 4.5 }], watched: [1], exclude: [1, 6], k: 12 }),
    });
    const cards = page.getByRole('region', { name: 'Recommendations for you' }).getByRole('article');
    await cards.first().getByRole('heading', { name: expected.items[0]!.displayTitle, exact: true }).waitFor();
    assert.match((await scenario.textContent()) ?? '', new RegExp(expected.reason.slice(0, 30).replace(/[()]/g, '.')));
    assert.equal(await cards.count(), expected.items.length, 'every recommendation');
    assert.equal(await cards.first().locator('.reason').textContent(), expected.items[0]!.reason, 'why it is there');
    assert.deepEqual(
      await page.getByRole('list', { name: 'Your movies' }).getByRole('listitem').allTextContents(),
      ['Toy StorywatchedRemove', 'Heat4.5 ★Remove'],
      'the profile',
    );

    // Saving needs the token: first without (plain words), then with it.
    await page.getByRole('button', { name: 'Save as a new user' }).click();
    await page.getByRole('alert').getByText('This needs the admin token').waitFor();
    await page.getByLabel('Admin token').fill(TOKEN);
    await page.getByRole('button', { name: 'Save as a new user' }).click();
    const saved = page.getByRole('status').filter({ hasText: 'Saved as' });
    await saved.waitFor();
    const userId = Number(/user (\d+)/.exec((await saved.textContent()) ?? '')?.[1]);
    const user = await apiJson<UserView>(web.base, `/v1/users/${userId}`);
    assert.deepEqual(
      user.history.map((h) => [h.movieId, h.rating]),
      [[6, 4.5]],
      'the saved user has the rating (watched-only movies carry none)',
    );
    await finish(page, seen, 'start');
  });

  it('user explorer: history, cluster, segment, every strategy side by side, predicted ratings', async () => {
    const { page, seen } = await open('/users');
    await page.getByLabel('User id').fill('1');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/users\/1$/);
    const user = await apiJson<UserView>(web.base, '/v1/users/1?limit=20');
    await page.getByRole('heading', { name: 'User 1' }).waitFor();
    const rows = page
      .getByRole('heading', { name: /^History/ })
      .locator('..')
      .locator('tbody tr');
    assert.equal(await rows.count(), user.history.length, 'history rows');
    assert.match(
      (await rows.first().textContent()) ?? '',
      new RegExp(user.history[0]!.displayTitle.replace(/[()]/g, '.')),
    );
    assert.equal(await page.getByTestId('user-cluster').textContent(), `cluster ${user.cluster}`, 'taste cluster');
    const segment = await apiJson<UserSegmentView>(web.base, '/v1/users/1/segment');
    await page
      .getByTestId('user-segment')
      .getByText(`segment ${segment.segment} (${segment.details!.label})`)
      .waitFor();

    const columns = ['router', 'ease', 'als', 'hybrid', 'user-cluster', 'itemknn', 'content'];
    for (const name of columns) {
      const column = page.getByRole('region', { name: `Strategy ${name}` });
      await column.getByRole('listitem').first().waitFor({ timeout: 90_000 });
      assert.equal(await column.getByRole('listitem').count(), 8, `${name}: 8 movies`);
    }
    const routed = await apiJson<RecommendationList>(web.base, '/v1/users/1/recommendations?k=8');
    const router = page.getByRole('region', { name: 'Strategy router' });
    assert.match((await router.textContent()) ?? '', new RegExp(`${routed.scenario} → ${routed.strategy}`), 'scenario');
    assert.equal(
      await router.getByRole('listitem').first().getByRole('link').textContent(),
      routed.items[0]!.displayTitle,
    );
    const boxes = await Promise.all(
      columns.slice(0, 3).map((n) => page.getByRole('region', { name: `Strategy ${n}` }).boundingBox()),
    );
    assert.ok(boxes[0]!.x < boxes[1]!.x && boxes[1]!.x < boxes[2]!.x, 'strategies side by side');
    // Every ticked column in view (none scrolled out of sight or cut mid-word), each as tall as its own list.
    assert.deepEqual(
      (await layoutProblems(page, DESKTOP)).filter((p) => p.includes('Strategy')),
      [],
      'strategy columns in view, not stretched',
    );

    const predictions = page.getByRole('table').filter({ hasText: 'Predicted by' }).locator('tbody tr');
    await predictions.first().waitFor();
    assert.ok((await predictions.count()) >= 8, 'a prediction per recommended movie');
    for (const text of await predictions.locator('td:nth-child(2)').allTextContents()) {
      const v = Number(text);
      assert.ok(v >= 0.5 && v <= 5, `predicted rating ${text} on the scale`);
    }
    await finish(page, seen, 'users');
  });

  it('operations: block with reason and expiry changes the preview, rules list and removal, add a movie and a user', async () => {
    const { page, seen } = await open('/operations');
    const preview = page.getByRole('list', { name: 'Preview list' });
    await preview.getByRole('listitem').first().waitFor();
    const top = (await preview.getByRole('listitem').first().getByRole('link').textContent())!;

    // Without the token the API refuses, and the page says so in plain words.
    await page.getByLabel('Movie for the rule').fill(top);
    await page.getByRole('list', { name: 'Pick a movie' }).getByRole('button').first().click();
    await page.getByTestId('rule-movie').getByText(top).waitFor();
    const ruleForm = page.getByRole('form', { name: 'New rule' });
    await ruleForm.getByLabel('Action').selectOption('block');
    await ruleForm.getByLabel('Expires').fill('2099-12-31');
    await ruleForm.getByLabel('Reason').fill('licence expired');
    await page.getByRole('button', { name: 'Save rule' }).click();
    await page.getByRole('alert').getByText('This needs the admin token').waitFor();
    // A wrong token is not a missing one (the server answers 401 with error="invalid_token"): the page says which.
    await page.getByLabel('Admin token').first().fill('not-the-admin-token');
    await page.getByRole('button', { name: 'Save rule' }).click();
    const invalid = page.getByRole('alert').getByText('The token is not valid');
    await invalid.waitFor();
    assert.doesNotMatch((await invalid.textContent()) ?? '', /needs the admin token/, 'not called a missing token');

    await page.getByLabel('Admin token').first().fill(TOKEN);
    await page.getByRole('button', { name: 'Save rule' }).click();
    await page.getByRole('status').getByText(`Blocked ${top}.`).waitFor();
    const rule = page.getByRole('table', { name: 'Rules' }).getByRole('row').filter({ hasText: top });
    await rule.waitFor();
    assert.match(
      (await rule.textContent()) ?? '',
      /block.*licence expired.*2099-12-31/,
      'the rule with reason and expiry',
    );
    assert.deepEqual(
      await textLines(page, 'table[aria-label="Rules"] tbody td:nth-child(4)'),
      [{ text: '2099-12-31', lines: 1 }],
      'the date on one line',
    );
    await preview.getByRole('link', { name: top, exact: true }).waitFor({ state: 'detached' });

    await rule.getByRole('button', { name: `Remove the rule on ${top}` }).click();
    await page.getByText('No rules yet.').waitFor();
    await preview.getByRole('listitem').first().getByRole('link', { name: top, exact: true }).waitFor();

    // Add a movie: placed in a cluster with its neighbours at once.
    await page.getByLabel('Title', { exact: true }).fill('Cinerec Web Test Voyage');
    await page.getByLabel('Year').fill('2031');
    const addForm = page.getByRole('form', { name: 'Add a movie' });
    await addForm.getByRole('checkbox', { name: 'Sci-Fi' }).check();
    await addForm.getByRole('checkbox', { name: 'Adventure' }).check();
    await page.getByLabel('Tags (comma-separated)').fill('space, aliens');
    await page.getByRole('button', { name: 'Add movie' }).click();
    const added = page.getByTestId('added-movie');
    await added.waitFor();
    const clusterText = (await added.getByText(/^cluster \d+$/).textContent())!;
    const id = Number(
      /movie (\d+)/.exec((await page.getByRole('status').filter({ hasText: 'Added' }).textContent())!)![1],
    );
    const details = await apiJson<MovieDetails>(web.base, `/v1/movies/${id}`);
    assert.equal(clusterText, `cluster ${details.cluster}`, 'the cluster the server placed it in');
    const neighbours = added.getByRole('article');
    assert.ok((await neighbours.count()) >= 5, 'neighbours shown');
    const firstGenres = await neighbours
      .first()
      .getByRole('list', { name: 'genres' })
      .getByRole('listitem')
      .allTextContents();
    assert.ok(firstGenres.includes('Sci-Fi') || firstGenres.includes('Adventure'), `neighbour genres ${firstGenres}`);

    // Add a user with ratings; a malformed line is refused before any request.
    const ratings = page.getByLabel('Ratings, one per line: movie id and rating');
    await ratings.fill('296 5\nnot a rating');
    await page.getByRole('button', { name: 'Create user' }).click();
    await page
      .getByRole('alert')
      .getByText(/Line 2 .* should be a movie id and a rating/)
      .waitFor();
    await ratings.fill('296 5\n318 4.5');
    await page.getByRole('button', { name: 'Create user' }).click();
    const created = page.getByRole('status').filter({ hasText: 'Created user' });
    await created.waitFor();
    const userId = Number(/user (\d+)/.exec((await created.textContent()) ?? '')![1]);
    const user = await apiJson<UserView>(web.base, `/v1/users/${userId}`);
    assert.deepEqual(
      user.history.map((h) => [h.movieId, h.rating]).sort((a, b) => a[0]! - b[0]!),
      [
        [296, 5],
        [318, 4.5],
      ],
    );
    await finish(page, seen, 'operations');
  });

  it('experiments: runs with parameters and curves, two runs compared, versions rolled back and activated, an evaluation report', async (t) => {
    t.diagnostic(`set-up (s): ${JSON.stringify(web.timings)}`);
    const { page, seen } = await open('/experiments');
    const { runs } = await apiJson<{ runs: RunSummary[] }>(web.base, '/v1/runs');
    const models = await apiJson<ModelsView>(web.base, '/v1/models');
    assert.deepEqual(
      runs.map((r) => [r.kind, r.status]),
      TRAININGS.map(() => ['train', 'finished']),
      'the two trainings of the set-up',
    );
    assert.deepEqual(
      models.versions.map((v) => [v.version, v.active]),
      [
        ['v0002', true],
        ['v0001', false],
      ],
      'newest first, the last trained active',
    );
    assert.equal(models.served, 'v0002', 'the server serves the active version');
    const versionOf = (runId: string) => models.versions.find((v) => v.runId === runId)?.version;
    // Newest first: the second training made v0002.
    const [newer, older] = runs as [RunSummary, RunSummary];
    assert.deepEqual([versionOf(older.id), versionOf(newer.id)], ['v0001', 'v0002']);

    // The runs list: kind, status, version and headline metrics per run.
    const runRows = page.getByRole('table', { name: 'Runs', exact: true }).locator('tbody tr');
    await runRows.nth(runs.length - 1).waitFor();
    assert.equal(await runRows.count(), runs.length, 'a row per run');
    for (const [i, r] of runs.entries()) {
      const cells = await runRows.nth(i).locator('td').allTextContents();
      assert.deepEqual(cells.slice(1, 4), [r.id, 'train', 'finished'], `run ${i}: id, kind, status`);
      assert.match(cells[6]!, new RegExp(`^${versionOf(r.id)}`), `run ${i}: the version it made`);
      assert.ok(cells[7]!.includes(`als.ndcg ${r.metrics['als.ndcg']!.toFixed(4)}`), `run ${i}: als.ndcg ${cells[7]}`);
    }
    for (const { text, lines } of await textLines(page, 'table[aria-label="Runs"] tbody td:nth-child(2) button'))
      assert.equal(lines, 1, `run id ${text} on one line`);

    // One run: its parameters, metrics, stage runs and the ALS loss per iteration as a line chart.
    const detail = await apiJson<RunDetail>(web.base, `/v1/runs/${older.id}`);
    await page.getByRole('button', { name: older.id, exact: true }).click();
    await page.waitForURL(new RegExp(`run=${older.id}`));
    const details = page.getByTestId('run-details');
    await details.getByRole('heading', { name: new RegExp(`^Run ${older.id}`) }).waitFor();
    assert.equal(await page.evaluate('document.activeElement.id'), 'run-details-h', 'the focus moves to the run');
    const stageRows = details.getByRole('table', { name: 'Stage runs' }).locator('tbody tr');
    await stageRows.first().waitFor();
    assert.deepEqual(
      await stageRows.locator('th').allTextContents(),
      detail.stages.map((s) => s.kind.replace('stage:', '')).reverse(),
      'a row per stage run, in the order they ran',
    );
    // The parameters start folded (the whole configuration): open them from the keyboard.
    await details.getByText(/^Parameters \(\d+\)$/).focus();
    await page.keyboard.press('Enter');
    const factorsParam = details
      .getByRole('table', { name: 'Parameters' })
      .getByRole('row')
      .filter({ has: page.getByRole('rowheader', { name: 'config.als.factors', exact: true }) });
    assert.equal(await factorsParam.locator('td').textContent(), '16', 'the first training had 16 factors');
    const alsRun = await apiJson<RunDetail>(
      web.base,
      `/v1/runs/${detail.stages.find((s) => s.kind === 'stage:als')!.id}`,
    );
    const loss = alsRun.curves.loss!;
    assert.equal(loss.length, 4, 'a loss per ALS iteration (als.iterations 4)');
    const lossChart = details.getByRole('img', { name: 'als loss by iteration' });
    await lossChart.waitFor();
    assert.equal(await lossChart.locator('path.line').count(), 1, 'one line');
    assert.equal(await lossChart.locator('.point').count(), loss.length, 'a point per iteration');
    assert.equal(
      await lossChart.locator('.point title').first().textContent(),
      `loss: iteration ${loss[0]!.step}, ${Number(loss[0]!.value.toPrecision(6))}`,
      'the first point, with its value',
    );
    for (const curve of ['mf trainRmse by epoch', 'movie-segments inertia by k'])
      assert.ok((await details.getByRole('img', { name: curve }).count()) === 1, `chart: ${curve}`);

    // Two runs compared: the one parameter that differs, metrics side by side with the change.
    await page.getByRole('checkbox', { name: `Compare run ${older.id}` }).check();
    await page.getByRole('checkbox', { name: `Compare run ${newer.id}` }).check();
    const comparison = page.getByTestId('comparison');
    const params = comparison.getByRole('table', { name: 'Parameters compared' });
    await params.locator('tbody tr').first().waitFor();
    assert.deepEqual(
      await params.locator('thead th').allTextContents(),
      ['Parameter', 'v0001', 'v0002'],
      'older run first',
    );
    assert.deepEqual(
      await params.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.textContent)),
      ['config.als.factors1624'],
      'only als.factors differs',
    );
    const newerDetail = await apiJson<RunDetail>(web.base, `/v1/runs/${newer.id}`);
    const metricRow = comparison
      .getByRole('table', { name: 'Metrics compared' })
      .getByRole('row')
      .filter({ has: page.getByRole('rowheader', { name: 'als.ndcg', exact: true }) });
    const [x, y] = [detail.metrics['als.ndcg']!, newerDetail.metrics['als.ndcg']!];
    const cells = await metricRow.locator('td').allTextContents();
    assert.deepEqual(cells.slice(0, 2), [x.toFixed(4), y.toFixed(4)], 'als.ndcg of both runs');
    assert.ok(
      Math.abs(Number.parseFloat(cells[2]!.replace('−', '-')) - (y - x)) < 1e-4,
      `the change ${cells[2]} is ${y - x}`,
    );
    const overlay = comparison.getByRole('img', { name: 'als loss by iteration: v0001 and v0002' });
    await overlay.waitFor();
    assert.equal(await overlay.locator('path.line').count(), 2, 'both runs drawn');
    assert.deepEqual(
      await comparison
        .locator('svg[role=img]')
        .evaluateAll((charts) => charts.map((c) => c.getAttribute('aria-label'))),
      ['als loss by iteration: v0001 and v0002', 'als seconds by iteration: v0001 and v0002'],
      'only the stages both ran are overlaid (the second training took the others from the cache)',
    );
    await page.waitForURL(new RegExp(`compare=${older.id}(,|%2C)${newer.id}`));

    // Model versions: the active and served one marked; roll back and activate through the ModelManager.
    const versions = page.getByRole('table', { name: 'Model versions' });
    // The run that made v0002, opened from its version: cached stages show the curves of the run that made them.
    await versions.getByRole('button', { name: `Show run ${newer.id} that made v0002` }).click();
    await details.getByRole('heading', { name: new RegExp(`^Run ${newer.id}`) }).waitFor();
    const mfStage = detail.stages.find((s) => s.kind === 'stage:mf')!;
    const cachedRow = details
      .getByRole('table', { name: 'Stage runs' })
      .getByRole('row')
      .filter({ has: page.getByRole('rowheader', { name: 'mf', exact: true }) });
    await cachedRow.waitFor();
    // The stage table follows the heading once the run's details arrive: let it settle.
    for (let i = 0; i < 100 && !(await cachedRow.locator('td').first().textContent())?.startsWith('cached'); i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.equal(
      await cachedRow.locator('td').first().textContent(),
      `cached (from run ${mfStage.id})`,
      'the mf stage came from the first training',
    );
    await details.getByRole('img', { name: 'mf trainRmse by epoch' }).waitFor();
    const badges = (v: string) =>
      versions
        .getByRole('row')
        .filter({ has: page.getByRole('rowheader', { name: new RegExp(`^${v}`) }) })
        .locator('.badge')
        .allTextContents();
    assert.deepEqual(await badges('v0002'), ['active', 'served']);
    assert.deepEqual(await badges('v0001'), []);
    const rollBack = page.getByRole('button', { name: 'Roll back' });
    await rollBack.click();
    await page.getByRole('alert').getByText('This needs the admin token').waitFor();
    await page.getByLabel('Admin token').fill(TOKEN);
    await rollBack.click();
    await page.getByRole('status').getByText('Rolled back to v0001: now serving v0001.').waitFor();
    await versions.getByRole('button', { name: 'Activate v0002' }).waitFor();
    assert.deepEqual(await badges('v0001'), ['active', 'served'], 'v0001 active after the rollback');
    assert.deepEqual(await badges('v0002'), []);
    let state = await apiJson<ModelsView>(web.base, '/v1/models');
    assert.deepEqual([state.active, state.served], ['v0001', 'v0001'], 'the server agrees');
    assert.equal(web.holder.current.served.version?.id, 'v0001', 'and serves it');

    await versions.getByRole('button', { name: 'Activate v0002' }).click();
    await page.getByRole('status').getByText('Activated v0002: now serving v0002.').waitFor();
    await versions.getByRole('button', { name: 'Activate v0001' }).waitFor();
    assert.deepEqual(await badges('v0002'), ['active', 'served'], 'v0002 active again');
    state = await apiJson<ModelsView>(web.base, '/v1/models');
    assert.deepEqual([state.active, state.served], ['v0002', 'v0002'], 'the server agrees');
    assert.equal(web.holder.current.served.version?.id, 'v0002');

    // Every run, stage runs too: the API's all=true.
    const everyRun = await apiJson<{ runs: RunSummary[] }>(web.base, '/v1/runs?all=true');
    await page.getByLabel('Runs to show').selectOption({ label: 'Every run, stages too' });
    await runRows.nth(everyRun.runs.length - 1).waitFor();
    // The list re-renders when the filter's answer arrives: wait for it to settle on the API's count.
    for (let i = 0; i < 100 && (await runRows.count()) !== everyRun.runs.length; i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.equal(await runRows.count(), everyRun.runs.length, 'two trainings and their stage runs');
    const listed = new Set(everyRun.runs.map((r) => r.id));
    for (const r of [...runs, ...detail.stages, ...newerDetail.stages])
      assert.ok(listed.has(r.id), `${r.kind} ${r.id} listed among every run`);

    // The evaluation report written in set-up: a table and a bar chart.
    const reports = await apiJson<EvaluationList>(web.base, '/v1/evaluations');
    assert.equal(reports.items.length, 1, 'the report written in set-up');
    const table = page.getByRole('table', { name: 'Evaluation results' });
    await table.waitFor();
    const names = await table.locator('tbody th').allTextContents();
    assert.deepEqual(names.sort(), [...reports.items[0]!.strategies].sort(), 'a row per strategy');
    const ndcg = reports.items[0]!.headline.values;
    for (const [strategy, value] of Object.entries(ndcg)) {
      const row = table.getByRole('row').filter({ has: page.getByRole('rowheader', { name: strategy }) });
      assert.match(
        (await row.textContent()) ?? '',
        new RegExp(value.toFixed(4)),
        `${strategy} ${reports.items[0]!.headline.metric}`,
      );
    }
    const chart = page.getByRole('img', { name: /by strategy \(95% CI\)/ });
    await chart.waitFor();
    assert.equal(await chart.locator('.bar rect').count(), names.length, 'a bar per strategy');
    await page.getByLabel('Chart metric').selectOption('precision');
    await page.getByRole('img', { name: 'precision by strategy (95% CI)' }).waitFor();
    await finish(page, seen, 'experiments');
  });

  it('clusters and segments: sizes, top genres, examples, a 2-D scatter coloured by cluster', async () => {
    const { page, seen } = await open('/clusters');
    const clusters = await apiJson<MovieClusters>(web.base, '/v1/clusters/movies?examples=3');
    await page.getByTestId('cluster-summary').getByText(`${clusters.k} clusters`).waitFor();
    const rows = page.getByRole('table', { name: 'Clusters' }).locator('tbody tr');
    assert.equal(await rows.count(), clusters.k, 'a row per cluster');
    const largest = [...clusters.clusters].sort((a, b) => b.size - a.size || a.cluster - b.cluster)[0]!;
    const firstRow = (await rows.first().textContent()) ?? '';
    assert.match(firstRow, new RegExp(`^${largest.cluster}${largest.size}`), 'largest cluster first, with its size');
    assert.ok(firstRow.includes(largest.topGenres[0]!.genre), 'its top genre');
    assert.ok(firstRow.includes(largest.examples[0]!.displayTitle), 'an example title');

    const scatter = page.getByRole('img', { name: /principal components/ });
    await scatter.waitFor();
    const dots = scatter.locator('circle');
    assert.equal(await dots.count(), 2500, 'the 2500 most rated movies');
    const colours = await dots.evaluateAll((cs) => new Set(cs.map((c) => c.getAttribute('fill'))).size);
    assert.ok(colours > 20, `coloured by cluster (${colours} colours)`);
    // Every cluster does not fit beside the scatter: the table scrolls and says so; the scatter's ticks are whole.
    await page.getByText(`Scroll the table down to see all ${clusters.k} clusters`).waitFor();
    assert.deepEqual(await layoutProblems(page, DESKTOP), [], 'every cluster listed: nothing cut off without a cue');
    await screenshot(page, 'clusters-all', false);

    await page.getByLabel('Highlight cluster').selectOption(String(largest.cluster));
    await page.waitForURL(new RegExp(`cluster=${largest.cluster}$`));
    assert.equal(await rows.count(), 1, 'only the chosen cluster listed');
    const bright = await dots.evaluateAll(
      (cs, c) =>
        cs.filter((x) => x.getAttribute('data-cluster') === String(c) && x.getAttribute('fill-opacity') === '0.8')
          .length,
      largest.cluster,
    );
    assert.ok(bright > 0, 'the chosen cluster stands out in the scatter');

    const segments = await apiJson<MovieSegments>(web.base, '/v1/segments/movies');
    await page.getByTestId('segment-summary').getByText(`${segments.k} segments`).waitFor();
    assert.equal(
      await page.getByRole('table', { name: 'Movie segments' }).locator('tbody tr').count(),
      segments.segments.length,
    );
    const segmentBars = page.getByRole('img', { name: 'Movies per segment' });
    assert.equal(await segmentBars.locator('.bar rect').count(), segments.segments.length);
    assert.deepEqual(
      await segmentBars.locator('.bar-label').allTextContents(),
      segments.segments.map((x) => `segment ${x.segment}`),
      'every bar labelled',
    );
    assert.deepEqual(
      await page
        .getByRole('img', { name: 'Calinski–Harabasz index by number of segments' })
        .locator('.axis-label')
        .allTextContents(),
      ['number of segments (k)', 'Calinski–Harabasz index'],
      'both axes named in words',
    );
    const users = await apiJson<UserSegments>(web.base, '/v1/segments/users');
    await page.getByTestId('user-segment-summary').getByText(`${users.k} segments of ${users.users} users`).waitFor();
    assert.deepEqual(
      await page.getByRole('table', { name: 'User segments' }).locator('tbody td:nth-child(3)').allTextContents(),
      users.segments.map((x) => x.label),
      'a row per user segment, with its label',
    );
    assert.deepEqual(
      await page.getByRole('img', { name: 'Users per segment' }).locator('.bar-label').allTextContents(),
      users.segments.map((x) => `${x.segment}: ${x.label}`),
      'every user segment bar labelled in full',
    );
    await finish(page, seen, 'clusters');
  });

  it('phone width: no page has anything cut off, hidden or unreadable; ids and dates unbroken', async () => {
    const phone = await browser.newContext({
      viewport: { width: PHONE, height: 844 },
      isMobile: true,
      hasTouch: true,
    });
    phone.setDefaultTimeout(60_000);
    // A rule, so that the rules table has a date in it.
    const rule = `${web.base}/v1/rules/318`;
    const auth = { authorization: `Bearer ${TOKEN}` };
    await apiJson(web.base, '/v1/rules/318', {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'block', until: '2099-12-31', reason: 'licence expired in this region' }),
    });
    const { runs } = await apiJson<{ runs: RunSummary[] }>(web.base, '/v1/runs');
    const strategies = ['router', 'ease', 'als', 'hybrid', 'user-cluster', 'itemknn', 'content'];
    const pages: {
      name: string;
      path: string;
      ready: (page: Page) => Promise<unknown>;
      check?: (page: Page) => Promise<void>;
    }[] = [
      {
        name: 'users',
        path: '/users/1',
        ready: async (page) => {
          for (const s of strategies)
            await page
              .getByRole('region', { name: `Strategy ${s}` })
              .getByRole('listitem')
              .first()
              .waitFor();
          await page.getByRole('table').filter({ hasText: 'Predicted by' }).locator('tbody tr').first().waitFor();
        },
      },
      {
        name: 'clusters',
        path: '/clusters',
        ready: (page) =>
          Promise.all([
            page.getByRole('img', { name: /principal components/ }).waitFor(),
            page.getByRole('img', { name: 'Calinski–Harabasz index by number of segments' }).waitFor(),
            page.getByRole('img', { name: 'Users per segment' }).waitFor(),
          ]),
      },
      {
        name: 'operations',
        path: '/operations',
        ready: (page) =>
          Promise.all([
            page.getByRole('table', { name: 'Rules' }).locator('tbody tr').first().waitFor(),
            page.getByRole('list', { name: 'Preview list' }).getByRole('listitem').first().waitFor(),
          ]),
        check: async (page) => {
          for (const { text, lines } of await textLines(page, 'table[aria-label="Rules"] tbody td:nth-child(4)'))
            assert.equal(lines, 1, `the date ${text} on one line`);
        },
      },
      {
        name: 'experiments',
        path: `/experiments?run=${runs.at(-1)!.id}`,
        ready: (page) =>
          Promise.all([
            page.getByRole('img', { name: 'als loss by iteration' }).waitFor(),
            page.getByRole('img', { name: /by strategy \(95% CI\)/ }).waitFor(),
            page.getByRole('table', { name: 'Model versions' }).waitFor(),
          ]),
        check: async (page) => {
          const ids = await textLines(
            page,
            'table[aria-label="Runs"] tbody td:nth-child(2) button, table[aria-label="Model versions"] td button.linkish',
          );
          assert.ok(ids.length >= 4, 'run ids in both tables');
          for (const { text, lines } of ids) assert.equal(lines, 1, `run id ${text} on one line`);
        },
      },
      {
        name: 'movie',
        path: '/movies/2571',
        ready: (page) => page.getByRole('list', { name: 'Similar by hybrid' }).getByRole('listitem').first().waitFor(),
      },
      {
        name: 'start',
        path: '/start',
        ready: (page) => page.getByTestId('scenario').getByText('cold-start').waitFor(),
      },
    ];
    try {
      for (const { name, path, ready, check } of pages) {
        const page = await phone.newPage();
        const seen = watchPage(page, web.base);
        await page.goto(`${web.base}${path}`);
        await ready(page);
        await screenshot(page, `${name}-phone`);
        assert.deepEqual(await layoutProblems(page, PHONE), [], `${name} on a ${PHONE}px phone`);
        await check?.(page);
        assert.deepEqual(realErrors(seen.errors), [], `${name} on a phone: no script errors`);
        await page.close();
      }
    } finally {
      await phone.close();
      await fetch(rule, { method: 'DELETE', headers: auth });
    }
  });
});
