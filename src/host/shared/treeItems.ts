// Turns the plain tree nodes of logic/runTree.ts into vscode TreeItems; nothing else lives here.

import * as vscode from 'vscode';
import type { ConfigNode, RunsTreeNode, TreeNodeBase } from '../runs/runTree';

const COLLAPSE: Record<TreeNodeBase['collapsible'], vscode.TreeItemCollapsibleState> = {
  none: vscode.TreeItemCollapsibleState.None,
  collapsed: vscode.TreeItemCollapsibleState.Collapsed,
  expanded: vscode.TreeItemCollapsibleState.Expanded,
};

export function toTreeItem(node: RunsTreeNode | ConfigNode): vscode.TreeItem {
  const item = new vscode.TreeItem(node.label, COLLAPSE[node.collapsible]);
  item.id = node.id;
  item.description = node.description;
  if (node.tooltip) item.tooltip = new vscode.MarkdownString(node.tooltip);
  item.iconPath = new vscode.ThemeIcon(node.icon.id, node.icon.color ? new vscode.ThemeColor(node.icon.color) : undefined);
  item.contextValue = node.contextValue;
  switch (node.kind) {
    case 'config':
      item.resourceUri = vscode.Uri.file(node.file);
      item.command = { command: 'vscode.open', title: 'Open Config', arguments: [vscode.Uri.file(node.file)] };
      break;
    case 'checkpoint':
      item.checkboxState = {
        state: node.checked ? vscode.TreeItemCheckboxState.Checked : vscode.TreeItemCheckboxState.Unchecked,
        tooltip: 'Select for comparison',
        accessibilityInformation: { label: `Select checkpoint step ${node.step} of ${node.runId} for comparison` },
      };
      break;
    case 'run':
      item.accessibilityInformation = { label: `Run ${node.label}, ${node.description ?? ''}` };
      break;
    default:
      break;
  }
  return item;
}
