// `dora bench` counts: the shrunk shapes keep a step's launch count, and the fused kernels keep the counts at most a
// fifth of what the separate-op step launched (counts, not times: deterministic on every machine).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { benchStep } from '../../../src/trainer/run/bench';
import { officialArgs } from '../../../src/trainer/run/benchAnchor';
import { resolveConfig } from '../../../src/core/node/configFile';

// Launches per step before the fused kernels (tfjs 4.22 wasm, same shapes; measured with this counter on the parent
// of this work): cpu-small 7 671; paper at micro-batch 2 (8 passes) 38 156.
const STOCK_CPU_SMALL = 7671;
const STOCK_PAPER_MB2 = 38156;

test('--shrink keeps the launch count of the full-size step', { timeout: 300_000 }, async () => {
  const full = await benchStep({ config: 'demo', backend: 'wasm', steps: 1, warmup: 1, microBatch: 2 });
  const shrunk = await benchStep({ config: 'demo', backend: 'wasm', steps: 1, warmup: 1, microBatch: 2, shrink: true });
  assert.equal(shrunk.launchesPerStep, full.launchesPerStep);
  assert.equal(shrunk.viewsPerStep, full.viewsPerStep);
  assert.match(shrunk.shapes, /^12\/4\/3 p8/, 'widths shrink to 4 per head, depth and heads stay');
});

test(
  'fused kernels: at most a fifth of the stock launches for cpu-small and for paper at micro-batch 2',
  { timeout: 300_000 },
  async () => {
    const cpuSmall = await benchStep({ config: 'cpu-small', backend: 'wasm', steps: 1, warmup: 1, shrink: true });
    assert.ok(cpuSmall.launchesPerStep * 5 <= STOCK_CPU_SMALL, `cpu-small: ${cpuSmall.launchesPerStep} launches per step`);
    const paper = await benchStep({ config: 'paper', backend: 'wasm', steps: 1, warmup: 1, shrink: true, microBatch: 2 });
    assert.ok(paper.launchesPerStep * 5 <= STOCK_PAPER_MB2, `paper: ${paper.launchesPerStep} launches per step`);
    assert.equal(paper.microBatch, 2);
  },
);

test('the official anchor runs on the config shapes and names what it cannot follow', () => {
  const config = resolveConfig({ preset: 'cpu-small', data: { video: 'v.mp4' } }, { file: 'c.dora.json' });
  const { args, mismatches } = officialArgs(config);
  assert.deepEqual(args.slice(0, 8), ['--embed-dim', '192', '--depth', '12', '--heads', '3', '--patch', '16']);
  assert.deepEqual(args.slice(8, 14), ['--img', '96', '--frames', '4', '--batch', '2']);
  assert.deepEqual(mismatches, []);
  const odd = resolveConfig({ preset: 'cpu-small', data: { video: 'v.mp4', localSize: 32 } }, { file: 'c.dora.json' });
  assert.match(officialArgs(odd).mismatches[0], /^local crops 32 px \(the official script uses global\/2 = 48\)/);
});
