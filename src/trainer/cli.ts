/**
 * `dora` command line: the headless front door to the engine (the extension talks to the engine process instead).
 * Each command declares its options once (cli/args.ts: node:util parseArgs in strict mode); an unknown option is an
 * error with a "did you mean", `--help` prints the command's options and exits 0.
 */
import { suggest } from '../core/suggest';
import { commandUsage, globalUsage, parseCommand, UsageError, type CommandSpec } from './cli/args';
import { benchCommand, evalCommand, goldenCommand, inspectCommand, qualityCommand } from './cli/checkCommands';
import { benchCacheCommand, cacheCommand } from './cli/cacheCommands';
import { BACKENDS_TEXT } from './cli/common';
import { importCommand } from './cli/importCommand';
import { demoCommand, initCommand, trainCommand } from './cli/runCommands';

export const COMMANDS: readonly CommandSpec[] = [
  initCommand,
  trainCommand,
  demoCommand,
  inspectCommand,
  cacheCommand,
  benchCommand,
  benchCacheCommand,
  evalCommand,
  qualityCommand,
  goldenCommand,
  importCommand,
];

export const USAGE = globalUsage(COMMANDS, [`backends: ${BACKENDS_TEXT}`]);

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) {
    console.error(USAGE);
    return 2;
  }
  if (command === 'help' || command === '--help' || command === '-h') {
    const spec = COMMANDS.find((c) => c.name === rest[0]);
    console.log(spec ? commandUsage(spec) : USAGE);
    return 0;
  }
  const spec = COMMANDS.find((c) => c.name === command);
  try {
    if (!spec) throw new UsageError(`unknown command "${command}"${hintFor(command)}`);
    const args = parseCommand(spec, rest);
    if (args.values.help) {
      console.log(commandUsage(spec));
      return 0;
    }
    return await spec.run(args);
  } catch (e) {
    if (e instanceof UsageError) {
      const about = e.command ?? spec;
      console.error(`dora: ${e.message}\n${about ? commandUsage(about) : USAGE}`);
      return 2;
    }
    const fix = (e as { fix?: unknown }).fix;
    console.error(`dora: ${(e as Error).message}${typeof fix === 'string' ? `\nfix: ${fix}` : ''}`);
    return 1;
  }
}

function hintFor(command: string): string {
  const names = COMMANDS.map((c) => c.name);
  const close = suggest(command, names);
  return close ? `; did you mean ${close}?` : `; commands: ${names.join(', ')}`;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
