// A client whose engine is test/host/fixtures/fakeJsonLinesEngine.mjs (spawned, JSON lines), in a given mode.
import * as path from 'node:path';
import { EngineClient } from '../../../src/host/engine/engineClient';

export const FAKE_ENGINE = path.join(__dirname, '..', 'fixtures', 'fakeJsonLinesEngine.mjs');

export function fakeEngines(mode = 'normal'): EngineClient {
  return new EngineClient({
    launch: () => ({ transport: 'json-lines', command: process.execPath, args: [FAKE_ENGINE] }),
    env: { ...process.env, FAKE_ENGINE_MODE: mode },
  });
}
