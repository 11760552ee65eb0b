// Fake Python interpreters for the PyTorch engine's bad-input tests: tiny shell scripts in a temp folder. Asked to run
// the probe (`-c …`) they print the probe's JSON line for the situation they stand for; asked to run the engine
// (`-m dora_studio train …`) they can hand over to the fake JSON-lines engine (test/host/fixtures).
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ProbeAnswer {
  python?: string;
  torch?: string;
  torchError?: string;
  cuda?: string | null;
  cudaAvailable?: boolean;
  mpsAvailable?: boolean;
  missing?: Record<string, string>;
}

export const GOOD: ProbeAnswer = { python: '3.11.2', torch: '2.3.1', cuda: null, cudaAvailable: false, mpsAvailable: false, missing: {} };

const dir = mkdtempSync(join(tmpdir(), 'dora-fake-python-'));
let count = 0;

/** A fake interpreter that answers the probe with `answer`; `engine`: the script that runs for `-m dora_studio …`. */
export function fakePython(answer: ProbeAnswer | string, engine?: string): string {
  const file = join(dir, `python-${++count}`);
  const probe = typeof answer === 'string' ? answer : JSON.stringify(answer);
  const run = engine ? `shift 2\nexec "${process.execPath}" "${engine}" "$@"` : 'echo "not an engine" >&2; exit 9';
  writeFileSync(file, `#!/bin/sh\nif [ "$1" = "-c" ]; then\ncat <<'EOF'\n${probe}\nEOF\nexit 0\nfi\n${run}\n`);
  chmodSync(file, 0o755);
  return file;
}

/** A file that is not an interpreter at all (prints nothing useful, fails). */
export function brokenPython(): string {
  const file = join(dir, `broken-${++count}`);
  writeFileSync(file, '#!/bin/sh\necho "Segmentation fault" >&2\nexit 139\n');
  chmodSync(file, 0o755);
  return file;
}

export const MISSING_PYTHON = join(dir, 'no-such-python');
