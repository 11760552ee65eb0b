// The level of a trainer log line in the "DoRA Trainer" log channel, so the Output view's level filter works:
// errors and failures as error, warnings, stderr and the stop escalation as warn, everything else as info. Pure.

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

export interface TrainerLine {
  runDir: string;
  stream: 'stdout' | 'stderr' | 'host';
  text: string;
}

const ERROR = /^(error|fatal|uncaught|unhandled)\b|^failed\b|\bfailed:|^finished \(failed\)/i;
/** JavaScript and Python error names (`TypeError:`, `RuntimeError`, `Traceback`), case-sensitive. */
const ERROR_NAME = /(^|\s)(\w*Error|\w*Exception|Traceback)\b/;
const WARN = /^warn(ing)?\b|\bwarning:|did not stop in time|ignored SIGTERM|ignored a malformed|speaks protocol|killed by DoRA Studio/i;
/** The trainer prefixes its file log with an ISO time; the log channel adds its own. */
const LEADING_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z\s+/;

export function trainerLogLevel(line: TrainerLine): LogLevel {
  const text = line.text.replace(LEADING_TIME, '');
  if (ERROR.test(text) || ERROR_NAME.test(text)) return 'error';
  if (WARN.test(text)) return 'warn';
  if (line.stream === 'stderr') return 'warn';
  return 'info';
}

/** `[run-id] text` (host lines: `[run-id] studio: text`), without the trainer's own timestamp. */
export function trainerLogText(line: TrainerLine, runId: string): string {
  return `[${runId}]${line.stream === 'host' ? ' studio:' : ''} ${line.text.replace(LEADING_TIME, '')}`;
}
