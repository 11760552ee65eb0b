// Checks a run folder with the readers and guards the extension uses (src/core/node/runDir.ts, src/core/runRecords.ts): every
// record must pass its guard, every checkpoint its checksums, every snapshot array its byte count. Returns a summary
// and the list of problems (empty when the folder is valid).
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isRunInfo } from '../../../src/core/runRecords';
import {
  listCheckpoints,
  listSnapshots,
  readEvents,
  readMetrics,
  readRunStatus,
  readSnapshotArray,
  readSnapshotManifest,
  verifyCheckpoint,
} from '../../../src/core/node/runDir';

export async function validateRunDir(runDir: string) {
  const problems: string[] = [];
  const info = JSON.parse(await readFile(join(runDir, 'run.json'), 'utf8'));
  if (!isRunInfo(info)) problems.push('run.json fails isRunInfo');
  const events = await readEvents(runDir);
  if (events.invalidLines.length) problems.push(`events.jsonl: invalid lines ${events.invalidLines}`);
  const metrics = await readMetrics(runDir);
  if (metrics.invalidLines.length) problems.push(`metrics.jsonl: invalid lines ${metrics.invalidLines}`);
  const checkpoints = await listCheckpoints(runDir);
  for (const c of checkpoints) for (const p of await verifyCheckpoint(c)) problems.push(`checkpoint ${c.step}: ${p}`);
  const snapshots = await listSnapshots(runDir);
  for (const s of snapshots) {
    const manifest = await readSnapshotManifest(runDir, s.step);
    if (!manifest) {
      problems.push(`snapshot ${s.step}: manifest fails isSnapshotManifest`);
      continue;
    }
    for (const clip of manifest.clips) {
      for (const ref of [clip.assignment, clip.attention, clip.masks]) {
        try {
          await readSnapshotArray(s.dir, ref);
        } catch (e) {
          problems.push(`snapshot ${s.step}: ${(e as Error).message}`);
        }
      }
      for (const frame of clip.frames) {
        const png = await readFile(join(s.dir, frame)).catch(() => undefined);
        if (!png || png.subarray(1, 4).toString() !== 'PNG') problems.push(`snapshot ${s.step}: ${frame} is not a PNG`);
      }
    }
  }
  const leftovers = (await readdir(join(runDir, 'snapshots'))).filter((n) => n.startsWith('.'));
  const status = await readRunStatus(runDir);
  return {
    problems,
    status: status.status,
    events: events.records.map((e) => e.type),
    metricsSteps: metrics.records.map((m) => m.step),
    losses: metrics.records.map((m) => m.loss),
    checkpoints: checkpoints.map((c) => c.step),
    snapshots: snapshots.map((s) => s.step),
    leftovers,
  };
}
