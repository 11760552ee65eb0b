// One runs-table row per run, from what the host already knows about it (run.json, status, metrics, config.json,
// the newest evaluation, studio.json). Pure: the runs table panel gathers the inputs (tableData.ts).

import { flattenConfig } from '../../core/configFlatten';
import type { EvalMetric } from '../../core/evalResults';
import type { RunsTableMetric, RunsTableRow } from '../../core/experimentMessages';
import type { MetricsRecord, RunInfo, RunStatus } from '../../core/runRecords';
import { runDisplayName, type StudioInfo } from '../../core/studioFile';

export interface RunFacts {
  /** The run folder (absolute). */
  dir: string;
  /** Its name, e.g. `20250101-120000-venice`. */
  folder: string;
  info?: RunInfo;
  status: RunStatus;
  step: number;
  /** The run's metrics records, in step order. */
  metrics: Iterable<MetricsRecord>;
  /** The resolved config.json. */
  config?: unknown;
  /** The newest checkpoint with stored evaluation results. */
  evaluation?: { step: number; metrics: readonly EvalMetric[] };
  studio?: StudioInfo;
  hasCheckpoint: boolean;
}

/** Config keys that never make a useful column: the run's name (the Run column shows it) and its config file path. */
const HIDDEN_CONFIG_KEYS = new Set(['name', 'configFile']);

/** Last loss (with its step) and best loss (the minimum, with the step it was reached at). */
export function lossMetrics(records: Iterable<MetricsRecord>): RunsTableMetric[] {
  let last: MetricsRecord | undefined;
  let best: MetricsRecord | undefined;
  for (const r of records) {
    if (!Number.isFinite(r.loss)) continue;
    last = r;
    if (!best || r.loss < best.loss) best = r;
  }
  if (!last || !best) return [];
  const base = { group: 'Training', unit: '' as const, direction: 'lower' as const, headline: true };
  return [
    { ...base, key: 'loss:last', label: 'Last loss', value: last.loss, step: last.step },
    { ...base, key: 'loss:best', label: 'Best loss', value: best.loss, step: best.step },
  ];
}

/** The headline evaluation numbers (k-NN top-1 at k=20, J&F) are shown by default; every other one is available. */
export function evaluationMetrics(evaluation: RunFacts['evaluation']): RunsTableMetric[] {
  if (!evaluation) return [];
  const headline = (m: EvalMetric) => /^knn:[^:]+:top1@20$/.test(m.key) || m.key === 'tracking:propagation:jf';
  return evaluation.metrics.map((m) => ({
    key: m.key,
    label: m.key.startsWith('knn:') ? `k-NN ${m.label}` : m.label,
    group: `${m.group} (step ${evaluation.step})`,
    value: m.value,
    unit: m.unit,
    direction: m.direction,
    step: evaluation.step,
    headline: headline(m),
    ...(m.caveat ? { caveat: m.caveat } : {}),
  }));
}

export function runsTableRow(f: RunFacts): RunsTableRow {
  const config: Record<string, string> = {};
  for (const [key, value] of flattenConfig(f.config ?? {})) if (!HIDDEN_CONFIG_KEYS.has(key)) config[key] = value;
  return {
    id: f.dir,
    folder: f.folder,
    name: runDisplayName(f.folder, f.info?.name, f.studio),
    starred: f.studio?.starred === true,
    status: f.status,
    step: f.step,
    totalSteps: f.info?.totalSteps ?? null,
    created: f.info?.created ?? null,
    preset: f.info?.preset ?? null,
    backend: f.info?.backend ?? null,
    metrics: [...lossMetrics(f.metrics), ...evaluationMetrics(f.evaluation)],
    config,
    hasCheckpoint: f.hasCheckpoint,
  };
}
