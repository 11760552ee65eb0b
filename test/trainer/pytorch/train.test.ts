// The CLI as the PyTorch engine's front door (the engine has its own tests in python/tests; these test the door):
// `train --engine pytorch` of the demo preset on CPU makes a run folder the extension's readers accept, a run killed
// with SIGKILL resumes to the uninterrupted losses and weights, its checkpoint is evaluated and inspected, and an
// unfit interpreter or an absent GPU is refused before any run folder exists.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fakePython, GOOD } from '../../core/node/fakePython';
import { CLI, readJsonl, runCli, tinySyntheticVideo, writeConfig } from '../helpers';
import { readRunLikeTheHost } from '../run/runFolderCheck';

const work = mkdtempSync(join(tmpdir(), 'dora-pytorch-cli-'));
const cacheDir = join(work, 'cache');
const STEPS = 4;

async function demoConfig(name: string, runtime: Record<string, unknown> = {}): Promise<string> {
  const video = await tinySyntheticVideo(join(work, 'media'));
  // The demo preset as shipped; the video is 60 frames, and the intervals are short so checkpoints land early.
  const config = {
    preset: 'demo',
    name,
    data: { video },
    runtime: { logEvery: 1, snapshotEvery: 2, checkpointEvery: 2, runsDir: 'runs', ...runtime },
  };
  return writeConfig(work, name, config);
}

const runDirs = () => (existsSync(join(work, 'runs')) ? readdirSync(join(work, 'runs')).sort() : []);
const lossesOf = (dir: string) => readJsonl(join(dir, 'metrics.jsonl')).map((r) => [r.step, r.loss]);
const weightsOf = (dir: string, step: number) =>
  readFileSync(join(dir, 'checkpoints', `step-${String(step).padStart(6, '0')}.safetensors`));

function waitFor(predicate: () => boolean, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      if (predicate()) resolve(clearInterval(timer));
      else if (Date.now() - started > timeoutMs) reject(new Error((clearInterval(timer), 'timed out')));
    }, 100);
  });
}

test(
  'train --engine pytorch: the demo preset on CPU writes a run folder the extension reads like any other',
  { timeout: 600_000 },
  async () => {
    const config = await demoConfig('torch-demo');
    const runDir = join(work, 'runs', 'reference');
    const r = runCli([
      'train',
      config,
      '--engine',
      'pytorch',
      '--device',
      'cpu',
      '--max-steps',
      String(STEPS),
      '--workers',
      '0',
      '--cache-dir',
      cacheDir,
      '--run-dir',
      runDir,
    ]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /engine: pytorch — Python 3\.\d+\.\d+, torch \d/);
    const run = await readRunLikeTheHost(runDir);
    assert.equal(run.info.engine, 'pytorch');
    assert.equal(run.info.device, 'cpu');
    assert.equal(run.info.precision, 'fp32');
    assert.equal(run.status.status, 'stopped', 'stopped at --max-steps, with a checkpoint');
    assert.deepEqual(
      run.metrics.map((m) => m.step),
      [1, 2, 3, 4],
    );
    assert.deepEqual(
      run.checkpoints.map((c) => c.step),
      [2, 4],
    );
    const snapshotSteps = run.snapshots.map((s) => s.step);
    assert.ok(
      [2, 4].every((step) => snapshotSteps.includes(step)),
      `snapshots at ${snapshotSteps}`,
    );
    const resolved = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8'));
    assert.equal(resolved.preset, 'demo', 'config.json is the TS resolver’s');
    assert.equal(resolved.configFile, config);
  },
);

test(
  'a PyTorch run killed with SIGKILL resumes (engine from its config.json) to the uninterrupted losses and weights',
  { timeout: 600_000 },
  async () => {
    const config = await demoConfig('torch-kill', { engine: 'pytorch', device: 'cpu' });
    const reference = join(work, 'runs', 'reference-kill');
    const full = runCli(['train', config, '--max-steps', String(STEPS), '--workers', '0', '--cache-dir', cacheDir, '--run-dir', reference]);
    assert.equal(full.code, 0, full.out);
    const runDir = join(work, 'runs', 'killed');
    const cli = spawn(
      process.execPath,
      [CLI, 'train', config, '--max-steps', String(STEPS), '--workers', '0', '--cache-dir', cacheDir, '--run-dir', runDir],
      {
        stdio: 'ignore',
      },
    );
    const cliExit = new Promise<number | null>((resolve) => cli.on('exit', (code) => resolve(code)));
    await waitFor(() => existsSync(join(runDir, 'checkpoints', 'step-000002.json')), 300_000);
    const trainer = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')).pid as number;
    assert.notEqual(trainer, cli.pid, 'run.json names the Python trainer, not the Node front door');
    process.kill(trainer, 'SIGKILL');
    assert.equal(await cliExit, 137, 'the front door reports the killed engine');
    assert.ok(!existsSync(join(runDir, 'checkpoints', `step-00000${STEPS}.json`)), 'killed too late to test a resume');

    const resumed = runCli([
      'train',
      '--resume',
      'latest',
      '--run-dir',
      runDir,
      '--max-steps',
      String(STEPS),
      '--workers',
      '0',
      '--cache-dir',
      cacheDir,
    ]);
    assert.equal(resumed.code, 0, resumed.out);
    assert.match(resumed.out, /engine: pytorch/, 'the run’s config.json chose the engine');
    assert.deepEqual(lossesOf(runDir), lossesOf(reference), 'every step logged once, with the uninterrupted losses');
    assert.ok(weightsOf(runDir, STEPS).equals(weightsOf(reference, STEPS)), 'final weights differ');
    const events = (await readRunLikeTheHost(runDir)).events.map((e) => e.type);
    assert.ok(events.includes('resumed'), events.join(','));
  },
);

test(
  'a PyTorch checkpoint is evaluated by the TF.js engine (said so) and inspected by the PyTorch engine',
  { timeout: 600_000 },
  async () => {
    const sidecar = join(work, 'runs', 'reference', 'checkpoints', `step-00000${STEPS}.json`);
    assert.ok(existsSync(sidecar), 'the first test made this checkpoint');
    const evalArgs = ['eval', sidecar, '--suite', 'attention', '--engine', 'pytorch', '--cache-dir', cacheDir, '--force'];
    const r = spawnSync(process.execPath, [CLI, ...evalArgs], { encoding: 'utf8', timeout: 300_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /evaluated by the TF\.js engine/);
    const record = JSON.parse(r.stdout);
    assert.equal(record.engine, 'tfjs');
    assert.match(record.engineNote, /PyTorch engine has no evaluation suites; this checkpoint was evaluated by the TF\.js engine/);
    assert.equal(record.suite, 'attention');
    assert.equal(record.result.manifest.grid, 6, 'the demo model: 48 px crops, patch 8');
    assert.equal(record.result.manifest.heads, 3);
    assert.ok(existsSync(join(record.result.dir, 'attention.f32')));
    const out = join(work, 'inspect');
    const inspect = runCli(['inspect', '--engine', 'pytorch', '--out', out, sidecar, '--cache-dir', cacheDir]);
    assert.equal(inspect.code, 0, inspect.out);
    const manifest = JSON.parse(readFileSync(join(out, `reference-step-${STEPS}`, 'snapshot.json'), 'utf8'));
    assert.equal(manifest.step, STEPS);
    assert.equal(JSON.parse(readFileSync(join(out, 'inspect.json'), 'utf8')).engine, 'pytorch');
  },
);

test('an unfit interpreter or an absent GPU stops train --engine pytorch before any run folder exists', { timeout: 300_000 }, async () => {
  const config = await demoConfig('torch-refused');
  const before = runDirs();
  const noTorch = fakePython({ python: '3.11.7', torchError: "ModuleNotFoundError: No module named 'torch'", missing: {} });
  const r = runCli(['train', config, '--engine', 'pytorch', '--python', noTorch, '--cache-dir', cacheDir]);
  assert.equal(r.code, 1, r.out);
  assert.match(
    r.out,
    /dora: .*\(from --python\): Python 3\.11\.7 cannot import torch.*Fix: Install PyTorch ≥ 1\.13 into this interpreter/s,
  );
  const cpuOnly = fakePython(GOOD);
  const cuda = runCli(['train', config, '--engine', 'pytorch', '--python', cpuOnly, '--device', 'cuda', '--cache-dir', cacheDir]);
  assert.equal(cuda.code, 1, cuda.out);
  assert.match(cuda.out, /--device is "cuda" but torch 2\.3\.1 in .* is a CPU-only build.*Fix: Install a CUDA build of PyTorch/s);
  assert.deepEqual(runDirs(), before, 'no run folder was created');
});
