// npm run test:integration: DoRA Studio inside a real VS Code (code-server 4.100.3), offline.
//  1. the mocha suite (suite/*.ts, tdd ui) in the extension host, loaded through the URL payload;
//  2. UI flows driven with playwright-core + Debian chromium: palette → trainer child → dashboard and
//     compare webviews (screenshots in test-artifacts/integration/);
//  3. the packaged .vsix installed with --install-extension, dashboard opened from the palette.
// Prints "N passed, N failed" and exits non-zero on any failure.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { zipEntryNames } from './lib/zipList.mjs';
import { pytorchFlows } from './pytorchFlow.mjs';
import { prepareSlurmWorkspace, slurmFlow, startSlurmCluster, stopSlurmCluster } from './slurmFlow.mjs';
import {
  installVsix,
  launchBrowser,
  openWorkbench,
  pickQuickItem,
  runExtensionTests,
  runPaletteCommand,
  startCodeServer,
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

/** Runs a palette command that answers with a quick pick, once more if its pick does not show up (a lost key press). */
async function commandWithQuickPick(page, title, pickRow) {
  for (let attempt = 1; ; attempt++) {
    await runPaletteCommand(page, title);
    try {
      await page.waitForSelector(pickRow, { timeout: 30_000 });
      return;
    } catch (error) {
      if (attempt === 2) throw error;
      console.log(`    (no quick pick after "${title}"; trying again)`);
      await page.keyboard.press('Escape');
    }
  }
}

/** Ticks a row of a multi-select quick pick (clicking its checkbox until the row reports checked). */
async function tickQuickPickRow(page, row) {
  await waitFor(
    `${row} to be ticked`,
    async () => {
      if ((await page.getAttribute(row, 'aria-checked', { timeout: 5_000 })) === 'true') return true;
      await page.click(`${row} .monaco-checkbox`, { timeout: 5_000 });
      await sleep(250);
      return (await page.getAttribute(row, 'aria-checked', { timeout: 5_000 })) === 'true';
    },
    10_000,
  );
}

/**
 * Runs a palette command whose first answer is a multi-select pick of checkpoints, ticks `<run> @ step N` for each of
 * `steps` (the run is the suite's demo run: the one with a step-8 checkpoint) and accepts. A quick pick closes when a
 * webview takes the focus (a dashboard finishing its loads did, once): then the whole pick is tried again.
 */
async function pickCheckpointsFromPalette(page, title, steps) {
  for (let attempt = 1; ; attempt++) {
    // Keyboard focus to the workbench, not a webview (F1 and Enter would go there).
    await page.click('.part.sidebar .composite.title', { timeout: 5_000 }).catch(() => undefined);
    await commandWithQuickPick(page, title, '.quick-input-widget:visible .quick-input-list .monaco-list-row[aria-label*=" @ step "]');
    const labels = await page.$$eval('.quick-input-list .monaco-list-row', (rows) => rows.map((r) => r.getAttribute('aria-label') ?? ''));
    const runId = labels.find((l) => / @ step 8,/.test(l))?.split(' @ ')[0];
    if (!runId) throw new Error(`no run with a step-8 checkpoint among: ${labels.join(' | ')}`);
    try {
      for (const step of steps)
        await tickQuickPickRow(
          page,
          `.quick-input-widget:visible .quick-input-list .monaco-list-row[aria-label^="${runId} @ step ${step},"]`,
        );
      await page.keyboard.press('Enter');
      return runId;
    } catch (error) {
      if (attempt === 2) throw error;
      console.log(`    (the checkpoint pick of "${title}" closed under the test; trying again)`);
      await page.keyboard.press('Escape');
    }
  }
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

async function uiFlows(server, browser, { wsA, wsB }) {
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
    for (const needed of [
      'extension/dist/trainer.js',
      'extension/media/dashboard.js',
      'extension/schemas/dora-config.schema.json',
      'extension/python/dora_studio/__main__.py',
      'extension/python/dora_studio/commands/train.py',
      'tfjs-backend-wasm-simd.wasm',
    ])
      if (!listing.includes(needed)) throw new Error(`${vsix} lacks ${needed}`);
    const work = join(WORK, 'vsix-server');
    const extensionsDir = join(work, 'exts');
    mkdirSync(extensionsDir, { recursive: true });
    installVsix(BIN, work, extensionsDir, vsix);
    const server = await startCodeServer({ bin: BIN, work, extensionsDir, folder: wsA });
    try {
      const page = await openWorkbench(browser, workbenchUrl(server.base, { folder: wsA }));
      await runPaletteCommand(page, 'DoRA: Open Dashboard');
      await pickQuickItem(page, FIXTURE_RUN);
      await waitForWebviewFrame(page, 'body[data-view="dashboard"][data-snapshot-rendered]');
      await sleep(500);
      await page.screenshot({ path: join(ARTIFACTS, 'vsix-dashboard.png') });
      await page.context().close();
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
