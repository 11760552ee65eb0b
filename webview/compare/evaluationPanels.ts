// The compare view's evaluation sections: the results table (best per row marked) and every checkpoint's
// [CLS]→patch attention maps side by side (rows: checkpoints; columns: the evaluated frames), with a head picker.

import type { CompareCheckpoint } from '../../src/core/webviewMessages';
import { drawScaled, fitCanvas, heatImage } from '../shared/canvas';
import { emptyState, h, replaceChildren } from '../shared/dom';
import { formatStep } from '../shared/format';
import { canvasTile, panel } from '../shared/panel';
import { cached, fetchBytes, loadFrame } from '../shared/snapshotData';
import { createButton, createDropdown } from '../ui/toolkit';
import { formatEvalCell } from '../../src/core/evalResults';
import { attentionMap, evaluationRows } from './compareModel';

const TILE = 120;

function formatMetric(value: number | undefined, unit: '%' | '', stdErr?: number, caveat?: string): string {
  if (value === undefined) return '—';
  return formatEvalCell({ value, unit, stdErr, caveat });
}

/** A cell's tooltip: the exact value, its standard error and the caveat that goes with it. */
function cellTitle(value: number | undefined, stdErr?: number, caveat?: string): string {
  if (value === undefined) return 'not evaluated';
  const se = stdErr === undefined ? '' : ` ± ${stdErr} (standard error)`;
  return `${value}${se}${caveat ? `\n⚠ ${caveat}` : ''}`;
}

interface LoadedMaps {
  frames: ImageBitmap[];
  frameIndices: number[];
  attention: Float32Array;
  shape: [number, number, number, number];
}

async function loadMaps(checkpoint: CompareCheckpoint): Promise<LoadedMaps> {
  const payload = checkpoint.attentionMaps!;
  const { manifest, uris } = payload;
  const uri = (file: string) => {
    const found = uris[file];
    if (!found) throw new Error(`no URI for ${file}`);
    return found;
  };
  const shape = manifest.attention.shape;
  const [bytes, frames] = await Promise.all([
    cached(uri(manifest.attention.file), () => fetchBytes(uri(manifest.attention.file))),
    Promise.all(manifest.frames.map((f) => loadFrame(uri(f.png)))),
  ]);
  const expected = shape.reduce((a, b) => a * b, 1) * 4;
  if (bytes.byteLength !== expected)
    throw new Error(`${manifest.attention.file}: ${bytes.byteLength} bytes, expected ${expected} for shape [${shape}]`);
  return { frames, frameIndices: manifest.frames.map((f) => f.index), attention: new Float32Array(bytes), shape };
}

export class EvaluationPanels {
  readonly resultsPanel: HTMLElement;
  readonly attentionPanel: HTMLElement;
  private readonly table = h('div', { class: 'table-scroll', id: 'evaluation-table-wrap' });
  private readonly grid = h('div', { class: 'attention-grid', id: 'attention-grid' });
  private readonly headPicker;
  private checkpoints: CompareCheckpoint[] = [];
  private loaded: (LoadedMaps | string | null)[] = [];
  private loadToken = 0;

  constructor(
    private head: number | 'mean',
    private readonly onHeadChange: (head: number | 'mean') => void,
    onEvaluate: () => void,
  ) {
    const evaluate = createButton({
      label: 'Evaluate…',
      id: 'evaluate-button',
      title: 'Run k-NN, tracking and attention evaluations on these checkpoints (DoRA: Evaluate Checkpoint)',
      onClick: onEvaluate,
    });
    this.headPicker = createDropdown({
      id: 'attention-head-picker',
      ariaLabel: 'Attention head',
      options: [{ value: 'mean', label: 'Mean of heads' }],
      value: String(head),
      onChange: (value) => {
        this.head = value === 'mean' ? 'mean' : Number(value);
        this.onHeadChange(this.head);
        this.draw();
      },
    });
    this.resultsPanel = panel(
      'evaluation-panel',
      'Evaluation',
      'teacher backbone on held-out data · ★ best per row (higher is better)',
      h('div', { class: 'toolbar' }, evaluate.element),
      this.table,
    );
    this.attentionPanel = panel(
      'attention-panel',
      'Attention maps',
      'last block [CLS]→patch attention on the same frames, side by side',
      h(
        'div',
        { class: 'toolbar' },
        h('div', { class: 'control' }, h('span', { class: 'control-label' }, 'Head'), this.headPicker.element),
      ),
      this.grid,
    );
  }

  update(checkpoints: CompareCheckpoint[]): void {
    this.checkpoints = checkpoints;
    this.renderTable();
    void this.loadAttention();
  }

  private renderTable(): void {
    const rows = evaluationRows(this.checkpoints);
    document.body.dataset.evaluationRows = String(rows.length);
    if (rows.length === 0) {
      replaceChildren(
        this.table,
        emptyState(
          'Not evaluated yet',
          'Press “Evaluate…” (or right-click a checkpoint → Evaluate Checkpoint…). Results are stored beside each checkpoint and appear here.',
        ),
      );
      return;
    }
    const header = h(
      'tr',
      {},
      h('th', { scope: 'col' }, 'Evaluation'),
      ...this.checkpoints.map((c, i) =>
        h('th', { scope: 'col', class: `checkpoint-col cp-${i}` }, c.label, h('div', { class: 'muted' }, `step ${formatStep(c.step)}`)),
      ),
    );
    const body: HTMLElement[] = [];
    let group = '';
    for (const row of rows) {
      if (row.group !== group) {
        group = row.group;
        body.push(h('tr', { class: 'group-row' }, h('th', { scope: 'colgroup', colspan: this.checkpoints.length + 1 }, group)));
        body.push(...this.caveatRows(rows.filter((r) => r.group === group)));
      }
      body.push(
        h(
          'tr',
          { 'data-eval': row.key },
          h('th', { scope: 'row', class: 'indent' }, row.label),
          ...row.values.map((value, i) => {
            const best = row.best.includes(i);
            const [stdErr, caveat] = [row.stdErrs[i], row.caveats[i]];
            const text = formatMetric(value, row.unit, stdErr, caveat);
            return h(
              'td',
              {
                class: `num${best ? ' best' : ''}${caveat ? ' caveat' : ''}`,
                title: cellTitle(value, stdErr, caveat),
                'aria-label': best ? `${text}, best` : undefined,
              },
              text,
            );
          }),
        ),
      );
    }
    replaceChildren(
      this.table,
      h('table', { class: 'data-table', id: 'evaluation-table' }, h('thead', {}, header), h('tbody', {}, ...body)),
    );
  }

  /** One muted row per checkpoint whose results in this group come with a caveat (too few scenes, …). */
  private caveatRows(group: ReturnType<typeof evaluationRows>): HTMLElement[] {
    return this.checkpoints.flatMap((c, i) => {
      const caveat = group.find((r) => r.caveats[i])?.caveats[i];
      if (!caveat) return [];
      const who = this.checkpoints.length > 1 ? `${c.label}: ` : '';
      const note = h('div', { class: 'caveat-text' }, `⚠ ${who}${caveat}`);
      return [h('tr', { class: 'caveat-row' }, h('td', { colspan: this.checkpoints.length + 1 }, note))];
    });
  }

  private async loadAttention(): Promise<void> {
    const token = ++this.loadToken;
    const loaded = await Promise.all(
      this.checkpoints.map(async (c) => {
        if (!c.attentionMaps) return null;
        try {
          return await loadMaps(c);
        } catch (error) {
          return error instanceof Error ? error.message : String(error);
        }
      }),
    );
    if (token !== this.loadToken) return;
    this.loaded = loaded;
    const heads = Math.max(0, ...loaded.map((l) => (l && typeof l !== 'string' ? l.shape[1] : 0)));
    if (this.head !== 'mean' && this.head >= heads) this.head = 'mean';
    this.headPicker.setOptions(
      [{ value: 'mean', label: 'Mean of heads' }, ...Array.from({ length: heads }, (_, i) => ({ value: String(i), label: `Head ${i}` }))],
      String(this.head),
    );
    this.draw();
  }

  private draw(): void {
    const rendered = this.loaded.filter((l) => l && typeof l !== 'string').length;
    document.body.dataset.attentionRendered = String(rendered);
    if (this.checkpoints.every((c) => !c.attentionMaps)) {
      replaceChildren(
        this.grid,
        emptyState('No attention maps yet', "Evaluate with “Attention maps” ticked to see each checkpoint's [CLS] attention here."),
      );
      return;
    }
    replaceChildren(
      this.grid,
      ...this.checkpoints.map((checkpoint, i) => {
        const maps = this.loaded[i];
        const title = h(
          'h3',
          { class: `clip-title cp-${i}` },
          checkpoint.label,
          h('div', { class: 'muted' }, `step ${formatStep(checkpoint.step)}`),
        );
        if (!maps || typeof maps === 'string') {
          return h(
            'div',
            { class: 'attention-row', 'data-checkpoint': checkpoint.id },
            title,
            emptyState(
              typeof maps === 'string' ? 'Could not load the attention maps' : 'Not evaluated',
              typeof maps === 'string' ? maps : 'Evaluate this checkpoint with “Attention maps” ticked.',
            ),
          );
        }
        const tiles = maps.frames.map((frame, f) => {
          const canvas = h('canvas', { role: 'img', 'aria-label': `Attention of ${checkpoint.label} on frame ${maps.frameIndices[f]}` });
          const context = fitCanvas(canvas, TILE, TILE);
          context.fillStyle = '#000';
          context.fillRect(0, 0, TILE, TILE);
          context.save();
          context.globalAlpha = 0.6;
          context.filter = 'grayscale(1) brightness(0.75)';
          context.drawImage(frame, 0, 0, TILE, TILE);
          context.restore();
          const [, , rows, cols] = maps.shape;
          drawScaled(
            context,
            heatImage(attentionMap(maps.attention, maps.shape, f, this.head), cols, rows, 0, 1, 165),
            0,
            0,
            TILE,
            TILE,
            true,
          );
          return canvasTile(canvas, `frame ${maps.frameIndices[f]}`);
        });
        return h('div', { class: 'attention-row', 'data-checkpoint': checkpoint.id }, title, h('div', { class: 'tiles' }, ...tiles));
      }),
    );
  }
}
