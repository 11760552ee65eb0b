// Host side of the overlay chart ("DoRA: Plot Runs"): follows each run's metrics.jsonl and pushes keyed partial
// updates (the run list, then per-run appends). No vscode import: `post` is injected, as in dashboardSession.ts.

import * as path from 'node:path';
import { isPlotsToHostMessage, type HostToPlotsMessage, type PlotRun, type PlotsState } from '../../core/experimentMessages';
import { JsonlFollower } from '../../core/node/jsonl';
import { readRunInfo, readRunStatus } from '../../core/node/runDir';
import { runPaths } from '../../core/node/runPaths';
import { isMetricsRecord, type MetricsRecord } from '../../core/runRecords';
import { runDisplayName } from '../../core/studioFile';
import { readStudioInfo } from '../runManagement/studioFiles';

export interface PlotsSessionOptions {
  runDirs: readonly string[];
  post: (message: HostToPlotsMessage) => void | PromiseLike<boolean>;
  /** Messages the session does not handle itself (chart export). */
  onOtherMessage?: (message: unknown) => void;
}

/** "loss of 3 runs" / "loss of venice". */
export function plotsTitle(runs: readonly PlotRun[]): string {
  return runs.length === 1 ? runs[0].label : `${runs.length} runs`;
}

export class PlotsSession {
  private followers = new Map<string, JsonlFollower<MetricsRecord>>();
  private ready = false;
  private sent = 0;
  private disposed = false;
  private lastRunsKey = '';
  private runDirs: string[];

  constructor(private readonly o: PlotsSessionOptions) {
    this.runDirs = [...new Set(o.runDirs)];
  }

  get runs(): readonly string[] {
    return this.runDirs;
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** How many full updates (the runs and all their metrics) were posted: after a `ready`, once they are read. */
  get fullUpdatesSent(): number {
    return this.sent;
  }

  async handleMessage(raw: unknown): Promise<void> {
    if (!isPlotsToHostMessage(raw)) return;
    if (raw.type === 'ready') {
      this.ready = true;
      await this.sendAll();
    } else this.o.onOtherMessage?.(raw);
  }

  /** Shows another set of runs in the same panel. */
  async setRuns(runDirs: readonly string[]): Promise<void> {
    this.runDirs = [...new Set(runDirs)];
    if (this.ready) await this.sendAll();
  }

  /** Appends what the runs logged since the last call, and the run list when a status or name changed. */
  async refresh(): Promise<void> {
    if (!this.ready || this.disposed) return;
    const metrics: Record<string, MetricsRecord[]> = {};
    for (const dir of this.runDirs) {
      const chunk = await this.follower(dir)
        .poll()
        .catch(() => undefined);
      if (chunk && chunk.records.length > 0) metrics[dir] = chunk.records;
    }
    const runs = await this.describeRuns();
    const data: Partial<PlotsState> = {};
    if (JSON.stringify(runs) !== this.lastRunsKey) {
      this.lastRunsKey = JSON.stringify(runs);
      Object.assign(data, { runs, title: plotsTitle(runs) });
    }
    if (Object.keys(metrics).length > 0) Object.assign(data, { metrics, metricsAppend: true });
    if (Object.keys(data).length > 0) this.post(data);
  }

  dispose(): void {
    this.disposed = true;
  }

  private follower(dir: string): JsonlFollower<MetricsRecord> {
    let follower = this.followers.get(dir);
    if (!follower) this.followers.set(dir, (follower = new JsonlFollower(runPaths(dir).metrics, isMetricsRecord)));
    return follower;
  }

  private async describeRuns(): Promise<PlotRun[]> {
    return Promise.all(
      this.runDirs.map(async (dir, colorIndex) => {
        const [info, status, studio] = await Promise.all([
          readRunInfo(dir).catch(() => undefined),
          readRunStatus(dir).catch(() => undefined),
          readStudioInfo(dir),
        ]);
        return { id: dir, label: runDisplayName(path.basename(dir), info?.name, studio), status: status?.status ?? 'starting', colorIndex };
      }),
    );
  }

  private async sendAll(): Promise<void> {
    // Fresh followers: the webview may have reloaded and lost everything.
    this.followers = new Map();
    const metrics: Record<string, MetricsRecord[]> = {};
    for (const dir of this.runDirs) {
      const chunk = await this.follower(dir)
        .poll()
        .catch(() => ({ records: [] as MetricsRecord[] }));
      metrics[dir] = chunk.records;
    }
    const runs = await this.describeRuns();
    this.lastRunsKey = JSON.stringify(runs);
    const missing = runs.filter((r) => metrics[r.id].length === 0).map((r) => r.label);
    this.sent++;
    this.post({
      title: plotsTitle(runs),
      runs,
      metrics,
      metricsAppend: false,
      error:
        missing.length === runs.length && runs.length > 0
          ? `No metrics yet in ${missing.join(', ')}: the trainer appends to metrics.jsonl every runtime.logEvery steps.`
          : null,
    });
  }

  private post(data: Partial<PlotsState>): void {
    if (this.disposed) return;
    void this.o.post({ type: 'setData', data });
  }
}
