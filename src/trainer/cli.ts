/**
 * `dora` command line: the headless front door to the trainer.
 *   dora golden <dir-or-files...> [--backend wasm|cpu|webgpu|auto] [--verbose]
 */
import { initBackend, isBackendName, type BackendName } from './backend';
import { collectGoldenFiles, formatCaseLine, runGoldenCase } from './golden/runGolden';

interface ParsedArgs { positional: string[]; flags: Map<string, string | true> }

export function parseArgs(argv: string[]): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) flags.set(a.slice(2, eq), a.slice(eq + 1));
      else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) flags.set(a.slice(2), argv[++i]);
      else flags.set(a.slice(2), true);
    } else positional.push(a);
  }
  return { positional, flags };
}

const USAGE = `usage:
  dora golden <dir-or-files...> [--backend wasm|cpu|webgpu|auto] [--verbose]   check the implementation against the official golden cases`;

function backendFlag(flags: ParsedArgs['flags']): BackendName {
  const value = flags.get('backend') ?? 'wasm';
  if (!isBackendName(value)) throw new UsageError(`--backend must be one of auto, tensorflow-gpu, tensorflow, webgpu, wasm, cpu (got "${String(value)}")`);
  return value;
}

class UsageError extends Error {}

async function goldenCommand(args: ParsedArgs): Promise<number> {
  if (args.positional.length === 0) throw new UsageError('golden: give at least one folder or .safetensors file, e.g. `dora golden ../shared/golden`');
  const report = await initBackend(backendFlag(args.flags));
  console.log(`backend: ${report.active} — ${report.reason}`);
  const files = collectGoldenFiles(args.positional);
  let failed = 0;
  for (const file of files) {
    const result = runGoldenCase(file);
    console.log(formatCaseLine(result));
    if (!result.pass) failed++;
    if (args.flags.has('verbose') || !result.pass) {
      for (const c of result.checks) if (args.flags.has('verbose') || !c.pass) console.log(`    ${c.pass ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
    }
  }
  console.log(`${files.length - failed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

export async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const [command, ...rest] = args.positional;
  const sub = { ...args, positional: rest };
  try {
    switch (command) {
      case 'golden': return await goldenCommand(sub);
      case undefined: case 'help': console.log(USAGE); return command ? 0 : 2;
      default: throw new UsageError(`unknown command "${command}"`);
    }
  } catch (e) {
    if (e instanceof UsageError) { console.error(`dora: ${e.message}\n${USAGE}`); return 2; }
    console.error(`dora: ${(e as Error).message}`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
