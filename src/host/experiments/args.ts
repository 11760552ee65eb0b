// Arguments of the experiment commands: run folders from tree nodes (VS Code passes the clicked node and the
// selected ones), paths, Uris or lists of them (the runs table, tests); options objects come last. Pure.

import { runDirFromArg } from '../shared/commandArgs';

/** Every run folder named by the arguments, once each, in order. Option objects (`{ confirmed: true }`) are skipped. */
export function runDirsFromArgs(args: readonly unknown[]): string[] {
  const out: string[] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (typeof value === 'object' && value !== null && !('kind' in value) && !('fsPath' in value) && !('runDir' in value)) return;
    const dir = runDirFromArg(value);
    if (dir && !out.includes(dir)) out.push(dir);
  };
  args.forEach(visit);
  return out;
}

/** The options object among the arguments (`{ confirmed: true }`, `{ name: 'x' }`, `{ format, target }`). */
export function optionsFromArgs<T extends object>(args: readonly unknown[]): Partial<T> {
  const found = args.find(
    (a) => typeof a === 'object' && a !== null && !Array.isArray(a) && !('kind' in a) && !('fsPath' in a) && !('runDir' in a),
  );
  return (found ?? {}) as Partial<T>;
}
