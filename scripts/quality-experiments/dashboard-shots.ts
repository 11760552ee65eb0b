// Experiment helper (not product code): screenshots of the dashboard's tracked masks for a run, at two snapshot steps
// (e.g. step 1 = the initialisation, and the last snapshot), rendered headless in Chromium as test/webview does.
// usage: tsx scripts/quality-experiments/dashboard-shots.ts <runDir> <stepBefore> <stepAfter> <outPrefix> [clip]
import { readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { MetricsRecord, RunInfo, SnapshotManifest } from '../../src/core/runRecords';
import type { SnapshotPayload } from '../../src/core/webviewMessages';
import { buildWebviews, launchBrowser, openView, postToView, REPO, startServer } from '../../test/webview/harness';

async function main() {
  const [runDirArg, before, after, outPrefix, clipArg = '0'] = process.argv.slice(2);
  const runDir = resolve(runDirArg);
  const link = join(REPO, 'test/fixtures/runs/_quality-shot');
  rmSync(link, { force: true });
  symlinkSync(runDir, link);
  try {
    await buildWebviews();
    const { server, origin } = await startServer();
    const browser = await launchBrowser();
    const run = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunInfo;
    const metrics = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as MetricsRecord);
    const steps = readdirSync(join(runDir, 'snapshots'))
      .filter((n) => /^step-\d+$/.test(n))
      .map((n) => Number(n.slice(5)))
      .sort((a, b) => a - b);
    for (const [step, name] of [
      [Number(before), 'before'],
      [Number(after), 'after'],
    ] as const) {
      const dir = `step-${String(step).padStart(6, '0')}`;
      const manifest = JSON.parse(readFileSync(join(runDir, 'snapshots', dir, 'snapshot.json'), 'utf8')) as SnapshotManifest;
      const uris: Record<string, string> = {};
      for (const clip of manifest.clips)
        for (const file of [...clip.frames, clip.assignment.file, clip.attention.file, clip.masks.file])
          uris[file] = `${origin}/fixtures/runs/_quality-shot/snapshots/${dir}/${file}`;
      const snapshot: SnapshotPayload = { manifest, uris };
      const { page } = await openView(browser, origin, 'dashboard', 'dark', { width: 1360, height: 1000 });
      await postToView(page, {
        type: 'setData',
        data: {
          run,
          status: { status: 'finished', step: metrics[metrics.length - 1].step },
          metrics,
          metricsAppend: false,
          snapshotSteps: steps,
          snapshot,
          snapshotEvery: steps[1] ?? 1,
          etaSeconds: null,
          error: null,
        },
      });
      await page.waitForSelector(`body[data-snapshot-rendered="${step}"]`);
      if (clipArg !== '0') await page.click(`#assignment-heatmap-${clipArg}`).catch(() => undefined);
      await page.waitForTimeout(300);
      await page.locator('#masks-panel').screenshot({ path: `${outPrefix}-${name}.png` });
      await page.screenshot({ path: `${outPrefix}-${name}-full.png`, fullPage: true });
      await page.context().close();
    }
    await browser.close();
    server.close();
  } finally {
    rmSync(link, { force: true });
  }
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
