// Gathers the runs table's rows from what the Runs view already knows (WorkspaceModel, RunIndex) plus each run's
// config.json (read once) and the evaluation results of its newest evaluated checkpoint.

import { existsSync } from 'node:fs';
import { evalMetrics } from '../../core/evalResults';
import { readEvalSidecar } from '../../core/node/evalFiles';
import { evalSidecarPath } from '../../core/node/runPaths';
import type { RunsTableState } from '../../core/experimentMessages';
import { readRunConfig, type CheckpointEntry } from '../../core/node/runDir';
import type { RunIndex } from '../runs/runIndex';
import { effectiveStatus, type RunView } from '../runs/runTree';
import type { WorkspaceModel } from '../runs/workspaceModel';
import { runsTableRow, type RunFacts } from './rows';

export class RunsTableData {
  /** config.json is written once when the run starts: cached per run folder. */
  private readonly configs = new Map<string, unknown>();

  constructor(
    private readonly model: WorkspaceModel,
    private readonly runs: RunIndex,
  ) {}

  async state(): Promise<RunsTableState> {
    const views = this.model.runViews();
    const rows = await Promise.all(views.map((view) => this.facts(view).then(runsTableRow)));
    return { rows, folders: [...this.model.runsFolders()], error: null };
  }

  private async facts(view: RunView): Promise<RunFacts> {
    const { summary } = view;
    const dir = summary.dir;
    if (!this.configs.has(dir)) {
      const config = await readRunConfig(dir).catch(() => undefined);
      if (config !== undefined) this.configs.set(dir, config);
    }
    const checkpoints = await this.runs.checkpoints(dir);
    const metrics = [...this.runs.metricsAt(dir).values()].sort((a, b) => a.step - b.step);
    return {
      dir,
      folder: summary.id,
      info: summary.info,
      status: effectiveStatus(view),
      step: Math.max(summary.status.step, view.lastMetrics?.step ?? 0, view.live?.step ?? 0),
      metrics,
      config: this.configs.get(dir),
      evaluation: await newestEvaluation(checkpoints),
      studio: view.studio,
      hasCheckpoint: checkpoints.length > 0,
    };
  }
}

/** The evaluation results of the newest checkpoint that has any. */
async function newestEvaluation(checkpoints: readonly CheckpointEntry[]): Promise<RunFacts['evaluation']> {
  for (const entry of [...checkpoints].reverse()) {
    const file = evalSidecarPath(entry.sidecarFile);
    if (!existsSync(file)) continue;
    const metrics = evalMetrics(await readEvalSidecar(file));
    if (metrics.length > 0) return { step: entry.step, metrics };
  }
  return undefined;
}
