/**
 * The `dora` command line's argument handling, on node:util parseArgs in strict mode: every command declares its
 * options once (name, type, placeholder, help); the parser, the usage text and the "did you mean" for an unknown option
 * all come from that declaration.
 */
import { parseArgs } from 'node:util';
import { suggest } from '../../core/suggest';

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** May be given more than once (string options only): the values are kept in order. */
  multiple?: boolean;
  /** Placeholder of the value in the usage text (`N`, `DIR` …). */
  value?: string;
  help: string;
}

export type OptionValues = Record<string, string | boolean | string[] | undefined>;

export interface ParsedCommand {
  values: OptionValues;
  positionals: string[];
}

export interface CommandSpec {
  name: string;
  /** Positional arguments as the usage shows them, e.g. `<config.dora.json>`. */
  positionals: string;
  /** How many positionals the command takes, and what to say when there are too few. */
  arity: { min: number; max: number; missing?: string };
  summary: string;
  options: Record<string, OptionSpec>;
  run: (args: ParsedCommand) => Promise<number>;
}

/** A mistake in how the command was called: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: CommandSpec,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export const HELP_OPTION: OptionSpec = { type: 'boolean', help: 'show this help and exit' };

/** The options of `spec` and its positionals; unknown options, missing values and wrong counts are UsageErrors. */
export function parseCommand(spec: CommandSpec, argv: string[]): ParsedCommand {
  const options = Object.fromEntries(
    Object.entries({ ...spec.options, help: HELP_OPTION }).map(([name, o]) => [
      name,
      { type: o.type, ...(o.multiple ? { multiple: true } : {}) },
    ]),
  );
  rejectUnknownOptions(spec, argv);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError(`${spec.name}: ${plainParseError(error as Error)}`, spec);
  }
  const values = parsed.values as OptionValues;
  if (values.help) return { values, positionals: parsed.positionals };
  const count = parsed.positionals.length;
  if (count < spec.arity.min) throw new UsageError(`${spec.name}: ${spec.arity.missing ?? `give ${spec.positionals}`}`, spec);
  if (count > spec.arity.max) throw new UsageError(`${spec.name}: unexpected argument "${parsed.positionals[spec.arity.max]}"`, spec);
  return { values, positionals: parsed.positionals };
}

/** Names every option that `spec` does not know, with the closest known one when it looks like a typo. */
function rejectUnknownOptions(spec: CommandSpec, argv: string[]): void {
  const known = [...Object.keys(spec.options), 'help'];
  const { tokens } = parseArgs({ args: argv, strict: false, allowPositionals: true, tokens: true });
  for (const token of tokens ?? []) {
    // A value such as -1 after an option is not an option of its own: the strict parse below explains it.
    if (token.kind !== 'option' || known.includes(token.name) || /^-\d/.test(token.rawName)) continue;
    const guess = suggest(token.name, known);
    const hint = guess ? `; did you mean --${guess}?` : `; ${spec.name} takes ${known.map((k) => `--${k}`).join(', ')}`;
    throw new UsageError(`${spec.name}: unknown option ${token.rawName}${hint}`, spec);
  }
}

/** node:util's parse errors in the CLI's words. */
function plainParseError(error: Error): string {
  const missing = /^Option '(-[-\w]+)(?: <value>)?' argument missing/.exec(error.message);
  if (missing) return `${missing[1]} needs a value`;
  const noValue = /^Option '(-[-\w]+)' does not take an argument/.exec(error.message);
  if (noValue) return `${noValue[1]} takes no value`;
  const ambiguous = /^Option '(-[-\w]+)' argument is ambiguous/.exec(error.message);
  if (ambiguous) return `${ambiguous[1]} needs a value; write ${ambiguous[1]}=VALUE for a value that starts with "-"`;
  return error.message;
}

// ---- reading values ----------------------------------------------------------------------------------------------

export function stringOption(values: OptionValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function listOption(values: OptionValues, name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

/** An integer option ≥ `min` (default 1). */
export function intOption(values: OptionValues, name: string, min = 1): number | undefined {
  const v = stringOption(values, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < min)
    throw new UsageError(
      `--${name} must be ${min === 0 ? 'a whole number ≥ 0' : min === 1 ? 'a positive integer' : `an integer ≥ ${min}`} (got "${v}")`,
    );
  return n;
}

// ---- usage text ---------------------------------------------------------------------------------------------------

const COLUMN = 34;

function optionUsage(name: string, o: OptionSpec): string {
  return `--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}${o.multiple ? ' …' : ''}`;
}

/** `dora <command> --help`: the command, what it does, and every option with its help. */
export function commandUsage(spec: CommandSpec): string {
  const lines = [
    `usage: dora ${spec.name} ${spec.positionals}${Object.keys(spec.options).length ? ' [options]' : ''}`.trimEnd(),
    spec.summary,
  ];
  for (const [name, o] of Object.entries({ ...spec.options, help: HELP_OPTION }))
    lines.push(`  ${optionUsage(name, o).padEnd(COLUMN)}${o.help}`);
  return lines.join('\n');
}

/** `dora --help`: every command with all of its options (details: `dora <command> --help`). */
export function globalUsage(commands: readonly CommandSpec[], footer: string[]): string {
  const lines = ['usage: dora <command> [options]          (dora <command> --help explains each option)'];
  for (const spec of commands) {
    lines.push(`  ${`${spec.name} ${spec.positionals}`.trimEnd().padEnd(COLUMN)}${spec.summary}`);
    lines.push(
      ...wrap(
        Object.entries(spec.options).map(([name, o]) => `[${optionUsage(name, o)}]`),
        6,
        118,
      ),
    );
  }
  return [...lines, ...footer].join('\n');
}

function wrap(words: string[], indent: number, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    if (line && indent + line.length + 1 + word.length > width) {
      lines.push(' '.repeat(indent) + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(' '.repeat(indent) + line);
  return lines;
}
