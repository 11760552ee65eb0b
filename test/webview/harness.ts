// Browser harness for the webview tests: builds the bundles, serves them on loopback inside an HTML
// page with the same nonce CSP the extension host uses, stubs acquireVsCodeApi, and launches Debian's
// headless chromium through playwright-core. Fixture data is read from disk here and posted to the
// page as the host would (setData), with snapshot URIs pointing at this server.

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { MetricsRecord, RunInfo, SnapshotManifest } from '../../src/core/runRecords';
import type { DashboardState, SnapshotPayload } from '../../src/core/webviewMessages';
import type { RunsTableRow } from '../../src/core/experimentMessages';
import { runsTableRow } from '../../src/host/runsTable/rows';

export const REPO = resolve(__dirname, '..', '..');
export const RUN_DIR = join(REPO, 'test/fixtures/runs/demo-run');
export const ARTIFACTS = join(REPO, 'test-artifacts/webview');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export type ViewName = 'dashboard' | 'compare' | 'plots' | 'runsTable';
export type Theme = 'dark' | 'light' | 'hc';

/** Same options as scripts/build.mjs uses for the webview entries (kept here so the test does not bundle the trainer too). */
export async function buildWebviews(): Promise<void> {
  for (const name of ['dashboard', 'compare', 'plots', 'runsTable'] as const) {
    if (!existsSync(join(REPO, `webview/${name}/main.ts`))) continue;
    await build({
      entryPoints: [join(REPO, `webview/${name}/main.ts`)],
      outfile: join(REPO, `media/${name}.js`),
      bundle: true,
      platform: 'browser',
      target: ['chrome120'],
      format: 'iife',
      minify: true,
      sourcemap: true,
      legalComments: 'none',
      logLevel: 'warning',
    });
  }
}

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.png': 'image/png',
  '.json': 'application/json',
  '.map': 'application/json',
};

/** Serves /media, /fixtures and /assets read-only, and /view/<name>.html?theme=… pages. Loopback only. */
export async function startServer(): Promise<{ server: Server; origin: string }> {
  const roots: Record<string, string> = {
    media: join(REPO, 'media'),
    fixtures: join(REPO, 'test/fixtures'),
    assets: join(REPO, 'test/webview/assets'),
  };
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const origin = `http://${request.headers.host}`;
    if (url.pathname === '/favicon.ico') {
      response.writeHead(204).end();
      return;
    }
    const view = /^\/view\/(dashboard|compare|plots|runsTable)\.html$/.exec(url.pathname);
    if (view) {
      const theme = (url.searchParams.get('theme') ?? 'dark') as Theme;
      const nonce = randomBytes(16).toString('base64');
      // The CSP the extension host sets, with this server standing in for webview.cspSource.
      const csp = `default-src 'none'; img-src ${origin} data: blob:; style-src ${origin}; font-src ${origin}; script-src 'nonce-${nonce}'; connect-src ${origin}`;
      const bodyClass = { dark: 'vscode-dark', light: 'vscode-light', hc: 'vscode-high-contrast' }[theme] ?? 'vscode-dark';
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': csp, 'cache-control': 'no-store' });
      response.end(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/assets/theme-${theme}.css"><link rel="stylesheet" href="/media/${view[1]}.css">
<title>DoRA Studio ${view[1]}</title></head>
<body class="${bodyClass}" data-vscode-theme-kind="${bodyClass}">
<script nonce="${nonce}" src="/assets/vscode-stub.js"></script>
<script nonce="${nonce}" src="/media/${view[1]}.js"></script>
</body></html>`);
      return;
    }
    const [, top, ...rest] = decodeURIComponent(url.pathname).split('/');
    const root = roots[top];
    const file = root ? resolve(root, rest.join('/')) : '';
    if (!root || !file.startsWith(root + sep) || !existsSync(file) || !statSync(file).isFile()) {
      response.writeHead(404).end('not found');
      return;
    }
    response.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    response.end(readFileSync(file));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM);
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface OpenedView {
  page: Page;
  /** Uncaught page errors and console errors, for a final "no errors" assertion. */
  errors: string[];
}

export async function openView(
  browser: Browser,
  origin: string,
  name: ViewName,
  theme: Theme = 'dark',
  viewport = { width: 1360, height: 1000 },
): Promise<OpenedView> {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  let toolkitProbeSeen = false;
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    // Chromium also logs the toolkit's one :focus-visible <style> probe (see cspViolations); every CSP
    // violation is checked, with its location, by cspViolations().
    if (!toolkitProbeSeen && message.text().startsWith('Applying inline style violates')) {
      toolkitProbeSeen = true;
      return;
    }
    errors.push(`console: ${message.text()}`);
  });
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) toolkitProbeSeen = false; // a reload probes again
  });
  await page.goto(`${origin}/view/${name}.html?theme=${theme}`);
  await waitForPosted(page, (m) => m.type === 'ready');
  return { page, errors };
}

export async function posted(page: Page): Promise<{ type: string; step?: number }[]> {
  return page.evaluate(() => (window as unknown as { __posted: { type: string; step?: number }[] }).__posted);
}

export async function waitForPosted(page: Page, match: (m: { type: string; step?: number }) => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await posted(page)).some(match)) return;
    await page.waitForTimeout(50);
  }
  throw new Error(`the webview did not post the expected message; posted: ${JSON.stringify(await posted(page))}`);
}

/**
 * CSP violations, minus one known and harmless one: FAST (inside @vscode/webview-ui-toolkit) probes
 * for `:focus-visible` support by appending a <style> element once, which `style-src ${cspSource}`
 * refuses; FAST then falls back to `:focus` styles. Anything else (a style attribute, an inline
 * script, a CDN fetch) is reported.
 */
export async function cspViolations(page: Page): Promise<string[]> {
  const all = await page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations);
  const probe = all.findIndex((v) => /^style-src-elem blocked inline at \S+\/media\/(dashboard|compare|plots|runsTable)\.js:/.test(v));
  return probe >= 0 ? all.filter((_, i) => i !== probe) : all;
}

/** Posts a host message into the page, as the extension host's webview.postMessage would. */
export async function postToView(page: Page, message: unknown): Promise<void> {
  await page.evaluate((m) => window.postMessage(m, '*'), message);
}

/** Posts an `exportRequest` as the host would and waits for the view's `chartExport` answer. */
export async function requestExport(
  page: Page,
  format: 'png' | 'svg' | 'csv' | 'json',
  requestId: number,
): Promise<{ format: string; suggestedName: string; data: string; error?: string }> {
  await postToView(page, { type: 'exportRequest', requestId, format });
  const handle = await page.waitForFunction(
    (id) =>
      (window as unknown as { __posted: { type: string; requestId?: number }[] }).__posted.find(
        (m) => m.type === 'chartExport' && m.requestId === id,
      ),
    requestId,
    { timeout: 20_000 },
  );
  const message = (await handle.jsonValue()) as unknown as { format: string; suggestedName: string; data: string; error?: string };
  if (message.error) throw new Error(`export failed in the view: ${message.error}`);
  return message;
}

/** Switches the page to another theme the way VS Code does: new `--vscode-*` variables and a new body class. */
export async function switchTheme(page: Page, theme: Theme): Promise<void> {
  const bodyClass = { dark: 'vscode-dark', light: 'vscode-light', hc: 'vscode-high-contrast' }[theme];
  await page.evaluate(
    ({ theme, bodyClass }) =>
      new Promise<void>((resolve) => {
        const link = document.querySelector<HTMLLinkElement>('link[href*="/assets/theme-"]')!;
        link.addEventListener(
          'load',
          () => {
            document.body.className = bodyClass;
            document.body.dataset.vscodeThemeKind = bodyClass;
            resolve();
          },
          { once: true },
        );
        link.href = `/assets/theme-${theme}.css`;
      }),
    { theme, bodyClass },
  );
}

// --- fixture run ---------------------------------------------------------------------------------

export function readMetrics(): MetricsRecord[] {
  return readFileSync(join(RUN_DIR, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as MetricsRecord);
}

export function readRunInfo(): RunInfo {
  return JSON.parse(readFileSync(join(RUN_DIR, 'run.json'), 'utf8')) as RunInfo;
}

export function snapshotSteps(): number[] {
  return readdirSync(join(RUN_DIR, 'snapshots'))
    .filter((name) => /^step-\d+$/.test(name))
    .map((name) => Number(name.slice(5)))
    .sort((a, b) => a - b);
}

export function snapshotDir(step: number): string {
  return join(RUN_DIR, 'snapshots', `step-${String(step).padStart(6, '0')}`);
}

export function readManifest(step: number): SnapshotManifest {
  return JSON.parse(readFileSync(join(snapshotDir(step), 'snapshot.json'), 'utf8')) as SnapshotManifest;
}

/** The payload the host builds with asWebviewUri: one URI per manifest-relative file. */
export function snapshotPayload(origin: string, step: number): SnapshotPayload {
  const manifest = readManifest(step);
  const base = `${origin}/fixtures/runs/demo-run/snapshots/step-${String(step).padStart(6, '0')}`;
  const uris: Record<string, string> = {};
  for (const clip of manifest.clips)
    for (const file of [...clip.frames, clip.assignment.file, clip.attention.file, clip.masks.file]) uris[file] = `${base}/${file}`;
  return { manifest, uris };
}

export function readAssignment(step: number, clip: number): Float32Array {
  const bytes = readFileSync(join(snapshotDir(step), `clip-${String(clip).padStart(2, '0')}`, 'assignment.f32'));
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

export function dashboardState(origin: string, step = 225): Partial<DashboardState> {
  const run = readRunInfo();
  const metrics = readMetrics();
  return {
    run,
    status: { status: 'finished', step: metrics[metrics.length - 1].step },
    metrics,
    metricsAppend: false,
    snapshotSteps: snapshotSteps(),
    snapshot: snapshotPayload(origin, step),
    snapshotEvery: 25,
    etaSeconds: null,
    error: null,
  };
}

// --- runs table rows --------------------------------------------------------------------------------

/**
 * Rows of the three fixture runs of test/fixtures/experiments (demo, dino-baseline, lr-x4) as the host builds them. With `evaluated`, two of
 * them carry evaluation results (test input: k-NN and J&F numbers chosen for the test, not measured).
 */
export function fixtureRows(options: { evaluated?: boolean } = {}): RunsTableRow[] {
  const read = (folder: string, file: string) => readFileSync(join(REPO, 'test/fixtures', 'experiments', folder, file), 'utf8');
  const evaluation = (knn: number, jf: number) => ({
    step: 240,
    metrics: [
      {
        key: 'knn:synthetic:top1@10',
        group: 'k-NN · synthetic objects',
        label: 'top-1, k=10',
        value: knn + 1,
        unit: '%' as const,
        direction: 'higher' as const,
        time: '',
        seconds: 1,
      },
      {
        key: 'knn:synthetic:top1@20',
        group: 'k-NN · synthetic objects',
        label: 'top-1, k=20',
        value: knn,
        unit: '%' as const,
        direction: 'higher' as const,
        time: '',
        seconds: 1,
      },
      {
        key: 'tracking:propagation:jf',
        group: 'Label propagation · synthetic objects',
        label: 'J&F',
        value: jf,
        unit: '' as const,
        direction: 'higher' as const,
        time: '',
        seconds: 1,
      },
    ],
  });
  const evaluations = [evaluation(56.4, 0.322), evaluation(59.4, 0.31), undefined];
  return ['demo', 'dino-baseline', 'lr-x4'].map((folder, i) => {
    const info = JSON.parse(read(folder, 'run.json')) as RunInfo;
    const metrics = read(folder, 'metrics.jsonl')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as MetricsRecord);
    return runsTableRow({
      dir: `/workspace/runs/${info.id}`,
      folder: info.id,
      info,
      status: 'finished',
      step: metrics[metrics.length - 1].step,
      metrics,
      config: JSON.parse(read(folder, 'config.json')),
      evaluation: options.evaluated ? evaluations[i] : undefined,
      hasCheckpoint: false,
    });
  });
}

// --- pixels --------------------------------------------------------------------------------------

export interface CanvasStats {
  width: number;
  height: number;
  /** Pixels with alpha > 0. */
  painted: number;
  /** Distinct colours (quantised to 5 bits per channel). */
  colours: number;
  /** FNV-1a hash of the pixels, to detect a change. */
  hash: string;
}

export async function canvasStats(page: Page, selector: string): Promise<CanvasStats> {
  return page.$eval(selector, (element) => {
    const canvas = element as HTMLCanvasElement;
    const context = canvas.getContext('2d');
    if (!context) throw new Error('no 2d context');
    const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    let hash = 0x811c9dc5;
    const colours = new Set<number>();
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] > 0) painted++;
      colours.add(((data[i] >> 3) << 10) | ((data[i + 1] >> 3) << 5) | (data[i + 2] >> 3));
      for (let c = 0; c < 4; c++) hash = Math.imul(hash ^ data[i + c], 0x01000193) >>> 0;
    }
    return { width: canvas.width, height: canvas.height, painted, colours: colours.size, hash: hash.toString(16) };
  });
}

export function artifactPath(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}
