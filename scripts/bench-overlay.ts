// Benchmark of the overlay chart (webview/plots) in headless chromium: how long a live update (one record appended to
// each run) and a hover read-out take with 3 runs × 10^5 points, as a ratio against the same with 3 × 10^3 points
// measured in the same run (numbers on a shared machine are noisy; the ratio is what to compare).
// Usage: npx tsx scripts/bench-overlay.ts   → one JSON line.

import type { Page } from 'playwright-core';
import { buildWebviews, launchBrowser, openView, startServer } from '../test/webview/harness';

const RUNS = [0, 1, 2].map((i) => ({ id: `/bench/run-${i}`, label: `run ${i}`, status: 'finished', colorIndex: i }));

async function load(page: Page, points: number): Promise<void> {
  await page.evaluate(
    ({ runs, points }) => {
      const t0 = Date.parse('2026-01-01T00:00:00Z');
      const metrics: Record<string, unknown[]> = {};
      runs.forEach((run, r) => {
        const list: unknown[] = [];
        for (let step = 1; step <= points; step++)
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
      window.postMessage({ type: 'setData', data: { title: 'bench', runs, metrics, metricsAppend: false, error: null } }, '*');
    },
    { runs: RUNS, points },
  );
  await page.waitForSelector(`#overlay-chart[data-points="${points}"]`, { timeout: 120_000 });
}

// The page-side code is passed as strings: tsx would otherwise wrap named inner functions with a helper the page
// does not have.
const APPEND = `(({ runs, step }) => new Promise((resolve) => {
  const chart = document.querySelector('#overlay-chart');
  const before = Number(chart.getAttribute('data-draw-count'));
  const metrics = {};
  const time = new Date(Date.parse('2026-01-01T00:00:00Z') + step * 1000).toISOString();
  for (const run of runs) metrics[run.id] = [{ step, epoch: 0, time, loss: 1, lr: 1e-4, wd: 0.04, momentum: 0.996, teacherTemp: 0.04, imgPerSec: 40, secPerStep: 1 }];
  const t0 = performance.now();
  window.postMessage({ type: 'setData', data: { metrics, metricsAppend: true } }, '*');
  const poll = () => (Number(chart.getAttribute('data-draw-count')) > before ? resolve(performance.now() - t0) : requestAnimationFrame(poll));
  requestAnimationFrame(poll);
}))`;

const HOVER_DONE = `((previous) => new Promise((resolve) => {
  const poll = () => {
    const step = document.querySelector('#legend tr[data-hover-step]')?.getAttribute('data-hover-step');
    if (step && step !== previous) resolve(performance.now());
    else requestAnimationFrame(poll);
  };
  poll();
}))`;

/** Median ms from posting an append of one record per run to the chart having drawn it. */
async function appendMs(page: Page, points: number, repeats: number): Promise<number> {
  const times: number[] = [];
  for (let i = 1; i <= repeats; i++) times.push(await page.evaluate(`${APPEND}(${JSON.stringify({ runs: RUNS, step: points + i })})`));
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

/** Median ms from a mouse move over the chart to the legend showing every run's value there. */
async function hoverMs(page: Page, repeats: number): Promise<number> {
  const box = (await page.locator('#overlay-chart .u-over').boundingBox())!;
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    await page.mouse.move(box.x + 5, box.y + 5);
    await page.waitForFunction(() => document.querySelectorAll('#legend tr[data-hover-step]').length === 3);
    const previous = await page.getAttribute('#legend tr[data-hover-step]', 'data-hover-step');
    const started = await page.evaluate(() => performance.now());
    await page.mouse.move(box.x + box.width * (0.2 + (0.6 * i) / repeats), box.y + box.height / 2);
    const done: number = await page.evaluate(`${HOVER_DONE}(${JSON.stringify(previous)})`);
    times.push(done - started);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

async function main(): Promise<void> {
  await buildWebviews();
  const { server, origin } = await startServer();
  const browser = await launchBrowser();
  const result: Record<string, number | string> = {
    benchmark: 'overlay chart, 3 runs',
    machine: process.env.BENCH_MACHINE ?? 'unspecified',
  };
  try {
    for (const points of [1_000, 100_000]) {
      const { page } = await openView(browser, origin, 'plots');
      await load(page, points);
      result[`appendMs_${points}`] = Number((await appendMs(page, points, 15)).toFixed(1));
      result[`hoverMs_${points}`] = Number((await hoverMs(page, 15)).toFixed(1));
      await page.context().close();
    }
    result.appendRatio = Number(((result.appendMs_100000 as number) / (result.appendMs_1000 as number)).toFixed(2));
    result.hoverRatio = Number(((result.hoverMs_100000 as number) / (result.hoverMs_1000 as number)).toFixed(2));
    console.log(JSON.stringify(result));
  } finally {
    await browser.close();
    server.close();
  }
}

void main();
