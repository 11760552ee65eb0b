// The thin vscode layer, against the hand-written vscode mock: tree items and the Runs provider.
import { recorded, ThemeIcon, TreeItemCheckboxState } from '../vscodeMock';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RunIndex } from '../../../src/host/runs/runIndex';
import { RunManager } from '../../../src/host/runs/runManager';
import { ConfigIndex } from '../../../src/host/configs/configIndex';
import { RunsWatcher } from '../../../src/host/runs/runsWatcher';
import { WorkspaceModel } from '../../../src/host/runs/workspaceModel';
import { toTreeItem } from '../../../src/host/shared/treeItems';
import { RunsTreeProvider } from '../../../src/host/runs/runsView';
import { copyFixture, deadProbe } from '../helpers';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { EngineClient } from '../../../src/host/engine/engineClient';

test('the Runs provider lists runs, checkpoints with native checkboxes, and drives the compare context keys', async () => {
  const { root, runDir } = copyFixture();
  for (const step of [100, 200])
    writeFileSync(
      path.join(runDir, 'checkpoints', `step-000${step}.json`),
      JSON.stringify({
        formatVersion: 1,
        step,
        epoch: 0,
        time: 't',
        weightsFile: `step-000${step}.safetensors`,
        weightsSha256: '',
        optimizerFile: `step-000${step}.optim.safetensors`,
        optimizerSha256: '',
        centerTensor: 'c',
        rng: { algorithm: 'a', state: 1 },
        schedule: { iteration: step, itersPerEpoch: 240, totalIters: 240 },
        configSha256: '',
      }),
    );
  recorded.workspaceFolders = [{ uri: { scheme: 'file', fsPath: root } }];
  const configs = new ConfigIndex();
  const runs = new RunIndex(() => deadProbe);
  const watcher = new RunsWatcher();
  const manager = new RunManager({ engines: new EngineClient({ launch: () => ({ transport: 'ipc', command: '/nonexistent' }) }) });
  const model = new WorkspaceModel({ configs, runs, manager, watcher, workspaceRoots: () => [root], runsFolderSetting: () => 'runs' });
  const provider = new RunsTreeProvider(model, runs);
  try {
    await model.refresh();
    const [runNode] = await provider.getChildren();
    assert.equal(runNode.kind, 'run');
    const runItem = toTreeItem(runNode);
    assert.equal((runItem.iconPath as ThemeIcon).id, 'pass');
    assert.equal(runItem.collapsibleState, 1);
    const checkpoints = await provider.getChildren(runNode);
    assert.deepEqual(
      checkpoints.map((c) => c.label),
      ['step 200', 'step 100'],
    );
    const first = toTreeItem(checkpoints[0]);
    assert.deepEqual((first.checkboxState as { state: number }).state, TreeItemCheckboxState.Unchecked);
    for (const c of checkpoints) if (c.kind === 'checkpoint') provider.setChecked(c.sidecarFile, true);
    assert.equal(recorded.contexts.get('dora.canCompare'), true);
    const again = await provider.getChildren(runNode);
    assert.equal((toTreeItem(again[0]).checkboxState as { state: number }).state, TreeItemCheckboxState.Checked);
    provider.clearChecked();
    assert.equal(recorded.contexts.get('dora.canCompare'), false);
    assert.equal(recorded.contexts.get('dora.hasCheckedCheckpoints'), false);
  } finally {
    model.dispose();
    await watcher.dispose();
    await configs.dispose();
  }
});

test('config items open the file on click', () => {
  const item = toTreeItem({
    kind: 'config',
    id: 'config:/w/a.dora.json',
    file: '/w/a.dora.json',
    label: 'a.dora.json',
    icon: { id: 'settings-gear' },
    contextValue: 'doraConfig',
    collapsible: 'none',
  });
  assert.deepEqual((item.command as { command: string }).command, 'vscode.open');
  assert.equal(item.contextValue, 'doraConfig');
});
