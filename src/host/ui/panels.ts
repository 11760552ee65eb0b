// Dashboard (one per run) and compare panels: the HTML shell with a nonce CSP, localResourceRoots
// limited to media/ and the run folders involved, and serializers so panels survive a reload.
// Message handling lives in logic/dashboardSession.ts and logic/compareSession.ts.

import { existsSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readRunInfo } from '../../core/runDir';
import { CompareSession, type InspectRunner } from '../logic/compareSession';
import { DashboardSession } from '../logic/dashboardSession';
import type { LiveRunState } from '../logic/liveRun';
import { runDirOfCheckpoint } from '../logic/runsDirs';
import { makeNonce, webviewShellHtml } from '../logic/webviewHtml';

export const DASHBOARD_VIEW_TYPE = 'dora.dashboard';
export const COMPARE_VIEW_TYPE = 'dora.compare';
const OPEN_DASHBOARDS_KEY = 'dora.openDashboards';
const OPEN_COMPARES_KEY = 'dora.openCompares';

interface PanelContext {
  extensionUri: vscode.Uri;
  workspaceState: vscode.Memento;
}

function shellFor(
  panel: vscode.WebviewPanel,
  ctx: PanelContext,
  view: 'dashboard' | 'compare',
  title: string,
  bodyData: Record<string, string>,
): string {
  const media = vscode.Uri.joinPath(ctx.extensionUri, 'media');
  const script = vscode.Uri.joinPath(media, `${view}.js`);
  const styles = [vscode.Uri.joinPath(media, `${view}.css`), vscode.Uri.joinPath(media, 'dashboard.css')].filter(
    (u, i, all) => existsSync(u.fsPath) && all.findIndex((x) => x.fsPath === u.fsPath) === i,
  );
  const missing = existsSync(script.fsPath)
    ? undefined
    : `${script.fsPath} is missing, so the ${view} cannot be shown. Cause: the webviews were not built. Fix: run \`npm run build\` in the DoRA Studio folder, or reinstall the extension.`;
  return webviewShellHtml({
    title,
    view,
    cspSource: panel.webview.cspSource,
    nonce: makeNonce(),
    scriptUri: panel.webview.asWebviewUri(script).toString(),
    styleUris: styles.map((u) => panel.webview.asWebviewUri(u).toString()),
    missingBundleMessage: missing,
    bodyData,
  });
}

function rememberOpen(memento: vscode.Memento, key: string, value: string, open: boolean): void {
  const list = memento.get<string[]>(key, []).filter((v) => v !== value);
  void memento.update(key, open ? [...list, value] : list);
}

/** The run folder a restored dashboard belongs to: from the webview's saved state, else from the list of open dashboards. */
function runDirFromState(state: unknown, remembered: readonly string[], taken: ReadonlySet<string>): string | undefined {
  const s = state as { runDir?: unknown; dora?: { runDir?: unknown } } | undefined;
  const fromState = typeof s?.runDir === 'string' ? s.runDir : typeof s?.dora?.runDir === 'string' ? s.dora.runDir : undefined;
  return fromState ?? remembered.find((dir) => !taken.has(dir));
}

/** Chart export (src/host/chartExport): tracks each dashboard and takes its export messages. */
export interface ChartPanelHooks {
  track(panel: vscode.WebviewPanel, describe: () => string): vscode.Disposable;
  handleMessage(panel: vscode.WebviewPanel, message: unknown): boolean;
}

export class DashboardPanels implements vscode.WebviewPanelSerializer {
  private readonly panels = new Map<string, { panel: vscode.WebviewPanel; session: DashboardSession }>();

  constructor(
    private readonly ctx: PanelContext,
    private readonly live: (runDir: string) => LiveRunState | undefined,
    private readonly chartHooks?: ChartPanelHooks,
  ) {}

  /** Closes the dashboard of a run (after the run was deleted). */
  close(runDir: string): void {
    this.panels.get(runDir)?.panel.dispose();
  }

  async open(runDir: string, column = vscode.ViewColumn.Active): Promise<vscode.WebviewPanel> {
    const existing = this.panels.get(runDir);
    if (existing) {
      existing.panel.reveal(column);
      return existing.panel;
    }
    const panel = vscode.window.createWebviewPanel(DASHBOARD_VIEW_TYPE, await this.title(runDir), column, this.options(runDir));
    this.attach(panel, runDir);
    return panel;
  }

  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const runDir = runDirFromState(state, this.ctx.workspaceState.get<string[]>(OPEN_DASHBOARDS_KEY, []), new Set(this.panels.keys()));
    if (!runDir || !existsSync(runDir)) {
      panel.webview.html = webviewShellHtml({
        title: 'DoRA run',
        view: 'dashboard',
        cspSource: panel.webview.cspSource,
        nonce: makeNonce(),
        scriptUri: '',
        styleUris: [],
        missingBundleMessage: `The run folder of this dashboard${runDir ? ` (${runDir})` : ''} no longer exists. Close this tab and open the run again from the DoRA sidebar.`,
      });
      return;
    }
    panel.webview.options = this.options(runDir);
    panel.title = await this.title(runDir);
    this.attach(panel, runDir);
  }

  /** Pushes what changed in a run to its open dashboard. */
  refresh(runDir?: string): void {
    for (const [dir, { session }] of this.panels) if (!runDir || dir === runDir) void session.refresh();
  }

  isOpen(runDir: string): boolean {
    return this.panels.has(runDir);
  }

  /** Whether the dashboard of `runDir` has loaded its bundle and said `ready`. */
  isReady(runDir: string): boolean {
    return this.panels.get(runDir)?.session.isReady === true;
  }

  openRunDirs(): string[] {
    return [...this.panels.keys()];
  }

  private options(runDir: string): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      retainContextWhenHidden: false, // the webview keeps its view state with setState; the host re-sends data on `ready`
      localResourceRoots: [vscode.Uri.joinPath(this.ctx.extensionUri, 'media'), vscode.Uri.file(runDir)],
    };
  }

  private async title(runDir: string): Promise<string> {
    const info = await readRunInfo(runDir).catch(() => undefined);
    return `DoRA: ${info?.name ?? path.basename(runDir)}`;
  }

  private attach(panel: vscode.WebviewPanel, runDir: string): void {
    panel.iconPath = vscode.Uri.joinPath(this.ctx.extensionUri, 'media', 'icons', 'dora.svg');
    const session = new DashboardSession({
      runDir,
      post: (message) => panel.webview.postMessage(message),
      toWebviewUri: (file) => panel.webview.asWebviewUri(vscode.Uri.file(file)).toString(),
      live: () => this.live(runDir),
    });
    this.panels.set(runDir, { panel, session });
    rememberOpen(this.ctx.workspaceState, OPEN_DASHBOARDS_KEY, runDir, true);
    const tracked = this.chartHooks?.track(panel, () => `loss chart of ${path.basename(runDir)}`);
    const messages = panel.webview.onDidReceiveMessage((m) => {
      if (!this.chartHooks?.handleMessage(panel, m)) void session.handleMessage(m);
    });
    panel.onDidDispose(() => {
      messages.dispose();
      tracked?.dispose();
      session.dispose();
      this.panels.delete(runDir);
      rememberOpen(this.ctx.workspaceState, OPEN_DASHBOARDS_KEY, runDir, false);
    });
    panel.webview.html = shellFor(panel, this.ctx, 'dashboard', panel.title, { runDir });
  }
}

export class ComparePanels implements vscode.WebviewPanelSerializer {
  private current: { panel: vscode.WebviewPanel; session: CompareSession } | undefined;
  /** Messages received from compare webviews (diagnostics for tests and bug reports). */
  messagesReceived = 0;

  constructor(
    private readonly ctx: PanelContext,
    private readonly inspectRoot: string,
    private readonly runInspect: () => InspectRunner | undefined,
    private readonly log: (line: string) => void,
  ) {}

  /** Pushes re-read evaluation results to the open compare panel. */
  async refreshEvaluations(): Promise<void> {
    await this.current?.session.refreshEvaluations();
  }

  /** One compare panel at a time: a new selection replaces the old one (like a diff editor). */
  open(checkpoints: readonly string[]): vscode.WebviewPanel {
    this.current?.panel.dispose();
    // A localResourceRoot must exist when the webview starts, or resource loading can fail.
    mkdirSync(this.inspectRoot, { recursive: true });
    const panel = vscode.window.createWebviewPanel(
      COMPARE_VIEW_TYPE,
      this.title(checkpoints),
      vscode.ViewColumn.Active,
      this.options(checkpoints),
    );
    this.attach(panel, checkpoints);
    return panel;
  }

  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const s = state as { checkpoints?: unknown; dora?: { checkpoints?: unknown } } | undefined;
    const fromState = Array.isArray(s?.checkpoints) ? s.checkpoints : Array.isArray(s?.dora?.checkpoints) ? s.dora.checkpoints : undefined;
    const remembered = this.ctx.workspaceState.get<string>(OPEN_COMPARES_KEY);
    const checkpoints = (
      fromState?.filter((c): c is string => typeof c === 'string') ?? (remembered ? (JSON.parse(remembered) as string[]) : [])
    ).filter((c) => existsSync(c));
    if (checkpoints.length < 1) {
      panel.webview.html = webviewShellHtml({
        title: 'DoRA compare',
        view: 'compare',
        cspSource: panel.webview.cspSource,
        nonce: makeNonce(),
        scriptUri: '',
        styleUris: [],
        missingBundleMessage:
          'The checkpoints of this comparison no longer exist (deleted or pruned). Close this tab and pick checkpoints again in the Runs view.',
      });
      return;
    }
    panel.webview.options = this.options(checkpoints);
    this.attach(panel, checkpoints);
  }

  isVisible(): boolean {
    return this.current?.panel.visible === true;
  }

  get session(): CompareSession | undefined {
    return this.current?.session;
  }

  private title(checkpoints: readonly string[]): string {
    if (checkpoints.length === 1)
      return `DoRA: step ${Number(/step-(\d+)\.json$/.exec(checkpoints[0])?.[1] ?? 0)} of ${path.basename(runDirOfCheckpoint(checkpoints[0]))}`;
    return `DoRA: compare ${checkpoints.length} checkpoints`;
  }

  private options(checkpoints: readonly string[]): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    const runDirs = [...new Set(checkpoints.map(runDirOfCheckpoint))];
    return {
      enableScripts: true,
      localResourceRoots: [
        vscode.Uri.joinPath(this.ctx.extensionUri, 'media'),
        vscode.Uri.file(this.inspectRoot),
        ...runDirs.map((d) => vscode.Uri.file(d)),
      ],
    };
  }

  private attach(panel: vscode.WebviewPanel, checkpoints: readonly string[]): void {
    panel.iconPath = vscode.Uri.joinPath(this.ctx.extensionUri, 'media', 'icons', 'dora.svg');
    const session = new CompareSession({
      checkpoints,
      post: (message) => panel.webview.postMessage(message),
      toWebviewUri: (file) => panel.webview.asWebviewUri(vscode.Uri.file(file)).toString(),
      inspectRoot: this.inspectRoot,
      runInspect: this.runInspect(),
      onLog: this.log,
      onEvaluateRequest: (list) => void vscode.commands.executeCommand('dora.evaluateCheckpoint', [...list]),
    });
    this.current = { panel, session };
    void this.ctx.workspaceState.update(OPEN_COMPARES_KEY, JSON.stringify(checkpoints));
    const messages = panel.webview.onDidReceiveMessage((m) => {
      this.messagesReceived++;
      session.handleMessage(m).catch((error: Error) => this.log(`compare: could not answer the webview: ${error.stack ?? error.message}`));
    });
    panel.onDidDispose(() => {
      messages.dispose();
      session.dispose();
      if (this.current?.panel === panel) {
        this.current = undefined;
        void this.ctx.workspaceState.update(OPEN_COMPARES_KEY, undefined);
      }
    });
    panel.webview.html = shellFor(panel, this.ctx, 'compare', panel.title, { checkpoints: JSON.stringify(checkpoints) });
  }
}
