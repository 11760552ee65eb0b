/** A one-line terminal progress display for `dora train`: phase, step/total, loss, img/s and ETA. */
import type { TrainerMessage } from '../../core/messages';

function clock(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export class ProgressBar {
  private lastLoss: number | undefined;
  private lastImgPerSec: number | undefined;
  private active = false;

  constructor(private readonly out: NodeJS.WriteStream) {}

  private line(text: string): void {
    if (this.out.isTTY) {
      this.out.write(`\r\x1b[2K${text}`);
      this.active = true;
    }
  }

  private print(text: string): void {
    if (this.active) this.out.write('\r\x1b[2K');
    this.active = false;
    this.out.write(`${text}\n`);
  }

  handle(m: TrainerMessage): void {
    switch (m.type) {
      case 'progress': {
        const total = m.total ?? 0;
        const width = 24;
        const filled = total > 0 ? Math.round((width * m.done) / total) : 0;
        const bar = `[${'#'.repeat(filled)}${'.'.repeat(Math.max(0, width - filled))}]`;
        if (m.phase === 'frame-cache')
          this.line(`caching frames ${bar} ${m.done}/${total || '?'} ${m.rate ? `${m.rate.toFixed(0)} fps` : ''} ETA ${clock(m.eta)}`);
        else if (m.phase === 'training')
          this.line(
            `training ${bar} step ${m.done}/${total} loss ${this.lastLoss?.toFixed(4) ?? '-'} ` +
              `${this.lastImgPerSec ? `${this.lastImgPerSec.toFixed(1)} img/s` : ''} ETA ${clock(m.eta)}`,
          );
        break;
      }
      case 'metrics':
        this.lastLoss = m.record.loss;
        this.lastImgPerSec = m.record.imgPerSec;
        if (!this.out.isTTY)
          this.print(
            `step ${m.record.step} epoch ${m.record.epoch} loss ${m.record.loss.toFixed(4)} ` +
              `lr ${m.record.lr.toExponential(2)} ${m.record.secPerStep.toFixed(2)} ` +
              `s/step ${m.record.imgPerSec.toFixed(1)} img/s`,
          );
        break;
      case 'warning':
        this.print(`warning: ${m.message}${m.fix ? ` (${m.fix})` : ''}`);
        break;
      case 'error':
        this.print(`error: ${m.message}${m.fix ? `\nfix: ${m.fix}` : ''}`);
        break;
      case 'checkpoint-saved':
        if (!this.out.isTTY) this.print(`checkpoint ${m.path}`);
        break;
      default:
        break;
    }
  }

  done(): void {
    if (this.active) this.out.write('\n');
    this.active = false;
  }
}
