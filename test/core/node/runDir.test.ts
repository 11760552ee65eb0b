import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { JsonlFollower, parseJsonl, readJsonlFrom, repairJsonlTail } from '../../../src/core/node/jsonl';
import {
  checkpointsToPrune,
  createRunDir,
  listCheckpoints,
  listRuns,
  listSnapshots,
  readEvents,
  readMetrics,
  readRunStatus,
  readSnapshotArray,
  readSnapshotManifest,
  sha256File,
  verifyCheckpoint,
} from '../../../src/core/node/runDir';
import {
  deriveRunStatus,
  type CheckpointSidecar,
  type LivenessProbe,
  type MetricsRecord,
  type RunEvent,
  type RunInfo,
  type SnapshotManifest,
} from '../../../src/core/runRecords';
import { checkpointPaths, makeRunId, parseStepLabel, runPaths, snapshotPaths, stepLabel } from '../../../src/core/node/runPaths';

const tempDir = () => mkdtemp(path.join(tmpdir(), 'dora-run-'));
const metric = (step: number): MetricsRecord => ({
  step,
  epoch: 0,
  time: '2025-01-01T00:00:00.000Z',
  loss: 10 - step / 100,
  lr: 1e-4,
  wd: 0.04,
  momentum: 0.996,
  teacherTemp: 0.04,
  imgPerSec: 5,
  secPerStep: 2,
});
const line = (value: unknown) => JSON.stringify(value) + '\n';

test('step labels', () => {
  assert.equal(stepLabel(120), 'step-000120');
  assert.equal(stepLabel(1_234_567), 'step-1234567');
  assert.throws(() => stepLabel(-1), RangeError);
  assert.equal(parseStepLabel('step-000120.json'), 120);
  assert.equal(parseStepLabel('step-000120.optim.safetensors'), 120);
  assert.equal(parseStepLabel('step-12.json'), undefined);
  assert.equal(parseStepLabel('.step-000120.partial'), undefined);
  assert.equal(checkpointPaths('/r', 120).sidecar, path.join('/r', 'checkpoints', 'step-000120.json'));
  assert.equal(snapshotPaths('/r', 5).manifest, path.join('/r', 'snapshots', 'step-000005', 'snapshot.json'));
});

test('parseJsonl ignores a torn last line and skips malformed complete lines', () => {
  const text = line(metric(1)) + '{"step": 2, "loss"\n' + line(metric(3)) + line({ step: 4 }) + '{"step":5,"lo';
  const result = parseJsonl(text, (v): v is MetricsRecord => typeof v === 'object' && v !== null && 'loss' in v);
  assert.deepEqual(
    result.records.map((r) => r.step),
    [1, 3],
  );
  assert.deepEqual(result.invalidLines, [2, 4]);
  assert.equal(result.tornTail, true);
  assert.deepEqual(parseJsonl('{"a":1}').records, [], 'a file without any newline has no complete line');
  assert.equal(parseJsonl('').tornTail, false);
});

test('readMetrics on a file being written', async () => {
  const dir = await tempDir();
  const metrics = runPaths(dir).metrics;
  assert.deepEqual((await readMetrics(dir)).records, [], 'a missing file reads as empty');
  await writeFile(metrics, line(metric(10)) + line(metric(20)) + JSON.stringify(metric(30)).slice(0, 25));
  const result = await readMetrics(dir);
  assert.deepEqual(
    result.records.map((r) => r.step),
    [10, 20],
  );
  assert.equal(result.tornTail, true);
  // A record with a non-finite loss (written as null) is not a metrics record.
  await writeFile(metrics, line({ ...metric(1), loss: null }));
  assert.deepEqual((await readMetrics(dir)).invalidLines, [1]);
});

test('readJsonlFrom reads only complete new lines, byte-exact across multi-byte characters', async () => {
  const dir = await tempDir();
  const file = path.join(dir, 'events.jsonl');
  await writeFile(file, line({ n: 1, text: 'Zürich 東京' }));
  const first = await readJsonlFrom(file, 0);
  assert.deepEqual(first.records, [{ n: 1, text: 'Zürich 東京' }]);
  // Half a line, ending inside a multi-byte character.
  const next = Buffer.from(line({ n: 2, text: '東京' }));
  await appendFile(file, next.subarray(0, next.length - 5));
  const partial = await readJsonlFrom(file, first.nextOffset, undefined, first.nextLine);
  assert.deepEqual(partial.records, []);
  assert.equal(partial.nextOffset, first.nextOffset);
  await appendFile(file, next.subarray(next.length - 5));
  const rest = await readJsonlFrom(file, partial.nextOffset, undefined, partial.nextLine);
  assert.deepEqual(rest.records, [{ n: 2, text: '東京' }]);
  assert.equal(rest.nextLine, 3);
});

test('JsonlFollower restarts when the file is replaced by a shorter one', async () => {
  const dir = await tempDir();
  const file = path.join(dir, 'metrics.jsonl');
  const follower = new JsonlFollower(file);
  assert.deepEqual((await follower.poll()).records, []);
  await writeFile(file, line({ a: 1 }) + line({ a: 2 }));
  assert.deepEqual((await follower.poll()).records, [{ a: 1 }, { a: 2 }]);
  assert.deepEqual((await follower.poll()).records, []);
  await writeFile(file, line({ b: 1 }));
  const chunk = await follower.poll();
  assert.equal(chunk.reset, true);
  assert.deepEqual(chunk.records, [{ b: 1 }]);
});

test('repairJsonlTail drops only the torn tail', async () => {
  const dir = await tempDir();
  const file = path.join(dir, 'events.jsonl');
  await writeFile(file, line({ a: 1 }) + '{"a":');
  assert.equal(await repairJsonlTail(file), 5);
  assert.equal(await readFile(file, 'utf8'), line({ a: 1 }));
  assert.equal(await repairJsonlTail(file), 0);
  assert.equal(await repairJsonlTail(path.join(dir, 'missing.jsonl')), 0);
});

// ---------------------------------------------------------------------------------------------

const NOW = Date.parse('2025-01-01T12:00:00.000Z');
const info = (over: Partial<RunInfo> = {}): RunInfo => ({
  formatVersion: 1,
  id: 'r',
  name: 'r',
  created: '2025-01-01T11:00:00.000Z',
  configFile: '/c.dora.json',
  preset: 'demo',
  statusHint: 'running',
  totalSteps: 240,
  stepsPerEpoch: 240,
  backend: 'wasm',
  pid: 4242,
  hostname: 'here',
  heartbeat: new Date(NOW - 5_000).toISOString(),
  versions: { doraStudio: '0.1.0', node: 'v20' },
  ...over,
});
const probe = (alive: boolean): LivenessProbe => ({ now: NOW, hostname: 'here', isPidAlive: () => alive, staleAfterMs: 60_000 });
const ev = (type: RunEvent['type'], step: number, extra: Record<string, unknown> = {}) =>
  ({ type, step, time: '2025-01-01T11:00:00.000Z', ...extra }) as RunEvent;
const started = ev('started', 0, { pid: 4242 });

test('status from events: terminal events win', () => {
  assert.deepEqual(deriveRunStatus([started, ev('checkpoint', 100, { file: 'x' }), ev('finished', 240)], info(), probe(false)), {
    status: 'finished',
    reason: undefined,
    step: 240,
  });
  assert.deepEqual(deriveRunStatus([started, ev('failed', 12, { reason: 'wasm heap exhausted' })], info(), probe(true)), {
    status: 'failed',
    reason: 'wasm heap exhausted',
    step: 12,
  });
  assert.deepEqual(deriveRunStatus([started, ev('stopped', 50, { reason: 'user' })], info(), probe(false)), {
    status: 'stopped',
    reason: 'user',
    step: 50,
  });
});

test('status: running needs a live trainer', () => {
  const events = [
    started,
    ev('failed', 10, { reason: 'x' }),
    ev('resumed', 10, { pid: 4242, checkpoint: 'c' }),
    ev('warning', 15, { message: 'slow' }),
  ];
  assert.deepEqual(deriveRunStatus(events, info(), probe(true)), { status: 'running', step: 15, heartbeatAgeMs: 5_000 });
  assert.deepEqual(deriveRunStatus(events, info(), probe(false)), {
    status: 'crashed',
    reason: 'trainer process 4242 is gone without writing a final event',
    step: 15,
    heartbeatAgeMs: 5_000,
  });
  // On another host the pid means nothing: only the heartbeat counts.
  assert.equal(deriveRunStatus(events, info({ hostname: 'gpu-box' }), probe(false)).status, 'running');
  const stale = info({ hostname: 'gpu-box', heartbeat: new Date(NOW - 120_000).toISOString() });
  assert.deepEqual(deriveRunStatus(events, stale, probe(false)), {
    status: 'crashed',
    reason: 'no heartbeat from the trainer for 120 s',
    step: 15,
    heartbeatAgeMs: 120_000,
  });
  assert.equal(deriveRunStatus(events, undefined, probe(true)).status, 'crashed');
});

test('status: starting until the first event, unless the trainer died', () => {
  assert.deepEqual(deriveRunStatus([], undefined, probe(true)), { status: 'starting', step: 0 });
  assert.equal(deriveRunStatus([], info(), probe(true)).status, 'starting');
  assert.equal(deriveRunStatus([], info(), probe(false)).status, 'crashed');
});

test('readRunStatus and listRuns on real folders', async () => {
  const runsDir = await tempDir();
  const now = new Date(NOW);
  const a = await createRunDir(runsDir, 'Venice walk!', now);
  const b = await createRunDir(runsDir, 'Venice walk!', now);
  assert.equal(a.id, '20250101-120000-venice-walk');
  assert.equal(b.id, '20250101-120000-venice-walk-2');
  assert.equal(makeRunId('', now), '20250101-120000-run');
  await writeFile(runPaths(a.dir).info, JSON.stringify(info({ id: a.id })));
  await writeFile(runPaths(a.dir).events, line(started) + line(ev('finished', 240)));
  await writeFile(runPaths(b.dir).info, JSON.stringify(info({ id: b.id })));
  await writeFile(runPaths(b.dir).events, line(started) + '{"type":"checkp');
  await mkdir(path.join(runsDir, 'not-a-run'));
  assert.equal((await readEvents(b.dir)).tornTail, true);
  assert.equal((await readRunStatus(b.dir, probe(false))).status, 'crashed');
  const runs = await listRuns(runsDir, probe(true));
  assert.deepEqual(
    runs.map((r) => [r.id, r.status.status]),
    [
      [b.id, 'running'],
      [a.id, 'finished'],
    ],
  );
});

test('checkpoints: listed by step, incomplete ones ignored, checksums verified, pruning', async () => {
  const { dir } = await createRunDir(await tempDir(), 'ckpt', new Date(NOW));
  for (const step of [1200, 36, 120]) {
    const p = checkpointPaths(dir, step);
    await writeFile(p.weights, `weights ${step}`);
    await writeFile(p.optimizer, `optim ${step}`);
    const sidecar: CheckpointSidecar = {
      formatVersion: 1,
      step,
      epoch: 0,
      time: '2025-01-01T00:00:00Z',
      weightsFile: path.basename(p.weights),
      weightsSha256: await sha256File(p.weights),
      optimizerFile: path.basename(p.optimizer),
      optimizerSha256: await sha256File(p.optimizer),
      centerTensor: 'loss.center',
      rng: { algorithm: 'seedrandom-alea', state: [1, 2] },
      schedule: { iteration: step, itersPerEpoch: 240, totalIters: 2400 },
      configSha256: 'abc',
    };
    await writeFile(p.sidecar, JSON.stringify(sidecar));
  }
  // Weights of a checkpoint still being written (no sidecar yet), a temp file, a broken sidecar.
  await writeFile(checkpointPaths(dir, 2400).weights, 'partial');
  await writeFile(path.join(runPaths(dir).checkpointsDir, '.step-002400.json.1.ab.tmp'), '{}');
  await writeFile(checkpointPaths(dir, 3600).sidecar, '{"step":36');
  const list = await listCheckpoints(dir);
  assert.deepEqual(
    list.map((c) => c.step),
    [36, 120, 1200],
  );
  assert.deepEqual(await verifyCheckpoint(list[0]), []);
  await writeFile(list[1].weightsFile, 'corrupted');
  const problems = await verifyCheckpoint(list[1]);
  assert.equal(problems.length, 1);
  assert.match(problems[0], /^step-000120\.safetensors: sha256 [0-9a-f]{64} does not match [0-9a-f]{64} in step-000120\.json$/);
  assert.deepEqual(
    checkpointsToPrune(list, 2).map((c) => c.step),
    [36],
  );
  assert.deepEqual(checkpointsToPrune(list, 0), []);
  assert.deepEqual(checkpointsToPrune(list, 5), []);
});

test('snapshots: only complete folders, sorted; arrays read with bounds checks', async () => {
  const { dir } = await createRunDir(await tempDir(), 'snap', new Date(NOW));
  const manifest = (step: number): SnapshotManifest => ({
    formatVersion: 1,
    step,
    epoch: 0,
    time: 't',
    imageSize: 64,
    patchSize: 16,
    grid: 4,
    framesPerClip: 2,
    heads: [0, 2],
    clips: [
      {
        index: 0,
        frameIndices: [0, 8],
        frames: ['clip-00/frame-00.png', 'clip-00/frame-01.png'],
        assignment: { file: 'clip-00/assignment.f32', dtype: 'float32', shape: [16, 2] },
        attention: { file: 'clip-00/attention.f32', dtype: 'float32', shape: [2, 2, 4, 4] },
        masks: { file: 'clip-00/masks.u8', dtype: 'uint8', shape: [2, 2, 4, 4] },
      },
    ],
  });
  for (const step of [50, 25]) {
    const p = snapshotPaths(dir, step);
    await mkdir(path.join(p.dir, 'clip-00'), { recursive: true });
    await writeFile(p.manifest, JSON.stringify(manifest(step)));
    await writeFile(path.join(p.dir, 'clip-00', 'assignment.f32'), Buffer.from(new Float32Array(32).fill(0.5).buffer));
    await writeFile(path.join(p.dir, 'clip-00', 'masks.u8'), Buffer.alloc(31));
  }
  await mkdir(snapshotPaths(dir, 75).tempDir, { recursive: true }); // still being written
  await mkdir(snapshotPaths(dir, 100).dir, { recursive: true }); // no manifest
  assert.deepEqual(
    (await listSnapshots(dir)).map((s) => s.step),
    [25, 50],
  );
  const read = await readSnapshotManifest(dir, 25);
  assert.ok(read);
  const snapDir = snapshotPaths(dir, 25).dir;
  const assignment = await readSnapshotArray(snapDir, read.clips[0].assignment);
  assert.ok(assignment instanceof Float32Array);
  assert.equal(assignment.length, 32);
  assert.equal(assignment[31], 0.5);
  await assert.rejects(readSnapshotArray(snapDir, read.clips[0].masks), /expected 64 bytes for uint8\[2, 2, 4, 4\], found 31/);
  await assert.rejects(readSnapshotArray(snapDir, { file: '../../run.json', dtype: 'uint8', shape: [1] }), /outside/);
  assert.equal(await readSnapshotManifest(dir, 100), undefined);
});
