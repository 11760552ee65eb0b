// The dashboard's host side (DashboardSession): what it sends a webview, from the run folder and the live IPC state.
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import type { HostToWebviewMessage, WebviewState } from '../../../src/core/webviewMessages';
import { DashboardSession, errorText } from '../../../src/host/dashboard/dashboardSession';
import { initialLiveRun } from '../../../src/host/runs/liveRun';
import { copyFixture } from '../helpers';

const toUri = (p: string) => `webview:${p}`;

test('dashboard: `ready` gets the whole run, then the newest snapshot with URIs for every file', async () => {
  const { runDir } = copyFixture();
  const posted: HostToWebviewMessage[] = [];
  const session = new DashboardSession({ runDir, post: (m) => void posted.push(m), toWebviewUri: toUri });
  await session.handleMessage({ type: 'ready' });
  const [full, snapshot] = posted.map((m) => m.data);
  assert.equal(full.metricsAppend, false);
  assert.equal(full.metrics?.length, 121);
  assert.equal(full.run?.name, 'demo');
  assert.equal(full.status?.status, 'finished');
  assert.deepEqual(full.snapshotSteps, [1, 25, 50, 75, 100, 125, 150, 175, 200, 225]);
  assert.equal(full.snapshotEvery, 25);
  assert.equal(full.error, null);
  assert.equal(snapshot.snapshot?.manifest.step, 225);
  assert.equal(snapshot.snapshot?.uris['clip-00/masks.u8'], toUri(path.join(runDir, 'snapshots', 'step-000225', 'clip-00', 'masks.u8')));
});

test('dashboard: requestSnapshot answers with that step, a missing one with an error naming the file', async () => {
  const { runDir } = copyFixture();
  const posted: Array<Partial<WebviewState>> = [];
  const session = new DashboardSession({ runDir, post: (m) => void posted.push(m.data), toWebviewUri: toUri });
  await session.handleMessage({ type: 'ready' });
  posted.length = 0;
  await session.handleMessage({ type: 'requestSnapshot', step: 100 });
  assert.equal(posted[0].snapshot?.manifest.step, 100);
  await session.handleMessage({ type: 'requestSnapshot', step: 101 });
  assert.equal(posted[1].snapshot, null);
  assert.match(posted[1].error ?? '', /step-000101[\\/]snapshot\.json: no complete snapshot for step 101/);
  await session.handleMessage({ type: 'requestSnapshot', step: -1 }); // invalid: ignored
  assert.equal(posted.length, 2);
});

test('dashboard: refresh appends only new metrics and pushes status and snapshot changes', async () => {
  const { runDir } = copyFixture();
  const posted: Array<Partial<WebviewState>> = [];
  const session = new DashboardSession({ runDir, post: (m) => void posted.push(m.data), toWebviewUri: toUri });
  await session.refresh(); // before `ready`: nothing is sent
  assert.equal(posted.length, 0);
  await session.handleMessage({ type: 'ready' });
  posted.length = 0;
  await session.refresh();
  assert.equal(posted.length, 0, 'nothing changed, nothing sent');
  appendFileSync(
    path.join(runDir, 'metrics.jsonl'),
    JSON.stringify({ step: 241, epoch: 1, time: 't', loss: 7, lr: 0, wd: 0, momentum: 0, teacherTemp: 0, imgPerSec: 1, secPerStep: 1 }) +
      '\n{"step": 242, "torn',
  );
  const snap = path.join(runDir, 'snapshots', 'step-000250');
  mkdirSync(snap);
  writeFileSync(path.join(snap, 'snapshot.json'), '{}');
  await session.refresh();
  assert.equal(posted.length, 1);
  assert.deepEqual(
    posted[0].metrics?.map((r) => r.step),
    [241],
  );
  assert.equal(posted[0].metricsAppend, true);
  assert.deepEqual(posted[0].snapshotSteps?.slice(-1), [250]);
});

test('dashboard: a crash seen over IPC becomes the error banner, with the fix', async () => {
  const live = {
    ...initialLiveRun('/r', 'r', false),
    finished: { reason: 'failed' as const },
    lastError: { message: 'trainer exited with code 3', fix: 'resume from the last checkpoint' },
  };
  assert.equal(errorText({ status: 'running', step: 3 }, live), 'trainer exited with code 3\nFix: resume from the last checkpoint');
  assert.equal(
    errorText({ status: 'crashed', step: 3, reason: 'trainer process 7 is gone' }, undefined),
    'Run crashed at step 3: trainer process 7 is gone',
  );
  assert.equal(errorText({ status: 'finished', step: 3 }, undefined), null);
});
