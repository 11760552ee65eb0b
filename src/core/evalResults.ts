// Evaluation results as files: the eval sidecar beside each checkpoint (`checkpoints/step-NNNNNN.eval.json`) and the
// attention-map folder (`checkpoints/step-NNNNNN.attention/`). The trainer writes them (src/trainer/eval); the host
// reads them for the tree's tooltips and the compare panel. Pure data, guards and summaries, so both sides share one
// definition; the paths are in node/runPaths.ts, the reader in node/evalFiles.ts. See docs/run-directory.md.

export const EVAL_SIDECAR_VERSION = 1;

export type EvalSuite = 'knn' | 'tracking' | 'attention';
export const EVAL_SUITES: readonly EvalSuite[] = ['knn', 'tracking', 'attention'];

export interface EvalRecord<T = unknown> {
  suite: string;
  /** `synthetic`, `fashion-mnist`, `folder:<absolute path>` (k-NN); `synthetic` (tracking); `video` (attention). */
  dataset: string;
  settings: unknown;
  result: T;
  /** ISO time the result was computed. */
  time: string;
  seconds: number;
}

export interface EvalSidecar {
  formatVersion: number;
  /** The checkpoint sidecar's file name and its weights checksum (results for other weights are dropped). */
  checkpoint: string;
  weightsSha256: string;
  /** Keyed by evalKey(suite, dataset, settings). */
  results: Record<string, EvalRecord>;
}

// ---- result shapes, one per suite ------------------------------------------------------------------

export interface KnnScore {
  /** k as asked for. */
  k: number;
  /** k actually used: clipped to the number of training samples. */
  kUsed: number;
  /** Percentages, as DINO's eval_knn.py prints them. */
  top1: number;
  top5: number;
  /** Top-1 of each evaluation fold (KnnResult.folds), and the standard error of their mean. */
  top1Folds?: number[];
  top1StdErr?: number;
}

export interface KnnResult {
  numTrain: number;
  numTest: number;
  classes: string[];
  scores: KnnScore[];
  /** How the test samples were split into the folds behind the standard errors (`cv`: cross-validation). */
  folds?: { count: number; unit: string; cv: boolean };
}

export interface PropagationScores {
  jMean: number;
  fMean: number;
  jAndFMean: number;
  /** (clip, object) sequences scored. */
  sequences: number;
  boundaryTolerancePx: number;
  perObject: Record<string, { j: number; f: number; sequences: number }>;
  /** J&F of each clip (mean over its objects), and the standard error of their mean. */
  clipJAndF?: number[];
  jAndFStdErr?: number;
}

export interface TrackerScores {
  /** Mean IoU of matched (tracker object, ground-truth object) pairs at each frame offset from the anchor. */
  iouByOffset: number[];
  /** The anchor's mask kept fixed, scored against the moving ground truth. */
  staticIoUByOffset: number[];
  /** Mean over offsets ≥ 1. */
  meanIoU: number;
  matchedPairs: number;
  /** Mean IoU on later frames of each clip, and the standard error of their mean. */
  clipMeanIoU?: number[];
  meanIoUStdErr?: number;
}

export interface TrackingResult {
  propagation: PropagationScores;
  tracker: TrackerScores;
}

/** `<checkpoint>.attention/manifest.json`: frames as PNG plus `attention.f32` [frames, heads, grid, grid]. */
export interface AttentionManifest {
  formatVersion: 1;
  model: string;
  video: string;
  imageSize: number;
  patchSize: number;
  grid: number;
  heads: number;
  frames: { index: number; png: string }[];
  attention: { file: string; dtype: 'float32'; shape: [number, number, number, number] };
}

export interface AttentionResult {
  dir: string;
  manifest: AttentionManifest;
}

/** JSON with sorted object keys, so equal settings give equal keys whatever order they were written in. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

export function evalKey(suite: string, dataset: string, settings: unknown): string {
  return `${suite}|${dataset}|${stableStringify(settings)}`;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function isEvalRecord(v: unknown): v is EvalRecord {
  return (
    isObject(v) &&
    typeof v.suite === 'string' &&
    typeof v.dataset === 'string' &&
    typeof v.time === 'string' &&
    typeof v.seconds === 'number' &&
    'result' in v
  );
}

export function isEvalSidecar(v: unknown): v is EvalSidecar {
  return (
    isObject(v) &&
    v.formatVersion === EVAL_SIDECAR_VERSION &&
    typeof v.weightsSha256 === 'string' &&
    isObject(v.results) &&
    Object.values(v.results).every(isEvalRecord)
  );
}

// ---- summaries for the UI ---------------------------------------------------------------------------------

/** What a dataset key means to a person. */
export function datasetLabel(dataset: string): string {
  if (dataset === 'synthetic') return 'synthetic objects';
  if (dataset === 'fashion-mnist') return 'Fashion-MNIST';
  if (dataset.startsWith('folder:')) return dataset.slice('folder:'.length).split(/[\\/]/).filter(Boolean).pop() ?? dataset;
  return dataset;
}

export interface EvalMetric {
  /** Stable across checkpoints, so the compare table can put equal metrics in one row. */
  key: string;
  /** Row group, e.g. `k-NN · synthetic objects`. */
  group: string;
  label: string;
  value: number;
  /** `%` for percentages, '' for fractions in [0, 1]. */
  unit: '%' | '';
  direction: 'higher' | 'lower';
  /** When it was computed and how long it took (seconds). */
  time: string;
  seconds: number;
  /** Standard error of the value over the evaluation folds or clips, when the evaluation measured one. */
  stdErr?: number;
  /** Why the value says less than it seems (e.g. too few scenes for scene-grouped folds); shown beside it. */
  caveat?: string;
}

/** The newest record of each (suite, dataset): re-evaluating with other settings supersedes the older result. */
export function newestRecords(sidecar: EvalSidecar | undefined): EvalRecord[] {
  const newest = new Map<string, EvalRecord>();
  for (const record of Object.values(sidecar?.results ?? {})) {
    const id = `${record.suite}|${record.dataset}`;
    const seen = newest.get(id);
    if (!seen || record.time > seen.time) newest.set(id, record);
  }
  const suiteOrder = (s: string) => Math.max(0, EVAL_SUITES.indexOf(s as EvalSuite));
  const datasetOrder = (d: string) => (d === 'synthetic' ? 0 : d === 'fashion-mnist' ? 1 : 2);
  return [...newest.values()].sort(
    (a, b) =>
      suiteOrder(a.suite) - suiteOrder(b.suite) || datasetOrder(a.dataset) - datasetOrder(b.dataset) || a.dataset.localeCompare(b.dataset),
  );
}

const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Scene-grouped folds need this many scenes before a held-out scene's classes are also seen in training. */
export const MIN_KNN_SCENES = 3;

/**
 * What a k-NN result's folds make of its score. With fewer than MIN_KNN_SCENES scenes, each held-out scene's main
 * class is (nearly) absent from the training folds of the synthetic tour, so top-1 can be 0 % whatever the encoder;
 * folds that are blocks in time inside one scene share objects between training and test, so top-1 is optimistic.
 */
export function knnCaveat(folds: KnnResult['folds'] | undefined): string | undefined {
  if (!folds?.cv) return undefined;
  if (folds.unit === 'scene' && folds.count < MIN_KNN_SCENES)
    return (
      `only ${folds.count} scenes in the evaluated frames: each held-out scene's objects are scored against the other ` +
      `scene's, so top-1 says little about the encoder (use a video with ≥ ${MIN_KNN_SCENES} scenes in its evaluation half)`
    );
  if (folds.unit === 'time block') return 'one scene only: the folds are blocks in time that share objects, so top-1 is optimistic';
  return undefined;
}

function knnMetrics(record: EvalRecord): EvalMetric[] {
  const result = record.result as Partial<KnnResult>;
  if (!Array.isArray(result?.scores)) return [];
  const group = `k-NN · ${datasetLabel(record.dataset)}`;
  const caveat = knnCaveat(result.folds);
  const base = {
    group,
    unit: '%' as const,
    direction: 'higher' as const,
    time: record.time,
    seconds: record.seconds,
    ...(caveat ? { caveat } : {}),
  };
  const out: EvalMetric[] = [];
  for (const score of result.scores)
    if (isFiniteNumber(score.top1))
      out.push({
        ...base,
        key: `knn:${record.dataset}:top1@${score.k}`,
        label: `top-1, k=${score.k}`,
        value: score.top1,
        ...(isFiniteNumber(score.top1StdErr) ? { stdErr: score.top1StdErr } : {}),
      });
  const k20 = result.scores.find((s) => s.k === 20) ?? result.scores[0];
  if (k20 && isFiniteNumber(k20.top5))
    out.push({ ...base, key: `knn:${record.dataset}:top5@${k20.k}`, label: `top-5, k=${k20.k}`, value: k20.top5 });
  return out;
}

function trackingMetrics(record: EvalRecord): EvalMetric[] {
  const result = record.result as Partial<TrackingResult>;
  const base = { unit: '' as const, direction: 'higher' as const, time: record.time, seconds: record.seconds };
  const out: EvalMetric[] = [];
  const p = result?.propagation;
  if (p) {
    const group = `Label propagation · ${datasetLabel(record.dataset)}`;
    const stdErr = isFiniteNumber(p.jAndFStdErr) ? { stdErr: p.jAndFStdErr } : {};
    if (isFiniteNumber(p.jAndFMean))
      out.push({ ...base, group, key: 'tracking:propagation:jf', label: 'J&F', value: p.jAndFMean, ...stdErr });
    if (isFiniteNumber(p.jMean)) out.push({ ...base, group, key: 'tracking:propagation:j', label: 'J (region IoU)', value: p.jMean });
    if (isFiniteNumber(p.fMean)) out.push({ ...base, group, key: 'tracking:propagation:f', label: 'F (boundary)', value: p.fMean });
  }
  const t = result?.tracker;
  if (t) {
    const group = 'DoRA tracker vs ground truth';
    if (isFiniteNumber(t.iouByOffset?.[0]))
      out.push({ ...base, group, key: 'tracking:tracker:anchorIoU', label: 'IoU on the anchor frame', value: t.iouByOffset[0] });
    if (isFiniteNumber(t.meanIoU))
      out.push({ ...base, group, key: 'tracking:tracker:meanIoU', label: 'IoU on later frames', value: t.meanIoU });
  }
  return out;
}

/** Every number worth comparing, newest record per (suite, dataset). Attention maps are pictures, not metrics. */
export function evalMetrics(sidecar: EvalSidecar | undefined): EvalMetric[] {
  return newestRecords(sidecar).flatMap((record) =>
    record.suite === 'knn' ? knnMetrics(record) : record.suite === 'tracking' ? trackingMetrics(record) : [],
  );
}

export function formatEvalValue(metric: Pick<EvalMetric, 'value' | 'unit'>): string {
  return metric.unit === '%' ? `${metric.value.toFixed(1)}%` : metric.value.toFixed(3);
}

/** The value with its standard error (`30.6% ± 1.6`, `0.220 ± 0.012`) and a ⚠ when a caveat goes with it. */
export function formatEvalCell(metric: Pick<EvalMetric, 'value' | 'unit' | 'stdErr' | 'caveat'>): string {
  const digits = metric.unit === '%' ? 1 : 3;
  const se = metric.stdErr !== undefined && Number.isFinite(metric.stdErr) ? ` ± ${metric.stdErr.toFixed(digits)}` : '';
  return `${formatEvalValue(metric)}${se}${metric.caveat ? ' ⚠' : ''}`;
}

/** The short form for a tree item's description: the headline number of each suite. */
export function evalHeadline(metrics: readonly EvalMetric[]): string | undefined {
  const parts: string[] = [];
  const knn = metrics.find((m) => m.key.startsWith('knn:synthetic:top1@20')) ?? metrics.find((m) => /^knn:.*:top1@20$/.test(m.key));
  if (knn) parts.push(`k-NN ${formatEvalValue(knn)}${knn.caveat ? ' ⚠' : ''}`);
  const jf = metrics.find((m) => m.key === 'tracking:propagation:jf');
  if (jf) parts.push(`J&F ${formatEvalValue(jf)}`);
  return parts.length ? parts.join(' · ') : undefined;
}

/** A Markdown table of the metrics, grouped, for a tooltip. */
export function evalMarkdown(sidecar: EvalSidecar | undefined): string | undefined {
  const records = newestRecords(sidecar);
  if (records.length === 0) return undefined;
  const lines = ['| Evaluation | Value |', '|:--|--:|'];
  for (const metric of evalMetrics(sidecar)) {
    if (metric.key.startsWith('knn:') && !/top1@20$|top5@/.test(metric.key)) continue; // the tooltip keeps k = 20
    lines.push(`| ${metric.group}: ${metric.label} | ${formatEvalCell(metric)} |`);
  }
  const caveats = [...new Set(evalMetrics(sidecar).flatMap((m) => (m.caveat ? [`⚠ ${m.group}: ${m.caveat}`] : [])))];
  if (caveats.length) lines.push('', ...caveats);
  const attention = records.find((r) => r.suite === 'attention');
  if (attention) {
    const manifest = (attention.result as Partial<AttentionResult>)?.manifest;
    lines.push(`| Attention maps | ${manifest?.frames?.length ?? '?'} frames × ${manifest?.heads ?? '?'} heads |`);
  }
  const newest = records.reduce((a, b) => (a.time > b.time ? a : b));
  lines.push('', `Evaluated ${newest.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z')} (teacher backbone)`);
  return lines.join('\n');
}

/** The attention maps recorded for a checkpoint, if the folder was written. */
export function attentionResultOf(sidecar: EvalSidecar | undefined): AttentionResult | undefined {
  const record = newestRecords(sidecar).find((r) => r.suite === 'attention');
  const result = record?.result as Partial<AttentionResult> | undefined;
  return result && typeof result.dir === 'string' && isObject(result.manifest) ? (result as AttentionResult) : undefined;
}
