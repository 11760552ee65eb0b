// The dashboard chart in headless chromium: x axis by step / relative time / wall time, export (the host's
// exportRequest answered with PNG, SVG, CSV and JSON of what is plotted, and the Export… button), and the redraw
// after a colour-theme change.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import {
  artifactPath,
  buildWebviews,
  canvasStats,
  chromiumAvailable,
  CHROMIUM,
  cspViolations,
  dashboardState,
  launchBrowser,
  openView,
  postToView,
  readMetrics,
  requestExport,
  startServer,
  switchTheme,
  type OpenedView,
} from './harness';
import { writeFileSync } from 'node:fs';

const skip = chromiumAvailable() ? false : `chromium not found at ${CHROMIUM} (apt-get install -y chromium)`;

describe('dashboard chart: x axis, export, theme change', { skip, timeout: 180_000 }, () => {
  let server: Server;
  let browser: Browser;
  let view: OpenedView;
  let page: Page;
  const metrics = readMetrics();

  before(async () => {
    await buildWebviews();
    let origin: string;
    ({ server, origin } = await startServer());
    browser = await launchBrowser();
    view = await openView(browser, origin, 'dashboard');
    page = view.page;
    await postToView(page, { type: 'setData', data: dashboardState(origin) });
    await page.waitForSelector('body[data-snapshot-rendered="225"]');
  });

  after(async () => {
    await browser?.close();
    server?.close();
  });

  async function pickXAxis(mode: string): Promise<void> {
    await page.click('#x-axis');
    await page.click(`#x-axis vscode-option[value="${mode}"]`);
    await page.waitForSelector(`#loss-canvas[data-x-mode="${mode}"]`);
  }

  test('x axis: relative time spans the run in seconds, wall time in epoch seconds, step again restores steps', async () => {
    const first = Date.parse(metrics[0].time) / 1000;
    const last = Date.parse(metrics[metrics.length - 1].time) / 1000;
    await pickXAxis('relative');
    assert.equal(Number(await page.getAttribute('#loss-canvas', 'data-x-min')), 0);
    assert.ok(Math.abs(Number(await page.getAttribute('#loss-canvas', 'data-x-max')) - (last - first)) < 1e-6);
    await page.locator('#loss-panel').screenshot({ path: artifactPath('dashboard-x-relative.png') });
    await pickXAxis('wall');
    assert.ok(Math.abs(Number(await page.getAttribute('#loss-canvas', 'data-x-min')) - first) < 1e-6);
    // Hover reads out the wall time and the step of the nearest record.
    const box = (await page.locator('#loss-canvas').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + 100);
    await page.waitForSelector('.chart-tooltip:not([hidden])');
    assert.match((await page.textContent('.chart-tooltip .tooltip-title')) ?? '', /^\d\d:\d\d(:\d\d)? · step \d+/);
    await page.mouse.move(0, 0);
    await pickXAxis('step');
    assert.equal(Number(await page.getAttribute('#loss-canvas', 'data-x-max')), metrics[metrics.length - 1].step);
  });

  test('export: SVG is a standalone document of the chart, PNG the same picture, CSV/JSON the plotted points', async () => {
    const svg = await requestExport(page, 'svg', 1);
    assert.equal(svg.suggestedName, 'loss-of-demo.svg');
    const parsed = await page.evaluate((text) => {
      const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
      const error = doc.querySelector('parsererror');
      return {
        error: error?.textContent ?? null,
        paths: doc.querySelectorAll('path').length,
        texts: Array.from(doc.querySelectorAll('text')).map((t) => t.textContent),
        width: Number(doc.documentElement.getAttribute('width')),
        height: Number(doc.documentElement.getAttribute('height')),
      };
    }, svg.data);
    assert.equal(parsed.error, null);
    assert.equal(parsed.paths, 2, 'raw and smoothed curves');
    assert.ok(parsed.texts.includes('step') && parsed.texts.includes('loss'), 'axis titles');
    assert.ok(
      parsed.texts.some((t) => /^smoothed \(EMA 0\.60\)$/.test(t ?? '')),
      'legend',
    );
    writeFileSync(artifactPath('dashboard-export.svg'), svg.data);

    const png = await requestExport(page, 'png', 2);
    assert.equal(png.suggestedName, 'loss-of-demo.png');
    const size = pngSize(Buffer.from(png.data, 'base64'));
    assert.deepEqual(size, [parsed.width * 2, parsed.height * 2], 'the SVG rasterised at 2x');
    writeFileSync(artifactPath('dashboard-export.png'), Buffer.from(png.data, 'base64'));

    const csv = (await requestExport(page, 'csv', 3)).data.trim().split('\n');
    assert.equal(csv[0], 'run,step,time,loss,loss_smoothed');
    assert.equal(csv.length, metrics.length + 1);
    assert.equal(csv[1], `demo,${metrics[0].step},${metrics[0].time},${metrics[0].loss},${metrics[0].loss}`);
    const json = JSON.parse((await requestExport(page, 'json', 4)).data);
    assert.equal(json.runs[0].points.length, metrics.length);
    assert.equal(json.smoothing, 0.6);
  });

  test('export follows the zoom: only the points in view', async () => {
    const box = (await page.locator('#loss-canvas').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.4, box.y + 150);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.6, box.y + 152, { steps: 4 });
    await page.mouse.up();
    await page.waitForFunction(() => (document.querySelector('.chart-summary')?.textContent ?? '').includes('zoomed'));
    const lines = (await requestExport(page, 'csv', 5)).data.trim().split('\n').length - 1;
    assert.ok(lines > 5 && lines < metrics.length / 2, `${lines} points exported from the zoomed view`);
    await page.dblclick('#loss-canvas');
  });

  test('the Export… button asks the host for the format', async () => {
    await page.click('#export-chart');
    await page.waitForFunction(() => (window as unknown as { __posted: { type: string }[] }).__posted.some((m) => m.type === 'exportMenu'));
  });

  test('a colour-theme change redraws the canvases in the new colours', async () => {
    const before = await canvasStats(page, '#loss-canvas');
    const heatBefore = await canvasStats(page, '#assignment-heatmap-0');
    const gridBefore = await page.getAttribute('#loss-canvas', 'data-grid-color');
    await switchTheme(page, 'light');
    await page.waitForFunction((grid) => document.querySelector('#loss-canvas')?.getAttribute('data-grid-color') !== grid, gridBefore);
    const after = await canvasStats(page, '#loss-canvas');
    assert.notEqual(after.hash, before.hash, 'the loss chart was redrawn');
    assert.notEqual(await page.getAttribute('#loss-canvas', 'data-foreground-color'), null);
    assert.ok(
      (await canvasStats(page, '#assignment-heatmap-0')).painted >= heatBefore.painted * 0.9,
      'the heat-maps were redrawn, not cleared',
    );
    await page.screenshot({ path: artifactPath('dashboard-theme-switched.png'), fullPage: false });
    await switchTheme(page, 'dark');
  });

  test('no CSP violations and no page errors', async () => {
    assert.deepEqual(await cspViolations(page), []);
    assert.deepEqual(view.errors, []);
  });
});

/** Width and height from a PNG's IHDR chunk (after the 8-byte signature and the chunk's length and type). */
function pngSize(bytes: Buffer): [number, number] {
  assert.equal(bytes.subarray(1, 4).toString('latin1'), 'PNG');
  return [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
}
