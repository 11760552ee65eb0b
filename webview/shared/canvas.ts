// Canvas helpers: crisp drawing on high-DPI screens, theme colours read from VS Code's CSS
// variables, and grid-sized images for masks and heat-maps (drawn scaled, so a [grid, grid] image
// becomes a patch-resolution overlay with nearest or bilinear upsampling).

import { HEAT_LUT } from './colormaps';

/** Sizes the backing store to CSS size × devicePixelRatio and returns a context that draws in CSS pixels. */
export function fitCanvas(canvas: HTMLCanvasElement, cssWidth: number, cssHeight: number): CanvasRenderingContext2D {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.max(1, Math.round(cssWidth * ratio));
  const height = Math.max(1, Math.round(cssHeight * ratio));
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  canvas.style.width = `${cssWidth}px`;
  canvas.style.height = `${cssHeight}px`;
  const context = canvas.getContext('2d');
  if (!context) throw new Error('2D canvas is not available');
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  return context;
}

/** A VS Code theme colour (e.g. `--vscode-editor-foreground`), with a fallback for plain browsers. */
export function themeColor(variable: string, fallback: string): string {
  const value = getComputedStyle(document.body).getPropertyValue(variable).trim();
  return value || fallback;
}

export function themeFont(sizePx = 11): string {
  const family = themeColor('--vscode-font-family', 'system-ui, sans-serif');
  return `${sizePx}px ${family}`;
}

let scratch: HTMLCanvasElement | undefined;

/** Draws `image` (grid-sized) onto `context`, scaled to the rectangle, with or without smoothing. */
export function drawScaled(
  context: CanvasRenderingContext2D,
  image: ImageData,
  x: number,
  y: number,
  width: number,
  height: number,
  smooth: boolean,
): void {
  scratch ??= document.createElement('canvas');
  scratch.width = image.width;
  scratch.height = image.height;
  const scratchContext = scratch.getContext('2d');
  if (!scratchContext) return;
  scratchContext.putImageData(image, 0, 0);
  const previous = context.imageSmoothingEnabled;
  context.imageSmoothingEnabled = smooth;
  if (smooth) context.imageSmoothingQuality = 'high';
  context.drawImage(scratch, x, y, width, height);
  context.imageSmoothingEnabled = previous;
}

/** Heat-map image of `values` (length width×height, row-major) normalised to [min, max]. */
export function heatImage(values: ArrayLike<number>, width: number, height: number, min: number, max: number, alpha = 255): ImageData {
  const image = new ImageData(width, height);
  const span = max - min || 1;
  for (let i = 0; i < width * height; i++) {
    const t = Math.max(0, Math.min(1, (values[i] - min) / span));
    const lut = Math.round(t * 255) * 3;
    image.data[i * 4] = HEAT_LUT[lut];
    image.data[i * 4 + 1] = HEAT_LUT[lut + 1];
    image.data[i * 4 + 2] = HEAT_LUT[lut + 2];
    image.data[i * 4 + 3] = alpha;
  }
  return image;
}

/** A horizontal colour bar for the heat map, for legends. */
export function drawHeatLegend(canvas: HTMLCanvasElement, cssWidth: number, cssHeight: number): void {
  const context = fitCanvas(canvas, cssWidth, cssHeight);
  const ramp = new Float32Array(256).map((_, i) => i / 255);
  drawScaled(context, heatImage(ramp, 256, 1, 0, 1), 0, 0, cssWidth, cssHeight, true);
}
