// Frame scrubber: previous / play-pause / next, a range slider with one tick per frame (the anchor
// tick marked), and a read-out. ← → step frames when the slider or the owning panel has focus;
// Space toggles playback. One instance drives all checkpoints in the compare view.

import { createButton, type ButtonHandle } from '../ui/toolkit';
import { h, replaceChildren } from './dom';

export interface FrameScrubberOptions {
  /** Accessible name, e.g. "Frame of clip 0". */
  label: string;
  onChange: (frame: number) => void;
  /** Milliseconds per frame while playing. */
  intervalMs?: number;
}

export class FrameScrubber {
  readonly element: HTMLElement;
  private readonly slider: HTMLInputElement;
  private readonly ticks: HTMLElement;
  private readonly readout: HTMLElement;
  private readonly playButton: ButtonHandle;
  private readonly prevButton: ButtonHandle;
  private readonly nextButton: ButtonHandle;
  private frame = 0;
  private count = 0;
  private sourceFrames: number[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly options: FrameScrubberOptions) {
    this.slider = h('input', { type: 'range', min: 0, max: 0, step: 1, value: 0, class: 'frame-slider', 'aria-label': options.label });
    this.slider.addEventListener('input', () => this.select(Number(this.slider.value), true));
    this.ticks = h('div', { class: 'frame-ticks', 'aria-hidden': 'true' });
    this.readout = h('span', { class: 'frame-readout', 'aria-live': 'polite' });
    this.prevButton = createButton({
      label: '◀',
      ariaLabel: 'Previous frame',
      title: 'Previous frame (←)',
      appearance: 'icon',
      onClick: () => this.step(-1),
    });
    this.playButton = createButton({
      label: '▶',
      ariaLabel: 'Play frames',
      title: 'Play / pause (Space)',
      appearance: 'icon',
      onClick: () => this.togglePlay(),
    });
    this.nextButton = createButton({
      label: '▶|',
      ariaLabel: 'Next frame',
      title: 'Next frame (→)',
      appearance: 'icon',
      onClick: () => this.step(1),
    });
    this.prevButton.setLabel('|◀', 'Previous frame');
    this.element = h(
      'div',
      { class: 'frame-scrubber' },
      this.prevButton.element,
      this.playButton.element,
      this.nextButton.element,
      h('div', { class: 'frame-track' }, this.slider, this.ticks),
      this.readout,
    );
  }

  /** Frame count and the source-video frame numbers (for the read-out); keeps the frame if it still exists. */
  setFrames(sourceFrames: number[], frame = this.frame): void {
    this.sourceFrames = sourceFrames;
    this.count = sourceFrames.length;
    this.slider.max = String(Math.max(0, this.count - 1));
    this.slider.disabled = this.count <= 1;
    replaceChildren(
      this.ticks,
      ...sourceFrames.map((_, i) => {
        const tick = h('span', { class: i === 0 ? 'tick anchor' : 'tick' }, i === 0 ? '⚓' : '');
        // CSSOM, not a style attribute: the CSP has no 'unsafe-inline'.
        tick.style.left = `${this.count > 1 ? (i / (this.count - 1)) * 100 : 0}%`;
        return tick;
      }),
    );
    if (this.count <= 1) this.pause();
    this.select(Math.min(frame, Math.max(0, this.count - 1)), false);
  }

  current(): number {
    return this.frame;
  }

  /** Moves to `frame`; `notify` calls onChange (false when the owner already knows). */
  select(frame: number, notify: boolean): void {
    if (this.count === 0) {
      this.frame = 0;
      this.readout.textContent = 'no frames';
      return;
    }
    this.frame = ((frame % this.count) + this.count) % this.count;
    this.slider.value = String(this.frame);
    const source = this.sourceFrames[this.frame];
    const anchor = this.frame === 0 ? ' · anchor' : '';
    this.readout.textContent = `Frame ${this.frame + 1}/${this.count} (video #${source})${anchor}`;
    this.slider.setAttribute(
      'aria-valuetext',
      `frame ${this.frame + 1} of ${this.count}, video frame ${source}${this.frame === 0 ? ', anchor frame' : ''}`,
    );
    if (notify) this.options.onChange(this.frame);
  }

  step(delta: number): void {
    this.select(this.frame + delta, true);
  }

  togglePlay(): void {
    if (this.timer === undefined) this.play();
    else this.pause();
  }

  isPlaying(): boolean {
    return this.timer !== undefined;
  }

  play(): void {
    if (this.timer !== undefined || this.count <= 1) return;
    this.timer = setInterval(() => this.step(1), this.options.intervalMs ?? 500);
    this.playButton.setLabel('❚❚', 'Pause frames');
  }

  pause(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.playButton.setLabel('▶', 'Play frames');
  }

  /** ← → and Space for a container (the masks panel), unless focus is in another text/select control. */
  bindKeys(container: HTMLElement): void {
    container.addEventListener('keydown', (event) => {
      const target = event.target as HTMLElement;
      if (target !== this.slider && (target.tagName === 'INPUT' || target.tagName === 'VSCODE-DROPDOWN' || target.tagName === 'SELECT'))
        return;
      if (event.key === 'ArrowLeft' || event.key === 'ArrowRight') {
        if (target === this.slider) return; // the slider moves itself and fires 'input'
        event.preventDefault();
        this.step(event.key === 'ArrowLeft' ? -1 : 1);
      } else if (event.key === ' ' && target.tagName !== 'VSCODE-BUTTON' && target.tagName !== 'VSCODE-CHECKBOX') {
        event.preventDefault();
        this.togglePlay();
      }
    });
  }
}
