// The overlay chart ("DoRA: Plot Runs") in headless chromium, fed three real fixture runs the way the host feeds it:
// three colours, legend toggles, every run's value at the cursor, x modes, live append, export, 10^5 points per run.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import type { MetricsRecord } from '../../src/core/runRecords';
import type { PlotRun } from '../../src/core/experimentMessages';
import { RUN_COLORS } from '../../webview/plots/overlayData';
import {
  artifactPath,
  buildWebviews,
  canvasStats,
  chromiumAvailable,
  CHROMIUM,
  cspViolations,
  launchBrowser,
  openView,
  postToView,
  REPO,
  requestExport,
  startServer,
  switchTheme,
  type OpenedView,
} from './harness';

const skip = chromiumAvailable() ? false : `chromium not found at ${CHROMIUM} (apt-get install -y chromium)`;

function fixtureMetrics(folder: string): MetricsRecord[] {
  return readFileSync(join(REPO, 'test/fixtures', 'experiments', folder, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as MetricsRecord);
}

const FOLDERS = ['demo', 'dino-baseline', 'lr-x4'];
const RUNS: PlotRun[] = FOLDERS.map((folder, i) => ({
  id: `/workspace/runs/${folder}`,
  label: folder,
  status: 'finished',
  colorIndex: i,
}));
const METRICS = Object.fromEntries(RUNS.map((r, i) => [r.id, fixtureMetrics(FOLDERS[i])]));

describe('plots webview: three runs overlaid', { skip, timeout: 240_000 }, () => {
  let server: Server;
  let origin: string;
  let browser: Browser;
  let view: OpenedView;
  let page: Page;

  before(async () => {
    await buildWebviews();
    ({ server, origin } = await startServer());
    browser = await launchBrowser();
    view = await openView(browser, origin, 'plots');
    page = view.page;
    await postToView(page, {
      type: 'setData',
      data: { title: 'loss of 3 runs', runs: RUNS, metrics: METRICS, metricsAppend: false, error: null },
    });
    await page.waitForSelector('#overlay-chart[data-runs="3"] canvas');
  });

  after(async () => {
    await browser?.close();
    server?.close();
  });

  test('one chart, three colours, a legend row per run', async () => {
    const stats = await canvasStats(page, '#overlay-chart canvas');
    assert.ok(stats.painted > 1000, `painted ${stats.painted}`);
    const hasColour = await page.$eval(
      '#overlay-chart canvas',
      (element, colours) => {
        const canvas = element as HTMLCanvasElement;
        const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        return colours.map((hex) => {
          const [r, g, b] = [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16));
          for (let i = 0; i < data.length; i += 4)
            if (Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) < 24 && data[i + 3] > 200) return true;
          return false;
        });
      },
      RUN_COLORS.slice(0, 3),
    );
    assert.deepEqual(hasColour, [true, true, true], 'each run is drawn in its own colour');
    assert.equal(await page.locator('#legend tbody tr').count(), 3);
    assert.equal(await page.textContent('.plots-header .ui-badge'), '3 runs');
    await page.screenshot({ path: artifactPath('plots-three-runs.png') });
  });

  test('hover reads out every run’s value at the nearest record', async () => {
    const box = (await page.locator('#overlay-chart .u-over').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForFunction(() => document.querySelectorAll('#legend tr[data-hover-step]').length === 3);
    for (const [i, run] of RUNS.entries()) {
      const row = page.locator(`#legend tr[data-run="${run.id}"]`);
      const step = Number(await row.getAttribute('data-hover-step'));
      const value = Number(await row.getAttribute('data-hover-value'));
      const record = METRICS[run.id].find((m) => m.step === step);
      assert.ok(record, `${FOLDERS[i]} logged step ${step}`);
      assert.equal(value, record.loss, `${FOLDERS[i]}: the hover value is the logged loss at step ${step}`);
      assert.ok(step > 60 && step < 180, `near the middle of 240 steps: ${step}`);
    }
    assert.match((await page.textContent('#hover-title')) ?? '', /^loss at step \d+/);
    await page.screenshot({ path: artifactPath('plots-hover.png') });
    await page.mouse.move(0, 0);
  });

  test('the legend toggles a run off and on', async () => {
    const row = `#legend tr[data-run="${RUNS[1].id}"]`;
    await page.click(`${row} vscode-checkbox`);
    await page.waitForSelector('#overlay-chart[data-runs="2"]');
    assert.match((await page.getAttribute(row, 'class')) ?? '', /run-hidden/);
    const csv = (await requestExport(page, 'csv', 1)).data;
    assert.ok(!csv.includes('dino-baseline'), 'a hidden run is not exported');
    await page.click(`${row} vscode-checkbox`);
    await page.waitForSelector('#overlay-chart[data-runs="3"]');
  });

  test('x axis by relative time; live append of one run; export of PNG, SVG, CSV', async () => {
    await page.click('#x-axis');
    await page.click('#x-axis vscode-option[value="relative"]');
    await page.waitForSelector('#overlay-chart[data-x-mode="relative"]');
    const points = Number(await page.getAttribute('#overlay-chart', 'data-points'));
    assert.ok(points > 300, `runs log at their own times: ${points} distinct x values`);
    const last = METRICS[RUNS[2].id].at(-1)!;
    const next: MetricsRecord = { ...last, step: last.step + 2, time: new Date(Date.parse(last.time) + 1000).toISOString(), loss: 1.5 };
    await postToView(page, { type: 'setData', data: { metrics: { [RUNS[2].id]: [next] }, metricsAppend: true } });
    await page.waitForFunction((n) => Number(document.querySelector('#overlay-chart')?.getAttribute('data-points')) === n + 1, points);
    const svg = await requestExport(page, 'svg', 2);
    assert.equal(svg.suggestedName, 'loss-of-3-runs.svg');
    for (const name of ['demo', 'dino-baseline', 'lr-x4']) assert.ok(svg.data.includes(`>${name}</text>`), `legend names ${name}`);
    assert.equal((svg.data.match(/<path /g) ?? []).length, 6, 'raw and smoothed line per run');
    assert.ok(svg.data.includes('time since the first record'));
    writeFileSync(artifactPath('plots-export.svg'), svg.data);
    const png = await requestExport(page, 'png', 3);
    writeFileSync(artifactPath('plots-export.png'), Buffer.from(png.data, 'base64'));
    assert.ok(png.data.length > 10_000);
    const csv = (await requestExport(page, 'csv', 4)).data.trim().split('\n');
    assert.equal(csv[0], 'run,step,time,seconds,loss,loss_smoothed');
    assert.equal(csv.length, 1 + 121 + 121 + 122);
    await page.click('#x-axis');
    await page.click('#x-axis vscode-option[value="step"]');
  });

  test('theme change redraws the axes in the new colours', async () => {
    const before = await canvasStats(page, '#overlay-chart canvas');
    await switchTheme(page, 'light');
    await page.waitForFunction((hash) => document.body.dataset.themeChanges !== undefined && hash !== '', before.hash);
    await page.waitForFunction(() => Number(document.body.dataset.themeChanges) >= 1);
    const after = await canvasStats(page, '#overlay-chart canvas');
    assert.notEqual(after.hash, before.hash);
    await page.screenshot({ path: artifactPath('plots-light.png') });
    await switchTheme(page, 'dark');
  });

  test('no CSP violations and no page errors', async () => {
    assert.deepEqual(await cspViolations(page), []);
    assert.deepEqual(view.errors, []);
  });
});

describe('plots webview: 10^5 points per run', { skip, timeout: 240_000 }, () => {
  test('three runs of 100 000 points draw, zoom and hover', async () => {
    await buildWebviews();
    const { server, origin } = await startServer();
    const browser = await launchBrowser();
    try {
      const { page, errors } = await openView(browser, origin, 'plots');
      await page.evaluate((runs) => {
        const t0 = Date.parse('2026-01-01T00:00:00Z');
        const metrics: Record<string, unknown[]> = {};
        runs.forEach((run, r) => {
          const list: unknown[] = [];
          for (let step = 1; step <= 100_000; step++)
            list.push({
              step,
              epoch: 0,
              time: new Date(t0 + step * 1000).toISOString(),
              loss: 8 / Math.sqrt(step) + r * 0.1 + Math.sin(step / 50) * 0.05,
              lr: 1e-4,
              wd: 0.04,
              momentum: 0.996,
              teacherTemp: 0.04,
              imgPerSec: 40,
              secPerStep: 1,
            });
          metrics[run.id] = list;
        });
        window.postMessage({ type: 'setData', data: { title: 'big', runs, metrics, metricsAppend: false, error: null } }, '*');
      }, RUNS);
      await page.waitForSelector('#overlay-chart[data-points="100000"][data-runs="3"]', { timeout: 60_000 });
      const box = (await page.locator('#overlay-chart .u-over').boundingBox())!;
      const draws = Number(await page.getAttribute('#overlay-chart', 'data-draw-count'));
      await page.mouse.move(box.x + box.width * 0.3, box.y + 50);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.4, box.y + 50, { steps: 3 });
      await page.mouse.up();
      await page.waitForFunction((n) => Number(document.querySelector('#overlay-chart')?.getAttribute('data-draw-count')) > n, draws);
      await page.mouse.move(box.x + box.width * 0.5, box.y + 80);
      await page.waitForFunction(() => document.querySelectorAll('#legend tr[data-hover-step]').length === 3);
      const step = Number(await page.getAttribute('#legend tr[data-hover-step]', 'data-hover-step'));
      assert.ok(step > 30_000 && step < 40_000, `zoomed into 30–40 % of 100 000 steps; hover at ${step}`);
      await page.screenshot({ path: artifactPath('plots-100k-zoomed.png') });
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      server.close();
    }
  });
});
