// Which engine a run trains in, and what it needs of a Python: the `dora.engine` setting when it is not `fromConfig`,
// else the config's `runtime.engine` (a resumed run: its own config.json, else what its run.json recorded), default
// tfjs; the device from `dora.device`, else `runtime.device`. No vscode import (the settings come in).

import { DEVICES, ENGINES, type DeviceName, type EngineName } from '../../core/config';
import type { PythonRequirements } from '../../core/node/pythonEngine';
import { readRunConfig, readRunInfo } from '../../core/node/runDir';
import { runDirOfCheckpoint } from '../../core/node/runPaths';

export interface EngineChoice {
  engine: EngineName;
  /** The device the dora.device setting forces (sent to the engine), if any. */
  device?: DeviceName;
  requirements: PythonRequirements;
}

const isEngine = (v: unknown): v is EngineName => (ENGINES as readonly unknown[]).includes(v);
const isDevice = (v: unknown): v is DeviceName => (DEVICES as readonly unknown[]).includes(v);

/** runtime.engine / runtime.device of a raw config object, when they are valid. */
function runtimeOf(config: unknown): { engine?: EngineName; device?: DeviceName } {
  const runtime = (config as { runtime?: { engine?: unknown; device?: unknown } } | undefined)?.runtime;
  return { engine: isEngine(runtime?.engine) ? runtime.engine : undefined, device: isDevice(runtime?.device) ? runtime.device : undefined };
}

export async function chooseEngine(
  settings: { engine: string; device: string },
  run: { config?: unknown; resumeCheckpoint?: string },
): Promise<EngineChoice> {
  let configured = runtimeOf(run.config);
  if (run.resumeCheckpoint) {
    const runDir = runDirOfCheckpoint(run.resumeCheckpoint);
    configured = runtimeOf(await readRunConfig(runDir).catch(() => undefined));
    if (!configured.engine) {
      const recorded = (await readRunInfo(runDir).catch(() => undefined))?.engine;
      configured = { ...configured, engine: isEngine(recorded) ? recorded : undefined };
    }
  }
  const engine = isEngine(settings.engine) ? settings.engine : (configured.engine ?? 'tfjs');
  const forced = isDevice(settings.device) ? settings.device : undefined;
  const device = forced ?? configured.device ?? 'auto';
  return { engine, device: forced, requirements: { device, deviceSource: forced ? 'dora.device' : 'runtime.device' } };
}
