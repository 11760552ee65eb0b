// Evaluate Checkpoint over several checkpoints, as the command runs it, against a fake engine.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { checkpointPaths } from '../../../src/core/node/runPaths';
import { evaluateCheckpoints } from '../../../src/host/evaluation/evaluateMany';
import { fakeEngines } from '../engine/fakeEngine';

function twoCheckpoints(): string[] {
  const root = mkdtempSync(path.join(tmpdir(), 'dora-eval-many-'));
  return ['20250101-000000-a', '20250102-000000-b'].map((id) => {
    const sidecar = checkpointPaths(path.join(root, id), 4).sidecar;
    mkdirSync(path.dirname(sidecar), { recursive: true });
    return sidecar;
  });
}

test('each checkpoint in turn: overall progress to 100 %, a status per checkpoint, results and log lines', async () => {
  const checkpoints = twoCheckpoints();
  const percents: number[] = [];
  const messages: string[] = [];
  const statuses: Array<[string, string | undefined]> = [];
  const results: string[] = [];
  const log: string[] = [];
  const outcomes = await evaluateCheckpoints(fakeEngines(), {
    checkpoints,
    jobs: [{ suite: 'knn', dataset: 'synthetic' }, { suite: 'attention' }],
    log: (line) => log.push(line),
    onProgress: (percent, message) => {
      percents.push(percent);
      messages.push(message);
    },
    onCheckpointStatus: (checkpoint, status) => statuses.push([path.basename(path.dirname(path.dirname(checkpoint))), status]),
    onResult: (checkpoint, r) => results.push(`${path.basename(path.dirname(path.dirname(checkpoint)))}:${r.suite}`),
  });
  assert.deepEqual(
    outcomes.map((o) => [o.reason, o.results.length]),
    [
      ['completed', 2],
      ['completed', 2],
    ],
  );
  assert.deepEqual(percents, [12.5, 37.5, 62.5, 87.5], 'job halves of 4 units, in order');
  assert.equal(messages[0], '20250101-000000-a @ step 4: knn: half way 50%');
  assert.deepEqual(results, [
    '20250101-000000-a:knn',
    '20250101-000000-a:attention',
    '20250102-000000-b:knn',
    '20250102-000000-b:attention',
  ]);
  assert.deepEqual(statuses[0], ['20250101-000000-a', 'starting']);
  assert.deepEqual(statuses.at(-1), ['20250102-000000-b', undefined], 'the last checkpoint is marked done');
  assert.ok(log.includes('[evaluate] 20250101-000000-a @ step 4: k-NN · synthetic objects, attention maps'));
  assert.ok(log.some((l) => /^\[evaluate 20250102-000000-b @ step 4\] attention maps: done in 0\.1 s$/.test(l)));
});

test('a cancelled evaluation stops before the next checkpoint', async () => {
  const abort = new AbortController();
  abort.abort();
  const outcomes = await evaluateCheckpoints(fakeEngines(), {
    checkpoints: twoCheckpoints(),
    jobs: [{ suite: 'attention' }],
    signal: abort.signal,
  });
  assert.deepEqual(outcomes, []);
});

test('a failed checkpoint is reported with the cause and the rest still runs', async () => {
  const log: string[] = [];
  const outcomes = await evaluateCheckpoints(fakeEngines('crash-eval'), {
    checkpoints: twoCheckpoints(),
    jobs: [{ suite: 'tracking' }],
    log: (line) => log.push(line),
  });
  assert.deepEqual(
    outcomes.map((o) => o.reason),
    ['failed', 'failed'],
  );
  assert.match(outcomes[0].error ?? '', /exited with code 4: RuntimeError: no ground truth/);
  assert.ok(log.some((l) => /failed: the engine exited with code 4/.test(l)));
});
