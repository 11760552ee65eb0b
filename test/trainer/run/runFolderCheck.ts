// A run folder read the way the extension reads it (src/core/node/runDir.ts readers, the Runs view's listing): every
// record passes its guard, every checkpoint its checksums, every snapshot array its byte count. Returns what was read.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  listCheckpoints,
  listSnapshots,
  localLivenessProbe,
  readEvents,
  readMetrics,
  readRunInfo,
  readRunStatus,
  readSnapshotArray,
  readSnapshotManifest,
  verifyCheckpoint,
} from '../../../src/core/node/runDir';
import { listRunFolders } from '../../../src/host/runs/runIndex';

export async function readRunLikeTheHost(runDir: string) {
  const info = await readRunInfo(runDir);
  assert.ok(info, `${runDir}/run.json is missing or fails isRunInfo`);
  const events = await readEvents(runDir);
  assert.deepEqual(events.invalidLines, [], 'events.jsonl has invalid lines');
  const metrics = await readMetrics(runDir);
  assert.deepEqual(metrics.invalidLines, [], 'metrics.jsonl has invalid lines');
  const checkpoints = await listCheckpoints(runDir);
  for (const c of checkpoints) assert.deepEqual(await verifyCheckpoint(c), [], `checkpoint ${c.step}`);
  const snapshots = await listSnapshots(runDir);
  for (const s of snapshots) {
    const manifest = await readSnapshotManifest(runDir, s.step);
    assert.ok(manifest, `snapshot ${s.step}: manifest`);
    for (const clip of manifest.clips) {
      for (const ref of [clip.assignment, clip.attention, clip.masks]) await readSnapshotArray(s.dir, ref);
      for (const frame of clip.frames) assert.ok(existsSync(join(s.dir, frame)), `snapshot ${s.step}: ${frame}`);
    }
  }
  const status = await readRunStatus(runDir);
  const listed = await listRunFolders(join(runDir, '..'), localLivenessProbe());
  assert.ok(
    listed.some((r) => r.dir === runDir),
    'the Runs view lists it',
  );
  return { info, events: events.records, metrics: metrics.records, checkpoints, snapshots, status };
}
