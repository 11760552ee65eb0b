// The controls every metric chart has (dashboard and overlay): metric, x axis, smoothing, log-y, reset zoom and
// Export…. The chart owns the settings; this only renders them and reports changes.

import { X_AXIS_MODES } from '../../src/core/experimentMessages';
import { createButton, createCheckbox, createDropdown } from '../ui/toolkit';
import { h } from './dom';
import { metricLabel } from './format';
import { X_AXIS_LABELS, type XAxisMode } from './xAxis';

export interface ToolbarSettings {
  metric: string;
  xMode: XAxisMode;
  smoothing: number;
  logY: boolean;
}

export interface ChartToolbar {
  element: HTMLElement;
  /** The metrics to pick from (picker order) and the one shown. */
  setMetrics(keys: readonly string[], metric: string): void;
  /** Shows these settings (after a change from elsewhere). */
  sync(settings: ToolbarSettings): void;
}

export function createChartToolbar(
  initial: ToolbarSettings,
  on: { change: (change: Partial<ToolbarSettings>) => void; reset: () => void; exportMenu: () => void; resetTitle: string },
): ChartToolbar {
  const picker = createDropdown({
    id: 'metric-picker',
    ariaLabel: 'Metric to plot',
    options: [],
    value: initial.metric,
    onChange: (metric) => on.change({ metric }),
  });
  const xPicker = createDropdown({
    id: 'x-axis',
    ariaLabel: 'X axis',
    options: X_AXIS_MODES.map((m) => ({ value: m, label: X_AXIS_LABELS[m] })),
    value: initial.xMode,
    onChange: (xMode) => on.change({ xMode: xMode as XAxisMode }),
  });
  const slider = h('input', {
    id: 'smoothing',
    type: 'range',
    min: 0,
    max: 0.99,
    step: 0.01,
    value: initial.smoothing,
    'aria-label': 'EMA smoothing weight',
  });
  const sliderValue = h('output', { for: 'smoothing', class: 'slider-value' }, initial.smoothing.toFixed(2));
  slider.addEventListener('input', () => on.change({ smoothing: Number(slider.value) }));
  const logToggle = createCheckbox({
    id: 'log-y',
    label: 'Log y',
    ariaLabel: 'Logarithmic y axis',
    checked: initial.logY,
    onChange: (logY) => on.change({ logY }),
  });
  const reset = createButton({ id: 'reset-zoom', label: 'Reset zoom', title: on.resetTitle, onClick: on.reset });
  const exportButton = createButton({
    id: 'export-chart',
    label: 'Export…',
    title: 'Export the chart (PNG, SVG) or its data (CSV, JSON)',
    onClick: on.exportMenu,
  });
  const control = (label: string, ...children: Node[]) =>
    h('div', { class: 'control' }, h('span', { class: 'control-label' }, label), ...children);
  const element = h(
    'div',
    { class: 'toolbar', role: 'toolbar', 'aria-label': 'Chart controls' },
    control('Metric', picker.element),
    control('X axis', xPicker.element),
    control('Smoothing', slider, sliderValue),
    logToggle.element,
    reset.element,
    exportButton.element,
  );
  return {
    element,
    setMetrics: (keys, metric) =>
      picker.setOptions(
        keys.map((key) => ({ value: key, label: metricLabel(key) === key ? key : `${metricLabel(key)} (${key})` })),
        metric,
      ),
    sync(s) {
      picker.setValue(s.metric);
      xPicker.setValue(s.xMode);
      logToggle.setChecked(s.logY);
      slider.value = String(s.smoothing);
      sliderValue.textContent = s.smoothing.toFixed(2);
    },
  };
}
