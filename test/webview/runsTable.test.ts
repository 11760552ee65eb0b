// The runs table ("DoRA: Show Runs Table") in headless chromium: rows of the three fixture runs as the host builds
// them, sorting by a metric, filtering, the column chooser, best per column, selection → plot / compare / delete,
// star and open, and a live update that keeps the selection.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import {
  artifactPath,
  buildWebviews,
  chromiumAvailable,
  CHROMIUM,
  cspViolations,
  fixtureRows,
  launchBrowser,
  openView,
  posted,
  postToView,
  startServer,
  type OpenedView,
} from './harness';

const skip = chromiumAvailable() ? false : `chromium not found at ${CHROMIUM} (apt-get install -y chromium)`;

describe('runs table webview', { skip, timeout: 180_000 }, () => {
  let server: Server;
  let browser: Browser;
  let view: OpenedView;
  let page: Page;
  const rows = fixtureRows({ evaluated: true });

  before(async () => {
    await buildWebviews();
    let origin: string;
    ({ server, origin } = await startServer());
    browser = await launchBrowser();
    view = await openView(browser, origin, 'runsTable');
    page = view.page;
    await postToView(page, { type: 'setData', data: { rows, folders: ['/workspace/runs'], error: null } });
    await page.waitForSelector('body[data-rows="3"]');
  });

  after(async () => {
    await browser?.close();
    server?.close();
  });

  const names = () =>
    page.$$eval('#runs-table tbody tr', (trs) => trs.map((tr) => tr.querySelector('td[data-column="name"] button')?.textContent ?? ''));

  test('columns: run facts, headline metrics, the config keys that differ; best value marked', async () => {
    const headers = await page.$$eval('#runs-table thead th button', (bs) => bs.map((b) => b.getAttribute('data-column')));
    for (const id of [
      'name',
      'status',
      'metric:loss:last',
      'metric:loss:best',
      'metric:knn:synthetic:top1@20',
      'metric:tracking:propagation:jf',
      'config:training.lr',
      'config:dora.tracker',
    ])
      assert.ok(headers.includes(id), `${id} among ${headers.join(', ')}`);
    assert.ok(!headers.includes('config:model.embedDim'), 'a key equal in every run is not shown by default');
    const bestKnn = await page.$$eval('td.best[data-column="metric:knn:synthetic:top1@20"]', (tds) => tds.map((td) => td.textContent));
    assert.deepEqual(bestKnn, ['59.4%'], 'the higher k-NN is marked');
    assert.equal(await page.locator('td.best[data-column="metric:loss:best"]').count(), 1);
  });

  test('sorting by a metric, both directions; the header says which', async () => {
    await page.click('th button[data-column="metric:loss:best"]');
    const ascending = await names();
    const byBest = [...rows].sort((a, b) => a.metrics[1].value - b.metrics[1].value).map((r) => r.name);
    assert.deepEqual(ascending, byBest);
    assert.equal(await page.getAttribute('th:has(button[data-column="metric:loss:best"])', 'aria-sort'), 'ascending');
    await page.click('th button[data-column="metric:loss:best"]');
    assert.deepEqual(await names(), [...byBest].reverse());
    await page.click('th button[data-column="metric:loss:best"]');
  });

  test('filter narrows the rows; the column chooser adds and removes columns', async () => {
    await page.fill('#runs-filter', 'lr-x4');
    await page.waitForSelector('body[data-rows="1"]');
    assert.match((await page.textContent('.plots-header .ui-badge')) ?? '', /^1 of 3 runs/);
    await page.fill('#runs-filter', '');
    await page.waitForSelector('body[data-rows="3"]');
    await page.click('#choose-columns');
    await page.waitForSelector('#column-chooser:not([hidden])');
    await page.check('input[id="column-config:model.embedDim"]');
    await page.waitForSelector('th button[data-column="config:model.embedDim"]');
    await page.uncheck('input[id="column-metric:tracking:propagation:jf"]');
    await page.waitForSelector('th button[data-column="metric:tracking:propagation:jf"]', { state: 'detached' });
    await page.click('#choose-columns');
  });

  test('selection → Plot, Compare (needs checkpoints), Delete; star and open post their actions', async () => {
    await page.click('th button[data-column="metric:loss:best"]');
    const boxes = page.locator('#runs-table tbody tr .row-select');
    await boxes.nth(0).check();
    await boxes.nth(1).check();
    await page.waitForSelector('body[data-selected="2"]');
    assert.equal(await page.getAttribute('#action-compare', 'disabled'), '', 'the fixture runs have no checkpoint');
    await page.screenshot({ path: artifactPath('runs-table-sorted-selected.png') });
    await page.click('#action-plot');
    await page.click('#action-delete');
    const first = await page.getAttribute('#runs-table tbody tr:nth-child(1)', 'data-run');
    await page.click(`#runs-table tbody tr:nth-child(1) button.star`);
    await page.click(`#runs-table tbody tr:nth-child(2) td[data-column="name"] button`);
    const actions = (await posted(page)).filter((m) => m.type === 'action') as unknown as { action: string; runs: string[] }[];
    assert.deepEqual(actions[0], { type: 'action', action: 'plot', runs: actions[0].runs });
    assert.equal(actions[0].runs.length, 2);
    assert.equal(actions[1].action, 'delete');
    assert.deepEqual(actions[2], { type: 'action', action: 'star', runs: [first] });
    assert.equal(actions[3].action, 'open');
  });

  test('a live update keeps the selection and shows new facts (a star, a rename, a new run)', async () => {
    const selectedBefore = await page.$$eval('#runs-table tbody tr.selected', (trs) => trs.map((tr) => tr.getAttribute('data-run')));
    const updated = rows.map((r, i) => (i === 0 ? { ...r, starred: true, name: 'demo (renamed)' } : r));
    const extra = {
      ...rows[2],
      id: '/workspace/runs/20261205-000000-new',
      folder: '20261205-000000-new',
      name: 'new',
      status: 'running' as const,
      created: '2026-12-05T00:00:00.000Z',
    };
    await postToView(page, { type: 'setData', data: { rows: [...updated, extra] } });
    await page.waitForSelector('body[data-rows="4"]');
    const selectedAfter = await page.$$eval('#runs-table tbody tr.selected', (trs) => trs.map((tr) => tr.getAttribute('data-run')));
    assert.deepEqual(selectedAfter.sort(), selectedBefore.sort());
    assert.ok((await names()).includes('demo (renamed)'));
    assert.equal(await page.locator('button.star.starred').count(), 1);
  });

  test('no CSP violations and no page errors', async () => {
    assert.deepEqual(await cspViolations(page), []);
    assert.deepEqual(view.errors, []);
  });
});
