// A hand-written stand-in for the `vscode` module, enough for the thin UI layer (tree items, tree
// providers) to run in plain Node. Import this file before any module that imports 'vscode'.
import Module from 'node:module';

export class EventEmitter<T> {
  private listeners: Array<(value: T) => void> = [];
  readonly event = (listener: (value: T) => void) => {
    this.listeners.push(listener);
    return { dispose: () => (this.listeners = this.listeners.filter((l) => l !== listener)) };
  };
  fire(value: T): void {
    for (const l of this.listeners) l(value);
  }
  dispose(): void {
    this.listeners = [];
  }
}

export class ThemeColor {
  constructor(readonly id: string) {}
}
export class ThemeIcon {
  constructor(
    readonly id: string,
    readonly color?: ThemeColor,
  ) {}
}
export class MarkdownString {
  constructor(readonly value = '') {}
}
export const TreeItemCollapsibleState = { None: 0, Collapsed: 1, Expanded: 2 } as const;
export const TreeItemCheckboxState = { Unchecked: 0, Checked: 1 } as const;
export class TreeItem {
  id?: string;
  description?: string;
  tooltip?: unknown;
  iconPath?: unknown;
  contextValue?: string;
  resourceUri?: unknown;
  command?: unknown;
  checkboxState?: unknown;
  accessibilityInformation?: unknown;
  constructor(
    readonly label: string,
    readonly collapsibleState: number,
  ) {}
}
export const Uri = {
  file: (fsPath: string) => ({ scheme: 'file', fsPath, toString: () => `file://${fsPath}` }),
  joinPath: (base: { fsPath: string }, ...parts: string[]) => Uri.file([base.fsPath, ...parts].join('/')),
};
export const ViewColumn = { Active: -1, Beside: -2 } as const;
/** Filled in by tests that need it (e.g. createWebviewPanel for the panels). */
export const window: Record<string, unknown> = {};

/** Everything the tests observe. */
export const recorded = {
  contexts: new Map<string, unknown>(),
  workspaceFolders: [] as Array<{ uri: { scheme: string; fsPath: string } }>,
};

export const commands = {
  executeCommand: async (id: string, ...args: unknown[]) => {
    if (id === 'setContext') recorded.contexts.set(String(args[0]), args[1]);
    return undefined;
  },
};
export const workspace = {
  get workspaceFolders() {
    return recorded.workspaceFolders;
  },
  /** Workspace trust: tests of Restricted Mode set it to false. */
  isTrusted: true,
  getConfiguration: () => ({ get: <T>(_key: string, fallback: T) => fallback }),
};

const mock = {
  EventEmitter,
  ThemeColor,
  ThemeIcon,
  MarkdownString,
  TreeItemCollapsibleState,
  TreeItemCheckboxState,
  TreeItem,
  Uri,
  commands,
  workspace,
  window,
  ViewColumn,
};

type Loader = (request: string, parent: unknown, isMain: boolean) => unknown;
const moduleWithLoad = Module as unknown as { _load: Loader };
const originalLoad = moduleWithLoad._load;
moduleWithLoad._load = function load(request: string, parent: unknown, isMain: boolean) {
  if (request === 'vscode') return mock;
  return originalLoad.call(this, request, parent, isMain);
};
