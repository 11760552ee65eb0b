// The Runs and Configs trees as plain data. The vscode TreeDataProviders only turn these nodes into
// TreeItems, so labels, descriptions, tooltips, icons and context values are unit-tested here.

import * as path from 'node:path';
import { evalHeadline, evalMarkdown, evalMetrics, type EvalSidecar } from '../../core/evalResults';
import type { CheckpointEntry, RunSummary } from '../../core/node/runDir';
import type { MetricsRecord, RunStatus } from '../../core/runRecords';
import type { StudioInfo } from '../../core/studioFile';
import { formatDuration, formatLoss, formatProgress, isActiveStatus, joinParts, STATUS_ICONS, STATUS_LABELS } from '../shared/format';
import type { LiveRunState } from './liveRun';

export interface TreeNodeBase {
  /** Stable across refreshes, so VS Code keeps expansion and selection. */
  id: string;
  label: string;
  description?: string;
  /** Markdown. */
  tooltip?: string;
  icon: { id: string; color?: string };
  /** Drives `view/item/context` menus (see package.json `when` clauses). */
  contextValue: string;
  collapsible: 'none' | 'collapsed' | 'expanded';
}

export interface RunsFolderNode extends TreeNodeBase {
  kind: 'runsFolder';
  dir: string;
}
export interface RunNode extends TreeNodeBase {
  kind: 'run';
  dir: string;
  runId: string;
  status: RunStatus;
  configFile?: string;
}
export interface CheckpointNode extends TreeNodeBase {
  kind: 'checkpoint';
  runDir: string;
  runId: string;
  step: number;
  sidecarFile: string;
  checked: boolean;
}
export interface MessageNode extends TreeNodeBase {
  kind: 'message';
}
export interface ConfigNode extends TreeNodeBase {
  kind: 'config';
  file: string;
}
export type RunsTreeNode = RunsFolderNode | RunNode | CheckpointNode | MessageNode;

/** What the Runs view knows about one run, gathered by the run index. */
export interface RunView {
  summary: RunSummary;
  lastMetrics?: MetricsRecord;
  live?: LiveRunState;
  /** studio.json: display name and star. */
  studio?: StudioInfo;
}

/**
 * Effective status: a live IPC channel knows better than the files for a run that is just starting
 * (no events yet) and for the exit of a trainer that crashed before writing its final event.
 */
export function effectiveStatus(view: RunView): RunStatus {
  const fromFiles = view.summary.status.status;
  const live = view.live;
  if (!live) return fromFiles;
  if (live.finished) {
    if (live.finished.reason === 'failed') return fromFiles === 'failed' ? 'failed' : 'crashed';
    if (isActiveStatus(fromFiles)) return live.finished.reason === 'completed' ? 'finished' : 'stopped';
    return fromFiles;
  }
  if (fromFiles === 'crashed' && live.attached) return live.phase === 'starting' ? 'starting' : 'running';
  return fromFiles === 'starting' && live.attached && live.phase !== 'starting' ? 'running' : fromFiles;
}

/** The tooltip line of a Slurm run's current job. */
export function slurmLine(job: NonNullable<RunSummary['slurm']>): string {
  const state = job.slurmState ? ` ${job.slurmState}` : '';
  const where = job.nodeList ? ` on ${job.nodeList}` : '';
  const why = job.reason ? ` (${job.reason})` : '';
  return `Slurm job ${job.jobId}:${state}${where}${why}`;
}

export function runContextValue(status: RunStatus, hasConfig: boolean, starred = false): string {
  // Space-separated flags; package.json matches them with `viewItem =~ /\bflag\b/`. `starred` comes last: Star Run
  // matches the whole value without it (when-clause regexes are anchored rather than using a lookahead).
  const flags = ['doraRun', isActiveStatus(status) ? 'active' : 'ended', status];
  if (hasConfig) flags.push('hasConfig');
  if (starred) flags.push('starred');
  return flags.join(' ');
}

export function runNode(view: RunView): RunNode {
  const { summary, lastMetrics, live } = view;
  const status = effectiveStatus(view);
  const step = Math.max(summary.status.step, lastMetrics?.step ?? 0, live?.step ?? 0);
  const total = live?.totalSteps ?? summary.info?.totalSteps ?? null;
  const loss = live?.loss ?? lastMetrics?.loss;
  const name = view.studio?.displayName ?? summary.info?.name;
  const label = name && !summary.id.endsWith(name) ? `${name} (${summary.id})` : summary.id;
  const starred = view.studio?.starred === true;
  const phase =
    live && !live.finished && live.phase !== 'training' ? (live.phase === 'frame-cache' ? 'caching frames' : live.phase) : undefined;
  const description = joinParts([
    starred ? '★' : undefined,
    STATUS_LABELS[status],
    summary.slurm ? `Slurm job ${summary.slurm.jobId}` : undefined,
    phase,
    formatProgress(step, total),
    loss !== undefined ? `loss ${formatLoss(loss)}` : undefined,
  ]);
  const reason = live?.lastError
    ? `${live.lastError.message}${live.lastError.fix ? `\n\nFix: ${live.lastError.fix}` : ''}`
    : summary.status.reason;
  const lines = [
    `**${escapeMarkdown(label)}** — ${STATUS_LABELS[status]}`,
    '',
    joinParts([
      `Step ${formatProgress(step, total)}`,
      loss !== undefined && `loss ${formatLoss(loss)}`,
      live?.eta ? `ETA ${formatDuration(live.eta)}` : undefined,
    ]),
  ];
  if (summary.info)
    lines.push(
      '',
      `Config: \`${summary.info.configFile}\``,
      `Backend: ${summary.info.backend ?? 'not chosen yet'} · started ${summary.info.created}`,
    );
  if (summary.slurm) lines.push('', slurmLine(summary.slurm));
  if (reason && (status === 'failed' || status === 'crashed' || status === 'stopped'))
    lines.push('', `${status === 'stopped' ? 'Reason' : 'Error'}: ${escapeMarkdown(reason)}`);
  else if (reason && status === 'starting') lines.push('', escapeMarkdown(reason)); // queued: the job line says it
  if (live?.lastWarning && !live.finished) lines.push('', `Warning: ${escapeMarkdown(live.lastWarning)}`);
  lines.push('', `Folder: \`${summary.dir}\``);
  const icon = STATUS_ICONS[status];
  return {
    kind: 'run',
    id: `run:${summary.dir}`,
    dir: summary.dir,
    runId: summary.id,
    status,
    configFile: summary.info?.configFile,
    label,
    description,
    tooltip: lines.join('\n'),
    icon: { id: icon.icon, color: icon.color },
    contextValue: runContextValue(status, Boolean(summary.info?.configFile), starred),
    collapsible: 'collapsed',
  };
}

/** Evaluation state of checkpoints, keyed by checkpoint sidecar path. */
export interface CheckpointEvaluations {
  /** Stored results (checkpoints/step-NNNNNN.eval.json). */
  sidecars?: ReadonlyMap<string, EvalSidecar | undefined>;
  /** Evaluations running now: their latest progress text. */
  running?: ReadonlyMap<string, string>;
}

export function checkpointNodes(
  runDir: string,
  runId: string,
  checkpoints: readonly CheckpointEntry[],
  checked: ReadonlySet<string>,
  metricsByStep?: ReadonlyMap<number, MetricsRecord>,
  evaluations: CheckpointEvaluations = {},
): CheckpointNode[] {
  const newest = checkpoints.length > 0 ? checkpoints[checkpoints.length - 1].step : -1;
  // Newest first: the one people resume from or compare is usually the latest.
  return [...checkpoints].reverse().map((entry) => {
    const metrics = metricsByStep?.get(entry.step);
    const stored = evaluations.sidecars?.get(entry.sidecarFile);
    const running = evaluations.running?.get(entry.sidecarFile);
    const headline = evalHeadline(evalMetrics(stored));
    const table = evalMarkdown(stored);
    return {
      kind: 'checkpoint',
      id: `checkpoint:${entry.sidecarFile}`,
      runDir,
      runId,
      step: entry.step,
      sidecarFile: entry.sidecarFile,
      checked: checked.has(entry.sidecarFile),
      label: `step ${entry.step}`,
      // Evaluation results first: they are what a checkpoint is picked by; the epoch is in the tooltip.
      description: joinParts([
        running ? `evaluating: ${running}` : undefined,
        headline,
        metrics ? `loss ${formatLoss(metrics.loss)}` : undefined,
        entry.step === newest ? 'latest' : undefined,
      ]),
      tooltip: [
        `**Checkpoint step ${entry.step}** of ${escapeMarkdown(runId)}`,
        '',
        `Saved ${entry.sidecar.time} · epoch ${entry.sidecar.epoch} · next ` +
          `iteration ${entry.sidecar.schedule.iteration} of ${entry.sidecar.schedule.totalIters}`,
        '',
        ...(table ? [table, ''] : ['Not evaluated yet: right-click → **Evaluate Checkpoint…**', '']),
        `\`${entry.sidecarFile}\``,
        '',
        'Tick two or more checkpoints, then use **Compare** in the view title.',
      ].join('\n'),
      icon: running ? { id: 'loading~spin' } : headline ? { id: 'save', color: 'charts.green' } : { id: 'save' },
      contextValue: 'doraCheckpoint',
      collapsible: 'none',
    };
  });
}

export function runsFolderNode(dir: string, runCount: number, workspaceRoots: readonly string[]): RunsFolderNode {
  const root = workspaceRoots.find((r) => dir === r || dir.startsWith(r + path.sep));
  const label = root ? path.relative(path.dirname(root), dir) : dir;
  return {
    kind: 'runsFolder',
    id: `runsFolder:${dir}`,
    dir,
    label,
    description: `${runCount} run${runCount === 1 ? '' : 's'}`,
    tooltip: `Runs folder \`${dir}\``,
    icon: { id: 'folder' },
    contextValue: 'doraRunsFolder',
    collapsible: 'expanded',
  };
}

export function messageNode(id: string, label: string, icon = 'info'): MessageNode {
  return { kind: 'message', id: `message:${id}`, label, icon: { id: icon }, contextValue: 'doraMessage', collapsible: 'none' };
}

/**
 * Root of the Runs view: the runs themselves when they all live in one folder, else one folder node
 * per runs folder (so runs of different configs with the same id never look alike).
 */
export function runsRoot(runsByFolder: ReadonlyMap<string, readonly RunView[]>, workspaceRoots: readonly string[]): RunsTreeNode[] {
  const folders = [...runsByFolder.entries()].filter(([, runs]) => runs.length > 0);
  if (folders.length === 0) return [];
  if (folders.length === 1) return folders[0][1].map(runNode);
  return folders.sort(([a], [b]) => a.localeCompare(b)).map(([dir, runs]) => runsFolderNode(dir, runs.length, workspaceRoots));
}

export function configNode(file: string, workspaceRoots: readonly string[], problem?: string): ConfigNode {
  const root = workspaceRoots.find((r) => file.startsWith(r + path.sep));
  const relative = root ? path.relative(root, file) : file;
  const dir = path.dirname(relative);
  return {
    kind: 'config',
    id: `config:${file}`,
    file,
    label: path.basename(file),
    description: joinParts([dir === '.' ? undefined : dir, problem ? 'invalid' : undefined]),
    tooltip: problem ? `\`${file}\`\n\n${escapeMarkdown(problem)}` : `\`${file}\`\n\nRight-click to start a run or build its frame cache.`,
    icon: problem ? { id: 'warning', color: 'problemsWarningIcon.foreground' } : { id: 'settings-gear' },
    contextValue: problem ? 'doraConfig invalid' : 'doraConfig',
    collapsible: 'none',
  };
}

function escapeMarkdown(text: string): string {
  return text.replace(/([\\`*_{}[\]<>#|])/g, '\\$1');
}
