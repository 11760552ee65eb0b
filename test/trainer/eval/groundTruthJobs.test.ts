// Which video each evaluation job reads: ground-truth jobs of a run trained on a real video use the synthetic tour.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { jobsWithGroundTruth } from '../../../src/trainer/eval/groundTruthJobs';

test('runs trained on a video without ground truth evaluate k-NN on objects and tracking on the synthetic tour', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'dora-jobs-'));
  const runWith = (name: string, video: string) => {
    const runDir = path.join(root, 'runs', name);
    mkdirSync(path.join(runDir, 'checkpoints'), { recursive: true });
    writeFileSync(path.join(runDir, 'config.json'), JSON.stringify({ data: { video } }));
    return path.join(runDir, 'checkpoints', 'step-000010.json');
  };
  const synthetic = path.join(root, 'tour.mp4');
  writeFileSync(path.join(root, 'tour.json'), JSON.stringify({ generator: 'dora-studio synthetic walking tour v1', options: {} }));
  const jobs = [
    { suite: 'knn' as const, dataset: 'synthetic' },
    { suite: 'knn' as const, dataset: 'fashion-mnist' },
    { suite: 'tracking' as const },
    { suite: 'attention' as const },
  ];
  let generated = 0;
  const tour = async () => {
    generated++;
    return '/generated/tour.mp4';
  };
  assert.deepEqual(await jobsWithGroundTruth(runWith('on-synthetic', synthetic), jobs, tour), jobs, 'a synthetic run keeps its own video');
  assert.equal(generated, 0);
  assert.deepEqual(await jobsWithGroundTruth(runWith('on-real', path.join(root, 'walk.mp4')), jobs, tour), [
    { suite: 'knn', dataset: 'synthetic', video: '/generated/tour.mp4' },
    { suite: 'knn', dataset: 'fashion-mnist' },
    { suite: 'tracking', video: '/generated/tour.mp4' },
    { suite: 'attention' },
  ]);
  assert.deepEqual(await jobsWithGroundTruth(runWith('attention-only', path.join(root, 'walk.mp4')), [{ suite: 'attention' }], tour), [
    { suite: 'attention' },
  ]);
  assert.equal(generated, 1, 'the tour is only made when a job needs it');
});
