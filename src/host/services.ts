// What the feature folders (runs, evaluation, compare, frame cache, configs, dashboard) share: the plain-Node models,
// the engine client and the few vscode objects built once by extension.ts. Each feature registers its own commands
// with it.

import type * as vscode from 'vscode';
import type { ComparePanels } from './compare/comparePanels';
import type { ConfigIndex } from './configs/configIndex';
import type { DashboardPanels } from './dashboard/dashboardPanels';
import type { EngineClient } from './engine/engineClient';
import type { RunIndex } from './runs/runIndex';
import type { RunManager } from './runs/runManager';
import type { RunsTreeProvider } from './runs/runsView';
import type { WorkspaceModel } from './runs/workspaceModel';

export interface HostServices {
  context: vscode.ExtensionContext;
  configs: ConfigIndex;
  runs: RunIndex;
  manager: RunManager;
  model: WorkspaceModel;
  runsTree: RunsTreeProvider;
  dashboards: DashboardPanels;
  compares: ComparePanels;
  /** The "DoRA Trainer" output channel. */
  output: vscode.OutputChannel;
  /** Every engine request (training, evaluation, inspection, frame cache, demo) goes through this client. */
  engines: EngineClient;
  /** The extension's global storage folder (for files that have no workspace folder to go to). */
  storageDir: string;
}
