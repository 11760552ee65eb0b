// Starts and stops a throwaway code-server (VS Code 1.100.3 in the browser) with its config, logs,
// user data and sockets inside one work folder, and drives it with playwright-core + Debian chromium.
/* global fetch, document, performance, window */
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { chromium } from 'playwright-core';
import util from 'node:util';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Environment that keeps code-server's ~/.config, ~/.local/share and vscode-*.sock files in `work`. */
function isolatedEnv(work, extra) {
  return {
    ...process.env,
    XDG_DATA_HOME: join(work, 'xdg', 'data'),
    XDG_CONFIG_HOME: join(work, 'xdg', 'config'),
    TMPDIR: join(work, 'tmp'),
    ...extra,
  };
}

export function installVsix(bin, work, extensionsDir, vsix) {
  mkdirSync(join(work, 'tmp'), { recursive: true });
  return execFileSync(bin, ['--extensions-dir', extensionsDir, '--user-data-dir', join(work, 'ud'), '--install-extension', vsix], {
    env: isolatedEnv(work, {}),
    encoding: 'utf8',
  });
}

export async function startCodeServer({ bin, work, extensionsDir, env = {}, folder }) {
  for (const d of ['ud/User', 'tmp', 'xdg']) mkdirSync(join(work, d), { recursive: true });
  writeFileSync(
    join(work, 'ud', 'User', 'settings.json'),
    JSON.stringify({
      'workbench.startupEditor': 'none',
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'telemetry.telemetryLevel': 'off',
      'workbench.tips.enabled': false,
      'security.workspace.trust.enabled': false,
      'window.commandCenter': false,
      'git.enabled': false,
      'git.openRepositoryInParentFolders': 'never',
    }),
  );
  const port = await freePort();
  const log = join(work, `code-server-${port}.log`);
  const out = openSync(log, 'w');
  const child = spawn(
    bin,
    [
      '--config',
      join(work, 'config.yaml'),
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--auth',
      'none',
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--user-data-dir',
      join(work, 'ud'),
      '--extensions-dir',
      extensionsDir,
      folder,
    ],
    { env: isolatedEnv(work, env), stdio: ['ignore', out, out] },
  );
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch {
      /* not up yet */
    }
    if (child.exitCode !== null)
      throw new Error(`code-server exited with code ${child.exitCode}; see ${log}:\n${readFileSync(log, 'utf8').slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`code-server did not answer /healthz within 30 s; see ${log}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    base,
    log,
    pid: child.pid,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export async function launchBrowser() {
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

/** The workbench URL: a folder, plus the URL payload that loads an extension in development mode (and its tests). */
export function workbenchUrl(base, { folder, devPath, testsPath }) {
  const authority = new URL(base).host; // code-server's remote authority is host:port
  const payload = [];
  if (devPath) payload.push(['extensionDevelopmentPath', `vscode-remote://${authority}${devPath}`]);
  if (testsPath) payload.push(['extensionTestsPath', `vscode-remote://${authority}${testsPath}`]);
  const query = `folder=${encodeURIComponent(folder)}${payload.length ? `&payload=${encodeURIComponent(JSON.stringify(payload))}` : ''}`;
  return `${base}/?${query}`;
}

/** Opens the workbench with the test payload and resolves with the exit code the tests report. */
export async function runExtensionTests(browser, url, timeoutMs, log = console.log, screenshotPath) {
  const page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
  let done;
  const exited = new Promise((r) => (done = r));
  await page.exposeFunction('codeAutomationLog', (_type, args) => {
    const text = util.format(...(args || []).map((x) => (typeof x === 'string' ? x.replace(/%c/g, '') : x)));
    // A test asks for a screenshot of the workbench by logging "[screenshot] <name>".
    const shot = /\[screenshot\] ([\w.-]+)/.exec(text);
    if (shot && screenshotPath) void page.screenshot({ path: join(dirname(screenshotPath), `${shot[1]}.png`) }).catch(() => undefined);
    log(text);
  });
  await page.exposeFunction('codeAutomationExit', (code) => done(code));
  await page.goto(url);
  const timer = setTimeout(() => done('TIMEOUT'), timeoutMs);
  const code = await exited;
  clearTimeout(timer);
  if (screenshotPath) await page.screenshot({ path: screenshotPath }).catch(() => undefined);
  await page.context().close();
  return code;
}

/**
 * Opens the workbench and waits until it is usable: the DoRA activity-bar entry is in AND the workbench has created
 * its Restored-phase contributions. Before that, context keys such as `isWorkspaceTrusted` are not set yet
 * (`WorkspaceTrustContextKeys` is a Restored-phase contribution, created when the page is idle), so the palette hides
 * every command whose precondition uses them: on a loaded machine that window lasts seconds after the activity bar is
 * drawn (reproduced with 6x CPU throttling, see test/integration/README.md).
 */
export async function openWorkbench(browser, url) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  await recordFocus(context);
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: 60_000 });
  await page.waitForSelector('.activitybar [aria-label="DoRA"]', { timeout: 60_000 });
  await waitForRestoredPhase(page);
  return page;
}

/** The workbench's own performance mark for "all LifecyclePhase.Restored (3) contributions created". */
export async function waitForRestoredPhase(page, timeoutMs = 120_000) {
  await page.waitForFunction(() => performance.getEntriesByName('code/didCreateWorkbenchContributions/3').length > 0, null, {
    timeout: timeoutMs,
  });
}

/**
 * Moves the keyboard focus out of any webview (a focused webview iframe keeps F1 and Enter to itself) onto the
 * workbench, and waits until the page's active element is no longer an iframe. Blurring the iframe is not enough (the
 * workbench gives an active webview editor its focus back), so the side bar's title, which is inert, is clicked.
 */
export async function focusWorkbench(page) {
  await page.click('.part.sidebar .composite.title', { position: { x: 4, y: 4 }, timeout: 10_000 });
  await page.waitForFunction(() => document.activeElement?.tagName !== 'IFRAME', null, { timeout: 10_000 });
}

/**
 * Records every focus change of the page (`window.__doraFocusLog`), so that a quick pick that closed under a test can
 * be explained: installed on every context the tests open.
 */
export async function recordFocus(context) {
  await context.addInitScript(() => {
    const log = [];
    window.__doraFocusLog = log;
    const describe = (el) =>
      el ? `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}.${String(el.className).split(' ').slice(0, 2).join('.')}` : 'none';
    document.addEventListener('focusin', (e) => log.push(`${Math.round(performance.now())} focus ${describe(e.target)}`), true);
    document.addEventListener(
      'focusout',
      (e) => log.push(`${Math.round(performance.now())} blur ${describe(e.target)} → ${describe(e.relatedTarget)}`),
      true,
    );
  });
}

/** The last focus changes of the page, for an error message. */
export async function focusTrail(page, count = 12) {
  return page.evaluate((n) => (window.__doraFocusLog ?? []).slice(-n).join(' | '), count).catch(() => 'no focus log');
}

/** F1, the command title, Enter on the row of that command. */
export async function runPaletteCommand(page, title) {
  await focusWorkbench(page);
  await page.keyboard.press('F1');
  await page.waitForSelector('.quick-input-widget:visible', { timeout: 30_000 });
  await page.keyboard.type(title);
  // Enter runs the FOCUSED row: wait until the list has re-filtered so that the focused row is this command (on a
  // loaded machine the list lags the typing).
  const focused = `.quick-input-widget:visible .quick-input-list .monaco-list-row.focused[aria-label*="${title}"]`;
  await page.waitForSelector(focused, { timeout: 30_000 });
  await page.keyboard.press('Enter');
  await page.waitForSelector(`.quick-input-widget:visible .quick-input-list .monaco-list-row[aria-label*="${title}"]`, {
    state: 'detached',
    timeout: 30_000,
  });
}

/** Waits for a quick pick row containing `text`, then picks it. */
export async function pickQuickItem(page, text) {
  await page.waitForSelector('.quick-input-widget:visible', { timeout: 30_000 });
  await page.keyboard.type(text);
  // Enter picks the FOCUSED row: wait until the filtered list has focused a row with this text.
  await page.waitForSelector(`.quick-input-widget:visible .quick-input-list .monaco-list-row.focused[aria-label*="${text}"]`, {
    timeout: 30_000,
  });
  await page.keyboard.press('Enter');
}

/** The inner frame of a webview whose <body> matches `selector` (webviews are iframe.webview > iframe#active-frame). */
export async function waitForWebviewFrame(page, selector, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const frame of page.frames()) {
      try {
        if (await frame.$(selector)) return frame;
      } catch {
        /* frame navigated away */
      }
    }
    if (Date.now() > deadline) throw new Error(`no webview matched ${selector} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
