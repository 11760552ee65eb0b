// Section chrome shared by the views: a titled, collapsible-free panel with an optional toolbar.

import { h } from './dom';

export function panel(id: string, title: string, subtitle: string, ...content: (Node | null)[]): HTMLElement {
  const heading = h('h2', { id: `${id}-title`, class: 'panel-title' }, title);
  return h(
    'section',
    { id, class: 'panel', 'aria-labelledby': `${id}-title` },
    h('header', { class: 'panel-header' }, heading, h('span', { class: 'panel-subtitle' }, subtitle)),
    ...content,
  );
}

/** A labelled canvas tile (caption under the image). */
export function canvasTile(canvas: HTMLCanvasElement, caption: string | Node, extraClass = ''): HTMLElement {
  return h('figure', { class: `tile ${extraClass}`.trim() }, canvas, h('figcaption', {}, caption));
}
