// Writes trainer log lines into the "DoRA Trainer" LogOutputChannel at their level (logLevel.ts).

import * as path from 'node:path';
import type * as vscode from 'vscode';
import { trainerLogLevel, trainerLogText, type TrainerLine } from './logLevel';

export function logTrainerLine(output: vscode.LogOutputChannel, line: TrainerLine): void {
  output[trainerLogLevel(line)](trainerLogText(line, path.basename(line.runDir)));
}
