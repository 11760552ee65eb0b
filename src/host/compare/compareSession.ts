// Host side of the compare panel: N checkpoints side by side. It sends configs and metrics at once, then asks an engine
// to `inspect` the checkpoints (every checkpoint's masks and attention on the SAME frames, in a child process) and sends
// those as they arrive. No vscode import.

import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { listSnapshots, readMetrics, readRunConfig, readRunInfo } from '../../core/node/runDir';
import { RUN_FILES, evalSidecarPath, runDirOfCheckpoint, stepOfCheckpoint, attentionDirOf } from '../../core/node/runPaths';
import { isSnapshotManifest, type MetricsRecord } from '../../core/runRecords';
import { attentionResultOf, evalMetrics } from '../../core/evalResults';
import { readEvalSidecar } from '../../core/node/evalFiles';
import {
  isCompareToHostMessage,
  type AttentionMapsPayload,
  type CompareCheckpoint,
  type CompareState,
  type HostToCompareMessage,
} from '../../core/webviewMessages';
import { isInsideFolder, snapshotUriMap } from '../shared/snapshotUris';
import type { EngineClient } from '../engine/engineClient';

export interface InspectOutcome {
  /** Snapshot folders in the order of the checkpoints (undefined: none for that one), or undefined when inspect did not run. */
  dirs?: Array<string | undefined>;
  /** Why there are no same-frame results. */
  problem?: string;
}

export type InspectRunner = (checkpoints: readonly string[], outDir: string, signal: AbortSignal) => Promise<InspectOutcome>;

export interface CompareSessionOptions {
  checkpoints: readonly string[];
  post: (message: HostToCompareMessage) => void | PromiseLike<boolean>;
  toWebviewUri: (absolutePath: string) => string;
  /** Cache folder for inspect output (one sub-folder per checkpoint set). */
  inspectRoot: string;
  runInspect?: InspectRunner;
  onLog?: (line: string) => void;
  /** The webview's "Evaluate" button. */
  onEvaluateRequest?: (checkpoints: readonly string[]) => void;
  /**
   * Restricted Mode: no child process, no ffmpeg, no writes. Each checkpoint shows what is already on disk: an earlier
   * same-frame inspection of the same checkpoints, else its run's own snapshot nearest its step.
   */
  restricted?: boolean;
}

export const RESTRICTED_COMPARE_NOTE =
  'Restricted Mode: same-frame inspection runs the model and ffmpeg, so it is off until you trust this workspace. ' +
  "Each column shows what is on disk: the run's own snapshot nearest the checkpoint's step (not the same frames).";

/** A run's snapshot at or just before `step` (its folder), for the Restricted Mode comparison. */
export async function nearestSnapshotDir(runDir: string, step: number): Promise<string | undefined> {
  const snapshots = await listSnapshots(runDir).catch(() => []);
  return snapshots.filter((s) => s.step <= step).pop()?.dir ?? snapshots[0]?.dir;
}

/** A checkpoint's stored evaluation: metrics for the table and the attention maps (files checked to exist). */
export async function evaluationOf(
  checkpoint: string,
  toWebviewUri: (absolutePath: string) => string,
): Promise<Pick<CompareCheckpoint, 'evaluation' | 'attentionMaps'>> {
  const sidecar = await readEvalSidecar(evalSidecarPath(checkpoint));
  const attention = attentionResultOf(sidecar);
  let attentionMaps: AttentionMapsPayload | null = null;
  if (attention) {
    // The folder is found next to the checkpoint (the run may have moved since the record was written).
    const dir = attentionDirOf(checkpoint);
    const manifest = await readJson(path.join(dir, 'manifest.json'));
    if (manifest && Array.isArray(manifest.frames) && typeof (manifest.attention as { file?: unknown } | undefined)?.file === 'string') {
      const files = [
        ...(manifest.frames as Array<{ png?: unknown }>).map((f) => f.png),
        (manifest.attention as { file: string }).file,
      ].filter((f): f is string => typeof f === 'string');
      const uris: Record<string, string> = {};
      for (const file of files) if (isInsideFolder(dir, file)) uris[file] = toWebviewUri(path.resolve(dir, file));
      attentionMaps = { manifest: manifest as unknown as AttentionMapsPayload['manifest'], uris };
    }
  }
  return { evaluation: evalMetrics(sidecar), attentionMaps };
}

/** Metrics record at `step`, else the last one before it. */
export function metricsAtStep(records: readonly MetricsRecord[], step: number): MetricsRecord | null {
  let best: MetricsRecord | null = null;
  for (const r of records) if (r.step <= step && (!best || r.step > best.step)) best = r;
  return best;
}

/** A cache key that changes when any checkpoint is rewritten. */
export async function inspectKey(checkpoints: readonly string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const file of checkpoints) {
    const info = await stat(file).catch(() => undefined);
    hash.update(`${path.resolve(file)}\0${info?.mtimeMs ?? 0}\0`);
  }
  return hash.digest('hex').slice(0, 16);
}

export class CompareSession {
  private state: CompareState = { title: null, checkpoints: [], error: null };
  private readonly abort = new AbortController();
  private inspecting: Promise<void> | undefined;
  private loaded = false;

  constructor(private readonly o: CompareSessionOptions) {}

  get checkpoints(): readonly string[] {
    return this.o.checkpoints;
  }

  async handleMessage(raw: unknown): Promise<void> {
    if (!isCompareToHostMessage(raw)) return;
    if (raw.type === 'evaluate') {
      this.o.onEvaluateRequest?.(this.o.checkpoints);
      return;
    }
    if (!this.loaded) await this.loadCheckpoints();
    this.send(this.state);
    this.inspecting ??= this.inspectSameFrames();
  }

  /** Resolves when the same-frame inspection finished (or failed). */
  whenSettled(): Promise<void> {
    return this.inspecting ?? Promise.resolve();
  }

  currentState(): CompareState {
    return this.state;
  }

  dispose(): void {
    this.abort.abort();
  }

  /** Re-reads the checkpoints' eval sidecars and sends what changed (after an evaluation). */
  async refreshEvaluations(): Promise<void> {
    if (!this.loaded) return;
    const updated = await Promise.all(this.o.checkpoints.map((c) => evaluationOf(c, this.o.toWebviewUri)));
    if (this.abort.signal.aborted) return;
    // Merged into the state as it is now: the same-frame inspection may have landed meanwhile.
    const checkpoints = this.state.checkpoints.map((item, i) => ({ ...item, ...updated[i] }));
    if (JSON.stringify(checkpoints) === JSON.stringify(this.state.checkpoints)) return;
    this.state = { ...this.state, checkpoints };
    this.send({ checkpoints });
  }

  private async loadCheckpoints(): Promise<void> {
    const checkpoints: CompareCheckpoint[] = [];
    const metricsByRun = new Map<string, MetricsRecord[]>();
    const problems: string[] = [];
    for (const checkpoint of this.o.checkpoints) {
      const runDir = runDirOfCheckpoint(checkpoint);
      const info = await readRunInfo(runDir).catch(() => undefined);
      const runId = info?.id ?? path.basename(runDir);
      const sidecar = await readJson(checkpoint);
      const step = typeof sidecar?.step === 'number' ? sidecar.step : (stepOfCheckpoint(checkpoint) ?? 0);
      if (!sidecar)
        problems.push(
          `${checkpoint}: the checkpoint sidecar is missing or unreadable (deleted, or pruned by ` +
            `runtime.keepCheckpoints). Tick other checkpoints.`,
        );
      if (!metricsByRun.has(runDir))
        metricsByRun.set(runDir, (await readMetrics(runDir).catch(() => ({ records: [] as MetricsRecord[] }))).records);
      const config = await readRunConfig(runDir).catch(() => undefined);
      checkpoints.push({
        id: `${runId}@${step}`,
        label: `${info?.name && !runId.endsWith(info.name) ? `${info.name} ` : ''}${runId} @ ${step}`,
        step,
        config: typeof config === 'object' && config !== null ? (config as Record<string, unknown>) : {},
        metrics: metricsAtStep(metricsByRun.get(runDir)!, step),
        inspection: null,
        ...(await evaluationOf(checkpoint, this.o.toWebviewUri)),
      });
    }
    const runs = new Set(this.o.checkpoints.map(runDirOfCheckpoint)).size;
    const title =
      checkpoints.length === 1
        ? `Checkpoint ${checkpoints[0].label}`
        : `Compare ${checkpoints.length} checkpoints${runs > 1 ? ` of ${runs} runs` : ''}`;
    if (this.o.restricted) problems.push(RESTRICTED_COMPARE_NOTE);
    this.state = { title, checkpoints, error: problems.length ? problems.join('\n') : null };
    this.loaded = true;
  }

  private async inspectSameFrames(): Promise<void> {
    const run = this.o.runInspect;
    let outcome: InspectOutcome;
    if (this.o.restricted) {
      outcome = await this.onDisk();
    } else if (!run) {
      outcome = { problem: 'same-frame inspection is not available in this build' };
    } else {
      try {
        outcome = await run(this.o.checkpoints, path.join(this.o.inspectRoot, await inspectKey(this.o.checkpoints)), this.abort.signal);
      } catch (error) {
        outcome = { problem: (error as Error).message };
      }
    }
    if (this.abort.signal.aborted) return;
    if (!outcome.dirs) this.o.onLog?.(`compare: same-frame inspection failed: ${outcome.problem}`);
    type Inspected = Pick<CompareCheckpoint, 'inspection' | 'inspectionError'>;
    const inspected = await Promise.all(
      this.o.checkpoints.map(async (_, i): Promise<Partial<Inspected>> => {
        const dir = outcome.dirs?.[i];
        if (!dir) return { inspectionError: outcome.problem ?? 'the inspection gave no result for this checkpoint' };
        const manifest = await readJson(path.join(dir, RUN_FILES.snapshotManifest));
        if (!isSnapshotManifest(manifest))
          return { inspectionError: `${path.join(dir, RUN_FILES.snapshotManifest)} is missing or invalid` };
        return { inspection: { manifest, uris: snapshotUriMap(manifest, dir, this.o.toWebviewUri) }, inspectionError: null };
      }),
    );
    // Merged into the state as it is now: an evaluation refresh may have landed meanwhile.
    const checkpoints = this.state.checkpoints.map((item, i) => ({ ...item, ...inspected[i] }));
    this.state = { ...this.state, checkpoints };
    this.send({ checkpoints });
  }

  /** Restricted Mode: an earlier inspection of these checkpoints if there is one (read only), else each run's snapshot. */
  private async onDisk(): Promise<InspectOutcome> {
    const cached = await readInspectIndex(path.join(this.o.inspectRoot, await inspectKey(this.o.checkpoints)), this.o.checkpoints);
    if (cached) return { dirs: cached };
    const dirs = await Promise.all(
      this.o.checkpoints.map(async (c, i) => nearestSnapshotDir(runDirOfCheckpoint(c), this.state.checkpoints[i]?.step ?? Infinity)),
    );
    const problem = 'Restricted Mode: this run has no snapshot on disk, and inspecting the checkpoint needs a trusted workspace';
    return { dirs, problem };
  }

  private send(data: Partial<CompareState>): void {
    void this.o.post({ type: 'setData', data });
  }
}

async function readJson(file: string): Promise<Record<string, unknown> | undefined> {
  try {
    const value: unknown = JSON.parse(await readFile(file, 'utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Same-frame inspection through an engine's `inspect` request (TF.js work never blocks the extension host). Reuses an
 * earlier result for the same checkpoints (inspect.json, written last by the engine).
 */
export function engineInspectRunner(
  engines: EngineClient,
  options: { backend?: string; ffmpegPath?: string; cacheRoot?: string; log?: (line: string) => void; timeoutMs?: number },
): InspectRunner {
  return async (checkpoints, outDir, signal) => {
    const cached = await readInspectIndex(outDir, checkpoints);
    if (cached) return { dirs: cached };
    const outcome = await engines.inspect(
      {
        checkpoints: [...checkpoints],
        outDir,
        ...(options.backend && options.backend !== 'auto' ? { backend: options.backend } : {}),
        ...(options.ffmpegPath ? { ffmpegPath: options.ffmpegPath } : {}),
        ...(options.cacheRoot ? { cacheRoot: options.cacheRoot } : {}),
      },
      { signal, timeoutMs: options.timeoutMs ?? 10 * 60_000, log: (line) => options.log?.(`inspect: ${line}`) },
    );
    if (outcome.reason !== 'completed') return { problem: `same-frame inspection ${outcome.reason}: ${outcome.error ?? 'cancelled'}` };
    const dirs = checkpoints.map((c) => outcome.results.find((r) => path.resolve(r.checkpoint) === path.resolve(c))?.dir);
    if (dirs.every((d): d is string => typeof d === 'string')) return { dirs };
    return { problem: 'the engine gave no inspection result for some checkpoints' };
  };
}

async function readInspectIndex(outDir: string, checkpoints: readonly string[]): Promise<string[] | undefined> {
  const index = await readJson(path.join(outDir, 'inspect.json'));
  const results = Array.isArray(index?.results) ? (index.results as Array<{ checkpoint?: unknown; dir?: unknown }>) : undefined;
  if (!results) return undefined;
  const dirs = checkpoints.map(
    (c) => results.find((r) => typeof r.checkpoint === 'string' && path.resolve(r.checkpoint) === path.resolve(c))?.dir,
  );
  return dirs.every((d): d is string => typeof d === 'string') ? dirs : undefined;
}
