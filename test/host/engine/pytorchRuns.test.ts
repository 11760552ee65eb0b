// PyTorch runs through the run manager and the engine client: an unfit Python is refused before anything exists (no
// run folder, no "starting" run), a fit one trains in two stages (the folder readied by `prepare-run`, then the
// engine's own command line), a failed or stopped preparation leaves no folder, and a resume reuses its folder.
// The TF.js engine and the Python engine are fakes (test/host/fixtures/fakeJsonLinesEngine.mjs, test/core/fakePython).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import type { PythonRequirements } from '../../../src/core/node/pythonEngine';
import { PythonEngineError } from '../../../src/core/node/pythonEngine';
import { EngineClient } from '../../../src/host/engine/engineClient';
import { pythonInterpreterResolver } from '../../../src/host/engine/pythonHost';
import { statusBarText } from '../../../src/host/runs/runStatusText';
import { RunManager, type StartRunOptions } from '../../../src/host/runs/runManager';
import { brokenPython, fakePython, GOOD, MISSING_PYTHON } from '../../core/node/fakePython';
import { FAKE_ENGINE } from './fakeEngine';

function setup(python: string, mode = 'normal') {
  const work = mkdtempSync(path.join(tmpdir(), 'dora-pytorch-runs-'));
  const argvFile = path.join(work, 'engine-argv.json');
  const engines = new EngineClient({
    launch: () => ({ transport: 'json-lines', command: process.execPath, args: [FAKE_ENGINE] }),
    python: {
      packageDir: path.join(work, 'python'),
      interpreter: pythonInterpreterResolver({ setting: () => python, fromExtension: async () => undefined }),
    },
    env: { ...process.env, FAKE_ENGINE_MODE: mode, FAKE_ENGINE_ARGV_FILE: argvFile },
  });
  const manager = new RunManager({ engines, stopGraceMs: 2000, killGraceMs: 500 });
  const runsDir = path.join(work, 'runs');
  const run = (extra: Partial<StartRunOptions> = {}) =>
    manager.start({ configPath: path.join(work, 'a.dora.json'), runsDir, name: 'torch', engine: 'pytorch', ...extra });
  return { work, argvFile, manager, runsDir, run };
}

const folders = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);

test('an unfit Python is refused before anything exists: no run folder, no run in the manager', async () => {
  const cases: [string, PythonRequirements, RegExp][] = [
    [MISSING_PYTHON, {}, /not found/],
    [fakePython({ python: '3.11.7', torchError: "ModuleNotFoundError: No module named 'torch'", missing: {} }), {}, /cannot import torch/],
    [fakePython({ ...GOOD, torch: '1.12.0' }), {}, /needs torch ≥ 1\.13/],
    [fakePython({ ...GOOD, missing: { PIL: "ModuleNotFoundError: No module named 'PIL'" } }), {}, /cannot import PIL/],
    [fakePython(GOOD), { device: 'cuda', deviceSource: 'runtime.device' }, /runtime\.device is "cuda" but .* CPU-only build/],
    [brokenPython(), {}, /did not run as a Python interpreter/],
  ];
  for (const [python, requirements, problem] of cases) {
    const { manager, runsDir, run } = setup(python);
    const error = await run({ requirements }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof PythonEngineError, `${python}: ${String(error)}`);
    assert.match(error.problem, problem);
    assert.equal(error.setting, 'dora.pythonPath');
    assert.deepEqual(folders(runsDir), [], 'no run folder was created');
    assert.deepEqual(manager.states(), [], 'no run is "starting"');
  }
});

test('a PyTorch run: the folder readied first, then the engine on its own command line, followed to the end', async () => {
  const { argvFile, manager, runsDir, run } = setup(fakePython(GOOD, FAKE_ENGINE));
  const seen: string[] = [];
  manager.onMessage(({ message }) => seen.push(message.type));
  const { runDir } = await run({ maxSteps: 3, device: 'cpu', requirements: { device: 'cpu' } });
  await manager.whenExited(runDir);
  const state = manager.get(runDir)!;
  assert.equal(state.finished?.reason, 'completed', state.lastError?.message);
  assert.equal(state.step, 3);
  assert.deepEqual(JSON.parse(readFileSync(argvFile, 'utf8')), [
    'train',
    '--run-dir',
    runDir,
    '--max-steps',
    '3',
    '--frame-cache',
    '/cache/v-1',
    '--device',
    'cpu',
  ]);
  assert.deepEqual(
    seen.filter((t) => t === 'ready' || t === 'finished'),
    ['ready', 'finished'],
    "the preparing engine's ready and finished are not the run's",
  );
  assert.ok(seen.includes('progress'), 'frame-cache progress of the preparation passes through');
  assert.deepEqual({ ...state.engine, python: undefined }, { name: 'pytorch', device: 'cpu', precision: 'fp32', python: undefined });
  assert.match(statusBarText({ ...state, finished: undefined }), /· pytorch · cpu · fp32$/);
  assert.deepEqual(folders(runsDir), [path.basename(runDir)], 'a run that started keeps its folder');
  assert.ok(existsSync(path.join(runDir, 'config.json')));
});

test('a preparation that fails ends the run with its error and fix, and removes the folder it never used', async () => {
  const { argvFile, manager, runsDir, run } = setup(fakePython(GOOD, FAKE_ENGINE), 'prepare-fail');
  const { runDir } = await run();
  await manager.whenExited(runDir);
  const state = manager.get(runDir)!;
  assert.equal(state.finished?.reason, 'failed');
  assert.deepEqual(state.lastError, { message: 'ffmpeg not found', fix: 'Install ffmpeg.' });
  assert.ok(!existsSync(argvFile), 'the engine never started');
  assert.deepEqual(folders(runsDir), []);
});

test('Stop while the folder is being readied: stopped, the engine never starts, no folder stays', async () => {
  const { argvFile, manager, runsDir, run } = setup(fakePython(GOOD, FAKE_ENGINE), 'slow');
  const caching = new Promise<void>((resolve) => manager.onMessage(({ message }) => message.type === 'progress' && resolve()));
  const { runDir } = await run();
  await caching;
  assert.equal(await manager.stop(runDir), 'stopping');
  await manager.whenExited(runDir);
  assert.equal(manager.get(runDir)?.finished?.reason, 'stopped');
  assert.ok(!existsSync(argvFile));
  assert.deepEqual(folders(runsDir), []);
});

test('resuming a PyTorch run readies its own folder (config kept) and passes the checkpoint to the engine', async () => {
  const { argvFile, manager, work, run } = setup(fakePython(GOOD, FAKE_ENGINE));
  const runDir = path.join(work, 'runs', '20250101-000000-old');
  mkdirSync(path.join(runDir, 'checkpoints'), { recursive: true });
  writeFileSync(path.join(runDir, 'config.json'), '{"kept":true}');
  const sidecar = path.join(runDir, 'checkpoints', 'step-000002.json');
  await run({ configPath: undefined, resumeCheckpoint: sidecar });
  await manager.whenExited(runDir);
  assert.equal(manager.get(runDir)?.finished?.reason, 'completed');
  assert.deepEqual(JSON.parse(readFileSync(argvFile, 'utf8')).slice(0, 5), ['train', '--run-dir', runDir, '--resume', sidecar]);
  assert.equal(readFileSync(path.join(runDir, 'config.json'), 'utf8'), '{"kept":true}');
});
