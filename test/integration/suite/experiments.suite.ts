// Issue 16 inside a real VS Code (code-server): Plot Runs, Show Runs Table, Export Chart…, Rename / Star / Unstar /
// Delete Run, on the three fixture runs of test/fixtures/experiments that run.mjs copies into the workspace's runs/.
import type {} from 'mocha';
import * as assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { DoraStudioApi } from '../../../src/host/extension';
import type { RunNode, RunsTreeNode } from '../../../src/host/runs/runTree';

const EXTENSION_ID = 'dora-studio.dora-studio';
const EXPERIMENT_RUNS = ['20261204-195427-demo', '20261204-193325-dino-baseline', '20261204-193640-lr-x4'];

async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 45_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function runsDir(): string {
  return path.join(vscode.workspace.workspaceFolders![0].uri.fsPath, 'runs');
}

async function runNode(api: DoraStudioApi, dir: string): Promise<RunNode | undefined> {
  await api.model.refresh();
  const top = await api.runsTree.getChildren();
  const all: RunsTreeNode[] = [...top];
  for (const n of top) if (n.kind === 'runsFolder') all.push(...(await api.runsTree.getChildren(n)));
  return all.find((n): n is RunNode => n.kind === 'run' && n.dir === dir);
}

export function registerExperimentsSuite(): void {
  suite('Experiments side by side (issue 16)', () => {
    let api: DoraStudioApi;
    const dirs = () => EXPERIMENT_RUNS.map((id) => path.join(runsDir(), id));

    suiteSetup(async () => {
      api = await vscode.extensions.getExtension<DoraStudioApi>(EXTENSION_ID)!.activate();
    });

    test('Plot Runs opens one overlay of the three runs; its webview connects and gets every run’s metrics', async () => {
      const shown = (await vscode.commands.executeCommand('dora.plotRuns', dirs())) as string[];
      assert.deepEqual(shown, dirs());
      const session = await waitFor('the plots panel', () => api.experiments.plots.session);
      await waitFor('the plots webview to post ready and get the runs', () => session.isReady && session.fullUpdatesSent > 0, 30_000);
      assert.deepEqual([...session.runs], dirs());
      assert.equal(api.experiments.plots.panel?.title, 'DoRA: 3 runs');
    });

    test('Export Chart… writes CSV, SVG and PNG of the active chart (the overlay)', async () => {
      const root = vscode.workspace.workspaceFolders![0].uri.fsPath;
      const out = path.join(root, 'exports');
      mkdirSync(out, { recursive: true });
      const csv = (await vscode.commands.executeCommand('dora.exportChart', {
        format: 'csv',
        target: path.join(out, 'loss.csv'),
      })) as string;
      const lines = readFileSync(csv, 'utf8').trim().split('\n');
      assert.equal(lines[0], 'run,step,time,loss,loss_smoothed');
      assert.equal(lines.length, 1 + 3 * 121, 'every logged point of the three runs');
      const svg = (await vscode.commands.executeCommand('dora.exportChart', {
        format: 'svg',
        target: path.join(out, 'loss.svg'),
      })) as string;
      const text = readFileSync(svg, 'utf8');
      assert.match(text, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      for (const name of ['demo', 'dino-baseline', 'lr-x4']) assert.ok(text.includes(`>${name}</text>`), `legend has ${name}`);
      const png = (await vscode.commands.executeCommand('dora.exportChart', {
        format: 'png',
        target: path.join(out, 'loss.png'),
      })) as string;
      assert.equal(readFileSync(png).subarray(1, 4).toString('latin1'), 'PNG');
    });

    test('Show Runs Table opens the table and sends the rows; it follows the runs folder', async () => {
      await vscode.commands.executeCommand('dora.showRunsTable');
      const table = api.experiments.runsTable;
      await waitFor('the runs table to post ready and get its rows', () => table.isReady && table.updatesSent > 0, 30_000);
      const before = table.updatesSent;
      await vscode.commands.executeCommand('dora.starRun', dirs()[1]);
      await waitFor('the table to be re-sent after the star', () => table.updatesSent > before, 10_000);
    });

    test('Rename Run and Star Run write studio.json; the Runs view shows the name and the star', async () => {
      const [dir] = dirs();
      await vscode.commands.executeCommand('dora.renameRun', dir, { name: 'DoRA, lr 5e-4' });
      await vscode.commands.executeCommand('dora.starRun', { kind: 'run', dir });
      assert.deepEqual(JSON.parse(readFileSync(path.join(dir, 'studio.json'), 'utf8')), {
        formatVersion: 1,
        displayName: 'DoRA, lr 5e-4',
        starred: true,
      });
      const node = await runNode(api, dir);
      assert.equal(node?.label, `DoRA, lr 5e-4 (${EXPERIMENT_RUNS[0]})`);
      assert.match(node?.description ?? '', /^★ · finished/);
      assert.match(node?.contextValue ?? '', /\bstarred\b/);
      await vscode.commands.executeCommand('dora.unstarRun', dir);
      assert.doesNotMatch((await runNode(api, dir))?.description ?? '', /★/);
      assert.equal(JSON.parse(readFileSync(path.join(dir, 'run.json'), 'utf8')).name, 'demo', 'run.json is the trainer’s: untouched');
    });

    test('Delete Run refuses a live run and deletes a finished one (asked first; here confirmed by the caller)', async () => {
      // A run whose trainer is alive on this host: this extension host's own pid in its started event and run.json.
      const live = path.join(runsDir(), '20261205-000000-live');
      cpSync(dirs()[2], live, { recursive: true });
      const info = JSON.parse(readFileSync(path.join(live, 'run.json'), 'utf8'));
      writeFileSync(
        path.join(live, 'run.json'),
        JSON.stringify({ ...info, id: path.basename(live), pid: process.pid, hostname: hostname(), heartbeat: new Date().toISOString() }),
      );
      writeFileSync(
        path.join(live, 'events.jsonl'),
        `${JSON.stringify({ type: 'started', pid: process.pid, time: new Date().toISOString(), step: 0 })}\n`,
      );
      await api.model.refresh();
      const refused = (await vscode.commands.executeCommand('dora.deleteRun', live, { confirmed: true })) as string[];
      assert.deepEqual(refused, []);
      assert.ok(existsSync(live), 'the live run is kept');
      // Finished now: deletable.
      const finished = JSON.stringify({ type: 'finished', time: new Date().toISOString(), step: 240 });
      writeFileSync(path.join(live, 'events.jsonl'), `${readFileSync(path.join(live, 'events.jsonl'), 'utf8')}${finished}\n`);
      // A finished status with a run.lock of a live process (this extension host, same start tick): still refused.
      const stat = readFileSync(`/proc/${process.pid}/stat`, 'utf8');
      const processStart = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
      const since = new Date().toISOString();
      const lock = { formatVersion: 1, pid: process.pid, processStart, hostname: hostname(), engine: 'tfjs', command: 'train', since };
      writeFileSync(path.join(live, 'run.lock'), JSON.stringify(lock));
      await api.model.refresh();
      assert.deepEqual(await vscode.commands.executeCommand('dora.deleteRun', live, { confirmed: true }), [], 'a live run.lock keeps it');
      assert.ok(existsSync(live), 'the locked run is kept');
      rmSync(path.join(live, 'run.lock'));
      const deleted = (await vscode.commands.executeCommand('dora.deleteRun', { kind: 'run', dir: live }, { confirmed: true })) as string[];
      assert.equal(deleted.length, 1);
      assert.ok(!existsSync(live));
      assert.equal(await runNode(api, live), undefined, 'the Runs view no longer lists it');
    });
  });
}
