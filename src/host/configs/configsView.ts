// The Configs tree view: every *.dora.json of the workspace (ConfigIndex), with its first problem.

import * as vscode from 'vscode';
import { configNode, type ConfigNode } from '../runs/runTree';
import { workspaceRoots } from '../shared/settings';
import { toTreeItem } from '../shared/treeItems';
import type { ConfigIndex } from './configIndex';

export class ConfigsTreeProvider implements vscode.TreeDataProvider<ConfigNode> {
  private readonly changed = new vscode.EventEmitter<ConfigNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly configs: ConfigIndex) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  getTreeItem(node: ConfigNode): vscode.TreeItem {
    return toTreeItem(node);
  }

  getChildren(node?: ConfigNode): ConfigNode[] {
    if (node) return [];
    const roots = workspaceRoots();
    return this.configs.list().map((c) => configNode(c.file, roots, c.problem));
  }

  dispose(): void {
    this.changed.dispose();
  }
}
