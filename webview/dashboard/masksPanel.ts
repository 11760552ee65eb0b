// Tracked masks beside frames for one clip of the selected snapshot: the raw frame, the per-object
// mask overlay and the attention heat-map side by side for the current frame, a filmstrip of every
// frame of the clip (anchor marked), a clip selector, object toggles and the frame scrubber.

import { fitCanvas } from '../shared/canvas';
import { drawAttention, drawFrame, drawMaskOverlay } from '../shared/clipRender';
import { h, replaceChildren } from '../shared/dom';
import { FrameScrubber } from '../shared/frameScrubber';
import { ObjectToggles } from '../shared/objectToggles';
import { canvasTile } from '../shared/panel';
import type { ClipData } from '../shared/snapshotData';
import { createDropdown, type DropdownHandle } from '../ui/toolkit';

export interface MasksSelection {
  clip: number;
  frame: number;
  hiddenObjects: number[];
}

const THUMB_SIZE = 76;

export class MasksPanel {
  readonly element: HTMLElement;
  readonly toggles: ObjectToggles;
  private readonly scrubber: FrameScrubber;
  private readonly clipPicker: DropdownHandle;
  private readonly raw = h('canvas', { id: 'frame-raw', role: 'img', 'aria-label': 'Frame as the teacher saw it' });
  private readonly masks = h('canvas', { id: 'frame-masks', role: 'img', 'aria-label': 'Frame with object masks' });
  private readonly attention = h('canvas', { id: 'frame-attention', role: 'img', 'aria-label': 'Attention heat-map' });
  private readonly anchorBadge = h(
    'div',
    { class: 'anchor-badge', id: 'anchor-badge' },
    '⚓ Anchor frame — the prototypes are computed here',
  );
  private readonly filmstrip = h('div', { class: 'filmstrip', role: 'listbox', 'aria-label': 'Frames of the clip' });
  private clips: ClipData[] = [];
  private selection: MasksSelection;
  private size = 224;

  constructor(
    initial: MasksSelection,
    private readonly onSelectionChange: (selection: MasksSelection) => void,
    private readonly onVisibilityChange: (visible: boolean[]) => void,
  ) {
    this.selection = { ...initial };
    this.toggles = new ObjectToggles(initial.hiddenObjects, (hiddenObjects) => {
      this.selection = { ...this.selection, hiddenObjects };
      this.onSelectionChange(this.getSelection());
      this.onVisibilityChange(this.visible());
      this.draw();
    });
    this.scrubber = new FrameScrubber({
      label: 'Frame of the clip',
      onChange: (frame) => {
        this.selection = { ...this.selection, frame };
        this.onSelectionChange(this.getSelection());
        this.draw();
      },
    });
    this.clipPicker = createDropdown({
      id: 'clip-picker',
      ariaLabel: 'Clip',
      options: [],
      value: String(initial.clip),
      onChange: (value) => {
        this.selection = { ...this.selection, clip: Number(value) };
        this.onSelectionChange(this.getSelection());
        this.layoutClip();
      },
    });
    const tiles = h(
      'div',
      { class: 'tiles' },
      canvasTile(this.raw, 'Frame'),
      canvasTile(this.masks, 'Tracked masks (patch resolution)'),
      canvasTile(this.attention, 'Attention (max over shown objects)'),
    );
    this.element = h(
      'div',
      { class: 'masks-panel', tabindex: -1 },
      h(
        'div',
        { class: 'toolbar', role: 'toolbar', 'aria-label': 'Mask controls' },
        h('div', { class: 'control' }, h('span', { class: 'control-label' }, 'Clip'), this.clipPicker.element),
        this.toggles.element,
      ),
      this.scrubber.element,
      h('div', { class: 'tiles-wrap' }, this.anchorBadge, tiles),
      this.filmstrip,
    );
    this.scrubber.bindKeys(this.element);
    new ResizeObserver(() => {
      const available = this.element.clientWidth;
      const size = Math.max(128, Math.min(288, Math.floor((available - 48) / 3)));
      if (available > 0 && size !== this.size) {
        this.size = size;
        this.draw();
      }
    }).observe(this.element);
  }

  getSelection(): MasksSelection {
    return { ...this.selection, hiddenObjects: this.toggles.hiddenList() };
  }

  visible(): boolean[] {
    return this.toggles.visible(this.currentClip()?.objects ?? 0);
  }

  private currentClip(): ClipData | undefined {
    return this.clips[this.selection.clip] ?? this.clips[0];
  }

  setClips(clips: ClipData[]): void {
    this.clips = clips;
    if (this.selection.clip >= clips.length) this.selection = { ...this.selection, clip: 0 };
    this.clipPicker.setOptions(
      clips.map((clip) => ({
        value: String(clip.position),
        label: `Clip ${clip.position} (video #${clip.frameIndices[0]}–#${clip.frameIndices[clip.frameIndices.length - 1]})`,
      })),
      String(this.selection.clip),
    );
    this.layoutClip();
  }

  private layoutClip(): void {
    const clip = this.currentClip();
    if (!clip) return;
    this.toggles.setObjects(clip.objects, clip.heads);
    this.onVisibilityChange(this.visible());
    this.scrubber.setFrames(clip.frameIndices, Math.min(this.selection.frame, clip.frameCount - 1));
    this.selection = { ...this.selection, frame: this.scrubber.current() };
    replaceChildren(
      this.filmstrip,
      ...clip.frameIndices.map((source, frame) => {
        const thumb = h('canvas', { class: 'thumb-canvas' });
        const item = h(
          'button',
          {
            class: 'thumb',
            type: 'button',
            role: 'option',
            id: `thumb-${frame}`,
            'aria-label': `Frame ${frame + 1}, video frame ${source}${frame === 0 ? ', anchor' : ''}`,
          },
          thumb,
          h('span', { class: 'thumb-label' }, frame === 0 ? `⚓ #${source}` : `#${source}`),
        );
        item.addEventListener('click', () => this.scrubber.select(frame, true));
        return item;
      }),
    );
    this.draw();
  }

  /** Frame index shown (for tests and the compare view). */
  currentFrame(): number {
    return this.scrubber.current();
  }

  draw(): void {
    const clip = this.currentClip();
    if (!clip) return;
    const frame = Math.min(this.scrubber.current(), clip.frameCount - 1);
    const visible = this.visible();
    drawFrame(fitCanvas(this.raw, this.size, this.size), clip, frame, this.size);
    drawMaskOverlay(fitCanvas(this.masks, this.size, this.size), clip, frame, visible, this.size);
    drawAttention(fitCanvas(this.attention, this.size, this.size), clip, frame, visible, this.size);
    this.anchorBadge.classList.toggle('hidden', frame !== 0);
    this.element.dataset.frame = String(frame);
    this.element.dataset.clip = String(clip.position);
    Array.from(this.filmstrip.children).forEach((item, i) => {
      item.setAttribute('aria-selected', String(i === frame));
      item.classList.toggle('current', i === frame);
      item.classList.toggle('anchor', i === 0);
      const thumb = item.querySelector('canvas');
      if (thumb) drawMaskOverlay(fitCanvas(thumb, THUMB_SIZE, THUMB_SIZE), clip, i, visible, THUMB_SIZE);
    });
  }

  stop(): void {
    this.scrubber.pause();
  }
}
