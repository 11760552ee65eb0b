// Redraw on a theme change. Canvases read VS Code's theme colours when they draw, so a colour theme switch (VS Code
// replaces the body's `vscode-light|dark|high-contrast` class and the `--vscode-*` variables on <html>) would leave
// them in the old colours: every canvas-drawing component registers its redraw here.

const listeners = new Set<() => void>();
let observer: MutationObserver | undefined;
let pending = false;
/** Bumped on every theme change (tests read it from <body data-theme-changes>). */
let changes = 0;

function notify(): void {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    changes++;
    document.body.dataset.themeChanges = String(changes);
    for (const listener of listeners) listener();
  });
}

/** Calls `redraw` (once per animation frame at most) after each theme change; returns an unsubscribe function. */
export function onThemeChange(redraw: () => void): () => void {
  listeners.add(redraw);
  if (!observer) {
    observer = new MutationObserver(notify);
    observer.observe(document.body, { attributes: true, attributeFilter: ['class', 'data-vscode-theme-kind', 'data-vscode-theme-id'] });
    observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
  }
  return () => listeners.delete(redraw);
}
