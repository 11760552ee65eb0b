// npm run test:integration: DoRA Studio inside a real VS Code (code-server 4.100.3), offline.
//  1. the mocha suite (suite/*.ts, tdd ui) in the extension host, loaded through the URL payload;
//  2. UI flows driven with playwright-core + Debian chromium: palette → trainer child → dashboard and
//     compare webviews (screenshots in test-artifacts/integration/);
//  3. the packaged .vsix installed with --install-extension, dashboard opened from the palette.
// Prints "N passed, N failed" and exits non-zero on any failure.
/* global document, performance, window */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { zipEntryNames } from './lib/zipList.mjs';
import { pytorchFlows } from './pytorchFlow.mjs';
import { prepareSlurmWorkspace, slurmFlow, startSlurmCluster, stopSlurmCluster } from './slurmFlow.mjs';
import {
  focusTrail,
  focusWorkbench,
  installVsix,
  launchBrowser,
  openWorkbench,
  pickQuickItem,
  runExtensionTests,
  runPaletteCommand,
  startCodeServer,
  waitForRestoredPhase,
  waitForWebviewFrame,
  workbenchUrl,
} from './lib/codeServer.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CODE_SERVER = join(ROOT, '.vscode-test', 'code-server');
const BIN = join(CODE_SERVER, 'node_modules', '.bin', 'code-server');
const ARTIFACTS = join(ROOT, 'test-artifacts', 'integration');
const WORK = join(ROOT, '.vscode-test', 'integration');
const FIXTURE_RUN = '20261126-114909-demo';
const skipVsix = process.argv.includes('--skip-vsix') || process.env.DORA_SKIP_VSIX === '1';
const suiteOnly = process.argv.includes('--suite-only');
/** Development: only the PyTorch engine's UI flows (pytorchFlow.mjs). */
const pytorchOnly = process.argv.includes('--pytorch-only');
const started = Date.now();
const results = [];
/** The page a UI check drives; screenshotted when the check fails. */
let currentPage;
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;

async function check(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`  ✔ ${name} (${Date.now() - t0} ms)`);
  } catch (error) {
    results.push({ name, ok: false });
    if (currentPage) await currentPage.screenshot({ path: join(ARTIFACTS, `failure-${results.length}.png`) }).catch(() => undefined);
    console.log(
      `  ✘ ${name}\n    ${String(error?.stack ?? error)
        .split('\n')
        .slice(0, 6)
        .join('\n    ')}`,
    );
  }
}

function ensureTools() {
  execFileSync('bash', [join(ROOT, 'scripts', 'setup-code-server.sh'), CODE_SERVER], { stdio: 'inherit' });
  if (!existsSync(join(ROOT, 'dist', 'extension.js')) || !existsSync(join(ROOT, 'media', 'dashboard.js')))
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'inherit' });
}

async function bundleSuite() {
  const outfile = join(WORK, 'suite', 'index.js');
  await build({
    entryPoints: [join(ROOT, 'test/integration/suite/index.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['vscode', 'mocha'],
    sourcemap: 'inline',
    logLevel: 'warning',
    nodePaths: [join(ROOT, 'node_modules')],
  });
  return outfile;
}

/** Workspace A: two configs (one invalid) and a copy of the fixture run; workspace B: empty. */
function prepareWorkspaces() {
  rmSync(WORK, { recursive: true, force: true });
  const wsA = join(WORK, 'ws-fixture');
  const wsB = join(WORK, 'ws-fresh');
  mkdirSync(join(wsA, 'runs'), { recursive: true });
  mkdirSync(wsB, { recursive: true });
  cpSync(join(ROOT, 'test', 'fixtures', 'runs', 'demo-run'), join(wsA, 'runs', FIXTURE_RUN), { recursive: true });
  // Three real runs that differ in one config key each, for Plot Runs, the runs table and export (issue 16).
  for (const name of readdirSync(join(ROOT, 'test', 'fixtures', 'experiments'))) {
    const source = join(ROOT, 'test', 'fixtures', 'experiments', name);
    if (!statSync(source).isDirectory()) continue;
    const { id } = JSON.parse(readFileSync(join(source, 'run.json'), 'utf8'));
    cpSync(source, join(wsA, 'runs', id), { recursive: true });
  }
  writeFileSync(
    join(wsA, 'experiment.dora.json'),
    JSON.stringify({ name: 'experiment', preset: 'cpu-small', data: { video: 'media/tour.mp4' }, runtime: { runsDir: 'runs' } }, null, 2),
  );
  writeFileSync(
    join(wsA, 'broken.dora.json'),
    JSON.stringify({ preset: 'demo', data: { video: 'x.mp4' }, training: { learningRate: 1 } }, null, 2),
  );
  return { wsA, wsB };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what, probe, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

function runDirsIn(runsDir) {
  return existsSync(runsDir)
    ? readdirSync(runsDir)
        .filter((n) => !n.startsWith('.'))
        .map((n) => join(runsDir, n))
    : [];
}

function ppidOf(pid) {
  return Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
}

/** Runs a palette command that answers with a quick pick, and waits for a row of that pick. */
async function commandWithQuickPick(page, title, pickRow) {
  await runPaletteCommand(page, title);
  try {
    await page.waitForSelector(pickRow, { timeout: 60_000 });
  } catch (error) {
    throw new Error(`${error.message}\n    focus changes before: ${await focusTrail(page)}`);
  }
}

/**
 * Ticks one row of a multi-select quick pick: types `filter`, waits until the one row left has an aria-label starting
 * with `prefix`, clicks its checkbox once and waits for the row to report itself checked. (Accepting keeps rows
 * ticked while another filter hid them.)
 */
async function tickQuickPickRow(page, filter, prefix) {
  await page.focus('.quick-input-widget:visible .quick-input-box input');
  await page.keyboard.press('Control+A');
  await page.keyboard.type(filter);
  const rows = '.quick-input-widget .quick-input-list .monaco-list-row';
  await page.waitForFunction(
    ({ rows, prefix }) => {
      const shown = [...document.querySelectorAll(rows)];
      return shown.length === 1 && (shown[0].getAttribute('aria-label') ?? '').startsWith(prefix);
    },
    { rows, prefix },
    { timeout: 30_000 },
  );
  // A hover left by an earlier pointer position ("Toggle all checkboxes") can cover the row's checkbox: move the pointer
  // away and let it go first.
  await page.mouse.move(2, 2);
  await page.waitForSelector('.workbench-hover', { state: 'hidden', timeout: 10_000 });
  await page.click(`${rows} .monaco-checkbox`, { timeout: 10_000 });
  await page.waitForSelector(`${rows}[aria-checked="true"]`, { timeout: 10_000 });
}

/**
 * Runs a palette command whose first answer is a multi-select pick of checkpoints, ticks `<run> @ step N` for each of
 * `steps` (the run is the suite's demo run: the one with a step-8 checkpoint) and accepts. Returns the run id.
 */
async function pickCheckpointsFromPalette(page, title, steps) {
  await commandWithQuickPick(page, title, '.quick-input-widget:visible .quick-input-list .monaco-list-row[aria-label*=" @ step "]');
  const labels = await page.$$eval('.quick-input-list .monaco-list-row', (rows) => rows.map((r) => r.getAttribute('aria-label') ?? ''));
  const runId = labels.find((l) => / @ step 8,/.test(l))?.split(' @ ')[0];
  if (!runId) throw new Error(`no run with a step-8 checkpoint among: ${labels.join(' | ')}`);
  for (const step of steps) await tickQuickPickRow(page, `${runId} @ step ${step}`, `${runId} @ step ${step},`);
  await page.keyboard.press('Enter');
  return runId;
}

/** "DoRA: Evaluate Checkpoint…" from the palette on `<run> @ step N` of the suite's demo run, default suites. Returns the run id. */
async function evaluateFromPalette(page, step) {
  const runId = await pickCheckpointsFromPalette(page, 'DoRA: Evaluate Checkpoint', [step]);
  // The suite pick: k-NN on synthetic objects, tracking and attention maps are ticked by default.
  await page.waitForSelector('.quick-input-widget:visible .quick-input-list .monaco-list-row[aria-label*="Tracking vs ground truth"]', {
    timeout: 30_000,
  });
  await page.keyboard.press('Enter');
  return runId;
}

/**
 * Regression check for a fresh-clone failure ("DoRA: Start Demo Run" missing from the palette): the palette hides a
 * command whose precondition is false, and `isWorkspaceTrusted` is only set by a Restored-phase workbench contribution,
 * which the workbench creates when the page is idle (`requestIdleCallback`) — seconds after the activity bar shows on
 * a loaded machine. DoRA's commands therefore carry no `enablement` (their handlers refuse in Restricted Mode, with an
 * explanation). To read the palette inside that window every time, the page's idle callbacks are held back until the
 * palette has been read; the check fails if the Restored-phase contributions exist by then (it could not test).
 */
async function paletteWhileRestoring(server, browser, folder) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  await context.addInitScript(() => {
    const original = window.requestIdleCallback.bind(window);
    window.__doraHoldIdle = true;
    window.requestIdleCallback = (callback, options) => {
      const wait = () => (window.__doraHoldIdle ? setTimeout(wait, 50) : original(callback, options));
      wait();
      return 0;
    };
  });
  const page = await context.newPage();
  currentPage = page;
  try {
    await page.goto(workbenchUrl(server.base, { folder, devPath: ROOT }));
    await page.waitForSelector('.activitybar [aria-label="DoRA"]', { timeout: 120_000 });
    await page.keyboard.press('F1');
    await page.waitForSelector('.quick-input-widget:visible', { timeout: 60_000 });
    await page.keyboard.type('DoRA: St');
    const rows = '.quick-input-widget .quick-input-list .monaco-list-row';
    await page.waitForSelector(`${rows}[aria-label*="DoRA: Stop Run"]`, { timeout: 60_000 });
    const [labels, restored] = await page.evaluate(
      (rows) => [
        [...document.querySelectorAll(rows)].map((r) => r.getAttribute('aria-label') ?? ''),
        performance.getEntriesByName('code/didCreateWorkbenchContributions/3').length > 0,
      ],
      rows,
    );
    if (restored) throw new Error('the Restored-phase contributions already exist: this check could not read the palette before them');
    for (const title of ['DoRA: Start Demo Run', 'DoRA: Start Run'])
      if (!labels.some((l) => l.startsWith(title))) throw new Error(`"${title}" is not in the palette; rows: ${labels.join(' | ')}`);
    // Released, the workbench completes its Restored phase (the hold did not break it).
    await page.evaluate(() => (window.__doraHoldIdle = false));
    await waitForRestoredPhase(page, 60_000);
  } finally {
    await context.close();
  }
}

async function uiFlows(server, browser, { wsA, wsB }) {
  await check('UI: the DoRA commands are in the palette while the workbench is still restoring (idle callbacks held)', () =>
    paletteWhileRestoring(server, browser, wsB),
  );
  // --- fresh workspace: palette → Start Demo Run → trainer child of the extension host → dashboard ---
  const page = await openWorkbench(browser, workbenchUrl(server.base, { folder: wsB, devPath: ROOT }));
  currentPage = page;
  await check('UI: "DoRA: Start Demo Run" from the palette forks the trainer under the extension host', async () => {
    await runPaletteCommand(page, 'DoRA: Start Demo Run');
    const runsDir = join(wsB, 'dora-demo', 'runs');
    const runDir = await waitFor('the demo run folder', () => runDirsIn(runsDir)[0], 120_000);
    const info = await waitFor('run.json with the trainer pid', () => {
      try {
        return JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8'));
      } catch {
        return undefined;
      }
    });
    const parent = ppidOf(info.pid);
    const parentCmd = readFileSync(`/proc/${parent}/cmdline`, 'utf8').replace(/\0/g, ' ');
    if (!/extensionHost|bootstrap-fork/.test(parentCmd))
      throw new Error(`trainer ${info.pid} has parent ${parent} (${parentCmd}), not an extension host`);
    await waitFor(
      'the run to end',
      () =>
        existsSync(join(runDir, 'events.jsonl')) && /"type":"(finished|stopped)"/.test(readFileSync(join(runDir, 'events.jsonl'), 'utf8')),
      120_000,
    );
  });
  await check('UI: the dashboard of the demo run renders loss, assignment and masks panels', async () => {
    const frame = await waitForWebviewFrame(page, 'body[data-view="dashboard"][data-snapshot-rendered]');
    for (const id of ['#loss-panel', '#assignment-panel', '#masks-panel']) if (!(await frame.$(id))) throw new Error(`${id} missing`);
    await sleep(500);
    await page.screenshot({ path: join(ARTIFACTS, 'demo-run-dashboard.png') });
  });
  await page.context().close();

  // --- fixture workspace: sidebar, dashboard of a finished run, compare of two checkpoints ---
  const pageA = await openWorkbench(browser, workbenchUrl(server.base, { folder: wsA, devPath: ROOT }));
  currentPage = pageA;
  await check('UI: the DoRA sidebar shows configs and runs', async () => {
    await pageA.click('.activitybar [aria-label="DoRA"]', { timeout: 30_000 });
    await pageA.waitForSelector(`.pane-body .monaco-list-row[aria-label*="${FIXTURE_RUN}"]`, { timeout: 30_000 });
    await pageA.waitForSelector('.pane-body .monaco-list-row[aria-label*="experiment.dora.json"]', { timeout: 30_000 });
    await pageA.screenshot({ path: join(ARTIFACTS, 'sidebar.png') });
  });
  await check('UI: "DoRA: Open Dashboard" shows the fixture run with its snapshot', async () => {
    await runPaletteCommand(pageA, 'DoRA: Open Dashboard');
    await pickQuickItem(pageA, FIXTURE_RUN);
    const frame = await waitForWebviewFrame(pageA, 'body[data-view="dashboard"][data-snapshot-rendered="225"]');
    for (const id of ['#loss-panel', '#assignment-panel', '#masks-panel']) if (!(await frame.$(id))) throw new Error(`${id} missing`);
    await sleep(500);
    await pageA.screenshot({ path: join(ARTIFACTS, 'fixture-dashboard.png') });
    await frame.$eval('#masks-panel', (el) => el.scrollIntoView());
    await sleep(300);
    await pageA.screenshot({ path: join(ARTIFACTS, 'fixture-dashboard-masks.png') });
  });
  await check('UI: "DoRA: Compare Checkpoints" on two checkpoints shows both inspections', async () => {
    // The suite resumed one demo run from step 4 to 8: tick both of its checkpoints in the multi-select pick.
    await pickCheckpointsFromPalette(pageA, 'DoRA: Compare Checkpoints', [4, 8]);
    const frame = await waitForWebviewFrame(pageA, 'body[data-view="compare"][data-inspections-rendered="2"]', 120_000);
    await sleep(500);
    await pageA.screenshot({ path: join(ARTIFACTS, 'compare.png') });
    await frame.$eval('#compare-clip-picker', (el) => el.scrollIntoView()).catch(() => undefined);
    await sleep(300);
    await pageA.screenshot({ path: join(ARTIFACTS, 'compare-masks.png') });
  });
  await check('UI: "DoRA: Evaluate Checkpoint…" from the palette shows progress, then the results table and attention maps', async () => {
    const evaluatedRun = await evaluateFromPalette(pageA, 8);
    await pageA.waitForSelector('.notification-toast:has-text("DoRA: evaluating")', { timeout: 30_000 });
    await sleep(1500);
    await pageA.screenshot({ path: join(ARTIFACTS, 'evaluate-progress.png') });
    const done = '.notification-toast:has-text("DoRA: evaluated")';
    await pageA.waitForSelector(done, { timeout: 300_000 });
    await pageA.click(`${done} .monaco-button:has-text("Show Results")`);
    const frame = await waitForWebviewFrame(pageA, 'body[data-view="compare"][data-attention-rendered="1"]', 120_000);
    const rows = await frame.$eval('body', (b) => Number(b.dataset.evaluationRows));
    if (!(rows >= 10)) throw new Error(`the evaluation table has ${rows} rows, expected k-NN and tracking rows`);
    await frame.$eval('#evaluation-panel', (el) => el.scrollIntoView());
    await sleep(500);
    await pageA.screenshot({ path: join(ARTIFACTS, 'evaluation.png') });
    await frame.$eval('#attention-panel', (el) => el.scrollIntoView());
    await sleep(300);
    await pageA.screenshot({ path: join(ARTIFACTS, 'evaluation-attention.png') });
    // The checkpoint's tree item carries the headline numbers; its tooltip the whole table.
    const runRow = `.pane-body .monaco-list-row[aria-label*="${evaluatedRun}"]`;
    if ((await pageA.getAttribute(runRow, 'aria-expanded')) !== 'true') await pageA.click(runRow);
    // Widen the sidebar (drag its sash) so the description is legible in the screenshot.
    const sash = await pageA.$('.part.sidebar + .monaco-sash, .monaco-sash.vertical');
    const box = await pageA.$eval('.part.sidebar', (el) => el.getBoundingClientRect().toJSON());
    if (sash) {
      await pageA.mouse.move(box.x + box.width + 1, 300);
      await pageA.mouse.down();
      await pageA.mouse.move(box.x + box.width + 260, 300, { steps: 5 });
      await pageA.mouse.up();
    }
    const checkpointRow = pageA
      .locator('.pane-body .monaco-list-row')
      .filter({ has: pageA.locator('.label-name', { hasText: /^step 8$/ }) });
    await waitFor(
      'the step-8 checkpoint row to show its k-NN result',
      async () =>
        /k-NN \d/.test(
          (await checkpointRow
            .locator('.label-description')
            .textContent({ timeout: 1000 })
            .catch(() => '')) ?? '',
        ),
      30_000,
    );
    await checkpointRow.locator('.label-name').hover();
    await pageA.waitForSelector('.monaco-hover:has-text("Label propagation")', { timeout: 15_000 }).catch(() => undefined);
    await sleep(300);
    await pageA.screenshot({ path: join(ARTIFACTS, 'evaluation-tree.png') });
    await pageA.mouse.move(700, 400);
  });
  await check('UI: Cancel in the evaluation notification stops it; nothing half-done is stored', async () => {
    const runId = await evaluateFromPalette(pageA, 4);
    const cancel = '.notification-toast:has-text("DoRA: evaluating") .monaco-button:has-text("Cancel")';
    await pageA.waitForSelector(cancel, { timeout: 30_000 });
    await pageA.click(cancel);
    await pageA.waitForSelector('.notification-toast:has-text("evaluation cancelled")', { timeout: 30_000 });
    const evalFile = join(wsA, 'dora-demo', 'runs', runId, 'checkpoints', 'step-000004.eval.json');
    const stored = existsSync(evalFile) ? Object.values(JSON.parse(readFileSync(evalFile, 'utf8')).results).map((r) => r.suite) : [];
    if (stored.includes('tracking') || stored.includes('attention'))
      throw new Error(`suites after the cancelled k-NN ran anyway: ${stored.join(', ')}`);
  });
  await pageA.context().close();
  currentPage = undefined;
}

/** Docs pictures (docs/images/) come from these checks: copied when the check that takes them passes. */
const DOCS_IMAGES = join(ROOT, 'docs', 'images');

async function docsShot(page, name) {
  await page.screenshot({ path: join(ARTIFACTS, name) });
  if (process.env.DORA_UPDATE_DOCS_IMAGES === '1') cpSync(join(ARTIFACTS, name), join(DOCS_IMAGES, name));
}

/**
 * Runs the context-menu entry `label` with the keyboard: Arrow Down until that entry has the focus, then Enter (a
 * click on a menu that has just opened can be swallowed; the keyboard path is deterministic).
 */
async function chooseFromContextMenu(page, label) {
  const items = '.context-view .monaco-menu .action-item:not(.disabled) .action-label:not(.separator)';
  await page.waitForSelector(`${items}:text-is("${label}")`, { timeout: 10_000 });
  const count = await page.locator(items).count();
  for (let i = 0; i <= count; i++) {
    const focused = await page
      .locator('.context-view .monaco-menu .action-item.focused .action-label')
      .textContent({ timeout: 1_000 })
      .catch(() => null);
    if (focused === label) {
      await page.keyboard.press('Enter');
      await page.waitForSelector('.context-view .monaco-menu', { state: 'detached', timeout: 10_000 });
      return;
    }
    await page.keyboard.press('ArrowDown');
  }
  throw new Error(`the context menu has no focusable "${label}"`);
}

/** The run rows of the Runs view whose label contains `text`. */
const runRow = (text) => `.pane-body .monaco-list-row[aria-label*="${text}"]`;

/** Issue 16 from the UI: Plot Runs on a multi-selection, the runs table, export to SVG, the walkthrough, ▶ on a config. */
async function experimentFlows(server, browser, { wsA }) {
  const page = await openWorkbench(browser, workbenchUrl(server.base, { folder: wsA, devPath: ROOT }));
  currentPage = page;
  await check(
    'UI: three runs selected in the Runs view → "Plot Runs" overlays them with a legend and every run’s value at the cursor',
    async () => {
      await page.click('.activitybar [aria-label="DoRA"]', { timeout: 30_000 });
      const rows = ['20261204-195427-demo', '20261204-193325-dino-baseline', '20261204-193640-lr-x4'];
      await page.waitForSelector(runRow(rows[2]), { timeout: 30_000 });
      // One run's menu: Rename, and Star or Unstar as it is (a multi-selection shows only what applies to every run).
      await page.click(runRow(rows[2]), { button: 'right' });
      for (const label of ['Rename Run…', 'Star Run', 'Delete Run…', 'Plot Runs'])
        await page.waitForSelector(`.context-view .action-label:text-is("${label}")`, { timeout: 10_000 });
      await page.keyboard.press('Escape');
      await page.waitForSelector('.context-view .monaco-menu', { state: 'detached', timeout: 10_000 });
      await page.click(runRow(rows[0]));
      await page.click(runRow(rows[1]), { modifiers: ['Control'] });
      await page.click(runRow(rows[2]), { modifiers: ['Control'] });
      await page.waitForFunction((sel) => document.querySelectorAll(sel).length === 3, '.pane-body .monaco-list-row.selected');
      await page.click(runRow(rows[2]), { button: 'right' });
      await chooseFromContextMenu(page, 'Plot Runs');
      const frame = await waitForWebviewFrame(page, 'body[data-runs="3"] #overlay-chart[data-runs="3"] canvas', 60_000);
      const box = await (await frame.$('#overlay-chart .u-over')).boundingBox();
      await page.mouse.move(box.x + box.width * 0.55, box.y + box.height * 0.5);
      await frame.waitForFunction(() => document.querySelectorAll('#legend tr[data-hover-step]').length === 3, null, { timeout: 10_000 });
      await sleep(300);
      await docsShot(page, 'plots-in-vscode.png');
      await page.mouse.move(10, 450);
    },
  );
  await check('UI: "DoRA: Show Runs Table" sorts by best loss and selects two runs', async () => {
    await runPaletteCommand(page, 'Notifications: Clear All Notifications');
    await runPaletteCommand(page, 'DoRA: Show Runs Table');
    const frame = await waitForWebviewFrame(page, 'body[data-rows="7"], body[data-rows="6"], body[data-rows="5"]', 60_000);
    await frame.click('th button[data-column="metric:loss:best"]');
    await frame.waitForSelector('th[aria-sort="ascending"] button[data-column="metric:loss:best"]');
    // The table re-renders when the runs folders change: address the boxes by locator, not by element handle.
    await frame.locator('#runs-table tbody tr .row-select').nth(0).check();
    await frame.locator('#runs-table tbody tr .row-select').nth(1).check();
    await frame.waitForSelector('body[data-selected="2"]');
    await sleep(300);
    await docsShot(page, 'runs-table-in-vscode.png');
  });
  await check('UI: "DoRA: Export Chart…" saves the overlay as SVG; the SVG opens in Chromium', async () => {
    await page.click('.tabs-container .tab:has-text("DoRA: 3 runs")', { timeout: 10_000 });
    await waitForWebviewFrame(page, 'body[data-runs="3"]', 30_000);
    await runPaletteCommand(page, 'DoRA: Export Chart');
    await pickQuickItem(page, 'SVG');
    // code-server's save dialog is a quick input holding the suggested path: accept it.
    const target = join(wsA, 'loss-of-3-runs.svg');
    await page.waitForSelector('.quick-input-widget:visible input', { timeout: 30_000 });
    await page.waitForFunction(() => document.querySelector('.quick-input-widget input')?.value.endsWith('loss-of-3-runs.svg'), null, {
      timeout: 30_000,
    });
    await page.keyboard.press('Enter');
    await waitFor('the exported SVG', () => existsSync(target), 30_000);
    await page.waitForSelector('.notification-toast:has-text("exported loss-of-3-runs.svg")', { timeout: 30_000 });
    const viewer = await (await browser.newContext({ viewport: { width: 1400, height: 520 } })).newPage();
    await viewer.goto(`file://${target}`);
    await viewer.waitForSelector('svg path');
    const paths = await viewer.$$eval('svg path', (ps) => ps.length);
    if (paths !== 6) throw new Error(`the SVG has ${paths} curves, expected raw and smoothed for 3 runs`);
    await docsShot(viewer, 'export-svg-in-chromium.png');
    await viewer.context().close();
  });
  await check('UI: the walkthrough "Get started with DoRA Studio" opens with its four steps', async () => {
    await runPaletteCommand(page, 'Notifications: Clear All Notifications');
    await runPaletteCommand(page, 'Welcome: Open Walkthrough');
    await pickQuickItem(page, 'Get started with DoRA Studio');
    await page.waitForSelector('.getting-started-category .category-title:has-text("Get started with DoRA Studio")', { timeout: 30_000 });
    for (const step of ['Start the demo run', 'Watch it train', 'Compare runs', 'Evaluate a checkpoint'])
      await page.waitForSelector(`.getting-started-step .step-title:has-text("${step}")`, { timeout: 10_000 });
    await page.click('.getting-started-step .step-title:has-text("Compare runs")');
    await sleep(800);
    await docsShot(page, 'walkthrough-in-vscode.png');
  });
  await check(
    'UI: the editor-title ▶ of an open *.dora.json runs Start Run on that config (a missing video: refused, no folder)',
    async () => {
      await runPaletteCommand(page, 'Go to File');
      await pickQuickItem(page, 'experiment.dora.json');
      const play = '.editor-actions .action-label[aria-label^="DoRA: Start Run"], .editor-actions .action-label[aria-label^="Start Run"]';
      await page.waitForSelector(play, { timeout: 30_000 });
      const before = runDirsIn(join(wsA, 'runs'));
      await page.click(play);
      // Start Run of experiment.dora.json: its video is not there, so the start is refused before any run folder is made
      // (src/host/runs/commands.ts startRun), with the config, the field and the fix.
      const refusal = `Cannot start a run: ${join(wsA, 'experiment.dora.json')}: $.data.video: ${join(wsA, 'media', 'tour.mp4')} does not exist`;
      await page.waitForSelector(`.notification-toast:has-text(${JSON.stringify(refusal)})`, { timeout: 60_000 });
      const after = runDirsIn(join(wsA, 'runs'));
      if (after.join() !== before.join())
        throw new Error(`a refused start created run folders: ${after.filter((d) => !before.includes(d)).join(', ')}`);
      await sleep(800); // the toast slides in: let the picture show it whole
      await page.screenshot({ path: join(ARTIFACTS, 'editor-title-start-run.png') });
    },
  );
  await page.context().close();
  currentPage = undefined;
}

async function vsixFlow(browser, { wsA }) {
  await check('VSIX: npm run package builds a lean .vsix that installs with --install-extension and opens the dashboard', async () => {
    execFileSync(process.execPath, ['scripts/package-vsix.mjs', '--no-build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    const vsixDir = join(ROOT, '.vscode-test', 'vsix');
    const vsix = readdirSync(vsixDir)
      .filter((f) => f.endsWith('.vsix'))
      .map((f) => join(vsixDir, f))
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
    const megabytes = statSync(vsix).size / 1e6;
    if (megabytes > 30) throw new Error(`${vsix} is ${megabytes.toFixed(1)} MB; the .vscodeignore whitelist leaks files`);
    const listing = zipEntryNames(vsix)
      .map((name) => ` ${name}`)
      .join('\n');
    for (const forbidden of [
      / extension\/src\//,
      / extension\/test\//,
      / extension\/demo-workspace\//,
      / extension\/\.cache\//,
      /\.map$/m,
      /\.ts$/m,
    ]) {
      const hit = listing.split('\n').find((line) => forbidden.test(line));
      if (hit) throw new Error(`${vsix} contains ${hit.trim()}`);
    }
    const readmeImages = [...readFileSync(join(ROOT, 'README.md'), 'utf8').matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]);
    for (const needed of [
      'extension/dist/trainer.js',
      'extension/media/dashboard.js',
      'extension/media/plots.js',
      'extension/media/runsTable.js',
      'extension/media/icon.png',
      'extension/LICENSE',
      'extension/schemas/dora-config.schema.json',
      'extension/python/dora_studio/__main__.py',
      'extension/python/dora_studio/commands/train.py',
      'tfjs-backend-wasm-simd.wasm',
      ...readmeImages.map((image) => `extension/${image}`),
    ])
      if (!listing.includes(needed)) throw new Error(`${vsix} lacks ${needed}`);
    const work = join(WORK, 'vsix-server');
    const extensionsDir = join(work, 'exts');
    mkdirSync(extensionsDir, { recursive: true });
    installVsix(BIN, work, extensionsDir, vsix);
    const server = await startCodeServer({ bin: BIN, work, extensionsDir, folder: wsA });
    try {
      const page = await openWorkbench(browser, workbenchUrl(server.base, { folder: wsA }));
      currentPage = page;
      await runPaletteCommand(page, 'DoRA: Open Dashboard');
      await pickQuickItem(page, FIXTURE_RUN);
      await waitForWebviewFrame(page, 'body[data-view="dashboard"][data-snapshot-rendered]');
      await sleep(500);
      await page.screenshot({ path: join(ARTIFACTS, 'vsix-dashboard.png') });
      // The installed extension's page shows the README with its pictures as absolute https URLs of the repository (a
      // relative link does not resolve there). They cannot load here, offline: the check is that every one is such a URL
      // of a file that exists in this checkout (published with the repository).
      await focusWorkbench(page);
      await page.keyboard.press('Control+Shift+X'); // the Extensions view, its search box focused
      await page.waitForSelector('.extensions-viewlet .suggest-input-container .monaco-editor.focused', { timeout: 30_000 });
      await page.keyboard.type('@installed DoRA');
      await page.click('.extensions-viewlet .monaco-list-row[aria-label*="DoRA Studio"]', { timeout: 30_000 });
      const readme = await waitForWebviewFrame(page, 'img[src*="dashboard-in-vscode.png"]', 60_000);
      const sources = await readme.$$eval('img', (images) => images.map((img) => img.getAttribute('src') ?? ''));
      const base = `${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).repository.url.replace(/\.git$/, '')}/raw/HEAD/`;
      const pictures = sources.filter((src) => src.includes('/docs/images/'));
      if (pictures.length !== readmeImages.length)
        throw new Error(`the extension page shows ${pictures.length} README pictures: ${sources.join(', ')}`);
      for (const src of pictures) {
        if (!src.startsWith(`${base}docs/images/`)) throw new Error(`README picture ${src} is not an absolute URL under ${base}`);
        if (!existsSync(join(ROOT, src.slice(base.length)))) throw new Error(`README picture ${src} has no file in the repository`);
      }
      await page.screenshot({ path: join(ARTIFACTS, 'vsix-extension-page.png') });
      await page.context().close();
      currentPage = undefined;
    } finally {
      await server.stop();
    }
  });
}

async function main() {
  ensureTools();
  const workspaces = prepareWorkspaces();
  mkdirSync(ARTIFACTS, { recursive: true });
  const suite = await bundleSuite();
  const resultsFile = join(WORK, 'mocha-results.json');
  // A real Slurm cluster for the Slurm flow (its clients find it through SLURM_CONF, passed to the extension host).
  const clusterDir = join(WORK, 'slurm-cluster');
  let slurmEnv = {};
  let slurmProblem;
  if (!suiteOnly && !pytorchOnly)
    try {
      slurmEnv = startSlurmCluster(ROOT, clusterDir);
    } catch (error) {
      slurmProblem = error; // reported as the flow's failure below
    }
  const env = { DORA_STUDIO_MAX_STEPS: '4', DORA_STUDIO_DEMO_SECONDS: '6', DORA_TEST_RESULTS: resultsFile, ...slurmEnv };
  const server = await startCodeServer({
    bin: BIN,
    work: join(WORK, 'server'),
    extensionsDir: join(WORK, 'server', 'exts'),
    env,
    folder: workspaces.wsA,
  });
  const browser = await launchBrowser();
  try {
    if (pytorchOnly)
      await pytorchFlows({ server, browser, check, root: ROOT, artifacts: ARTIFACTS, work: WORK, setPage: (p) => (currentPage = p) });
    else await allChecks(server, browser, workspaces, suite, resultsFile, { env: slurmEnv, problem: slurmProblem });
  } finally {
    await browser.close();
    await server.stop();
    if (!suiteOnly && !pytorchOnly) stopSlurmCluster(ROOT, clusterDir);
  }
  summary();
}

async function allChecks(server, browser, workspaces, suite, resultsFile, slurmCluster) {
  console.log(`code-server ${server.base} (log ${server.log}); starting the extension-host suite at ${elapsed()}`);
  const code = await runExtensionTests(
    browser,
    workbenchUrl(server.base, { folder: workspaces.wsA, devPath: ROOT, testsPath: suite }),
    300_000,
    console.log,
    join(ARTIFACTS, 'extension-host-suite.png'),
  );
  const mocha = existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, 'utf8')) : { passes: 0, failures: 1 };
  for (let i = 0; i < mocha.passes; i++) results.push({ name: `mocha ${i}`, ok: true });
  for (let i = 0; i < mocha.failures; i++) results.push({ name: `mocha failure ${i}`, ok: false });
  if (code !== 0 && mocha.failures === 0) results.push({ name: `extension tests exited with ${code}`, ok: false });
  console.log(`extension-host suite exited with ${code} at ${elapsed()}`);
  if (!suiteOnly) {
    console.log('UI flows:');
    await uiFlows(server, browser, workspaces);
    await experimentFlows(server, browser, workspaces);
    console.log(`PyTorch engine UI flows at ${elapsed()}:`);
    await pytorchFlows({ server, browser, check, root: ROOT, artifacts: ARTIFACTS, work: WORK, setPage: (p) => (currentPage = p) });
    console.log(`Slurm UI flow at ${elapsed()}:`);
    const setPage = (p) => (currentPage = p);
    const slurm = { server, browser, env: { ...process.env, ...slurmCluster.env }, root: ROOT, artifacts: ARTIFACTS, check, setPage };
    if (slurmCluster.problem) await check('UI: Start Run → Slurm on the test cluster', () => Promise.reject(slurmCluster.problem));
    else await slurmFlow({ ...slurm, ws: prepareSlurmWorkspace(WORK) });
    currentPage = undefined;
  }
  await server.stop();
  if (!skipVsix && !suiteOnly) {
    console.log(`packaged extension at ${elapsed()}:`);
    await vsixFlow(browser, workspaces);
  }
}

function summary() {
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  console.log(`integration suite took ${elapsed()}; screenshots in ${ARTIFACTS}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

main().catch((error) => {
  console.error(error);
  console.log('0 passed, 1 failed');
  process.exit(2);
});
