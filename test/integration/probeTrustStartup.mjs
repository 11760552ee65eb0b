// Probe (manual, not part of npm test): node test/integration/probeTrustStartup.mjs [cpu-throttle-rate=6] [trials=2]
// Opens a fresh workspace with the CPU throttled and reads the palette ("DoRA: St") twice: as soon as the DoRA
// activity-bar entry shows, and after the workbench's Restored-phase contributions exist. Evidence for
// test/integration/README.md.
/* global performance */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser, startCodeServer, workbenchUrl } from './lib/codeServer.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, '.vscode-test/code-server/node_modules/.bin/code-server');
const tmp = mkdtempSync(join(tmpdir(), 'dora-probe-'));
const work = join(tmp, 'server');
const ws = join(tmp, 'ws');
mkdirSync(ws, { recursive: true });
const server = await startCodeServer({ bin: BIN, work, extensionsDir: join(work, 'exts'), folder: ws });
const browser = await launchBrowser();
const rate = Number(process.argv[2] ?? 6);
try {
  for (let trial = 0; trial < Number(process.argv[3] ?? 2); trial++) {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate });
    await page.goto(workbenchUrl(server.base, { folder: ws, devPath: ROOT }));
    await page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: 120_000 });
    await page.waitForSelector('.activitybar [aria-label="DoRA"]', { timeout: 120_000 });
    const marks = () =>
      page.evaluate(() =>
        performance
          .getEntriesByType('mark')
          .map((m) => m.name)
          .filter((n) => /didCreateWorkbenchContributions|didStartWorkbench/.test(n)),
      );
    const probe = async (when) => {
      const before = await marks();
      await page.keyboard.press('F1');
      await page.waitForSelector('.quick-input-widget:visible', { timeout: 60_000 });
      await page.keyboard.type('DoRA: St');
      await new Promise((r) => setTimeout(r, 3000));
      const rows = await page.$$eval('.quick-input-widget .quick-input-list .monaco-list-row', (rs) =>
        rs.map((r) => r.getAttribute('aria-label')),
      );
      await page.keyboard.press('Escape');
      console.log(JSON.stringify({ trial, when, marksBefore: before, rows }));
    };
    await probe('as soon as the DoRA activity bar entry shows');
    await page.waitForFunction(() => performance.getEntriesByName('code/didCreateWorkbenchContributions/3').length > 0, null, {
      timeout: 120_000,
    });
    await probe('after code/didCreateWorkbenchContributions/3');
    await context.close();
  }
} finally {
  await browser.close();
  await server.stop();
  rmSync(tmp, { recursive: true, force: true });
}
