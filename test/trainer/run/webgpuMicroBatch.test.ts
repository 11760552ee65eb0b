// The paper preset with its defaults (microBatch "auto") on WebGPU, under a memory budget far below what the whole
// batch needs: the planner must pick fewer clips per pass and the step must run. Tiny input keeps it a CI test: the
// paper model (ViT-S/16, head 2048/256 → 65536), 2 clips × 2 frames of 32 px globals and 16 px locals.
// Needs a WebGPU adapter (lavapipe from Mesa >= 25 counts); skipped with the reason otherwise, failed if
// DORA_REQUIRE_WEBGPU is set. Own file: DORA_MEMORY_BUDGET_MB is read when the backend starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readJsonl, tinySyntheticVideo, writeConfig } from '../helpers';
import { findWebGpuAdapter } from '../../../src/trainer/backend/webgpu';
import { runTraining } from '../../../src/trainer/run/train';
import type { TrainerMessage } from '../../../src/core/messages';

// The paper model's parameters, their AdamW moments, the teacher and the gradients need ≈ 1006 MiB before any clip;
// one clip of this input then fits in 1280 MiB (measured peak ≈ 1075 MiB), both clips (by the planner's estimate) do not.
process.env.DORA_MEMORY_BUDGET_MB = '1280';

const work = mkdtempSync(join(tmpdir(), 'dora-webgpu-auto-'));

test(
  'paper preset, microBatch "auto", reduced budget on WebGPU: fewer clips per pass, and the step runs',
  { timeout: 1_800_000 },
  async (t) => {
    const lookup = await findWebGpuAdapter();
    if (lookup.adapter === null) {
      if (process.env.DORA_REQUIRE_WEBGPU) assert.fail(`DORA_REQUIRE_WEBGPU is set, but there is ${lookup.reason}`);
      t.skip(`skipped: ${lookup.reason}`);
      return;
    }
    const video = await tinySyntheticVideo(join(work, 'media'));
    const config = {
      preset: 'paper',
      name: 'paper-tiny',
      data: {
        video,
        globalSize: 32,
        localSize: 16,
        precropSize: 32,
        framesPerClip: 2,
        stride: 1,
        frameCache: { shortSide: 64 },
        maxFrames: 40,
      },
      training: { batchClips: 2, minLr: 1e-6 },
      runtime: { backend: 'webgpu', runsDir: 'runs', logEvery: 1 },
    };
    const file = writeConfig(join(work, 'cfg'), 'paper-tiny', config);
    const messages: TrainerMessage[] = [];
    const result = await runTraining({
      configPath: file,
      cacheRoot: join(work, 'frame-cache'),
      maxSteps: 1,
      emit: (m) => messages.push(m),
    });
    assert.equal(result.reason, 'stopped', result.message);
    const log = readFileSync(join(result.runDir, 'trainer.log'), 'utf8');
    assert.match(log, /micro-batch: auto: 1 of 2 clips per pass \(estimated .* budget 1.25 GiB: DORA_MEMORY_BUDGET_MB\)/);
    const metrics = readJsonl(join(result.runDir, 'metrics.jsonl'));
    assert.equal(metrics[0].microBatch, 1);
    assert.ok(Number.isFinite(metrics[0].loss as number));
    assert.equal(messages.filter((m) => m.type === 'error').length, 0);
    const info = JSON.parse(readFileSync(join(result.runDir, 'run.json'), 'utf8'));
    assert.equal(info.microBatch.auto, true);
  },
);
