// Delete Run (issue 16) under issue 9's rules: in Restricted Mode it deletes nothing and says why; trusted, the same
// call deletes the run. A run folder is untrusted input and deleting is irreversible.
import '../host/vscodeMock';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type * as vscode from 'vscode';
import { registerRunManagement } from '../../src/host/runManagement/commands';
import type { WorkspaceModel } from '../../src/host/runs/workspaceModel';
import { commands, window, workspace } from '../host/vscodeMock';
import { copyFixture } from '../host/helpers';

test('Delete Run in Restricted Mode deletes nothing and offers to manage trust; trusted, it deletes', async (t) => {
  const { runsDir, runDir } = copyFixture();
  const handlers = new Map<string, (...args: unknown[]) => unknown>();
  Object.assign(commands, {
    registerCommand: (id: string, handler: (...args: unknown[]) => unknown) => {
      handlers.set(id, handler);
      return { dispose: () => handlers.delete(id) };
    },
  });
  const warnings: string[] = [];
  const errors: string[] = [];
  window.showWarningMessage = async (message: string) => void warnings.push(message);
  window.showErrorMessage = async (message: string) => void errors.push(message);
  const model = { runsFolders: () => [runsDir], refresh: async () => undefined, runViews: () => [] } as unknown as WorkspaceModel;
  const deletedRuns: string[][] = [];
  const context = { subscriptions: [] } as unknown as vscode.ExtensionContext;
  registerRunManagement(context, {
    model,
    isLiveHere: () => false,
    pickRuns: async () => assert.fail('the run is given; nothing is picked'),
    onDeleted: (dirs) => deletedRuns.push(dirs),
  });
  const deleteRun = handlers.get('dora.deleteRun')!;
  t.after(() => (workspace.isTrusted = true));

  workspace.isTrusted = false;
  assert.deepEqual(await deleteRun(runDir, { confirmed: true }), []);
  assert.ok(existsSync(runDir), 'Restricted Mode: the run folder is kept');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /cannot delete a run in Restricted Mode/);
  assert.deepEqual(deletedRuns, []);

  workspace.isTrusted = true;
  const deleted = (await deleteRun(runDir, { confirmed: true })) as string[];
  assert.equal(deleted.length, 1);
  assert.equal(existsSync(runDir), false, 'trusted: deleted');
  assert.deepEqual(deletedRuns, [[runDir]]);
  assert.deepEqual(errors, []);
});
