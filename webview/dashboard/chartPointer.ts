// Mouse, wheel and keyboard handling of the metric chart: hover, box zoom, y-only zoom (on the y axis), pan
// (Shift+drag), wheel zoom, double-click reset, and the keyboard equivalents. The maths is in viewport.ts.

import { dragZoom, panBy, shiftX, toData, zoomXAt, zoomYAt, type Range, type Viewport } from './viewport';

export interface Drag {
  kind: 'box' | 'y-only' | 'pan';
  startX: number;
  startY: number;
  x: number;
  y: number;
  /** The viewport when the drag began (pan moves relative to it). */
  start: Viewport;
}

/** What the pointer handlers need from the chart. Ranges of `zoom` are x in data units and y TRANSFORMED. */
export interface ChartTarget {
  readonly canvas: HTMLCanvasElement;
  /** The viewport of the last frame. */
  viewport(): Viewport;
  drag: Drag | null;
  setHover(px: number | null): void;
  zoom(change: { x?: Range | null; y?: Range | null }): void;
  requestDraw(): void;
}

function local(canvas: HTMLCanvasElement, event: MouseEvent): { x: number; y: number } {
  const rect = canvas.getBoundingClientRect();
  return { x: event.clientX - rect.left, y: event.clientY - rect.top };
}

export function bindChartPointer(c: ChartTarget): void {
  const { canvas } = c;
  canvas.addEventListener('mousemove', (event) => {
    const p = local(canvas, event);
    if (c.drag) {
      c.drag.x = p.x;
      c.drag.y = p.y;
      if (c.drag.kind === 'pan') c.zoom(panBy(c.drag.start, p.x - c.drag.startX, p.y - c.drag.startY));
      c.requestDraw();
      return;
    }
    const vp = c.viewport();
    c.setHover(p.x >= vp.rect.left && p.x <= vp.rect.left + vp.rect.width ? p.x : null);
    canvas.style.cursor = p.x < vp.rect.left ? 'ns-resize' : 'crosshair';
  });
  canvas.addEventListener('mouseleave', () => c.setHover(null));
  canvas.addEventListener('mousedown', (event) => {
    if (event.button !== 0) return;
    const p = local(canvas, event);
    const vp = c.viewport();
    const kind: Drag['kind'] = event.shiftKey ? 'pan' : p.x < vp.rect.left ? 'y-only' : 'box';
    c.drag = { kind, startX: p.x, startY: p.y, x: p.x, y: p.y, start: vp };
    event.preventDefault();
  });
  window.addEventListener('mouseup', () => {
    const drag = c.drag;
    if (!drag) return;
    c.drag = null;
    if (drag.kind === 'pan') return c.requestDraw();
    const change = dragZoom(drag.start, drag.kind, { px: drag.startX, py: drag.startY }, { px: drag.x, py: drag.y });
    if (change) c.zoom(change);
    else c.requestDraw();
  });
  canvas.addEventListener('dblclick', () => c.zoom({ x: null, y: null }));
  canvas.addEventListener(
    'wheel',
    (event) => {
      event.preventDefault();
      const p = local(canvas, event);
      const vp = c.viewport();
      const delta = event.deltaY || event.deltaX;
      const factor = Math.exp(Math.sign(delta) * Math.min(0.5, Math.abs(delta) / 400));
      if (event.shiftKey || p.x < vp.rect.left) {
        const y = zoomYAt(vp, p.y, factor);
        if (y) c.zoom({ y });
      } else {
        const x = zoomXAt(vp, p.x, factor);
        if (x) c.zoom({ x });
      }
    },
    { passive: false },
  );
}

/** Arrow keys pan, + and − zoom x, Page Up/Down zoom y, 0 and Escape reset. */
export function bindChartKeys(c: ChartTarget): void {
  c.canvas.addEventListener('keydown', (event) => {
    const vp = c.viewport();
    const centre = { px: vp.rect.left + vp.rect.width / 2, py: vp.rect.top + vp.rect.height / 2 };
    const zoomX = (factor: number) => {
      const x = zoomXAt(vp, centre.px, factor);
      if (x) c.zoom({ x });
    };
    const zoomY = (factor: number) => {
      const y = zoomYAt(vp, centre.py, factor);
      if (y) c.zoom({ y });
    };
    switch (event.key) {
      case 'ArrowLeft':
      case 'ArrowRight':
        c.zoom({ x: shiftX(vp.x, event.key === 'ArrowLeft' ? -0.1 : 0.1) });
        break;
      case '+':
      case '=':
        zoomX(0.8);
        break;
      case '-':
        zoomX(1.25);
        break;
      case 'PageUp':
        zoomY(0.8);
        break;
      case 'PageDown':
        zoomY(1.25);
        break;
      case '0':
      case 'Escape':
        c.zoom({ x: null, y: null });
        break;
      default:
        return;
    }
    event.preventDefault();
  });
}

/** The data x under a pixel column of the last frame. */
export function xAtPixel(vp: Viewport, px: number): number {
  return toData(vp, { px, py: 0 }).x;
}
