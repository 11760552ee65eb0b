// The run dashboard in headless chromium, fed the fixture run (test/fixtures/runs/demo-run) the way
// the extension host feeds it: `ready` → setData, snapshot URIs served from loopback, strict CSP.
// Assertions look at pixels and at the values the fixture files hold, not just at the DOM.

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
  posted,
  readAssignment,
  readMetrics,
  snapshotPayload,
  startServer,
  waitForPosted,
  type OpenedView,
} from './harness';

const skip = chromiumAvailable() ? false : `chromium not found at ${CHROMIUM} (apt-get install -y chromium)`;

describe('dashboard webview', { skip, timeout: 180_000 }, () => {
  let server: Server;
  let origin: string;
  let browser: Browser;
  let view: OpenedView;
  let page: Page;
  const metrics = readMetrics();

  before(async () => {
    await buildWebviews();
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

  test('the three panels render real pixels and the header shows the run', async () => {
    for (const selector of [
      '#loss-canvas',
      '#assignment-heatmap-0',
      '#assignment-map-0',
      '#frame-raw',
      '#frame-masks',
      '#frame-attention',
      '#assignment-heatmap-1',
    ]) {
      const stats = await canvasStats(page, selector);
      assert.ok(stats.painted > stats.width * stats.height * 0.02, `${selector} is painted (${stats.painted} px)`);
      assert.ok(stats.colours >= 8, `${selector} has content, not a flat fill (${stats.colours} colours)`);
    }
    const frame = await canvasStats(page, '#frame-raw');
    assert.equal(frame.painted, frame.width * frame.height, 'the frame fills its canvas');
    assert.equal(await page.textContent('.run-name'), 'demo');
    assert.equal(await page.textContent('.status-pill'), 'finished');
    assert.equal(await page.textContent('#stat-step'), '240 / 240');
    assert.equal(await page.textContent('#stat-loss'), '7.843');
    assert.equal(await page.getAttribute('#loss-canvas', 'data-total-points'), String(metrics.length));
    assert.equal(await page.locator('.thumb').count(), 4, 'a filmstrip entry per frame of the clip');
    assert.ok(await page.isVisible('#anchor-badge'), 'frame 0 is marked as the anchor');
    await page.screenshot({ path: artifactPath('dashboard-dark.png'), fullPage: true });
  });

  test('hovering the loss chart reads out the logged value at that step', async () => {
    const canvas = page.locator('#loss-canvas');
    const box = await canvas.boundingBox();
    assert.ok(box);
    const data = await canvas.evaluate((c) => ({ ...(c as HTMLCanvasElement).dataset }));
    const target = metrics[60];
    const x =
      Number(data.plotLeft) + ((target.step - Number(data.xMin)) / (Number(data.xMax) - Number(data.xMin))) * Number(data.plotWidth);
    await page.mouse.move(box.x + x, box.y + 120);
    await page.waitForSelector('.chart-tooltip:not([hidden])');
    const tooltip = await page.$eval('.chart-tooltip', (t) => ({
      step: (t as HTMLElement).dataset.step,
      value: (t as HTMLElement).dataset.value,
      text: t.textContent,
    }));
    assert.equal(Number(tooltip.step), target.step);
    assert.equal(Number(tooltip.value), target.loss, 'the exact value from metrics.jsonl');
    assert.match(tooltip.text ?? '', new RegExp(`step ${target.step}`));
    assert.match(tooltip.text ?? '', new RegExp(target.loss.toPrecision(6).replace(/0+$/, '').replace('.', '\\.')));
    await page.locator('#loss-panel').screenshot({ path: artifactPath('dashboard-hover.png') });
    await page.mouse.move(0, 0);
  });

  test('hovering the assignment heat-map shows M* from assignment.f32', async () => {
    const heatmap = page.locator('#assignment-heatmap-0');
    const box = await heatmap.boundingBox();
    assert.ok(box);
    const layout = await heatmap.evaluate((c) => ({ ...(c as HTMLCanvasElement).dataset }));
    const assignment = readAssignment(225, 0);
    const objects = 3;
    for (const [patch, object] of [
      [37, 1],
      [0, 2],
      [63, 0],
    ]) {
      const x = Number(layout.labelWidth) + (patch + 0.5) * Number(layout.cellWidth);
      const y = (object + 0.5) * Number(layout.rowHeight);
      await page.mouse.move(box.x + x, box.y + y);
      const readout = await page.$eval('#assignment-readout-0', (r) => ({
        patch: (r as HTMLElement).dataset.patch,
        object: (r as HTMLElement).dataset.object,
        value: (r as HTMLElement).dataset.value,
        text: r.textContent,
      }));
      assert.equal(Number(readout.patch), patch);
      assert.equal(Number(readout.object), object);
      assert.equal(Number(readout.value), assignment[patch * objects + object], `M*[${patch}, ${object}]`);
      assert.match(readout.text ?? '', new RegExp(`patch ${patch} \\(row ${Math.floor(patch / 8)}, col ${patch % 8}\\)`));
    }
    await page.mouse.move(0, 0);
  });

  test('the frame scrubber changes the displayed frame (keys, buttons, filmstrip)', async () => {
    const before = await canvasStats(page, '#frame-raw');
    const beforeMasks = await canvasStats(page, '#frame-masks');
    await page.focus('.masks-panel .frame-slider');
    await page.keyboard.press('ArrowRight');
    await page.waitForSelector('.masks-panel[data-frame="1"]');
    const after = await canvasStats(page, '#frame-raw');
    assert.notEqual(after.hash, before.hash, 'another frame is drawn');
    assert.notEqual((await canvasStats(page, '#frame-masks')).hash, beforeMasks.hash);
    assert.ok(!(await page.isVisible('#anchor-badge')), 'the anchor badge is only on frame 0');
    await page.click('#thumb-3');
    await page.waitForSelector('.masks-panel[data-frame="3"]');
    await page.click('.masks-panel vscode-button[aria-label="Previous frame"]');
    await page.waitForSelector('.masks-panel[data-frame="2"]');
    // play advances on its own, pause stops it
    await page.click('.masks-panel vscode-button[aria-label="Play frames"]');
    await page.waitForFunction(() => document.querySelector('.masks-panel')?.getAttribute('data-frame') !== '2', undefined, {
      timeout: 3000,
    });
    await page.click('.masks-panel vscode-button[aria-label="Pause frames"]');
  });

  test('toggling an object changes the overlay and the assignment map', async () => {
    await page.click('#thumb-0');
    const masksBefore = await canvasStats(page, '#frame-masks');
    const mapBefore = await canvasStats(page, '#assignment-map-0');
    await page.click('#object-toggle-0');
    const masksAfter = await canvasStats(page, '#frame-masks');
    assert.notEqual(masksAfter.hash, masksBefore.hash, 'hiding object 0 changes the overlay');
    assert.notEqual((await canvasStats(page, '#assignment-map-0')).hash, mapBefore.hash);
    await page.click('#object-toggle-0');
    assert.equal((await canvasStats(page, '#frame-masks')).hash, masksBefore.hash, 'showing it again restores the overlay');
  });

  test('the step slider requests another snapshot and shows it when it arrives', async () => {
    await page.focus('#step-slider');
    await page.keyboard.press('ArrowLeft');
    await waitForPosted(page, (m) => m.type === 'requestSnapshot' && m.step === 200);
    assert.match((await page.textContent('#step-label')) ?? '', /step 200/);
    const before = await canvasStats(page, '#assignment-heatmap-0');
    await postToView(page, { type: 'setData', data: { snapshot: snapshotPayload(origin, 200) } });
    await page.waitForSelector('body[data-snapshot-rendered="200"]');
    assert.notEqual((await canvasStats(page, '#assignment-heatmap-0')).hash, before.hash, 'the step-200 assignment is drawn');
    assert.ok(
      !(await page.locator('#follow-latest').evaluate((e) => (e as HTMLElement & { checked: boolean }).checked)),
      'picking an older step stops following the latest',
    );
  });

  test('UI state survives a reload through setState/getState', async () => {
    // Pick lr in the metric dropdown, log-y, smoothing 0.9, frame 2, hide object 1.
    await page.click('#metric-picker');
    await page.click('#metric-picker vscode-option[value="lr"]');
    await page.waitForSelector('#loss-canvas[data-metric="lr"]');
    await page.click('#log-y');
    await page.$eval('#smoothing', (s) => {
      (s as HTMLInputElement).value = '0.9';
      s.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await page.click('#thumb-2');
    await page.click('#object-toggle-1');

    await page.reload();
    await waitForPosted(page, (m) => m.type === 'ready');
    assert.deepEqual(await posted(page), [{ type: 'ready' }], 'a fresh page says ready again');
    await postToView(page, { type: 'setData', data: dashboardState(origin) }); // the host re-sends the latest snapshot (225)
    await waitForPosted(page, (m) => m.type === 'requestSnapshot' && m.step === 200);
    await postToView(page, { type: 'setData', data: { snapshot: snapshotPayload(origin, 200) } });
    await page.waitForSelector('body[data-snapshot-rendered="200"]');
    assert.equal(await page.getAttribute('#loss-canvas', 'data-metric'), 'lr');
    assert.equal(await page.$eval('#smoothing', (s) => (s as HTMLInputElement).value), '0.9');
    assert.ok(await page.locator('#log-y').evaluate((e) => (e as HTMLElement & { checked: boolean }).checked));
    assert.equal(await page.getAttribute('.masks-panel', 'data-frame'), '2');
    assert.ok(!(await page.locator('#object-toggle-1').evaluate((e) => (e as HTMLElement & { checked: boolean }).checked)));
    await page.screenshot({ path: artifactPath('dashboard-restored-lr-log.png'), fullPage: true });
  });

  test('100 000 points: decimated drawing stays bounded, zoom and live append keep working', async () => {
    const generated = await page.evaluate(() => {
      const records = [];
      for (let step = 1; step <= 100_000; step++) {
        const loss =
          8 * Math.exp(-step / 30_000) + 0.3 * Math.sin(step / 700) + (step % 9973 === 0 ? 4 : 0) + (0.05 * ((step * 7919) % 101)) / 101;
        records.push({
          step,
          epoch: Math.floor(step / 10_000),
          time: '2026-01-01T00:00:00Z',
          loss,
          lr: 1e-4,
          wd: 0.04,
          momentum: 0.996,
          teacherTemp: 0.04,
          imgPerSec: 40,
          secPerStep: 1.2,
        });
      }
      const started = performance.now();
      window.postMessage({ type: 'setData', data: { metrics: records, metricsAppend: false } }, '*');
      return { count: records.length, started };
    });
    assert.equal(generated.count, 100_000);
    await page.click('#metric-picker');
    await page.click('#metric-picker vscode-option[value="loss"]');
    await page.waitForSelector('#loss-canvas[data-total-points="100000"][data-metric="loss"]');
    await page.click('#log-y'); // back to linear
    const plotWidth = Number(await page.getAttribute('#loss-canvas', 'data-plot-width'));
    const drawn = Number(await page.getAttribute('#loss-canvas', 'data-drawn-points'));
    assert.equal(await page.getAttribute('#loss-canvas', 'data-visible-points'), '100000');
    assert.ok(drawn > plotWidth, `something is drawn (${drawn})`);
    assert.ok(drawn <= 2 * 4 * (plotWidth + 2), `raw + smoothed ≤ 4 points per pixel column each (${drawn} for ${plotWidth} px)`);
    const stats = await canvasStats(page, '#loss-canvas');
    assert.ok(stats.painted > 5000);

    // Wheel-zoom in around the middle: fewer points in view, still bounded.
    const box = await page.locator('#loss-canvas').boundingBox();
    assert.ok(box);
    for (let i = 0; i < 4; i++) await page.mouse.wheel(0, -300);
    await page.mouse.move(box.x + box.width / 2, box.y + 150);
    for (let i = 0; i < 4; i++) await page.mouse.wheel(0, -300);
    await page.waitForFunction(() => Number(document.querySelector('#loss-canvas')?.getAttribute('data-visible-points')) < 100_000);
    assert.ok(Number(await page.getAttribute('#loss-canvas', 'data-drawn-points')) <= 2 * 4 * (plotWidth + 2));
    // Hover still finds the nearest of 100 000 points.
    await page.mouse.move(box.x + box.width / 2, box.y + 150);
    await page.waitForSelector('.chart-tooltip:not([hidden])');
    const step = Number(await page.$eval('.chart-tooltip', (t) => (t as HTMLElement).dataset.step));
    assert.ok(step > 1 && step < 100_000);
    // Live append while zoomed: the zoom is kept, the store grows.
    await postToView(page, {
      type: 'setData',
      data: {
        metricsAppend: true,
        metrics: [
          {
            step: 100_001,
            epoch: 10,
            time: '2026-01-01T00:00:00Z',
            loss: 0.5,
            lr: 1e-4,
            wd: 0.04,
            momentum: 0.996,
            teacherTemp: 0.04,
            imgPerSec: 40,
            secPerStep: 1.2,
          },
        ],
      },
    });
    await page.waitForSelector('#loss-canvas[data-total-points="100001"]');
    assert.ok(Number(await page.getAttribute('#loss-canvas', 'data-visible-points')) < 100_000, 'still zoomed');
    await page.locator('#loss-panel').screenshot({ path: artifactPath('dashboard-100k-zoomed.png') });
    await page.dblclick('#loss-canvas', { position: { x: box.width / 2, y: 150 } });
    await page.waitForSelector('#loss-canvas[data-visible-points="100001"]');
    await page.locator('#loss-panel').screenshot({ path: artifactPath('dashboard-100k.png') });
  });

  test('no CSP violations and no page errors', async () => {
    assert.deepEqual(await cspViolations(page), []);
    assert.deepEqual(view.errors, []);
  });
});

describe('dashboard webview: empty states, error banner, themes', { skip, timeout: 120_000 }, () => {
  let server: Server;
  let origin: string;
  let browser: Browser;

  before(async () => {
    await buildWebviews();
    ({ server, origin } = await startServer());
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    server?.close();
  });

  test('before any data: empty states for metrics and snapshots, and the error banner', async () => {
    const { page, errors } = await openView(browser, origin, 'dashboard');
    const state = dashboardState(origin);
    await postToView(page, {
      type: 'setData',
      data: {
        run: { ...state.run, statusHint: 'running' },
        status: { status: 'running', step: 0 },
        metrics: [],
        snapshotSteps: [],
        snapshot: null,
        snapshotEvery: 25,
        error: 'Trainer warning: backend fell back to wasm',
      },
    });
    await page.waitForSelector('.snapshot-empty .empty-title');
    assert.equal(await page.textContent('.snapshot-empty .empty-title'), 'No snapshot yet — the trainer writes one every 25 steps');
    assert.match((await page.textContent('.loss-chart .empty-title')) ?? '', /No metrics yet/);
    assert.equal(await page.textContent('[role="alert"].error-banner'), 'Trainer warning: backend fell back to wasm');
    await page.screenshot({ path: artifactPath('dashboard-empty.png'), fullPage: true });
    await postToView(page, { type: 'setData', data: { error: null, etaSeconds: 125 } });
    assert.ok(await page.locator('.error-banner').isHidden(), 'error: null clears the banner');
    assert.equal(await page.textContent('#stat-eta'), '2m 05s');
    assert.deepEqual(await cspViolations(page), []);
    assert.deepEqual(errors, []);
  });

  for (const theme of ['light', 'hc'] as const) {
    test(`${theme} theme renders the fixture run`, async () => {
      const { page, errors } = await openView(browser, origin, 'dashboard', theme);
      await postToView(page, { type: 'setData', data: dashboardState(origin) });
      await page.waitForSelector('body[data-snapshot-rendered="225"]');
      const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      assert.equal(background, theme === 'light' ? 'rgb(255, 255, 255)' : 'rgb(0, 0, 0)');
      assert.ok((await canvasStats(page, '#loss-canvas')).painted > 1000);
      assert.deepEqual(await cspViolations(page), []);
      assert.deepEqual(errors, []);
      await page.screenshot({ path: artifactPath(`dashboard-${theme}.png`), fullPage: true });
    });
  }
});
