// The Runs tree view. It only translates the WorkspaceModel into tree items; the labels, tooltips and menus come
// from runTree.ts.

import * as vscode from 'vscode';
import { evalSidecarPath } from '../../core/node/runPaths';
import { readEvalSidecar } from '../../core/node/evalFiles';
import type { RunIndex } from './runIndex';
import { checkpointNodes, messageNode, runNode, runsRoot, type RunsTreeNode } from './runTree';
import type { WorkspaceModel } from './workspaceModel';
import { workspaceRoots } from '../shared/settings';
import { toTreeItem } from '../shared/treeItems';

export class RunsTreeProvider implements vscode.TreeDataProvider<RunsTreeNode> {
  private readonly changed = new vscode.EventEmitter<RunsTreeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  /** Sidecar paths ticked for comparison, in the order they were ticked. */
  readonly checked = new Set<string>();
  /** Checkpoints being evaluated now → their progress text (shown in the item's description). */
  readonly evaluating = new Map<string, string>();

  constructor(
    private readonly model: WorkspaceModel,
    private readonly runs: RunIndex,
  ) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  getTreeItem(node: RunsTreeNode): vscode.TreeItem {
    return toTreeItem(node);
  }

  async getChildren(node?: RunsTreeNode): Promise<RunsTreeNode[]> {
    const byFolder = this.model.runViewsByFolder();
    if (!node) return runsRoot(byFolder, workspaceRoots());
    switch (node.kind) {
      case 'runsFolder':
        return (byFolder.get(node.dir) ?? []).map(runNode);
      case 'run': {
        const checkpoints = await this.runs.checkpoints(node.dir);
        if (checkpoints.length === 0)
          return [
            messageNode(
              `${node.dir}:none`,
              node.status === 'running' || node.status === 'starting' ? 'No checkpoint yet' : 'No checkpoints',
              'circle-slash',
            ),
          ];
        const sidecars = new Map(
          await Promise.all(checkpoints.map(async (c) => [c.sidecarFile, await readEvalSidecar(evalSidecarPath(c.sidecarFile))] as const)),
        );
        return checkpointNodes(node.dir, node.runId, checkpoints, this.checked, this.runs.metricsAt(node.dir), {
          sidecars,
          running: this.evaluating,
        });
      }
      default:
        return [];
    }
  }

  /** Lets reveal() find a node's parent (not needed for selection; kept minimal). */
  getParent(): undefined {
    return undefined;
  }

  setChecked(sidecar: string, checked: boolean): void {
    if (checked) this.checked.add(sidecar);
    else this.checked.delete(sidecar);
    void vscode.commands.executeCommand('setContext', 'dora.canCompare', this.checked.size >= 2);
    void vscode.commands.executeCommand('setContext', 'dora.hasCheckedCheckpoints', this.checked.size > 0);
  }

  /** Marks a checkpoint as being evaluated (a progress text) or done (undefined), and redraws. */
  setEvaluating(sidecar: string, progress: string | undefined): void {
    if (progress === undefined) this.evaluating.delete(sidecar);
    else this.evaluating.set(sidecar, progress);
    this.refresh();
  }

  clearChecked(): void {
    for (const sidecar of [...this.checked]) this.setChecked(sidecar, false);
    this.refresh();
  }

  dispose(): void {
    this.changed.dispose();
  }
}
