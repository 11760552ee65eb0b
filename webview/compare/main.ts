// Checkpoint compare webview: config diff, metrics at each checkpoint (best per row marked), and
// every checkpoint's tracked masks and attention on the same frames, driven by ONE frame scrubber.
// Any number of checkpoints (2+): columns wrap and tables scroll horizontally.

import './compare.css';
import {
  EMPTY_COMPARE_STATE,
  isHostToCompareMessage,
  type CompareCheckpoint,
  type CompareState,
  type CompareToHostMessage,
  type HostToCompareMessage,
} from '../../src/core/webviewMessages';
import { fitCanvas } from '../shared/canvas';
import { drawAttention, drawFrame, drawMaskOverlay } from '../shared/clipRender';
import { assertNever, listenToHost } from '../shared/dispatch';
import { emptyState, h, replaceChildren } from '../shared/dom';
import { formatExact, formatStep, formatValue, metricLabel } from '../shared/format';
import { FrameScrubber } from '../shared/frameScrubber';
import { ObjectToggles } from '../shared/objectToggles';
import { canvasTile, panel } from '../shared/panel';
import { loadClip, type ClipData } from '../shared/snapshotData';
import { createBridge } from '../shared/vscodeApi';
import { createBadge, createCheckbox, createDropdown, registerToolkit } from '../ui/toolkit';
import { configRows, metricRows } from './compareModel';
import { EvaluationPanels } from './evaluationPanels';

interface PersistedCompare {
  showAllConfig: boolean;
  clip: number;
  frame: number;
  hiddenObjects: number[];
  attentionHead: number | 'mean';
}

const DEFAULTS: PersistedCompare = { showAllConfig: false, clip: 0, frame: 0, hiddenObjects: [], attentionHead: 'mean' };

registerToolkit();
const bridge = createBridge<CompareToHostMessage, PersistedCompare>(DEFAULTS);
const persisted = bridge.loadState();
persisted.hiddenObjects = persisted.hiddenObjects.filter(Number.isInteger);
const save = (): void => bridge.saveState(persisted);

const model: CompareState = { ...EMPTY_COMPARE_STATE, checkpoints: [] };

// --- layout -------------------------------------------------------------------------------------

const title = h('h1', { class: 'run-name' }, 'Compare checkpoints');
const countBadge = createBadge('0 checkpoints');
const errorBanner = h('div', { class: 'error-banner', role: 'alert', hidden: true });
const empty = h(
  'div',
  { class: 'compare-empty' },
  emptyState('Nothing to compare yet', 'Tick two or more checkpoints in the DoRA Studio sidebar, then run “Compare Checkpoints”.'),
);

const showAll = createCheckbox({
  id: 'show-all-config',
  label: 'Show all keys',
  ariaLabel: 'Show all config keys, not only the ones that differ',
  checked: persisted.showAllConfig,
  onChange: (checked) => {
    persisted.showAllConfig = checked;
    save();
    renderConfig();
  },
});
const configSummary = h('span', { class: 'muted', id: 'config-summary' });
const configTable = h('div', { class: 'table-scroll' });
const metricsTable = h('div', { class: 'table-scroll' });

const toggles = new ObjectToggles(persisted.hiddenObjects, (hidden) => {
  persisted.hiddenObjects = hidden;
  save();
  drawInspections();
});
const scrubber = new FrameScrubber({
  label: 'Frame, shared by all checkpoints',
  onChange: (frame) => {
    persisted.frame = frame;
    save();
    drawInspections();
  },
});
const clipPicker = createDropdown({
  id: 'compare-clip-picker',
  ariaLabel: 'Clip',
  options: [],
  value: String(persisted.clip),
  onChange: (value) => {
    persisted.clip = Number(value);
    save();
    void loadInspections();
  },
});
const framesWarning = h('div', { class: 'frames-warning', role: 'note', hidden: true });
const inspectionGrid = h('div', { class: 'inspection-grid', id: 'inspection-grid' });
const inspectionBody = h(
  'div',
  { class: 'inspection-body', tabindex: -1 },
  h(
    'div',
    { class: 'toolbar', role: 'toolbar', 'aria-label': 'Inspection controls' },
    h('div', { class: 'control' }, h('span', { class: 'control-label' }, 'Clip'), clipPicker.element),
    toggles.element,
  ),
  scrubber.element,
  framesWarning,
  inspectionGrid,
);
scrubber.bindKeys(inspectionBody);

const evaluation = new EvaluationPanels(
  persisted.attentionHead === 'mean' || Number.isInteger(persisted.attentionHead) ? persisted.attentionHead : 'mean',
  (head) => {
    persisted.attentionHead = head;
    save();
  },
  () => bridge.post({ type: 'evaluate' }),
);

const content = h(
  'div',
  { class: 'compare-content' },
  panel(
    'config-panel',
    'Config diff',
    'keys whose values differ are highlighted',
    h('div', { class: 'toolbar' }, showAll.element, configSummary),
    configTable,
  ),
  panel('metrics-panel', 'Metrics at the checkpoint steps', '★ best per row (lower loss / time, higher throughput)', metricsTable),
  evaluation.resultsPanel,
  panel('inspection-panel', 'Tracked masks and attention', 'every checkpoint on the same frames, one scrubber', inspectionBody),
  evaluation.attentionPanel,
);

document.body.append(
  h(
    'main',
    { class: 'compare' },
    h('header', { class: 'status-header' }, h('div', { class: 'run-title' }, title, countBadge)),
    errorBanner,
    empty,
    content,
  ),
);

// --- rendering ------------------------------------------------------------------------------------

function columnHeader(checkpoint: CompareCheckpoint, index: number): HTMLElement {
  return h(
    'th',
    { scope: 'col', class: `checkpoint-col cp-${index}` },
    checkpoint.label,
    h('div', { class: 'muted' }, `step ${formatStep(checkpoint.step)}`),
  );
}

function renderConfig(): void {
  const rows = configRows(model.checkpoints.map((c) => c.config));
  const differing = rows.filter((row) => row.differs);
  const shown = persisted.showAllConfig ? rows : differing;
  configSummary.textContent = `${differing.length} of ${rows.length} keys differ`;
  const body = shown.map((row) =>
    h(
      'tr',
      { class: row.differs ? 'differs' : '', 'data-key': row.key },
      h('th', { scope: 'row' }, h('code', {}, row.key)),
      ...row.values.map((value) => h('td', {}, h('code', {}, value ?? '—'))),
    ),
  );
  replaceChildren(
    configTable,
    shown.length === 0
      ? emptyState(
          rows.length === 0 ? 'No config to compare' : 'The configs are identical',
          rows.length === 0 ? undefined : 'Tick “Show all keys” to list them.',
        )
      : h(
          'table',
          { class: 'data-table', id: 'config-table' },
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Key'), ...model.checkpoints.map(columnHeader))),
          h('tbody', {}, ...body),
        ),
  );
}

function renderMetrics(): void {
  const rows = metricRows(model.checkpoints);
  if (rows.length === 0) {
    replaceChildren(metricsTable, emptyState('No metrics logged at these steps'));
    return;
  }
  const arrow = { lower: '↓ lower', higher: '↑ higher', none: '' } as const;
  replaceChildren(
    metricsTable,
    h(
      'table',
      { class: 'data-table', id: 'metrics-table' },
      h(
        'thead',
        {},
        h('tr', {}, h('th', { scope: 'col' }, 'Metric'), h('th', { scope: 'col' }, 'Better'), ...model.checkpoints.map(columnHeader)),
      ),
      h(
        'tbody',
        {},
        ...rows.map((row) =>
          h(
            'tr',
            { 'data-metric': row.key },
            h(
              'th',
              { scope: 'row' },
              metricLabel(row.key),
              h('span', { class: 'muted' }, metricLabel(row.key) === row.key ? '' : ` ${row.key}`),
            ),
            h('td', { class: 'muted' }, arrow[row.direction]),
            ...row.values.map((value, i) => {
              const best = row.best.includes(i);
              return h(
                'td',
                {
                  class: best ? 'num best' : 'num',
                  title: value === undefined ? 'not logged' : formatExact(value),
                  'aria-label': best ? `${formatValue(value)}, best` : undefined,
                },
                formatValue(value),
              );
            }),
          ),
        ),
      ),
    ),
  );
}

interface InspectionColumn {
  checkpoint: CompareCheckpoint;
  clip: ClipData | null;
  error: string | null;
  masks: HTMLCanvasElement;
  attention: HTMLCanvasElement;
}

let columns: InspectionColumn[] = [];
let rawCanvas: HTMLCanvasElement | null = null;
let referenceClip: ClipData | null = null;
let loadToken = 0;
const TILE = 200;

async function loadInspections(): Promise<void> {
  const token = ++loadToken;
  const clipCount = Math.max(0, ...model.checkpoints.map((c) => c.inspection?.manifest.clips.length ?? 0));
  if (persisted.clip >= clipCount) persisted.clip = 0;
  clipPicker.setOptions(
    Array.from({ length: clipCount }, (_, i) => ({ value: String(i), label: `Clip ${i}` })),
    String(persisted.clip),
  );
  const loaded = await Promise.all(
    model.checkpoints.map(async (checkpoint) => {
      if (!checkpoint.inspection) return { clip: null, error: checkpoint.inspectionError ?? null };
      try {
        return { clip: await loadClip(checkpoint.inspection, persisted.clip), error: null };
      } catch (error) {
        return { clip: null, error: error instanceof Error ? error.message : String(error) };
      }
    }),
  );
  if (token !== loadToken) return;
  columns = model.checkpoints.map((checkpoint, i) => ({
    checkpoint,
    clip: loaded[i].clip,
    error: loaded[i].error,
    masks: h('canvas', { id: `cmp-masks-${i}`, role: 'img', 'aria-label': `Masks of ${checkpoint.label}` }),
    attention: h('canvas', { id: `cmp-attention-${i}`, role: 'img', 'aria-label': `Attention of ${checkpoint.label}` }),
  }));
  referenceClip = columns.find((c) => c.clip)?.clip ?? null;
  const objectCount = Math.max(0, ...columns.map((c) => c.clip?.objects ?? 0));
  toggles.setObjects(objectCount, referenceClip?.heads ?? []);
  scrubber.setFrames(referenceClip?.frameIndices ?? [], persisted.frame);

  const mismatched = columns.filter(
    (c) => c.clip && referenceClip && c.clip.frameIndices.join(',') !== referenceClip.frameIndices.join(','),
  );
  framesWarning.hidden = mismatched.length === 0;
  framesWarning.textContent = `⚠ ${mismatched.map((c) => c.checkpoint.label).join(', ')} were inspected on other frames than ${columns[0]?.checkpoint.label}; the scrubber follows frame positions.`;

  rawCanvas = referenceClip ? h('canvas', { id: 'cmp-raw', role: 'img', 'aria-label': 'Shared frame' }) : null;
  replaceChildren(
    inspectionGrid,
    rawCanvas
      ? h(
          'div',
          { class: 'inspection-column shared-frame' },
          h('h3', { class: 'clip-title' }, 'Frame', h('div', { class: 'muted' }, 'shared input')),
          canvasTile(rawCanvas, ''),
          h('div', { class: 'anchor-badge', id: 'cmp-anchor-badge' }, '⚓ Anchor frame'),
        )
      : null,
    ...columns.map((column, i) =>
      h(
        'div',
        { class: 'inspection-column', 'data-checkpoint': column.checkpoint.id },
        h(
          'h3',
          { class: `clip-title cp-${i}` },
          column.checkpoint.label,
          h('div', { class: 'muted' }, `step ${formatStep(column.checkpoint.step)}`),
        ),
        column.clip
          ? h('div', { class: 'tiles' }, canvasTile(column.masks, 'Masks'), canvasTile(column.attention, 'Attention'))
          : emptyState(
              column.error ? 'Inspection failed' : 'Inspecting…',
              column.error ?? 'The trainer is running inspect mode on the shared frames.',
            ),
      ),
    ),
  );
  if (!referenceClip && columns.length > 0)
    inspectionGrid.prepend(emptyState('No inspection yet', 'The trainer writes one per checkpoint (inspect mode) on the same frames.'));
  drawInspections();
  document.body.dataset.inspectionsRendered = String(columns.filter((c) => c.clip).length);
}

function drawInspections(): void {
  const frame = scrubber.current();
  if (rawCanvas && referenceClip)
    drawFrame(fitCanvas(rawCanvas, TILE, TILE), referenceClip, Math.min(frame, referenceClip.frameCount - 1), TILE);
  document.getElementById('cmp-anchor-badge')?.classList.toggle('hidden', frame !== 0);
  for (const column of columns) {
    if (!column.clip) continue;
    const visible = toggles.visible(column.clip.objects);
    const f = Math.min(frame, column.clip.frameCount - 1);
    drawMaskOverlay(fitCanvas(column.masks, TILE, TILE), column.clip, f, visible, TILE);
    drawAttention(fitCanvas(column.attention, TILE, TILE), column.clip, f, visible, TILE);
  }
  inspectionGrid.dataset.frame = String(frame);
}

/** Re-renders the view; the inspections (network + decoding) reload only when the checkpoints changed. */
function render(checkpointsChanged = true): void {
  const count = model.checkpoints.length;
  title.textContent = model.title ?? 'Compare checkpoints';
  countBadge.textContent = `${count} checkpoint${count === 1 ? '' : 's'}`;
  errorBanner.hidden = !model.error;
  errorBanner.textContent = model.error ?? '';
  empty.hidden = count > 0;
  content.hidden = count === 0;
  if (count === 0) return;
  if (!checkpointsChanged) return;
  renderConfig();
  renderMetrics();
  evaluation.update(model.checkpoints);
  // Only the inspections' own fields decide whether the (expensive) masks reload.
  const inspections = JSON.stringify(model.checkpoints.map((c) => [c.id, c.inspection, c.inspectionError]));
  if (inspections === lastInspections) return;
  lastInspections = inspections;
  void loadInspections();
}
let lastInspections = '';

listenToHost(isHostToCompareMessage, (message: HostToCompareMessage) => {
  switch (message.type) {
    case 'setData':
      if (message.data.title !== undefined) model.title = message.data.title;
      if (message.data.checkpoints !== undefined) model.checkpoints = message.data.checkpoints;
      if (message.data.error !== undefined) model.error = message.data.error;
      render(message.data.checkpoints !== undefined);
      break;
    default:
      assertNever(message.type, 'message type');
  }
});

render();
bridge.post({ type: 'ready' });
