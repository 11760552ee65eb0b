// Run dashboard webview: status header, live metric chart, and the selected snapshot's Sinkhorn
// assignments and tracked masks. The host owns all data (setData); this view keeps only UI state
// (chart settings, chosen step/clip/frame/objects) in getState/setState so a reload restores it.

import './dashboard.css';
import {
  EMPTY_DASHBOARD_STATE,
  isHostToDashboardMessage,
  type DashboardState,
  type DashboardToHostMessage,
  type HostToDashboardMessage,
  type SnapshotPayload,
} from '../../src/core/webviewMessages';
import { assertNever, listenToHost } from '../shared/dispatch';
import { debounce, emptyState, h, replaceChildren } from '../shared/dom';
import { buildExport } from '../shared/exportDom';
import { formatStep } from '../shared/format';
import { onThemeChange } from '../shared/theme';
import { panel } from '../shared/panel';
import { loadClip } from '../shared/snapshotData';
import { createBridge } from '../shared/vscodeApi';
import { createCheckbox, createProgressRing, registerToolkit } from '../ui/toolkit';
import { AssignmentPanel } from './assignmentPanel';
import { DEFAULT_CHART_SETTINGS, LossChart, sanitizeChartSettings, type ChartSettings } from './lossChart';
import { MasksPanel, type MasksSelection } from './masksPanel';
import { MetricStore } from './series';
import { initialSelection, reduceSelection, stepBarView, type SelectionEvent, type SnapshotSelection } from './snapshotSelection';
import { StatusHeader } from './statusHeader';

interface PersistedDashboard {
  chart: ChartSettings;
  /** The snapshot step the user picked; null follows the host's choice. */
  snapshotStep: number | null;
  followLatest: boolean;
  masks: MasksSelection;
}

const DEFAULTS: PersistedDashboard = {
  chart: DEFAULT_CHART_SETTINGS,
  snapshotStep: null,
  followLatest: true,
  masks: { clip: 0, frame: 0, hiddenObjects: [] },
};

registerToolkit();
const bridge = createBridge<DashboardToHostMessage, PersistedDashboard>(DEFAULTS);
const restored = bridge.loadState();
const persisted: PersistedDashboard = {
  chart: sanitizeChartSettings({ ...DEFAULT_CHART_SETTINGS, ...restored.chart }),
  snapshotStep: Number.isInteger(restored.snapshotStep) ? restored.snapshotStep : null,
  followLatest: restored.followLatest,
  masks: {
    clip: Number.isInteger(restored.masks?.clip) ? restored.masks.clip : 0,
    frame: Number.isInteger(restored.masks?.frame) ? restored.masks.frame : 0,
    hiddenObjects: Array.isArray(restored.masks?.hiddenObjects) ? restored.masks.hiddenObjects.filter(Number.isInteger) : [],
  },
};
const save = (): void => bridge.saveState(persisted);

const model: DashboardState = { ...EMPTY_DASHBOARD_STATE, metrics: [] };
const store = new MetricStore();

// --- layout -------------------------------------------------------------------------------------

const header = new StatusHeader();
const errorBanner = h('div', { class: 'error-banner', role: 'alert', hidden: true });
const chart = new LossChart(
  store,
  persisted.chart,
  (settings) => {
    persisted.chart = settings;
    save();
  },
  () => model.run?.name ?? 'run',
  () => bridge.post({ type: 'exportMenu' }),
);

const assignment = new AssignmentPanel();
const masks = new MasksPanel(
  persisted.masks,
  (selection) => {
    persisted.masks = selection;
    save();
  },
  (visible) => assignment.setVisible(visible),
);

const stepSlider = h('input', {
  id: 'step-slider',
  type: 'range',
  min: 0,
  max: 0,
  step: 1,
  value: 0,
  'aria-label': 'Snapshot step',
  disabled: true,
});
const stepLabel = h('span', { class: 'step-label', id: 'step-label', 'aria-live': 'polite' }, '—');
const followLatest = createCheckbox({
  id: 'follow-latest',
  label: 'Follow latest',
  ariaLabel: 'Show each new snapshot as it arrives',
  checked: persisted.followLatest,
  onChange: (on) => dispatch({ type: 'follow', on }),
});
const snapshotStatus = h('div', { class: 'snapshot-status', role: 'status' });
const snapshotEmpty = h('div', { class: 'snapshot-empty' });
const snapshotGrid = h(
  'div',
  { class: 'snapshot-grid' },
  panel('assignment-panel', 'Sinkhorn assignment', 'anchor-frame patches → objects (M*)', assignment.element),
  panel('masks-panel', 'Tracked masks', 'per-object masks and attention on every frame of the clip', masks.element),
);

const root = h(
  'main',
  { class: 'dashboard' },
  header.element,
  errorBanner,
  panel('loss-panel', 'Loss curves', 'live from metrics.jsonl', chart.element),
  h(
    'section',
    { class: 'snapshot-section', 'aria-label': 'Snapshot' },
    h(
      'div',
      { class: 'snapshot-bar toolbar', role: 'toolbar', 'aria-label': 'Snapshot step' },
      h('span', { class: 'control-label' }, 'Snapshot'),
      stepSlider,
      stepLabel,
      followLatest.element,
      snapshotStatus,
    ),
    snapshotEmpty,
    snapshotGrid,
  ),
);
document.body.append(root);

// --- snapshot selection (the state machine is snapshotSelection.ts) ------------------------------

let displayed: SnapshotPayload | null = null;
let selection: SnapshotSelection = initialSelection(persisted.snapshotStep, persisted.followLatest);
/** The step under the slider while the user drags it (the request is debounced). */
let sliding: number | null = null;
let loadToken = 0;

function dispatch(event: SelectionEvent): void {
  const reduced = reduceSelection(selection, event);
  selection = reduced.state;
  if (reduced.persist) {
    persisted.snapshotStep = selection.picked;
    persisted.followLatest = selection.followLatest;
    followLatest.setChecked(selection.followLatest);
    save();
  }
  if (reduced.request !== undefined) bridge.post({ type: 'requestSnapshot', step: reduced.request });
  renderStepBar();
}

const requestSoon = debounce((step: number) => {
  sliding = null;
  dispatch({ type: 'request', step });
}, 150);

stepSlider.addEventListener('input', () => {
  const index = Number(stepSlider.value);
  sliding = selection.steps[index] ?? null;
  dispatch({ type: 'slide', index });
  if (sliding !== null) requestSoon(sliding);
});
stepSlider.addEventListener('change', () => {
  const step = selection.steps[Number(stepSlider.value)];
  if (step === undefined) return;
  sliding = null;
  dispatch({ type: 'request', step });
});

function renderStepBar(): void {
  const view = stepBarView(selection, sliding);
  stepSlider.max = String(view.max);
  stepSlider.disabled = view.disabled;
  if (view.index >= 0 && document.activeElement !== stepSlider) stepSlider.value = String(view.index);
  stepLabel.textContent = view.label;
  stepSlider.setAttribute('aria-valuetext', view.label);
  replaceChildren(
    snapshotStatus,
    view.loading !== null ? createProgressRing('Loading snapshot') : null,
    view.loading !== null ? `loading step ${formatStep(view.loading)}…` : '',
  );
  document.body.dataset.snapshotStep = displayed ? String(displayed.manifest.step) : '';
}

function renderSnapshotEmpty(message?: string): void {
  const hasSnapshot = displayed !== null;
  snapshotGrid.hidden = !hasSnapshot;
  snapshotEmpty.hidden = hasSnapshot && !message;
  if (message) replaceChildren(snapshotEmpty, emptyState('Could not load the snapshot', message));
  else if (!hasSnapshot) {
    const every = model.snapshotEvery ? `every ${formatStep(model.snapshotEvery)} steps` : 'every runtime.snapshotEvery steps';
    replaceChildren(
      snapshotEmpty,
      selection.steps.length > 0
        ? emptyState('Loading snapshot…', 'Pick a step on the slider above.')
        : emptyState(
            `No snapshot yet — the trainer writes one ${every}`,
            'Snapshots show the Sinkhorn assignment and the tracked masks of a few clips of the batch.',
          ),
    );
  }
}

async function showSnapshot(payload: SnapshotPayload): Promise<void> {
  const token = ++loadToken;
  displayed = payload;
  renderStepBar();
  renderSnapshotEmpty();
  try {
    const clips = await Promise.all(payload.manifest.clips.map((_, i) => loadClip(payload, i)));
    if (token !== loadToken) return; // a newer snapshot arrived meanwhile
    masks.setClips(clips);
    assignment.setClips(clips, masks.visible());
    document.body.dataset.snapshotRendered = String(payload.manifest.step);
  } catch (error) {
    if (token !== loadToken) return;
    renderSnapshotEmpty(error instanceof Error ? error.message : String(error));
    snapshotGrid.hidden = true;
  }
}

// --- host messages --------------------------------------------------------------------------------

function applyUpdate(data: Partial<DashboardState>): void {
  if (data.run !== undefined) model.run = data.run;
  if (data.status !== undefined) model.status = data.status;
  if (data.etaSeconds !== undefined) model.etaSeconds = data.etaSeconds;
  if (data.snapshotEvery !== undefined) model.snapshotEvery = data.snapshotEvery;
  if (data.metrics !== undefined) {
    if (data.metricsAppend === true) store.append(data.metrics);
    else store.replace(data.metrics);
    chart.dataChanged();
  }
  if (data.error !== undefined) {
    model.error = data.error;
    errorBanner.hidden = !data.error;
    errorBanner.textContent = data.error ?? '';
  }
  header.update({ run: model.run, status: model.status, last: store.last(), etaSeconds: model.etaSeconds });

  if (data.snapshotSteps !== undefined) model.snapshotSteps = [...data.snapshotSteps].sort((a, b) => a - b);
  if (data.snapshot !== undefined) {
    model.snapshot = data.snapshot;
    if (data.snapshot) void showSnapshot(data.snapshot);
    else {
      displayed = null;
      assignment.clear();
    }
  }
  if (data.snapshotSteps !== undefined || data.snapshot !== undefined)
    dispatch({
      type: 'host',
      steps: data.snapshotSteps,
      snapshot: data.snapshot === undefined ? undefined : (data.snapshot?.manifest.step ?? null),
    });
  renderStepBar();
  renderSnapshotEmpty();
}

listenToHost(isHostToDashboardMessage, (message: HostToDashboardMessage) => {
  switch (message.type) {
    case 'setData':
      applyUpdate(message.data);
      break;
    case 'exportRequest':
      void buildExport(chart, message.format, message.requestId).then((result) => bridge.post(result));
      break;
    default:
      assertNever(message, 'message');
  }
});

onThemeChange(() => {
  assignment.draw();
  masks.draw();
});
renderStepBar();
renderSnapshotEmpty();
chart.draw();
bridge.post({ type: 'ready' });
