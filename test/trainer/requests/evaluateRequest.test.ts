// Evaluation as the extension runs it: the host's evaluateCheckpoint asks the real TF.js engine (dist/trainer.js, through
// the engine client) to `evaluate`, follows progress, gets one eval-result per job, can cancel, and reports failures with the cause.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { evalMetrics } from '../../../src/core/evalResults';
import { evalSidecarPath } from '../../../src/core/node/runPaths';
import { readEvalSidecar } from '../../../src/core/node/evalFiles';
import { EngineClient, tfjsEngine } from '../../../src/host/engine/engineClient';
import { evaluateCheckpoint, type EvalProgressUpdate } from '../../../src/host/evaluation/evalJob';
import { runTraining } from '../../../src/trainer/run/train';
import { repoRoot, tinyConfig, tinySyntheticVideo, writeConfig } from '../helpers';

const TRAINER = join(repoRoot, 'dist', 'trainer.js');
const engines = new EngineClient({ launch: tfjsEngine(join(repoRoot, 'dist')) });
const work = mkdtempSync(join(tmpdir(), 'dora-eval-request-'));

async function tinyCheckpoint(): Promise<string> {
  const video = await tinySyntheticVideo(join(work, 'media'));
  const config = writeConfig(
    join(work, 'run'),
    'tiny',
    tinyConfig(video, { runtime: { backend: 'cpu' }, data: { frameCache: { dir: join(work, 'frame-cache') } } }),
  );
  const run = await runTraining({ configPath: config, cacheRoot: join(work, 'frame-cache'), maxSteps: 2 });
  return join(run.runDir, 'checkpoints', 'step-000002.json');
}

test('evaluate through the trainer child: progress, one result per job, stored, then reused', { timeout: 300_000 }, async () => {
  assert.ok(existsSync(TRAINER), `${TRAINER} is built (npm run build)`);
  const checkpoint = await tinyCheckpoint();
  const progress: EvalProgressUpdate[] = [];
  const outcome = await evaluateCheckpoint(engines, {
    checkpoint,
    jobs: [{ suite: 'knn', dataset: 'synthetic' }, { suite: 'attention' }],
    onProgress: (p) => progress.push(p),
  });
  assert.equal(outcome.reason, 'completed', outcome.error);
  assert.deepEqual(
    outcome.results.map((r) => [r.suite, r.dataset, r.cached]),
    [
      ['knn', 'synthetic', false],
      ['attention', 'video', false],
    ],
  );
  assert.equal(outcome.results[0].evalFile, evalSidecarPath(checkpoint));
  assert.ok(
    progress.some((p) => p.fraction === 1 && p.job === 0 && /k-NN/.test(p.message)),
    'k-NN progress reaches 100 %',
  );
  assert.ok(
    progress.some((p) => p.job === 1 && /attention/.test(p.message)),
    'the second job reports as job 1',
  );
  const metrics = evalMetrics(await readEvalSidecar(evalSidecarPath(checkpoint)));
  const top1 = metrics.find((m) => m.key === 'knn:synthetic:top1@20');
  assert.ok(top1 && top1.value >= 0 && top1.value <= 100);
  assert.ok(existsSync(join(checkpoint.replace(/\.json$/, '.attention'), 'manifest.json')));

  const again = await evaluateCheckpoint(engines, { checkpoint, jobs: [{ suite: 'knn', dataset: 'synthetic' }] });
  assert.equal(again.reason, 'completed');
  assert.equal(again.results[0].cached, true, 'the stored result is reused');

  // Cancel as soon as the tracking suite starts working: nothing is stored for it.
  const abort = new AbortController();
  const cancelled = await evaluateCheckpoint(engines, {
    checkpoint,
    jobs: [{ suite: 'tracking' }],
    signal: abort.signal,
    killGraceMs: 10_000,
    onProgress: (p) => {
      if (/tracking/.test(p.message)) abort.abort();
    },
  });
  assert.equal(cancelled.reason, 'stopped');
  assert.equal(cancelled.results.length, 0);
  const stored = await readEvalSidecar(evalSidecarPath(checkpoint));
  assert.ok(stored && !Object.values(stored.results).some((r) => r.suite === 'tracking'), 'a cancelled evaluation stores nothing');

  // A bad dataset fails with the trainer's own explanation.
  const missing = join(work, 'no-such-folder');
  const failed = await evaluateCheckpoint(engines, { checkpoint, jobs: [{ suite: 'knn', dataset: missing }] });
  assert.equal(failed.reason, 'failed');
  assert.match(failed.error ?? '', /no-such-folder/);
});

test(
  'the video of a job (the synthetic tour for a run trained on another video) is what the evaluation reads',
  { timeout: 300_000 },
  async () => {
    const checkpoint = await tinyCheckpoint();
    const source = await tinySyntheticVideo(join(work, 'media'));
    // A copy of the tour in another folder stands in for "the synthetic tour next to the workspace".
    const other = join(work, 'elsewhere');
    mkdirSync(other, { recursive: true });
    for (const file of readdirSync(dirname(source)).filter((f) => f.startsWith('tiny-tour')))
      copyFileSync(join(dirname(source), file), join(other, file));
    const video = join(other, basename(source));
    const outcome = await evaluateCheckpoint(engines, { checkpoint, jobs: [{ suite: 'knn', dataset: 'synthetic', video }] });
    assert.equal(outcome.reason, 'completed', outcome.error);
    const stored = await readEvalSidecar(evalSidecarPath(checkpoint));
    assert.ok(
      Object.values(stored!.results).some((r) => r.suite === 'knn' && (r.settings as { video?: string }).video === video),
      'the record names the tour it was computed on',
    );
  },
);

test('a trainer that cannot start fails with the reason', async () => {
  const missing = new EngineClient({ launch: () => ({ transport: 'ipc', command: join(work, 'missing-trainer.js') }) });
  const outcome = await evaluateCheckpoint(missing, {
    checkpoint: join(work, 'step-000001.json'),
    jobs: [{ suite: 'attention' }],
  });
  assert.equal(outcome.reason, 'failed');
  assert.match(outcome.error ?? '', /missing-trainer\.js|Cannot find module|exited/);
});
