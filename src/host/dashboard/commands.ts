// Open Dashboard: the live dashboard of a run (from the tree, the status bar, or a pick).

import type { HostServices } from '../services';
import { runDirFromArg } from '../shared/commandArgs';
import { registerCommand } from '../shared/commandHelpers';
import { pickRun } from '../shared/pickers';

export function registerDashboardCommands(s: HostServices): void {
  registerCommand(s, 'dora.openDashboard', async (arg?: unknown) => {
    const runDir = runDirFromArg(arg) ?? (await pickRun(s, 'Run to show'));
    if (!runDir) return undefined;
    await s.dashboards.open(runDir);
    return runDir;
  });
}
