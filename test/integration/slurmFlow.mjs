// The Slurm UI flow of `npm run test:integration`: a real single-node Slurm cluster (python/tests/slurm_cluster.py,
// ≈ 2 s, needs root) whose SLURM_CONF code-server passes to the extension host; "DoRA: Start Run" → the Slurm
// launcher on a 2-task demo config; the Runs view shows the job queued (a blocker job fills the node), running, then
// finished, with the curves in the dashboard. Screenshots: slurm-queued.png, slurm-running.png, slurm-finished.png,
// slurm-rank-log.png (docs/images/ keeps copies).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openWorkbench, pickQuickItem, runPaletteCommand, waitForWebviewFrame, workbenchUrl } from './lib/codeServer.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Starts the test cluster in `dir`; returns the environment its clients need. Throws with the helper's message. */
export function startSlurmCluster(root, dir) {
  const r = spawnSync('python3', [join(root, 'python', 'tests', 'slurm_cluster.py'), 'start', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`the Slurm test cluster did not start: ${r.stderr || r.stdout}`);
  return { SLURM_CONF: JSON.parse(r.stdout).SLURM_CONF };
}

export function stopSlurmCluster(root, dir) {
  spawnSync('python3', [join(root, 'python', 'tests', 'slurm_cluster.py'), 'stop', dir], { stdio: 'inherit' });
}

/** Workspace C: an 8 s test video and a demo-preset PyTorch config for 2 Slurm tasks on the CPU (3 steps). */
export function prepareSlurmWorkspace(work) {
  const ws = join(work, 'ws-slurm');
  rmSync(ws, { recursive: true, force: true });
  mkdirSync(join(ws, 'media'), { recursive: true });
  execFileSync('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=s=160x96:r=15:d=8',
    '-pix_fmt',
    'yuv420p',
    join(ws, 'media', 'walk.mp4'),
  ]);
  const config = {
    name: 'slurm-demo',
    preset: 'demo',
    data: { video: 'media/walk.mp4', maxFrames: 44 },
    runtime: {
      engine: 'pytorch',
      launcher: 'slurm',
      device: 'cpu',
      distributed: { nproc: 2, nodes: 1 },
      slurm: { partition: 'debug', time: '00:30:00' },
      logEvery: 1,
      snapshotEvery: 1,
      runsDir: 'runs',
    },
  };
  writeFileSync(join(ws, 'slurm-demo.dora.json'), JSON.stringify(config, null, 2));
  return ws;
}

/** The description of the run's row in the Runs view (status · Slurm job · step · loss). */
async function runRowText(page) {
  const row = page
    .locator('.pane-body .monaco-list-row')
    .filter({ has: page.locator('.label-name', { hasText: /^\d{8}-\d{6}-slurm-demo$/ }) });
  return (
    (await row
      .first()
      .locator('.label-description')
      .textContent({ timeout: 1000 })
      .catch(() => '')) ?? ''
  ).trim();
}

async function waitForRow(page, pattern, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await runRowText(page);
    if (pattern.test(text)) return text;
    if (Date.now() > deadline) throw new Error(`the run's row never matched ${pattern} (last: "${text}")`);
    await sleep(200);
  }
}

/** Drags the sidebar's sash, so that the Runs view's descriptions are legible in the screenshots. */
async function widenSidebar(page, by) {
  const box = await page.$eval('.part.sidebar', (el) => el.getBoundingClientRect().toJSON());
  await page.mouse.move(box.x + box.width + 1, 300);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width + by, 300, { steps: 5 });
  await page.mouse.up();
}

export async function slurmFlow({ server, browser, ws, env, root, artifacts, check, setPage }) {
  const page = await openWorkbench(browser, workbenchUrl(server.base, { folder: ws, devPath: root }));
  setPage(page);
  let blocker;
  await check('UI: "DoRA: Start Run" → Slurm submits the job; the Runs view shows it queued with its job id', async () => {
    await page.click('.activitybar [aria-label="DoRA"]', { timeout: 30_000 });
    await widenSidebar(page, 200);
    blocker = execFileSync('sbatch', ['--parsable', '--ntasks=4', '--wrap', 'sleep 600', '-o', '/dev/null'], {
      env,
      encoding: 'utf8',
    }).trim();
    await runPaletteCommand(page, 'DoRA: Start Run…');
    await pickQuickItem(page, 'slurm-demo.dora.json');
    await page.waitForSelector('.quick-input-widget:visible .quick-input-list .monaco-list-row[aria-label*="Slurm"]', { timeout: 60_000 });
    await sleep(300);
    await page.screenshot({ path: join(artifacts, 'slurm-launcher-pick.png') });
    await pickQuickItem(page, 'Slurm');
    await waitForRow(page, /^queued · Slurm job \d+/, 120_000);
    const row = page
      .locator('.pane-body .monaco-list-row')
      .filter({ has: page.locator('.label-name', { hasText: /^\d{8}-\d{6}-slurm-demo$/ }) });
    await row.first().locator('.label-name').hover();
    await page.waitForSelector('.monaco-hover:has-text("PENDING")', { timeout: 15_000 }).catch(() => undefined);
    await sleep(300);
    await page.screenshot({ path: join(artifacts, 'slurm-queued.png') });
    await page.mouse.move(900, 500);
  });
  await check('UI: once the node is free the job runs: running, then finished, with curves in the dashboard', async () => {
    if (blocker) execFileSync('scancel', [blocker], { env });
    await waitForRow(page, /^running · Slurm job \d+ · [1-9]/, 180_000);
    await waitForWebviewFrame(page, 'body[data-view="dashboard"]', 60_000);
    await sleep(1500);
    await page.screenshot({ path: join(artifacts, 'slurm-running.png') });
    await waitForRow(page, /^finished · Slurm job \d+ · 3\/3/, 180_000);
    await waitForWebviewFrame(page, 'body[data-view="dashboard"][data-snapshot-rendered]', 60_000);
    await sleep(1500);
    await page.screenshot({ path: join(artifacts, 'slurm-finished.png') });
    const runs = join(ws, 'runs');
    const runDir = join(runs, readdirSync(runs)[0]);
    const metrics = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n');
    if (metrics.length !== 3) throw new Error(`expected 3 metrics records, got ${metrics.length}`);
    if (!existsSync(join(runDir, 'logs', 'rank-1.log'))) throw new Error('no logs/rank-1.log');
  });
  await check('UI: "DoRA: Show Trainer Log" offers each rank and the job output', async () => {
    const row = page
      .locator('.pane-body .monaco-list-row')
      .filter({ has: page.locator('.label-name', { hasText: /^\d{8}-\d{6}-slurm-demo$/ }) });
    await row.first().click({ button: 'right' });
    const item = page.locator('.monaco-menu .action-label', { hasText: 'Show Trainer Log' }).first();
    await item.hover({ timeout: 15_000 });
    await sleep(300);
    await page.keyboard.press('Enter');
    await page.waitForSelector('.quick-input-widget:visible .quick-input-list .monaco-list-row[aria-label*="rank 1"]', { timeout: 30_000 });
    await sleep(300);
    await page.screenshot({ path: join(artifacts, 'slurm-rank-log.png') });
    await pickQuickItem(page, 'rank 1');
    await page.waitForSelector('.tab[aria-label*="rank-1.log"]', { timeout: 30_000 });
  });
  if (blocker) spawnSync('scancel', [blocker], { env });
  await page.context().close();
}

// `node test/integration/slurmFlow.mjs`: this flow alone (its own code-server and cluster), e.g. to renew the
// screenshots in docs/images/. Prints "N passed, N failed".
if (import.meta.url === `file://${process.argv[1]}`) {
  const { launchBrowser, startCodeServer } = await import('./lib/codeServer.mjs');
  const { dirname, resolve } = await import('node:path');
  const { fileURLToPath } = await import('node:url');
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const work = join(root, '.vscode-test', 'slurm-flow');
  const artifacts = join(root, 'test-artifacts', 'integration');
  mkdirSync(artifacts, { recursive: true });
  const clusterDir = join(work, 'cluster');
  const results = [];
  const env = startSlurmCluster(root, clusterDir);
  let server;
  let browser;
  let page;
  try {
    const ws = prepareSlurmWorkspace(work);
    const bin = join(root, '.vscode-test', 'code-server', 'node_modules', '.bin', 'code-server');
    server = await startCodeServer({ bin, work: join(work, 'server'), extensionsDir: join(work, 'server', 'exts'), env, folder: ws });
    browser = await launchBrowser();
    const check = async (name, fn) => {
      try {
        await fn();
        results.push(true);
        console.log(`  ✔ ${name}`);
      } catch (error) {
        results.push(false);
        await page?.screenshot({ path: join(artifacts, `slurm-failure-${results.length}.png`) }).catch(() => undefined);
        console.log(
          `  ✘ ${name}\n    ${String(error?.stack ?? error)
            .split('\n')
            .slice(0, 6)
            .join('\n    ')}`,
        );
      }
    };
    await slurmFlow({ server, browser, ws, env: { ...process.env, ...env }, root, artifacts, check, setPage: (p) => (page = p) });
  } finally {
    await browser?.close();
    await server?.stop();
    stopSlurmCluster(root, clusterDir);
  }
  const passed = results.filter(Boolean).length;
  console.log(`${passed} passed, ${results.length - passed} failed`);
  process.exit(passed === results.length && passed > 0 ? 0 : 1);
}
