// Experiments side by side: the commands and panels of issue 16, registered from ONE hook in extension.ts.
//   DoRA: Plot Runs            the overlay chart of the selected runs (plots/)
//   DoRA: Show Runs Table      the runs table (runsTable/)
//   DoRA: Export Chart…        PNG/SVG/CSV/JSON of the active chart (chartExport/)
//   DoRA: Rename Run…, Star Run, Unstar Run, Delete Run…   (runManagement/)

import * as vscode from 'vscode';
import type { RunsTableAction } from '../../core/experimentMessages';
import { listCheckpoints } from '../../core/node/runDir';
import { ChartExportBroker, type ExportOptions } from '../chartExport/exportBroker';
import { PLOTS_VIEW_TYPE, PlotsPanel } from '../plots/plotsPanel';
import { effectiveStatus, type RunsTreeNode } from '../runs/runTree';
import { registerRunManagement } from '../runManagement/commands';
import { RUNS_TABLE_VIEW_TYPE, RunsTablePanel } from '../runsTable/runsTablePanel';
import { RunsTableData } from '../runsTable/tableData';
import type { HostServices } from '../services';
import { workspaceRoots } from '../shared/settings';
import { optionsFromArgs, runDirsFromArgs } from './args';

/** What this feature needs beyond the shared services: the Runs view (its selection) and the export broker. */
export interface ExperimentExtras {
  runsView: vscode.TreeView<RunsTreeNode>;
  exports: ChartExportBroker;
}

/** What the integration tests reach through the extension's API. */
export interface ExperimentsApi {
  plots: PlotsPanel;
  runsTable: RunsTablePanel;
  exports: ChartExportBroker;
}

/** The chart export broker, created before the dashboards so that they can report to it. */
export function createChartExportBroker(): ChartExportBroker {
  return new ChartExportBroker(() => workspaceRoots()[0]);
}

export function registerExperiments(d: HostServices, { runsView, exports }: ExperimentExtras): ExperimentsApi {
  const { context } = d;
  const register = (id: string, handler: (...args: unknown[]) => unknown) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, handler));
  const plots = new PlotsPanel(context.extensionUri, context.workspaceState, exports);
  const tableData = new RunsTableData(d.model, d.runs);
  const runsTable = new RunsTablePanel(
    context.extensionUri,
    () => tableData.state(),
    (action, runs) => runTableAction(action, runs),
  );
  context.subscriptions.push(
    vscode.window.registerWebviewPanelSerializer(PLOTS_VIEW_TYPE, plots),
    vscode.window.registerWebviewPanelSerializer(RUNS_TABLE_VIEW_TYPE, runsTable),
    { dispose: () => runsTable.dispose() },
  );
  context.subscriptions.push(
    d.model.onDidChange(() => {
      runsTable.refreshSoon();
      plots.refresh();
    }),
    d.manager.onMessage(({ message }) => {
      if (message.type === 'metrics' || message.type === 'finished') plots.refresh();
    }),
  );

  const pickRuns = runPicker(d, runsView);

  register('dora.plotRuns', async (...args: unknown[]) => {
    const dirs = runDirsFromArgs(args);
    const runDirs = dirs.length > 0 ? dirs : await pickRuns('Runs to overlay in one chart', true);
    if (runDirs.length === 0) return undefined;
    await plots.open(runDirs);
    return runDirs;
  });

  register('dora.showRunsTable', () => {
    runsTable.open();
  });

  register('dora.exportChart', (...args: unknown[]) => exports.exportChart(optionsFromArgs<ExportOptions>(args)));

  registerRunManagement(context, {
    model: d.model,
    isLiveHere: (dir) => {
      const live = d.manager.get(dir);
      return live !== undefined && !live.finished;
    },
    pickRuns,
    onDeleted: (dirs) => {
      for (const dir of dirs) d.dashboards.close(dir);
      void plots.forget(dirs);
    },
  });

  return { plots, runsTable, exports };
}

/** Runs from the arguments, else the runs selected in the Runs view, else a pick. */
function runPicker(d: HostServices, runsView: vscode.TreeView<RunsTreeNode>): (placeHolder: string, many: boolean) => Promise<string[]> {
  return async (placeHolder, many) => {
    const selected = runsView.selection.flatMap((n) => (n.kind === 'run' ? [n.dir] : []));
    if (selected.length > 0) return many ? selected : selected.slice(0, 1);
    await d.model.refresh();
    const items = d.model.runViews().map((v) => ({
      label: v.studio?.displayName ?? v.summary.info?.name ?? v.summary.id,
      description: `${effectiveStatus(v)} · ${v.summary.id}`,
      detail: v.summary.dir,
      dir: v.summary.dir,
    }));
    if (items.length === 0) {
      void vscode.window.showInformationMessage('DoRA: no runs yet. Start one with "DoRA: Start Demo Run" or "DoRA: Start Run…".');
      return [];
    }
    if (many)
      return ((await vscode.window.showQuickPick(items, { canPickMany: true, ignoreFocusOut: true, placeHolder })) ?? []).map((i) => i.dir);
    const one = await vscode.window.showQuickPick(items, { placeHolder });
    return one ? [one.dir] : [];
  };
}

/** The runs table's buttons run the same commands as the Runs view. */
async function runTableAction(action: RunsTableAction, runs: string[]): Promise<unknown> {
  switch (action) {
    case 'plot':
      return vscode.commands.executeCommand('dora.plotRuns', runs);
    case 'compare': {
      const newest = await Promise.all(runs.map(async (dir) => (await listCheckpoints(dir).catch(() => [])).at(-1)?.sidecarFile));
      return vscode.commands.executeCommand(
        'dora.compareCheckpoints',
        newest.filter((s): s is string => s !== undefined),
      );
    }
    case 'delete':
      return vscode.commands.executeCommand('dora.deleteRun', runs);
    case 'open':
      return vscode.commands.executeCommand('dora.openDashboard', { kind: 'run', dir: runs[0] });
    case 'star':
      return vscode.commands.executeCommand('dora.starRun', runs);
    case 'unstar':
      return vscode.commands.executeCommand('dora.unstarRun', runs);
    case 'rename':
      return vscode.commands.executeCommand('dora.renameRun', runs[0]);
  }
}
