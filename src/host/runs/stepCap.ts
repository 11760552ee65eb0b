// The step limit a run is started with. Pure Node (reads the checkpoint list), tested without VS Code.

import { listCheckpoints } from '../../core/node/runDir';
import { runDirOfCheckpoint } from '../../core/node/runPaths';
import * as path from 'node:path';

/** A cap counts steps per launch (DORA_STUDIO_MAX_STEPS): a resumed run continues that many steps past its checkpoint. */
export async function stepCap(cap: number | undefined, resumeCheckpoint: string | undefined): Promise<number | undefined> {
  if (cap === undefined || !resumeCheckpoint) return cap;
  const sidecar = path.resolve(resumeCheckpoint);
  const entry = (await listCheckpoints(runDirOfCheckpoint(sidecar))).find((c) => c.sidecarFile === sidecar);
  return (entry?.step ?? 0) + cap;
}
