// The browser half of chart export: rasterises the SVG built by chartExport.ts into a PNG (the same picture in
// both formats) and base64-encodes it for the host, which writes the file. No network, no tainted canvas: the SVG
// is self-contained and loaded from a blob: URL (allowed by the panels' CSP img-src).

import { exportFileName } from './chartExport';
import type { ChartExport, ExportFormat } from '../../src/core/experimentMessages';

export async function svgToPngBase64(svg: string, width: number, height: number, scale = 2): Promise<string> {
  const url = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
  try {
    const image = new Image();
    image.src = url;
    await image.decode();
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    const context = canvas.getContext('2d');
    if (!context) throw new Error('2D canvas is not available');
    context.drawImage(image, 0, 0, canvas.width, canvas.height);
    const dataUrl = canvas.toDataURL('image/png');
    return dataUrl.slice(dataUrl.indexOf(',') + 1);
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** What an exportable chart provides. */
export interface ExportableChart {
  /** Title for the file name, e.g. `loss of demo`. */
  exportTitle(): string;
  /** The standalone SVG and its size in CSS pixels. */
  toSvg(): { svg: string; width: number; height: number };
  toCsv(): string;
  toJson(): string;
}

/** The `chartExport` message for `format`; a failure comes back as a message with `error` (the host reports it). */
export async function buildExport(chart: ExportableChart, format: ExportFormat, requestId?: number): Promise<ChartExport> {
  const suggestedName = exportFileName(chart.exportTitle(), format);
  try {
    return await buildExportData(chart, format, suggestedName, requestId);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { type: 'chartExport', ...(requestId === undefined ? {} : { requestId }), format, suggestedName, data: '', error: message };
  }
}

async function buildExportData(
  chart: ExportableChart,
  format: ExportFormat,
  suggestedName: string,
  requestId?: number,
): Promise<ChartExport> {
  let data: string;
  if (format === 'csv') data = chart.toCsv();
  else if (format === 'json') data = chart.toJson();
  else {
    const { svg, width, height } = chart.toSvg();
    data = format === 'svg' ? svg : await svgToPngBase64(svg, width, height);
  }
  return { type: 'chartExport', ...(requestId === undefined ? {} : { requestId }), format, suggestedName, data };
}
