// Attack 4 of issue 9: in Restricted Mode, Compare Checkpoints used to fork `dora inspect`, which runs ffmpeg on the run
// config.json's data.video (any path) and writes a frame cache into its data.frameCache.dir (any folder). Now: no child
// process, no ffmpeg, no writes; the panel shows what is on disk.
import '../host/vscodeMock';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { HostToCompareMessage } from '../../src/core/webviewMessages';
import { CompareSession, RESTRICTED_COMPARE_NOTE, type InspectRunner } from '../../src/host/compare/compareSession';
import { ComparePanels } from '../../src/host/compare/comparePanels';
import { window, workspace, Uri } from '../host/vscodeMock';
import { copyFixture } from '../host/helpers';

/** The fixture run with two checkpoint sidecars and a config.json that points the video and the cache anywhere. */
function craftedCompare(): { root: string; checkpoints: string[]; cacheDir: string } {
  const { root, runDir } = copyFixture();
  const cacheDir = path.join(root, 'anywhere', 'cache');
  const config = JSON.parse(readFileSync(path.join(runDir, 'config.json'), 'utf8'));
  config.data.video = '/etc/passwd';
  config.data.frameCache = { ...config.data.frameCache, dir: cacheDir };
  writeFileSync(path.join(runDir, 'config.json'), JSON.stringify(config));
  const checkpoints = [60, 110].map((step) => {
    const sidecar = path.join(runDir, 'checkpoints', `step-000${step}.json`);
    writeFileSync(sidecar, JSON.stringify({ step, epoch: 0 }));
    return sidecar;
  });
  return { root, checkpoints, cacheDir };
}

const spyRunner =
  (calls: string[][]): InspectRunner =>
  async (checkpoints) => {
    calls.push([...checkpoints]);
    return { problem: 'must not run' };
  };

test('the compare session in Restricted Mode runs nothing and shows the snapshots on disk', async () => {
  const { root, checkpoints, cacheDir } = craftedCompare();
  const calls: string[][] = [];
  const posted: HostToCompareMessage[] = [];
  const session = new CompareSession({
    checkpoints,
    post: (m) => void posted.push(m),
    toWebviewUri: (p) => `webview:${p}`,
    inspectRoot: path.join(root, 'inspect'),
    runInspect: spyRunner(calls),
    restricted: true,
  });
  await session.handleMessage({ type: 'ready' });
  await session.whenSettled();
  assert.deepEqual(calls, [], 'no `dora inspect` child');
  assert.equal(existsSync(path.join(root, 'inspect')), false, 'no inspect cache written');
  assert.equal(existsSync(cacheDir), false, 'no frame cache written where config.json says');
  const state = session.currentState();
  assert.equal(state.error, RESTRICTED_COMPARE_NOTE);
  assert.deepEqual(
    state.checkpoints.map((c) => c.inspection?.manifest.step),
    [50, 100],
    "each checkpoint shows its run's snapshot nearest its step",
  );
});

test('the compare panel decides by workspace trust: untrusted gets no inspect runner and creates no folder', async () => {
  const { root, checkpoints } = craftedCompare();
  const inspectRoot = path.join(root, 'global-storage', 'inspect');
  const calls: string[][] = [];
  let onMessage: ((m: unknown) => void) | undefined;
  window.createWebviewPanel = () => ({
    webview: {
      html: '',
      options: {},
      cspSource: 'vscode-resource:',
      asWebviewUri: (u: { fsPath: string }) => ({ toString: () => `webview:${u.fsPath}` }),
      postMessage: async () => true,
      onDidReceiveMessage: (cb: (m: unknown) => void) => {
        onMessage = cb;
        return { dispose: () => undefined };
      },
    },
    onDidDispose: () => ({ dispose: () => undefined }),
    dispose: () => undefined,
    title: '',
  });
  const memento = { get: <T>(_k: string, fallback?: T) => fallback, update: async () => undefined };
  workspace.isTrusted = false;
  try {
    const panels = new ComparePanels(
      { extensionUri: Uri.file(path.resolve(__dirname, '..', '..')), workspaceState: memento } as never,
      inspectRoot,
      () => spyRunner(calls),
      () => undefined,
    );
    panels.open(checkpoints);
    onMessage!({ type: 'ready' });
    // The panel does not hand out the session's promise: wait until the inspections are in (or time out).
    for (let waited = 0; !panels.session!.currentState().checkpoints[0]?.inspection && waited < 20_000; waited += 20)
      await new Promise((r) => setTimeout(r, 20));
    await panels.session!.whenSettled();
    assert.deepEqual(calls, []);
    assert.equal(existsSync(inspectRoot), false);
    assert.equal(panels.session!.currentState().checkpoints[0].inspection?.manifest.step, 50);
  } finally {
    workspace.isTrusted = true;
  }
});
