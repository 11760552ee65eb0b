// Live status line: run name, status, step/total with a progress bar, last loss, throughput, ETA.

import { engineLabel, type MetricsRecord, type RunInfo, type RunStatusReport } from '../../src/core/runRecords';
import { h } from '../shared/dom';
import { formatDuration, formatStep, formatValue } from '../shared/format';

export interface HeaderInput {
  run: RunInfo | null;
  status: RunStatusReport | null;
  last: MetricsRecord | null;
  etaSeconds: number | null;
}

export class StatusHeader {
  readonly element: HTMLElement;
  private readonly name = h('h1', { class: 'run-name' }, 'DoRA run');
  private readonly status = h('span', { class: 'status-pill', role: 'status' }, 'waiting');
  private readonly stepText = h('span', { class: 'stat-value', id: 'stat-step' }, '—');
  private readonly progressFill = h('div', { class: 'progress-fill' });
  private readonly progress = h(
    'div',
    { class: 'progress', role: 'progressbar', 'aria-label': 'Training progress', 'aria-valuemin': 0, 'aria-valuemax': 100 },
    this.progressFill,
  );
  private readonly loss = h('span', { class: 'stat-value', id: 'stat-loss' }, '—');
  private readonly speed = h('span', { class: 'stat-value', id: 'stat-speed' }, '—');
  private readonly eta = h('span', { class: 'stat-value', id: 'stat-eta' }, '—');
  private readonly detail = h('span', { class: 'run-detail' });

  constructor() {
    const stat = (label: string, value: HTMLElement, ...extra: HTMLElement[]): HTMLElement =>
      h('div', { class: 'stat' }, h('span', { class: 'stat-label' }, label), value, ...extra);
    this.element = h(
      'header',
      { class: 'status-header', 'aria-label': 'Run status' },
      h('div', { class: 'run-title' }, this.name, this.status, this.detail),
      h(
        'div',
        { class: 'stats' },
        stat('Step', this.stepText, this.progress),
        stat('Loss', this.loss),
        stat('Throughput', this.speed),
        stat('ETA', this.eta),
      ),
    );
  }

  update({ run, status, last, etaSeconds }: HeaderInput): void {
    this.name.textContent = run?.name ?? 'DoRA run';
    const state = status?.status ?? run?.statusHint ?? 'waiting';
    this.status.textContent = state;
    this.status.className = `status-pill status-${state}`;
    this.status.title = status?.reason ?? '';
    this.detail.textContent = [run?.preset ? `preset ${run.preset}` : '', run ? engineLabel(run) : '', status?.reason ?? '']
      .filter(Boolean)
      .join(' · ');

    const step = Math.max(last?.step ?? 0, status?.step ?? 0);
    const total = run?.totalSteps ?? null;
    this.stepText.textContent = total ? `${formatStep(step)} / ${formatStep(total)}` : formatStep(step);
    const percent = total ? Math.min(100, (step / total) * 100) : 0;
    this.progress.hidden = !total;
    this.progressFill.style.width = `${percent}%`;
    this.progress.setAttribute('aria-valuenow', percent.toFixed(0));

    this.loss.textContent = last ? formatValue(last.loss) : '—';
    this.speed.textContent = last ? `${formatValue(last.imgPerSec)} img/s` : '—';
    const running = state === 'running' || state === 'starting';
    let eta = etaSeconds;
    let estimated = false;
    if (eta === null && running && total && last) {
      eta = Math.max(0, total - step) * last.secPerStep;
      estimated = true;
    }
    this.eta.textContent = !running && state !== 'waiting' ? 'done' : eta === null ? '—' : `${estimated ? '≈ ' : ''}${formatDuration(eta)}`;
    if (state !== 'running' && state !== 'starting' && state !== 'finished' && state !== 'waiting') this.eta.textContent = '—';
  }
}
