// Deleting a checkpoint from the extension: every file that belongs to it, sidecar first (like the engine's pruning),
// so a half-finished delete never looks like a complete checkpoint. Plain Node, tested without VS Code.

import { rm, stat } from 'node:fs/promises';
import type { CheckpointEntry } from '../../core/node/runDir';
import { attentionDirOf, evalSidecarPath } from '../../core/node/runPaths';

/** Bytes of a checkpoint's weights and optimizer files (0 for a missing one). */
export async function checkpointBytes(entry: CheckpointEntry): Promise<number> {
  const sizes = await Promise.all(
    [entry.weightsFile, entry.optimizerFile].map((f) =>
      stat(f).then(
        (s) => s.size,
        () => 0,
      ),
    ),
  );
  return sizes[0] + sizes[1];
}

/** Removes the sidecar, the weights, the optimizer state and the stored evaluations (results and attention maps). */
export async function deleteCheckpointFiles(entry: CheckpointEntry): Promise<void> {
  await rm(entry.sidecarFile, { force: true });
  await rm(entry.weightsFile, { force: true });
  await rm(entry.optimizerFile, { force: true });
  await rm(evalSidecarPath(entry.sidecarFile), { force: true });
  await rm(attentionDirOf(entry.sidecarFile), { recursive: true, force: true });
}
