// The compare webview in headless chromium: config diff, metrics with the best value marked, and
// side-by-side masks/attention of each checkpoint with one shared frame scrubber.
//
// The fixture run has no inspect-mode output, so each checkpoint's "inspection" is composed the way
// inspect mode writes one: snapshot 225's frames (the shared frames) with the tracker arrays of the
// checkpoint's own snapshot step. Same format, same files a real inspection would reference.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { evalMetrics, type AttentionManifest, type EvalSidecar } from '../../src/core/evalResults';
import type { CompareCheckpoint, SnapshotPayload } from '../../src/core/webviewMessages';
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
  readMetrics,
  REPO,
  RUN_DIR,
  snapshotPayload,
  startServer,
  waitForPosted,
  type OpenedView,
} from './harness';

const skip = chromiumAvailable() ? false : `chromium not found at ${CHROMIUM} (apt-get install -y chromium)`;

/** Snapshot `arraysStep`'s tracker arrays over the frames of snapshot 225. */
function inspectionFor(origin: string, arraysStep: number): SnapshotPayload {
  const frames = snapshotPayload(origin, 225);
  const arrays = snapshotPayload(origin, arraysStep);
  const uris = { ...frames.uris };
  for (const clip of arrays.manifest.clips)
    for (const ref of [clip.assignment, clip.attention, clip.masks]) uris[ref.file] = arrays.uris[ref.file];
  return { manifest: { ...frames.manifest, step: arraysStep }, uris };
}

describe('compare webview', { skip, timeout: 120_000 }, () => {
  let server: Server;
  let origin: string;
  let browser: Browser;
  let view: OpenedView;
  let page: Page;
  const config = JSON.parse(readFileSync(join(RUN_DIR, 'config.json'), 'utf8')) as Record<string, unknown> & {
    training: Record<string, unknown>;
    data: Record<string, unknown>;
  };
  const metrics = readMetrics();
  const metricsAt = (step: number) => metrics.filter((m) => m.step <= step).at(-1) ?? null;
  let checkpoints: CompareCheckpoint[];

  before(async () => {
    await buildWebviews();
    ({ server, origin } = await startServer());
    browser = await launchBrowser();
    view = await openView(browser, origin, 'compare');
    page = view.page;
    const tweaked = { ...config, training: { ...config.training, lr: 0.001 }, data: { ...config.data, maxFrames: 1024 } };
    checkpoints = [
      { id: 'demo@100', label: 'demo @ 100', step: 100, config, metrics: metricsAt(100), inspection: inspectionFor(origin, 100) },
      {
        id: 'demo-lr@225',
        label: 'demo (lr 1e-3) @ 225',
        step: 225,
        config: tweaked,
        metrics: metricsAt(225),
        inspection: inspectionFor(origin, 225),
      },
    ];
    await postToView(page, { type: 'setData', data: { title: 'demo: step 100 vs 225', checkpoints, error: null } });
    await page.waitForSelector('body[data-inspections-rendered="2"]');
  });

  after(async () => {
    await browser?.close();
    server?.close();
  });

  test('config diff shows only the differing keys, and all of them on request', async () => {
    const differing = await page.$$eval('#config-table tbody tr', (rows) => rows.map((r) => (r as HTMLElement).dataset.key));
    assert.deepEqual(differing, ['data.maxFrames', 'training.lr']);
    assert.ok(await page.$$eval('#config-table tbody tr', (rows) => rows.every((r) => r.classList.contains('differs'))));
    await page.click('#show-all-config');
    const all = await page.$$eval('#config-table tbody tr', (rows) => rows.length);
    assert.ok(all > 50, `all keys are listed (${all})`);
    assert.equal(await page.$$eval('#config-table tbody tr.differs', (rows) => rows.length), 2, 'still highlighted among all');
    assert.match((await page.textContent('#config-summary')) ?? '', /^2 of \d+ keys differ$/);
    await page.click('#show-all-config');
  });

  test('metrics table marks the best value per row', async () => {
    const loss = await page.$$eval('#metrics-table tr[data-metric="loss"] td', (cells) =>
      cells.map((c) => ({ text: c.textContent, best: c.classList.contains('best') })),
    );
    const [a, b] = [metricsAt(100), metricsAt(225)];
    assert.ok(a && b);
    assert.equal(loss[0].text, '↓ lower');
    const bestIndex = a.loss < b.loss ? 1 : 2;
    assert.deepEqual(
      loss.map((c) => c.best),
      [false, bestIndex === 1, bestIndex === 2],
    );
    const lr = await page.$$eval('#metrics-table tr[data-metric="lr"] td.best', (cells) => cells.length);
    assert.equal(lr, 0, 'a schedule has no best');
  });

  test('both checkpoints are drawn on the same frames and one scrubber moves them all', async () => {
    assert.equal(await page.locator('.frame-scrubber').count(), 1, 'exactly one scrubber');
    const before = await Promise.all(
      ['#cmp-raw', '#cmp-masks-0', '#cmp-masks-1', '#cmp-attention-0', '#cmp-attention-1'].map((s) => canvasStats(page, s)),
    );
    for (const stats of before) assert.ok(stats.painted === stats.width * stats.height && stats.colours > 8);
    assert.notEqual(before[1].hash, before[2].hash, 'different checkpoints, different masks');
    await page.screenshot({ path: artifactPath('compare-dark.png'), fullPage: true });

    await page.focus('.frame-slider');
    await page.keyboard.press('ArrowRight');
    await page.waitForSelector('#inspection-grid[data-frame="1"]');
    const after = await Promise.all(['#cmp-raw', '#cmp-masks-0', '#cmp-masks-1'].map((s) => canvasStats(page, s)));
    after.forEach((stats, i) => assert.notEqual(stats.hash, before[i].hash, `canvas ${i} follows the shared scrubber`));
    assert.ok(await page.locator('#cmp-anchor-badge').isHidden());
    // Hiding an object changes every checkpoint's overlay.
    await page.click('#object-toggle-2');
    const hidden = await Promise.all(['#cmp-masks-0', '#cmp-masks-1'].map((s) => canvasStats(page, s)));
    hidden.forEach((stats, i) => assert.notEqual(stats.hash, after[i + 1].hash));
    await page.click('#object-toggle-2');
  });

  test('more than two checkpoints, one still being inspected', async () => {
    const third: CompareCheckpoint = { id: 'demo@50', label: 'demo @ 50', step: 50, config, metrics: metricsAt(50), inspection: null };
    await postToView(page, { type: 'setData', data: { checkpoints: [...checkpoints, third] } });
    await page.waitForSelector('[data-checkpoint="demo@50"] .empty-title');
    assert.equal(await page.textContent('[data-checkpoint="demo@50"] .empty-title'), 'Inspecting…');
    assert.equal(await page.$$eval('#metrics-table thead th', (cells) => cells.length), 5, 'metric, direction and three checkpoints');
    await page.screenshot({ path: artifactPath('compare-three.png'), fullPage: true });
  });

  test('evaluation: results table with the best per row, attention maps side by side with a head picker, Evaluate asks the host', async () => {
    const evaluated = checkpoints.map((c, i) => {
      const name = i === 0 ? 'dino' : 'dora';
      const sidecar = JSON.parse(readFileSync(join(REPO, 'test/fixtures/eval', `${name}.eval.json`), 'utf8')) as EvalSidecar;
      const dir = `test/fixtures/eval/${name}.attention`;
      const manifest = JSON.parse(readFileSync(join(REPO, dir, 'manifest.json'), 'utf8')) as AttentionManifest;
      const uris = Object.fromEntries(
        [...manifest.frames.map((f) => f.png), manifest.attention.file].map((f) => [f, `${origin}/fixtures/eval/${name}.attention/${f}`]),
      );
      return { ...c, evaluation: evalMetrics(sidecar), attentionMaps: { manifest, uris } };
    });
    await postToView(page, { type: 'setData', data: { checkpoints: evaluated } });
    await page.waitForSelector('body[data-attention-rendered="2"]');
    const top1 = await page.$$eval('#evaluation-table tr[data-eval="knn:synthetic:top1@20"] td', (cells) =>
      cells.map((c) => ({ text: c.textContent ?? '', best: c.classList.contains('best') })),
    );
    const values = evaluated.map((c) => c.evaluation.find((m) => m.key === 'knn:synthetic:top1@20')!.value);
    assert.deepEqual(
      top1.map((c) => c.text),
      values.map((v) => `${v.toFixed(1)}%`),
    );
    assert.deepEqual(
      top1.map((c) => c.best),
      values.map((v) => v === Math.max(...values)),
    );
    const fashion = await page.$$eval('#evaluation-table tr[data-eval="knn:fashion-mnist:top1@20"] td', (cells) =>
      cells.map((c) => [c.textContent, c.classList.contains('best')]),
    );
    assert.equal(fashion[1][0], '—', 'a result one checkpoint lacks');
    assert.equal(fashion[0][1], false, 'one value is no contest');
    assert.ok(
      (await page.$$eval('#evaluation-table tr.group-row', (rows) => rows.map((r) => r.textContent))).includes(
        'Label propagation · synthetic objects',
      ),
    );

    const tiles = page.locator('#attention-grid canvas');
    assert.equal(await tiles.count(), 8, 'two checkpoints × four frames');
    const mean = await canvasStats(page, '#attention-grid .attention-row:nth-child(1) canvas');
    assert.ok(mean.painted === mean.width * mean.height && mean.colours > 8);
    await page.screenshot({ path: artifactPath('compare-evaluation.png'), fullPage: true });
    await page.click('#attention-head-picker');
    await page.click('#attention-head-picker vscode-option[value="1"]');
    await page.waitForFunction(
      (h) => (document.querySelector('#attention-head-picker') as HTMLElement & { value?: string })?.value === h,
      '1',
    );
    const head1 = await canvasStats(page, '#attention-grid .attention-row:nth-child(1) canvas');
    assert.notEqual(head1.hash, mean.hash, 'head 1 is drawn, not the mean');

    await page.click('#evaluate-button');
    await waitForPosted(page, (m) => m.type === 'evaluate');
  });

  test('evaluation: a k-NN over too few scenes shows its caveat (⚠ cell and a note row), standard errors beside the values', async () => {
    const sidecar = JSON.parse(readFileSync(join(REPO, 'test/fixtures/eval/dora.eval.json'), 'utf8')) as EvalSidecar;
    const fewScenes = (r: EvalSidecar['results'][string]) => {
      const knn = r.result as { scores: object[] };
      const scores = knn.scores.map((score) => ({ ...score, top1: 0, top1StdErr: 0 }));
      return { ...r, result: { ...knn, scores, folds: { count: 2, unit: 'scene', cv: true } } };
    };
    const results = Object.fromEntries(
      Object.entries(sidecar.results).map(([k, r]) => [k, r.suite === 'knn' && r.dataset === 'synthetic' ? fewScenes(r) : r]),
    );
    const evaluated = checkpoints.map((c, i) => ({
      ...c,
      evaluation: evalMetrics(i === 0 ? sidecar : { ...sidecar, results }),
      attentionMaps: undefined,
    }));
    await postToView(page, { type: 'setData', data: { checkpoints: evaluated } });
    await page.waitForSelector('#evaluation-table tr.caveat-row');
    const notes = await page.$$eval('#evaluation-table tr.caveat-row', (rows) => rows.map((r) => r.textContent ?? ''));
    assert.equal(notes.length, 1, 'one note: only the second checkpoint’s k-NN has too few scenes');
    assert.ok(notes[0].startsWith(`⚠ ${checkpoints[1].label}: only 2 scenes in the evaluated frames`), notes[0]);
    const cells = await page.$$eval('#evaluation-table tr[data-eval="knn:synthetic:top1@20"] td', (tds) =>
      tds.map((c) => ({ text: c.textContent ?? '', caveat: c.classList.contains('caveat'), title: c.getAttribute('title') ?? '' })),
    );
    assert.equal(cells[1].text, '0.0% ± 0.0 ⚠');
    assert.ok(cells[1].caveat && /only 2 scenes/.test(cells[1].title), 'the cell is marked and its tooltip says why');
    assert.ok(!cells[0].caveat && !cells[0].text.includes('⚠'), 'the other checkpoint’s value has no caveat');
    await page.screenshot({ path: artifactPath('compare-evaluation-caveat.png'), fullPage: true });

    // In a narrow panel the note wraps: the table is as wide with it as without it (seen in VS Code: a one-line note
    // widened the table and pushed the values out of view).
    await page.setViewportSize({ width: 640, height: 900 });
    const widths = await page.$eval('#evaluation-table', (table) => {
      const withNote = table.getBoundingClientRect().width;
      const rows = Array.from(table.querySelectorAll('tr.caveat-row'));
      rows.forEach((r) => ((r as HTMLElement).style.display = 'none'));
      const without = table.getBoundingClientRect().width;
      rows.forEach((r) => ((r as HTMLElement).style.display = ''));
      return { withNote, without };
    });
    assert.equal(widths.withNote, widths.without, `the note widened the table: ${JSON.stringify(widths)}`);
    await page.screenshot({ path: artifactPath('compare-evaluation-caveat-narrow.png'), fullPage: true });
    await page.setViewportSize({ width: 1360, height: 1000 }); // openView's default
  });

  test('no CSP violations and no page errors', async () => {
    assert.deepEqual(await cspViolations(page), []);
    assert.deepEqual(view.errors, []);
  });

  test('light theme', async () => {
    const light = await openView(browser, origin, 'compare', 'light');
    await postToView(light.page, { type: 'setData', data: { title: 'demo: step 100 vs 225', checkpoints, error: null } });
    await light.page.waitForSelector('body[data-inspections-rendered="2"]');
    await light.page.screenshot({ path: artifactPath('compare-light.png'), fullPage: true });
    assert.deepEqual(await cspViolations(light.page), []);
    assert.deepEqual(light.errors, []);
  });
});
