// `dora bench --engine pytorch`: one JSON line of the TF.js bench's shape from the PyTorch engine (a tiny config, one
// step: this checks the plumbing, not the speed — speed is measured by `npm run bench`, never in a timed test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, tinyConfig, writeConfig } from '../helpers';

test('bench --engine pytorch prints the bench JSON line and says when the official step was not timed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dora-bench-pytorch-'));
  const config = writeConfig(dir, 'tiny', tinyConfig(join(dir, 'no-video.mp4')));
  const { code, out } = runCli(['bench', '--engine', 'pytorch', '--config', config, '--steps', '2', '--warmup', '0', '--device', 'cpu']);
  assert.equal(code, 0, out);
  const line = JSON.parse(
    out
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .pop() ?? '{}',
  ) as Record<string, unknown>;
  for (const key of ['bench', 'backend', 'config', 'steps', 'secPerStepMedian', 'secPerStepMin', 'imgPerSec', 'peakRssMB', 'shapes'])
    assert.ok(key in line, `missing ${key}: ${out}`);
  assert.equal(line.bench, 'dora-step');
  assert.equal(line.engine, 'pytorch');
  assert.equal(line.precision, 'fp32');
  assert.equal(line.steps, 2);
  assert.equal(line.microBatch, 2);
  assert.ok(typeof line.loaderFreeSecPerStep === 'number' && line.loaderFreeSecPerStep > 0);
  assert.equal(line.official, null);
  assert.match(String(line.officialNote), /official step not timed: pass --official <dir>/);
  assert.match(String(line.shapes), /^24\/2\/3 p8, B2 F2 k3, global 32, 2×16, out 64$/);

  const missing = runCli(['bench', '--engine', 'pytorch', '--config', config, '--steps', '1', '--warmup', '0', '--official', dir]);
  assert.equal(missing.code, 1, missing.out);
  assert.match(
    missing.out,
    /--official .* lacks main\.py, utils\.py, vision_transformer\.py, sinkhorn_knopp\.py: export the official files/,
  );
});
