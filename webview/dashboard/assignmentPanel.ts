// Sinkhorn assignment M* of every clip of the selected snapshot: the matrix as a heat-map (one row
// per object, one column per patch; N×k transposed so it fits a wide panel) with exact values on
// hover, and the same assignment as a spatial map over the anchor frame (argmax object per patch).
// Hovering either one highlights the patch in both.

import { drawHeatLegend, drawScaled, fitCanvas, heatImage, themeColor, themeFont } from '../shared/canvas';
import { assignmentArgmax, drawAssignmentMap } from '../shared/clipRender';
import { objectColor } from '../shared/colormaps';
import { h, replaceChildren } from '../shared/dom';
import { formatExact, formatValue } from '../shared/format';
import { canvasTile } from '../shared/panel';
import { assignmentAt, type ClipData } from '../shared/snapshotData';

const ROW_HEIGHT = 22;
const LABEL_WIDTH = 118;
const AXIS_HEIGHT = 18;
const MAP_SIZE = 176;

interface ClipCard {
  clip: ClipData;
  heatmap: HTMLCanvasElement;
  map: HTMLCanvasElement;
  readout: HTMLElement;
  cellWidth: number;
  min: number;
  max: number;
}

export class AssignmentPanel {
  readonly element: HTMLElement;
  private readonly cardsHost = h('div', { class: 'assignment-cards' });
  private cards: ClipCard[] = [];
  private visible: boolean[] = [];
  private hoveredPatch: { card: number; patch: number } | null = null;

  constructor() {
    const legend = h('canvas', { class: 'heat-legend', 'aria-hidden': 'true' });
    drawHeatLegend(legend, 120, 10);
    this.element = h(
      'div',
      { class: 'assignment-panel' },
      h(
        'div',
        { class: 'legend-row' },
        h('span', { class: 'legend-label' }, 'M*: min → max of each clip'),
        legend,
        h('span', { class: 'legend-label' }, 'Rows sum to 1 over objects; 1/k is undecided.'),
      ),
      this.cardsHost,
    );
  }

  setClips(clips: ClipData[], visible: boolean[]): void {
    this.visible = visible;
    this.hoveredPatch = null;
    this.cards = clips.map((clip, i) => this.createCard(clip, i));
    replaceChildren(
      this.cardsHost,
      ...this.cards.map((card) =>
        h(
          'article',
          { class: 'clip-card', 'aria-label': `Assignment of clip ${card.clip.position}` },
          h(
            'h3',
            { class: 'clip-title' },
            `Clip ${card.clip.position}`,
            h(
              'span',
              { class: 'muted' },
              ` · anchor = video frame #${card.clip.frameIndices[0]} · N = ${card.clip.grid * card.clip.grid} patches × k = ${card.clip.objects} objects`,
            ),
          ),
          h(
            'div',
            { class: 'clip-card-body' },
            h('div', { class: 'matrix-wrap' }, card.heatmap, card.readout),
            canvasTile(card.map, 'Argmax object per patch on the anchor frame', 'map-tile'),
          ),
        ),
      ),
    );
    this.draw();
  }

  setVisible(visible: boolean[]): void {
    this.visible = visible;
    this.draw();
  }

  clear(): void {
    this.cards = [];
    this.cardsHost.replaceChildren();
  }

  private createCard(clip: ClipData, index: number): ClipCard {
    const patches = clip.grid * clip.grid;
    const cellWidth = Math.max(3, Math.min(14, Math.floor(560 / patches)));
    // Colour range = the clip's own min..max: M* often sits near 1/k, and a fixed 0..1 scale would hide its structure.
    let min = Infinity;
    let max = -Infinity;
    for (const v of clip.assignment) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    const heatmap = h('canvas', {
      class: 'assignment-heatmap',
      id: `assignment-heatmap-${index}`,
      tabindex: 0,
      role: 'img',
      'aria-label': `Assignment matrix of clip ${clip.position}: ${clip.objects} objects by ${patches} patches. Hover for values; arrow keys move the read-out.`,
    });
    heatmap.dataset.cellWidth = String(cellWidth);
    heatmap.dataset.rowHeight = String(ROW_HEIGHT);
    heatmap.dataset.labelWidth = String(LABEL_WIDTH);
    const map = h('canvas', {
      class: 'assignment-map',
      id: `assignment-map-${index}`,
      role: 'img',
      'aria-label': `Argmax object per patch over the anchor frame of clip ${clip.position}`,
    });
    const readout = h(
      'div',
      { class: 'cell-readout', id: `assignment-readout-${index}`, 'aria-live': 'polite' },
      'Hover a cell for its value.',
    );
    const card: ClipCard = { clip, heatmap, map, readout, cellWidth, min, max };
    const cellAt = (event: MouseEvent): { patch: number; object: number } | null => {
      const rect = heatmap.getBoundingClientRect();
      const patch = Math.floor((event.clientX - rect.left - LABEL_WIDTH) / cellWidth);
      const object = Math.floor((event.clientY - rect.top) / ROW_HEIGHT);
      return patch >= 0 && patch < patches && object >= 0 && object < clip.objects ? { patch, object } : null;
    };
    heatmap.addEventListener('mousemove', (event) => this.hover(index, cellAt(event)));
    heatmap.addEventListener('mouseleave', () => this.hover(index, null));
    let keyCell = { patch: 0, object: 0 };
    heatmap.addEventListener('keydown', (event) => {
      const moves: Record<string, [number, number]> = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
      const move = moves[event.key];
      if (!move) return;
      event.preventDefault();
      keyCell = {
        patch: Math.max(0, Math.min(patches - 1, keyCell.patch + move[0])),
        object: Math.max(0, Math.min(clip.objects - 1, keyCell.object + move[1])),
      };
      this.hover(index, keyCell);
    });
    map.addEventListener('mousemove', (event) => {
      const rect = map.getBoundingClientRect();
      const col = Math.floor(((event.clientX - rect.left) / rect.width) * clip.grid);
      const row = Math.floor(((event.clientY - rect.top) / rect.height) * clip.grid);
      if (col < 0 || row < 0 || col >= clip.grid || row >= clip.grid) return this.hover(index, null);
      const patch = row * clip.grid + col;
      this.hover(index, { patch, object: assignmentArgmax(clip).object[patch] });
    });
    map.addEventListener('mouseleave', () => this.hover(index, null));
    return card;
  }

  private hover(cardIndex: number, cell: { patch: number; object: number } | null): void {
    const card = this.cards[cardIndex];
    if (!card) return;
    this.hoveredPatch = cell ? { card: cardIndex, patch: cell.patch } : null;
    if (cell) {
      const { clip } = card;
      const value = assignmentAt(clip, cell.patch, cell.object);
      const row = Math.floor(cell.patch / clip.grid);
      const col = cell.patch % clip.grid;
      const head = clip.heads[cell.object];
      card.readout.replaceChildren(
        h('span', { class: 'swatch' }),
        `patch ${cell.patch} (row ${row}, col ${col}) · object ${cell.object}${head !== undefined ? ` (head ${head})` : ''} · `,
        h('b', {}, `M* = ${formatExact(value)}`),
      );
      (card.readout.firstChild as HTMLElement).style.background = objectColor(cell.object);
      card.readout.dataset.patch = String(cell.patch);
      card.readout.dataset.object = String(cell.object);
      card.readout.dataset.value = String(value);
    } else {
      card.readout.textContent = 'Hover a cell for its value.';
      delete card.readout.dataset.patch;
    }
    this.drawCard(card, cardIndex);
  }

  draw(): void {
    this.cards.forEach((card, i) => this.drawCard(card, i));
  }

  private drawCard(card: ClipCard, index: number): void {
    const { clip, cellWidth } = card;
    const patches = clip.grid * clip.grid;
    const axisCaption = 'patch →  (row-major; ticks = grid rows)';
    const rangeCaption = `colour range ${formatValue(card.min)} – ${formatValue(card.max)}`;
    // A small grid (e.g. 4 × 4 patches) is narrower than its two captions: the canvas widens so they never overlap.
    const measure = card.heatmap.getContext('2d');
    if (measure) measure.font = themeFont(11);
    const captionWidth = measure ? measure.measureText(axisCaption).width + measure.measureText(rangeCaption).width + 24 : 0;
    const width = Math.ceil(Math.max(LABEL_WIDTH + patches * cellWidth + 4, LABEL_WIDTH + captionWidth));
    const height = clip.objects * ROW_HEIGHT + AXIS_HEIGHT;
    const context = fitCanvas(card.heatmap, width, height);
    context.clearRect(0, 0, width, height);
    // Transpose [N, k] to object rows so the image is k × N.
    const transposed = new Float32Array(clip.objects * patches);
    for (let p = 0; p < patches; p++) for (let k = 0; k < clip.objects; k++) transposed[k * patches + p] = assignmentAt(clip, p, k);
    drawScaled(
      context,
      heatImage(transposed, patches, clip.objects, card.min, card.max > card.min ? card.max : card.min + 1e-6),
      LABEL_WIDTH,
      0,
      patches * cellWidth,
      clip.objects * ROW_HEIGHT,
      false,
    );
    const foreground = themeColor('--vscode-foreground', '#cccccc');
    context.font = themeFont(11);
    context.textBaseline = 'middle';
    context.textAlign = 'left';
    for (let k = 0; k < clip.objects; k++) {
      const y = k * ROW_HEIGHT + ROW_HEIGHT / 2;
      context.fillStyle = objectColor(k);
      context.fillRect(4, y - 5, 10, 10);
      context.fillStyle = foreground;
      context.globalAlpha = this.visible[k] === false ? 0.45 : 1;
      const head = clip.heads[k];
      context.fillText(`object ${k}${head !== undefined ? ` · head ${head}` : ''}`, 20, y);
      context.globalAlpha = 1;
    }
    // Grid-row boundaries (every `grid` patches) help find a patch's row.
    context.strokeStyle = foreground;
    context.globalAlpha = 0.25;
    context.beginPath();
    for (let r = 1; r < clip.grid; r++) {
      const x = LABEL_WIDTH + r * clip.grid * cellWidth + 0.5;
      context.moveTo(x, 0);
      context.lineTo(x, clip.objects * ROW_HEIGHT);
    }
    context.stroke();
    context.globalAlpha = 0.8;
    context.fillStyle = foreground;
    context.textBaseline = 'top';
    context.fillText(axisCaption, LABEL_WIDTH, clip.objects * ROW_HEIGHT + 4);
    context.textAlign = 'right';
    context.fillText(rangeCaption, width - 4, clip.objects * ROW_HEIGHT + 4);
    context.globalAlpha = 1;

    const hovered = this.hoveredPatch?.card === index ? this.hoveredPatch.patch : null;
    if (hovered !== null) {
      context.strokeStyle = themeColor('--vscode-focusBorder', '#007fd4');
      context.lineWidth = 2;
      context.strokeRect(LABEL_WIDTH + hovered * cellWidth, 1, cellWidth, clip.objects * ROW_HEIGHT - 2);
    }

    const mapContext = fitCanvas(card.map, MAP_SIZE, MAP_SIZE);
    drawAssignmentMap(mapContext, clip, this.visible, MAP_SIZE);
    if (hovered !== null) {
      const cell = MAP_SIZE / clip.grid;
      mapContext.strokeStyle = '#ffffff';
      mapContext.lineWidth = 2;
      mapContext.strokeRect((hovered % clip.grid) * cell + 1, Math.floor(hovered / clip.grid) * cell + 1, cell - 2, cell - 2);
    }
  }
}
