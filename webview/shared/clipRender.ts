// Draws what the tracker did on one frame: the raw frame, per-object masks as coloured overlays
// (nearest upsampling: each grid cell is one patch), the attention heat-map, and the anchor frame's
// assignment map (argmax object per patch). Shared by the dashboard and the compare view.

import { drawScaled, heatImage } from './canvas';
import { objectRgb } from './colormaps';
import { assignmentAt, sliceOffset, type ClipData } from './snapshotData';

const MASK_ALPHA = 0.55;

export function drawFrame(context: CanvasRenderingContext2D, clip: ClipData, frame: number, size: number): void {
  context.imageSmoothingEnabled = true;
  context.imageSmoothingQuality = 'high';
  context.drawImage(clip.frames[frame], 0, 0, size, size);
}

/** The frame in dimmed grey, so object colours drawn over it stay readable on colourful video. */
function drawFrameMuted(context: CanvasRenderingContext2D, clip: ClipData, frame: number, size: number): void {
  context.save();
  context.filter = 'grayscale(1) brightness(0.75) contrast(0.9)';
  drawFrame(context, clip, frame, size);
  context.restore();
}

/**
 * Muted frame + a translucent fill per visible object's mask + its outline along patch borders.
 * A patch claimed by several objects is split into vertical stripes, one per object, and shared
 * borders alternate colours (dashes), so overlaps stay visible instead of blending to grey.
 */
export function drawMaskOverlay(
  context: CanvasRenderingContext2D,
  clip: ClipData,
  frame: number,
  visible: readonly boolean[],
  size: number,
): void {
  drawFrameMuted(context, clip, frame, size);
  const { grid } = clip;
  const shown = Array.from({ length: clip.objects }, (_, i) => i).filter((i) => visible[i]);
  const stripes = Math.max(1, shown.length);
  const overlay = new ImageData(grid * stripes, grid);
  const alpha = Math.round(255 * MASK_ALPHA);
  for (let cell = 0; cell < grid * grid; cell++) {
    const owners = shown.filter((object) => clip.masks[sliceOffset(clip, object, frame) + cell] !== 0);
    if (owners.length === 0) continue;
    const row = Math.floor(cell / grid);
    const col = cell % grid;
    for (let stripe = 0; stripe < stripes; stripe++) {
      const [r, g, b] = objectRgb(owners[Math.floor((stripe * owners.length) / stripes)]);
      overlay.data.set([r, g, b, alpha], (row * grid * stripes + col * stripes + stripe) * 4);
    }
  }
  drawScaled(context, overlay, 0, 0, size, size, false);
  const cellSize = size / grid;
  context.lineWidth = Math.max(1.5, cellSize / 12);
  const dash = Math.max(3, cellSize / 4);
  shown.forEach((object, order) => {
    const offset = sliceOffset(clip, object, frame);
    const inside = (row: number, col: number): boolean =>
      row >= 0 && col >= 0 && row < grid && col < grid && clip.masks[offset + row * grid + col] !== 0;
    const [r, g, b] = objectRgb(object);
    context.strokeStyle = `rgb(${r}, ${g}, ${b})`;
    context.setLineDash(shown.length > 1 ? [dash, dash * (shown.length - 1)] : []);
    context.lineDashOffset = -order * dash;
    context.beginPath();
    for (let row = 0; row < grid; row++) {
      for (let col = 0; col < grid; col++) {
        if (!inside(row, col)) continue;
        const x = col * cellSize;
        const y = row * cellSize;
        if (!inside(row - 1, col)) segment(context, x, y, x + cellSize, y);
        if (!inside(row + 1, col)) segment(context, x, y + cellSize, x + cellSize, y + cellSize);
        if (!inside(row, col - 1)) segment(context, x, y, x, y + cellSize);
        if (!inside(row, col + 1)) segment(context, x + cellSize, y, x + cellSize, y + cellSize);
      }
    }
    context.stroke();
  });
  context.setLineDash([]);
  context.lineDashOffset = 0;
}

function segment(context: CanvasRenderingContext2D, x0: number, y0: number, x1: number, y1: number): void {
  context.moveTo(x0, y0);
  context.lineTo(x1, y1);
}

/**
 * Per patch, the strongest attention among the visible objects, each object's map stretched to
 * [0, 1] on that frame (softmax maps of different objects have different floors and peaks).
 */
export function combinedAttention(clip: ClipData, frame: number, visible: readonly boolean[]): Float32Array {
  const cells = clip.grid * clip.grid;
  const combined = new Float32Array(cells);
  for (let object = 0; object < clip.objects; object++) {
    if (!visible[object]) continue;
    const offset = sliceOffset(clip, object, frame);
    let low = Infinity;
    let peak = -Infinity;
    for (let cell = 0; cell < cells; cell++) {
      low = Math.min(low, clip.attention[offset + cell]);
      peak = Math.max(peak, clip.attention[offset + cell]);
    }
    if (!(peak > low)) continue;
    for (let cell = 0; cell < cells; cell++)
      combined[cell] = Math.max(combined[cell], (clip.attention[offset + cell] - low) / (peak - low));
  }
  return combined;
}

/** Dimmed frame under a bilinear-smoothed heat-map of the combined attention. */
export function drawAttention(
  context: CanvasRenderingContext2D,
  clip: ClipData,
  frame: number,
  visible: readonly boolean[],
  size: number,
): void {
  context.fillStyle = '#000';
  context.fillRect(0, 0, size, size);
  context.globalAlpha = 0.6;
  drawFrameMuted(context, clip, frame, size);
  context.globalAlpha = 1;
  const heat = heatImage(combinedAttention(clip, frame, visible), clip.grid, clip.grid, 0, 1, 200);
  drawScaled(context, heat, 0, 0, size, size, true);
}

/** Argmax object of each patch of the anchor frame, and the assignment value there. */
export function assignmentArgmax(clip: ClipData): { object: Int32Array; value: Float32Array } {
  const patches = clip.grid * clip.grid;
  const object = new Int32Array(patches);
  const value = new Float32Array(patches);
  for (let patch = 0; patch < patches; patch++) {
    let best = 0;
    for (let k = 1; k < clip.objects; k++) if (assignmentAt(clip, patch, k) > assignmentAt(clip, patch, best)) best = k;
    object[patch] = best;
    value[patch] = assignmentAt(clip, patch, best);
  }
  return { object, value };
}

/** The anchor frame with each patch tinted by its argmax object; stronger assignment, stronger tint. */
export function drawAssignmentMap(context: CanvasRenderingContext2D, clip: ClipData, visible: readonly boolean[], size: number): void {
  drawFrameMuted(context, clip, 0, size);
  const { object, value } = assignmentArgmax(clip);
  const image = new ImageData(clip.grid, clip.grid);
  for (let patch = 0; patch < object.length; patch++) {
    if (!visible[object[patch]]) continue;
    const [r, g, b] = objectRgb(object[patch]);
    // Rows sum to 1 over k objects, so 1/k is "undecided": map [1/k, 1] to a 25%–80% tint.
    const confidence = Math.max(0, Math.min(1, (value[patch] - 1 / clip.objects) / (1 - 1 / clip.objects || 1)));
    image.data.set([r, g, b, Math.round(255 * (0.25 + 0.55 * confidence))], patch * 4);
  }
  drawScaled(context, image, 0, 0, size, size, false);
}
