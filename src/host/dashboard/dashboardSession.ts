// Host side of one dashboard webview: answers `ready` with the whole state, `requestSnapshot` with a
// manifest and file URIs, and pushes keyed partial updates (appended metrics, status, new snapshots)
// as the run advances. No vscode import: `post` and `toWebviewUri` are injected.

import { JsonlFollower } from '../../core/node/jsonl';
import { listSnapshots, readRunConfig, readRunInfo, readSnapshotManifest } from '../../core/node/runDir';
import { readLaunchStatus } from '../runs/slurmRuns';
import { runPaths, snapshotPaths } from '../../core/node/runPaths';
import { isMetricsRecord, type MetricsRecord, type RunInfo, type RunStatusReport } from '../../core/runRecords';
import { isWebviewToHostMessage, type HostToWebviewMessage, type WebviewState } from '../../core/webviewMessages';
import type { LiveRunState } from '../runs/liveRun';
import { snapshotUriMap } from '../shared/snapshotUris';

export interface DashboardSessionOptions {
  runDir: string;
  post: (message: HostToWebviewMessage) => void | PromiseLike<boolean>;
  toWebviewUri: (absolutePath: string) => string;
  /** The live state when this window runs the trainer (its last error is more precise than the files). */
  live?: () => LiveRunState | undefined;
}

export function errorText(status: RunStatusReport | null, live: LiveRunState | undefined): string | null {
  if (live?.lastError) return live.lastError.fix ? `${live.lastError.message}\nFix: ${live.lastError.fix}` : live.lastError.message;
  if (status && (status.status === 'failed' || status.status === 'crashed'))
    return `Run ${status.status} at step ${status.step}: ${status.reason ?? 'no reason recorded'}`;
  return null;
}

export class DashboardSession {
  private follower: JsonlFollower<MetricsRecord>;
  private ready = false;
  private lastSent: { status?: string; run?: string; snapshotSteps?: string; error?: string | null; etaSeconds?: number | null } = {};
  private snapshotEvery: number | null | undefined;
  private sentSnapshotStep: number | undefined;
  private requestedStep: number | undefined;
  private disposed = false;

  constructor(private readonly o: DashboardSessionOptions) {
    this.follower = new JsonlFollower(runPaths(o.runDir).metrics, isMetricsRecord);
  }

  get runDir(): string {
    return this.o.runDir;
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** Step of the snapshot the webview last asked for (persisted by the panel for reloads). */
  get selectedStep(): number | undefined {
    return this.requestedStep;
  }

  async handleMessage(raw: unknown): Promise<void> {
    if (!isWebviewToHostMessage(raw)) return;
    if (raw.type === 'ready') {
      this.ready = true;
      await this.sendAll();
    } else {
      this.requestedStep = raw.step;
      await this.sendSnapshot(raw.step);
    }
  }

  /** Called when files of the run changed or the trainer sent something: pushes only what changed. */
  async refresh(): Promise<void> {
    if (!this.ready || this.disposed) return;
    const chunk = await this.follower.poll().catch(() => undefined);
    const data: Partial<WebviewState> = {};
    if (chunk && chunk.records.length > 0) {
      data.metrics = chunk.records;
      data.metricsAppend = true;
    }
    Object.assign(data, await this.changedHeader());
    if (Object.keys(data).length > 0) this.post(data);
    // The view asks for snapshots only once it shows one; until then the host sends the first that appears.
    const steps = data.snapshotSteps;
    if (steps && steps.length > 0 && this.sentSnapshotStep === undefined && this.requestedStep === undefined)
      await this.sendSnapshot(steps[steps.length - 1]);
  }

  dispose(): void {
    this.disposed = true;
  }

  private async sendAll(): Promise<void> {
    // A fresh follower: the webview may have reloaded and lost everything.
    this.follower = new JsonlFollower(runPaths(this.o.runDir).metrics, isMetricsRecord);
    this.lastSent = {};
    this.sentSnapshotStep = undefined;
    const chunk = await this.follower.poll().catch(() => ({ records: [] as MetricsRecord[] }));
    const header = await this.changedHeader();
    this.snapshotEvery ??= await readSnapshotEvery(this.o.runDir);
    this.post({
      run: null,
      status: null,
      snapshotSteps: [],
      error: null,
      etaSeconds: null,
      ...header,
      snapshotEvery: this.snapshotEvery,
      metrics: chunk.records,
      metricsAppend: false,
    });
    // The view shows the newest snapshot until the user picks another step.
    const steps = header.snapshotSteps ?? [];
    if (this.requestedStep === undefined && steps.length > 0) await this.sendSnapshot(steps[steps.length - 1]);
  }

  private async changedHeader(): Promise<Partial<WebviewState>> {
    const [info, status, snapshots] = await Promise.all([
      readRunInfo(this.o.runDir).catch((): RunInfo | undefined => undefined),
      readLaunchStatus(this.o.runDir).catch((): RunStatusReport | null => null),
      listSnapshots(this.o.runDir).catch(() => []),
    ]);
    const data: Partial<WebviewState> = {};
    const live = this.o.live?.();
    const effective = status ? liveAdjustedStatus(status, live) : null;
    const runKey = JSON.stringify(info ?? null);
    if (runKey !== this.lastSent.run) data.run = info ?? null;
    const statusKey = JSON.stringify(effective && { ...effective, heartbeatAgeMs: undefined });
    if (statusKey !== this.lastSent.status) data.status = effective;
    const steps = snapshots.map((s) => s.step);
    const stepsKey = steps.join(',');
    if (stepsKey !== this.lastSent.snapshotSteps) data.snapshotSteps = steps;
    const error = errorText(effective, live);
    if (error !== this.lastSent.error) data.error = error;
    const etaSeconds = live && !live.finished && live.eta !== undefined ? Math.round(live.eta) : null;
    if (etaSeconds !== this.lastSent.etaSeconds) data.etaSeconds = etaSeconds;
    this.lastSent = { run: runKey, status: statusKey, snapshotSteps: stepsKey, error, etaSeconds };
    return data;
  }

  private async sendSnapshot(step: number): Promise<void> {
    const manifest = await readSnapshotManifest(this.o.runDir, step).catch(() => undefined);
    if (!manifest) {
      this.post({
        snapshot: null,
        error:
          `${snapshotPaths(this.o.runDir, step).manifest}: no complete snapshot for step ${step}. Pick another ` +
          `step; the trainer writes one every runtime.snapshotEvery steps.`,
      });
      return;
    }
    const dir = snapshotPaths(this.o.runDir, step).dir;
    this.sentSnapshotStep = step;
    this.post({ snapshot: { manifest, uris: snapshotUriMap(manifest, dir, this.o.toWebviewUri) } });
  }

  private post(data: Partial<WebviewState>): void {
    if (this.disposed) return;
    void this.o.post({ type: 'setData', data });
  }
}

/** While this window holds the trainer, its view of a crash wins over "starting"/"running" on disk. */
export function liveAdjustedStatus(status: RunStatusReport, live: LiveRunState | undefined): RunStatusReport {
  if (!live?.finished) return status;
  if (live.finished.reason === 'failed' && (status.status === 'running' || status.status === 'starting')) {
    return { ...status, status: 'crashed', reason: live.lastError?.message ?? live.finished.message };
  }
  return status;
}

async function readSnapshotEvery(runDir: string): Promise<number | null> {
  const config = (await readRunConfig(runDir).catch(() => undefined)) as { runtime?: { snapshotEvery?: unknown } } | undefined;
  const every = config?.runtime?.snapshotEvery;
  return typeof every === 'number' && Number.isFinite(every) && every > 0 ? every : null;
}
