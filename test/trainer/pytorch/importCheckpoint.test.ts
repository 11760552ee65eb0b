// `dora import <file.pth>`: an official-layout DoRA checkpoint (built here by the Python tests' helper in the official
// module layout — nothing is downloaded) becomes a run folder the extension reads, with a snapshot of the imported
// model tracking objects in the video; a mismatched file is refused with its keys and leaves nothing. Also: the
// commands that stay on the TF.js engine (demo, a tfjs config, eval) never start a Python.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { findCliPython } from '../../../src/trainer/pytorch/interpreter';
import { pytorchEngineCommand } from '../../../src/trainer/pytorch/command';
import { repoRoot, runCli, tinyConfig, tinySyntheticVideo, writeConfig } from '../helpers';
import { readRunLikeTheHost } from '../run/runFolderCheck';

const work = mkdtempSync(join(tmpdir(), 'dora-import-cli-'));

/** Writes .pth files with torch, in the layouts of python/tests/test_import_pth.py. */
async function buildPth(kind: 'official' | 'mismatched', file: string): Promise<void> {
  const python = (await findCliPython()).python;
  const script =
    kind === 'official'
      ? 'from test_import_pth import official_checkpoint\nofficial_checkpoint(sys.argv[1])'
      : [
          'import torch',
          'from test_import_pth import RESOLVED',
          'from dora_studio.dora.state import create_dora_state',
          'from dora_studio.model.dora_model import DoraModelConfig',
          'sd = dict(create_dora_state(DoraModelConfig.from_run_config(RESOLVED), "cpu", seed=5).teacher.backbone.state_dict())',
          'del sd["blocks.1.norm1.weight"]',
          'torch.save({"state_dict": sd}, sys.argv[1])',
        ].join('\n');
  const env = { ...process.env, PYTHONPATH: [join(repoRoot, 'python'), join(repoRoot, 'python', 'tests')].join(':') };
  const r = spawnSync(python, ['-c', `import sys\n${script}`, file], { encoding: 'utf8', env });
  assert.equal(r.status, 0, r.stderr);
}

test(
  'dora import: an official DoRA checkpoint becomes a run folder with the model’s masks on the video',
  { timeout: 300_000 },
  async () => {
    const pth = join(work, 'dora_official.pth');
    await buildPth('official', pth);
    const video = await tinySyntheticVideo(join(work, 'media'));
    const runsDir = join(work, 'runs');
    const r = runCli(['import', pth, '--video', video, '--runs-dir', runsDir, '--cache-dir', join(work, 'cache')]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /imported dora_official\.pth \(official checkpoint, custom 192\/2\/3, patch 8, 32 px\) into /);
    const [id] = readdirSync(runsDir);
    const run = await readRunLikeTheHost(join(runsDir, id));
    assert.equal(run.status.status, 'stopped');
    assert.deepEqual(
      run.checkpoints.map((c) => c.step),
      [0],
    );
    assert.deepEqual(
      run.snapshots.map((s) => s.step),
      [0],
      'the tracker’s snapshot of the video: the dashboard shows masks at once',
    );
    // Either engine continues it: here the TF.js engine, at the start of the saved epoch (2), for one step.
    const runDir = join(runsDir, id);
    const probe = runCli([
      'train',
      '--resume',
      'latest',
      '--run-dir',
      runDir,
      '--engine',
      'tfjs',
      '--max-steps',
      '1',
      '--cache-dir',
      join(work, 'cache'),
    ]);
    assert.equal(probe.code, 0, probe.out);
    const start = Number(/stopped at step (\d+)/.exec(probe.out)?.[1]);
    const perEpoch = (await readRunLikeTheHost(runDir)).info.stepsPerEpoch!;
    assert.equal(start, 2 * perEpoch, 'epoch 2 of the official checkpoint');
    const resumed = runCli([
      'train',
      '--resume',
      'latest',
      '--run-dir',
      runDir,
      '--engine',
      'tfjs',
      '--max-steps',
      String(start + 1),
      '--cache-dir',
      join(work, 'cache'),
    ]);
    assert.equal(resumed.code, 0, resumed.out);
    const after = await readRunLikeTheHost(runDir);
    assert.deepEqual(
      after.metrics.map((m) => m.step),
      [start + 1],
    );
  },
);

test(
  'dora import: a file whose keys do not form the model is refused with the keys, and no run folder stays',
  { timeout: 300_000 },
  async () => {
    const pth = join(work, 'odd.pth');
    await buildPth('mismatched', pth);
    const runsDir = join(work, 'runs-odd');
    const r = runCli(['import', pth, '--runs-dir', runsDir]);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /missing \(1\): backbone\.blocks\.1\.norm1\.weight/);
    assert.deepEqual(existsSync(runsDir) ? readdirSync(runsDir) : [], []);
  },
);

test('demo, a tfjs config and eval stay on the TF.js engine: no Python is started', async () => {
  const marker = join(work, 'python-was-run');
  const python = join(work, 'marking-python');
  writeFileSync(python, `#!/bin/sh\ntouch "${marker}"\nexit 1\n`);
  chmodSync(python, 0o755);
  const saved = process.env.DORA_PYTHON;
  process.env.DORA_PYTHON = python;
  try {
    const config = writeConfig(work, 'plain', tinyConfig(join(work, 'v.mp4')));
    assert.equal(await pytorchEngineCommand('demo', [], new Map()), undefined);
    assert.equal(await pytorchEngineCommand('train', [config], new Map()), undefined);
    assert.equal(await pytorchEngineCommand('eval', ['/r/checkpoints/step-000001.json'], new Map([['engine', 'pytorch']])), undefined);
    assert.equal(await pytorchEngineCommand('bench', [], new Map()), undefined);
  } finally {
    if (saved === undefined) delete process.env.DORA_PYTHON;
    else process.env.DORA_PYTHON = saved;
  }
  assert.ok(!existsSync(marker), 'a Python was started');
  // The converse, so the marker can fail: a pytorch config does reach the interpreter.
  const torchConfig = writeConfig(work, 'torch', tinyConfig(join(work, 'v.mp4'), { runtime: { engine: 'pytorch' } }));
  const r = spawnSync(process.execPath, [join(repoRoot, 'dist', 'cli.js'), 'train', torchConfig], {
    encoding: 'utf8',
    env: { ...process.env, DORA_PYTHON: python },
  });
  assert.equal(r.status, 1);
  assert.ok(existsSync(marker), r.stderr);
});
