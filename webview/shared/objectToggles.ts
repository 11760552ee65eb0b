// One checkbox per tracked object, labelled with its palette colour and teacher head, so the same
// colour means the same object in every panel.

import { createCheckbox, type CheckboxHandle } from '../ui/toolkit';
import { objectColor } from './colormaps';
import { h, replaceChildren } from './dom';

export class ObjectToggles {
  readonly element: HTMLElement;
  private boxes: CheckboxHandle[] = [];
  private hidden = new Set<number>();
  private signature = '';

  constructor(
    initialHidden: readonly number[],
    private readonly onChange: (hidden: number[]) => void,
  ) {
    this.hidden = new Set(initialHidden);
    this.element = h('div', { class: 'object-toggles', role: 'group', 'aria-label': 'Objects shown' });
  }

  /** Rebuilds the checkboxes for `count` objects (heads[i] labels object i when known). */
  setObjects(count: number, heads: readonly number[]): void {
    const signature = `${count}|${heads.join(',')}`;
    if (signature === this.signature) return;
    this.signature = signature;
    this.boxes = Array.from({ length: count }, (_, object) => {
      const swatch = h('span', { class: 'swatch' });
      swatch.style.background = objectColor(object);
      const head = heads[object] !== undefined ? ` · head ${heads[object]}` : '';
      const label = h('span', { class: 'object-label' }, swatch, `object ${object}${head}`);
      return createCheckbox({
        id: `object-toggle-${object}`,
        label,
        ariaLabel: `Show object ${object}${head}`,
        checked: !this.hidden.has(object),
        onChange: (checked) => {
          if (checked) this.hidden.delete(object);
          else this.hidden.add(object);
          this.onChange(this.hiddenList());
        },
      });
    });
    replaceChildren(this.element, h('span', { class: 'control-label' }, 'Objects'), ...this.boxes.map((b) => b.element));
  }

  hiddenList(): number[] {
    return [...this.hidden].sort((a, b) => a - b);
  }

  /** visible[i] for objects 0..count-1. */
  visible(count: number): boolean[] {
    return Array.from({ length: count }, (_, i) => !this.hidden.has(i));
  }
}
