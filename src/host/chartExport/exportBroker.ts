// "DoRA: Export Chart…": asks the active chart panel (a run dashboard or the overlay of runs) for PNG, SVG, CSV or
// JSON of what it plots, then writes the file where the user says. The view builds the export (it knows the zoom,
// the smoothing and the theme); the host only picks the format and the destination, and writes.

import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { EXPORT_FORMATS, isChartExport, type ChartExport, type ExportFormat } from '../../core/experimentMessages';
import { exportTarget, FORMAT_FILTERS } from './exportFiles';

interface TrackedChart {
  panel: vscode.WebviewPanel;
  /** Shown in the format pick, e.g. "loss chart of venice". */
  describe: () => string;
  lastActive: number;
}

export interface ExportOptions {
  format?: ExportFormat;
  /** Write here without asking (tests, other extensions). */
  target?: string;
  /** Export this panel instead of the active one. */
  panel?: vscode.WebviewPanel;
}

const FORMAT_LABELS: Record<ExportFormat, string> = {
  png: 'PNG image of the chart',
  svg: 'SVG image of the chart (vector, editable)',
  csv: 'CSV of the plotted data (one line per run and point)',
  json: 'JSON of the plotted data, with the chart settings',
};

export class ChartExportBroker {
  private readonly charts = new Map<vscode.WebviewPanel, TrackedChart>();
  private readonly pending = new Map<number, (message: ChartExport) => void>();
  private nextId = 1;
  private clock = 0;

  constructor(private readonly workspaceRoot: () => string | undefined) {}

  /** Tracks a chart panel (its focus order decides which chart the command exports). */
  track(panel: vscode.WebviewPanel, describe: () => string): vscode.Disposable {
    const chart: TrackedChart = { panel, describe, lastActive: ++this.clock };
    this.charts.set(panel, chart);
    const view = panel.onDidChangeViewState((e) => {
      if (e.webviewPanel.active) chart.lastActive = ++this.clock;
    });
    const gone = panel.onDidDispose(() => {
      view.dispose();
      this.charts.delete(panel);
    });
    return { dispose: () => (view.dispose(), gone.dispose(), this.charts.delete(panel)) };
  }

  /** Handles the export messages of a tracked panel; true when `message` was one. */
  handleMessage(panel: vscode.WebviewPanel, message: unknown): boolean {
    if (isChartExport(message)) {
      const resolve = message.requestId === undefined ? undefined : this.pending.get(message.requestId);
      if (resolve) {
        this.pending.delete(message.requestId!);
        resolve(message);
      }
      return true;
    }
    if (typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'exportMenu') {
      void this.exportChart({ panel });
      return true;
    }
    return false;
  }

  /** The chart the command acts on: the active panel, else the one focused last. */
  activeChart(): vscode.WebviewPanel | undefined {
    const all = [...this.charts.values()];
    return (all.find((c) => c.panel.active) ?? all.sort((a, b) => b.lastActive - a.lastActive)[0])?.panel;
  }

  /** The command: returns the written file, or undefined when cancelled or failed (the user was told). */
  async exportChart(options: ExportOptions = {}): Promise<string | undefined> {
    const panel = options.panel ?? this.activeChart();
    if (!panel || !this.charts.has(panel)) {
      void vscode.window.showInformationMessage(
        'DoRA: no chart to export. Open a run dashboard (DoRA: Open Dashboard) or plot runs (DoRA: Plot Runs) first.',
      );
      return undefined;
    }
    const format = options.format ?? (await this.pickFormat(panel));
    if (!format) return undefined;
    let result: ChartExport;
    try {
      result = await this.request(panel, format);
    } catch (error) {
      void vscode.window.showErrorMessage(`DoRA: could not export the chart: ${(error as Error).message}`);
      return undefined;
    }
    if (result.error) {
      void vscode.window.showErrorMessage(`DoRA: the chart could not build the ${format.toUpperCase()}: ${result.error}`);
      return undefined;
    }
    const target = options.target ?? (await this.pickTarget(result));
    if (!target) return undefined;
    await writeFile(target, result.format === 'png' ? Buffer.from(result.data, 'base64') : result.data);
    if (!options.target)
      void vscode.window.showInformationMessage(`DoRA: exported ${path.basename(target)}.`, 'Open').then((choice) => {
        if (choice) void vscode.commands.executeCommand('vscode.open', vscode.Uri.file(target));
      });
    return target;
  }

  private async pickFormat(panel: vscode.WebviewPanel): Promise<ExportFormat | undefined> {
    const picked = await vscode.window.showQuickPick(
      EXPORT_FORMATS.map((format) => ({ label: format.toUpperCase(), description: FORMAT_LABELS[format], format })),
      { title: 'DoRA: Export Chart', placeHolder: `Export the ${this.charts.get(panel)?.describe() ?? 'chart'} as…` },
    );
    return picked?.format;
  }

  private async pickTarget(result: ChartExport): Promise<string | undefined> {
    const uri = await vscode.window.showSaveDialog({
      title: 'DoRA: Export Chart',
      defaultUri: vscode.Uri.file(exportTarget(this.workspaceRoot(), result.suggestedName)),
      filters: FORMAT_FILTERS[result.format],
      saveLabel: 'Export',
    });
    return uri?.fsPath;
  }

  /** Posts an exportRequest and waits for the view's answer (30 s: a PNG of a wide chart takes a moment). */
  private request(panel: vscode.WebviewPanel, format: ExportFormat): Promise<ChartExport> {
    const requestId = this.nextId++;
    return new Promise<ChartExport>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new Error('the chart did not answer within 30 s (is its tab still loading?)'));
      }, 30_000);
      this.pending.set(requestId, (message) => {
        clearTimeout(timer);
        resolve(message);
      });
      void panel.webview.postMessage({ type: 'exportRequest', requestId, format }).then((delivered) => {
        if (delivered) return;
        clearTimeout(timer);
        this.pending.delete(requestId);
        reject(new Error('the chart panel is closed or hidden'));
      });
    });
  }
}
