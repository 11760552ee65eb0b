// Discovers runs in the runs folders and keeps a cheap summary of each (status, last metrics record).
// Files are the source of truth (docs/run-directory.md): runs started in another window, from the CLI,
// or before a reload show up exactly like the ones this window started. No vscode import.

import { readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { isNotFound, JsonlFollower } from '../../core/node/jsonl';
import {
  listCheckpoints,
  localLivenessProbe,
  readEvents,
  readRunInfo,
  type CheckpointEntry,
  type RunSummary,
} from '../../core/node/runDir';
import { runPaths } from '../../core/node/runPaths';
import { hasSlurmJobs } from '../../core/node/slurm';
import { deriveRunStatus, isMetricsRecord, type MetricsRecord, type LivenessProbe } from '../../core/runRecords';
import type { StudioInfo } from '../../core/studioFile';
import { readStudioInfo } from '../runManagement/studioFiles';
import { slurmStatusOf } from './slurmRuns';

/**
 * Like core listRuns, but only looks into sub-folders: a stray file in a runs folder (README.md,
 * notes.txt) must not hide every run. Newest id first.
 */
export async function listRunFolders(runsDir: string, probe: LivenessProbe): Promise<RunSummary[]> {
  let entries;
  try {
    entries = await readdir(runsDir, { withFileTypes: true });
  } catch (error) {
    if (isNotFound(error) || (error as { code?: unknown }).code === 'ENOTDIR') return [];
    throw error;
  }
  const runs: RunSummary[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const dir = path.join(runsDir, entry.name);
    const [events, info, launched] = await Promise.all([readEvents(dir), readRunInfo(dir), hasSlurmJobs(dir)]);
    if (!info && events.records.length === 0 && events.invalidLines.length === 0 && !launched) {
      // Not a run (yet): no run.json and no events. A run this window just created is added by WorkspaceModel.
      continue;
    }
    const status = deriveRunStatus(events.records, info, probe);
    // A Slurm run shows its job's state (queued …) until, and after, the engine writes its own records.
    const slurm = launched ? await slurmStatusOf(dir, events.records, status).catch(() => undefined) : undefined;
    runs.push({ id: entry.name, dir, info, status: slurm?.status ?? status, ...(slurm ? { slurm: slurm.slurm } : {}) });
  }
  return runs.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

interface MetricsTail {
  follower: JsonlFollower<MetricsRecord>;
  last?: MetricsRecord;
  byStep: Map<number, MetricsRecord>;
}

export class RunIndex {
  private runsByFolder = new Map<string, RunSummary[]>();
  private tails = new Map<string, MetricsTail>();
  private checkpointCache = new Map<string, CheckpointEntry[]>();
  private studioInfo = new Map<string, StudioInfo>();

  constructor(private readonly probe: () => LivenessProbe = localLivenessProbe) {}

  /** Re-reads every folder; returns the run folders whose summary changed. */
  async refresh(runsFolders: readonly string[]): Promise<void> {
    const next = new Map<string, RunSummary[]>();
    const probe = this.probe();
    for (const folder of runsFolders) {
      try {
        next.set(folder, await listRunFolders(folder, probe));
      } catch {
        next.set(folder, []); // unreadable folder (permissions, removed mid-scan): show it empty rather than fail the view
      }
    }
    this.runsByFolder = next;
    const live = new Set<string>();
    for (const runs of next.values()) for (const run of runs) live.add(run.dir);
    for (const dir of [...this.tails.keys()]) if (!live.has(dir)) this.tails.delete(dir);
    await Promise.all([...live].map((dir) => this.pollMetrics(dir)));
    const studio = new Map<string, StudioInfo>();
    await Promise.all(
      [...live].map(async (dir) => {
        const info = await readStudioInfo(dir);
        if (info) studio.set(dir, info);
      }),
    );
    this.studioInfo = studio;
  }

  /** The run's studio.json (display name, star) as of the last refresh. */
  studio(runDir: string): StudioInfo | undefined {
    return this.studioInfo.get(runDir);
  }

  /** Reads the metrics appended since the last call; returns the new records. */
  async pollMetrics(runDir: string): Promise<MetricsRecord[]> {
    let tail = this.tails.get(runDir);
    if (!tail) {
      tail = { follower: new JsonlFollower(runPaths(runDir).metrics, isMetricsRecord), byStep: new Map() };
      this.tails.set(runDir, tail);
    }
    try {
      const chunk = await tail.follower.poll();
      for (const record of chunk.records) tail.byStep.set(record.step, record);
      if (chunk.records.length > 0) tail.last = chunk.records[chunk.records.length - 1];
      return chunk.records;
    } catch {
      return [];
    }
  }

  folders(): ReadonlyMap<string, readonly RunSummary[]> {
    return this.runsByFolder;
  }

  allRuns(): RunSummary[] {
    return [...this.runsByFolder.values()].flat();
  }

  find(runDir: string): RunSummary | undefined {
    return this.allRuns().find((r) => r.dir === runDir);
  }

  lastMetrics(runDir: string): MetricsRecord | undefined {
    return this.tails.get(runDir)?.last;
  }

  metricsAt(runDir: string): ReadonlyMap<number, MetricsRecord> {
    return this.tails.get(runDir)?.byStep ?? new Map();
  }

  async checkpoints(runDir: string, fresh = true): Promise<CheckpointEntry[]> {
    if (fresh || !this.checkpointCache.has(runDir)) this.checkpointCache.set(runDir, await listCheckpoints(runDir).catch(() => []));
    return this.checkpointCache.get(runDir)!;
  }
}
