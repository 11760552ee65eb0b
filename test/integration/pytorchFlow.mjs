// The PyTorch engine in a real VS Code (code-server): "DoRA: Start Run…" on a config with runtime.engine "pytorch"
// trains in the Python engine spawned by the extension host (the interpreter found by the extension's own search),
// the status bar and the dashboard say engine, device and precision, the run is in the Runs view with curves and
// masks; then "DoRA: Import Checkpoint (.pth)…" with the file pickers makes a run of an official-layout checkpoint
// (built here with torch, nothing downloaded) whose dashboard shows the imported model's masks.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openWorkbench, pickQuickItem, runPaletteCommand, waitForWebviewFrame, workbenchUrl } from './lib/codeServer.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what, probe, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(200);
  }
}

const readJson = (file) => {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
};
const runDirsIn = (dir) =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((n) => !n.startsWith('.'))
        .map((n) => join(dir, n))
    : [];
const ended = (runDir) => /"type":"(finished|stopped)"/.test(readFileSync(join(runDir, 'events.jsonl'), 'utf8'));

function pythonWithTorch() {
  for (const python of [process.env.DORA_PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean))
    if (spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) return python;
  throw new Error('no Python with torch for the PyTorch flow (install python3-torch)');
}

/** A workspace with a short video, a demo-preset config on the PyTorch engine, and an official-layout .pth. */
export function preparePytorchWorkspace(root, work) {
  const dir = join(work, 'ws-pytorch');
  mkdirSync(join(dir, 'media'), { recursive: true });
  const video = join(dir, 'media', 'walk.mp4');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=s=160x96:r=15:d=8', '-pix_fmt', 'yuv420p', video]);
  const runtime = { engine: 'pytorch', device: 'cpu', runsDir: 'runs', logEvery: 1, snapshotEvery: 2, checkpointEvery: 2 };
  writeFileSync(
    join(dir, 'torch.dora.json'),
    JSON.stringify({ name: 'torch', preset: 'demo', data: { video: 'media/walk.mp4' }, runtime }, null, 2),
  );
  const pth = join(dir, 'dora_official.pth');
  const env = { ...process.env, PYTHONPATH: [join(root, 'python'), join(root, 'python', 'tests')].join(':') };
  execFileSync(
    pythonWithTorch(),
    ['-c', 'import sys\nfrom test_import_pth import official_checkpoint\nofficial_checkpoint(sys.argv[1])', pth],
    {
      env,
    },
  );
  return { dir, video, pth, runsDir: join(dir, 'runs') };
}

/**
 * Types a path into code-server's file dialog (a quick input holding the current folder, with the command's open
 * label as its button) and accepts it. Waits for that button: a quick pick closing just before looks the same otherwise.
 */
async function answerFileDialog(page, file, openLabel) {
  const dialog = '.quick-input-widget:visible';
  await page.waitForSelector(`${dialog} .monaco-button:has-text("${openLabel}")`, { timeout: 30_000 });
  const input = `${dialog} .quick-input-box input`;
  const value = () => page.inputValue(input).catch(() => '');
  // The dialog fills in its folder once it has listed it; typing before that gets the folder put in front.
  await waitFor('the file dialog to show its folder', async () => (await value()).endsWith('/'), 30_000);
  await waitFor(
    `the dialog to hold ${file}`,
    async () => {
      await page.fill(input, file);
      await sleep(400);
      return (await value()) === file;
    },
    15_000,
  );
  await page.keyboard.press('Enter');
}

export async function pytorchFlows({ server, browser, check, root, artifacts, work, setPage }) {
  const ws = preparePytorchWorkspace(root, work);
  const page = await openWorkbench(browser, workbenchUrl(server.base, { folder: ws.dir, devPath: root }));
  setPage(page);
  let runDir;
  await check(
    'UI (PyTorch): "DoRA: Start Run…" on a runtime.engine "pytorch" config trains in the Python engine under the extension host',
    async () => {
      await runPaletteCommand(page, 'DoRA: Start Run…');
      await pickQuickItem(page, 'torch.dora.json');
      // A PyTorch config is asked how to start (local, torchrun or Slurm; the configured launcher first).
      await pickQuickItem(page, 'Local');
      runDir = await waitFor('the run folder', () => runDirsIn(ws.runsDir)[0], 120_000);
      const info = await waitFor(
        'run.json of the PyTorch engine',
        () => readJson(join(runDir, 'run.json'))?.device && readJson(join(runDir, 'run.json')),
        180_000,
      );
      if (info.engine !== 'pytorch' || info.device !== 'cpu' || info.precision !== 'fp32')
        throw new Error(`run.json: ${JSON.stringify(info)}`);
      const parent = Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${info.pid}/status`, 'utf8'))?.[1]);
      const parentCmd = readFileSync(`/proc/${parent}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (!/extensionHost|bootstrap-fork/.test(parentCmd)) throw new Error(`trainer ${info.pid} has parent ${parent} (${parentCmd})`);
      const cmd = readFileSync(`/proc/${info.pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (!/-m dora_studio train --run-dir/.test(cmd)) throw new Error(`trainer command line: ${cmd}`);
      await page.waitForSelector('.statusbar-item:has-text("pytorch · cpu · fp32")', { timeout: 120_000 });
      await page.screenshot({ path: join(artifacts, 'pytorch-run-status-bar.png') });
      await waitFor('the run to end', () => existsSync(join(runDir, 'events.jsonl')) && ended(runDir), 300_000);
    },
  );
  await check('UI (PyTorch): its dashboard says pytorch · cpu · fp32 and shows the loss, assignments and masks', async () => {
    const frame = await waitForWebviewFrame(page, 'body[data-view="dashboard"][data-snapshot-rendered]', 120_000);
    for (const id of ['#loss-panel', '#assignment-panel', '#masks-panel']) if (!(await frame.$(id))) throw new Error(`${id} missing`);
    await waitFor(
      'the engine in the header',
      async () => /pytorch · cpu · fp32/.test(await frame.$eval('header', (h) => h.textContent ?? '')),
      30_000,
    );
    await sleep(500);
    await page.screenshot({ path: join(artifacts, 'pytorch-run-dashboard.png') });
    await frame.$eval('#masks-panel', (el) => el.scrollIntoView());
    await sleep(300);
    await page.screenshot({ path: join(artifacts, 'pytorch-run-dashboard-masks.png') });
  });
  await check('UI (PyTorch): the run is listed in the Runs view', async () => {
    await page.click('.activitybar [aria-label="DoRA"]', { timeout: 30_000 }).catch(() => undefined);
    await page.waitForSelector(`.pane-body .monaco-list-row[aria-label*="${runDir.split('/').pop()}"]`, { timeout: 30_000 });
    await page.screenshot({ path: join(artifacts, 'pytorch-run-tree.png') });
  });
  await check(
    'UI (PyTorch): "DoRA: Import Checkpoint (.pth)…" with the file pickers → a run whose dashboard shows the imported model',
    async () => {
      const before = new Set(runDirsIn(ws.runsDir));
      await page.click('.part.sidebar .composite.title', { timeout: 5_000 }).catch(() => undefined);
      await runPaletteCommand(page, 'DoRA: Import Checkpoint');
      await answerFileDialog(page, ws.pth, 'Import');
      // The file dialog closes before the video pick opens: wait for the pick's own row, not any quick input.
      await page.waitForSelector('.quick-input-widget:visible .quick-input-list .monaco-list-row[aria-label*="Choose a video"]', {
        timeout: 30_000,
      });
      await pickQuickItem(page, 'Choose a video');
      await answerFileDialog(page, ws.video, 'Use Video');
      const imported = await waitFor(
        'the imported run',
        () => runDirsIn(ws.runsDir).find((d) => !before.has(d) && existsSync(join(d, 'snapshots', 'step-000000'))),
        180_000,
      );
      const frame = await waitForWebviewFrame(page, 'body[data-view="dashboard"][data-snapshot-rendered="0"]', 120_000);
      if (!(await frame.$('#masks-panel'))) throw new Error('#masks-panel missing');
      await page.waitForSelector(`.pane-body .monaco-list-row[aria-label*="${imported.split('/').pop()}"]`, { timeout: 30_000 });
      await sleep(500);
      await page.screenshot({ path: join(artifacts, 'pytorch-import-dashboard.png') });
    },
  );
  await page.context().close();
  await noTorchFlow({ server, browser, check, root, artifacts, work, setPage, video: ws.video });
}

/** A workspace whose dora.pythonPath is a Python without torch: Start Run is refused with the fix and a settings button. */
async function noTorchFlow({ server, browser, check, root, artifacts, work, setPage, video }) {
  const dir = join(work, 'ws-no-torch');
  mkdirSync(join(dir, '.vscode'), { recursive: true });
  const fake = join(dir, 'python-without-torch');
  const probe = JSON.stringify({ python: '3.11.7', torchError: "ModuleNotFoundError: No module named 'torch'", missing: {} });
  writeFileSync(fake, `#!/bin/sh\necho '${probe}'\n`);
  chmodSync(fake, 0o755);
  writeFileSync(join(dir, '.vscode', 'settings.json'), JSON.stringify({ 'dora.pythonPath': fake }));
  writeFileSync(
    join(dir, 'torch.dora.json'),
    JSON.stringify({ preset: 'demo', data: { video }, runtime: { engine: 'pytorch', runsDir: 'runs' } }),
  );
  const page = await openWorkbench(browser, workbenchUrl(server.base, { folder: dir, devPath: root }));
  setPage(page);
  await check(
    'UI (PyTorch): a Python without torch is refused with the fix and an "Open Settings" button to dora.pythonPath; no run starts',
    async () => {
      await runPaletteCommand(page, 'DoRA: Start Run…');
      await pickQuickItem(page, 'torch.dora.json');
      await pickQuickItem(page, 'Local'); // the launcher is asked before the interpreter is checked
      const toast = '.notification-toast:has-text("cannot import torch")';
      await page.waitForSelector(toast, { timeout: 60_000 });
      const text = await page.$eval(toast, (el) => el.textContent ?? '');
      if (!/Fix: Install PyTorch ≥ 1\.13 into this interpreter/.test(text)) throw new Error(`notification: ${text}`);
      await sleep(800); // the toast fades in
      await page.screenshot({ path: join(artifacts, 'pytorch-no-torch-error.png') });
      await page.click(`${toast} .monaco-button:has-text("Open Settings")`);
      await page.waitForSelector('.settings-editor .setting-item-title:has-text("Python Path")', { timeout: 30_000 });
      await sleep(500);
      await page.screenshot({ path: join(artifacts, 'pytorch-no-torch-settings.png') });
      if (existsSync(join(dir, 'runs')))
        throw new Error(`a run folder was created for a run that could not start: ${readdirSync(join(dir, 'runs'))}`);
    },
  );
  await page.context().close();
}
