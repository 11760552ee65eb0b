// The ONLY module that touches @vscode/webview-ui-toolkit. The toolkit is archived upstream
// (deprecated 2025-01), so views build controls through these factories and never name a vscode-*
// tag themselves: swapping to @vscode-elements (or native controls) means rewriting this file only.

import {
  provideVSCodeDesignSystem,
  vsCodeButton,
  vsCodeCheckbox,
  vsCodeDropdown,
  vsCodeOption,
  vsCodeProgressRing,
} from '@vscode/webview-ui-toolkit';

let registered = false;

/** Registers the custom elements once per page. */
export function registerToolkit(): void {
  if (registered) return;
  registered = true;
  provideVSCodeDesignSystem().register(vsCodeButton(), vsCodeCheckbox(), vsCodeDropdown(), vsCodeOption(), vsCodeProgressRing());
}

export interface ButtonOptions {
  label: string;
  /** Accessible name when the label is a glyph. */
  ariaLabel?: string;
  title?: string;
  appearance?: 'primary' | 'secondary' | 'icon';
  id?: string;
  onClick: () => void;
}

export interface ButtonHandle {
  element: HTMLElement;
  setLabel(label: string, ariaLabel?: string): void;
  setDisabled(disabled: boolean): void;
}

export function createButton(options: ButtonOptions): ButtonHandle {
  registerToolkit();
  const element = document.createElement('vscode-button');
  element.setAttribute('appearance', options.appearance ?? 'secondary');
  if (options.id) element.id = options.id;
  if (options.title) element.title = options.title;
  const handle: ButtonHandle = {
    element,
    setLabel(label, ariaLabel) {
      element.textContent = label;
      if (ariaLabel) element.setAttribute('aria-label', ariaLabel);
    },
    setDisabled(disabled) {
      element.toggleAttribute('disabled', disabled);
    },
  };
  handle.setLabel(options.label, options.ariaLabel);
  element.addEventListener('click', () => {
    if (!element.hasAttribute('disabled')) options.onClick();
  });
  return handle;
}

export interface CheckboxOptions {
  label: string | Node;
  checked: boolean;
  ariaLabel?: string;
  id?: string;
  onChange: (checked: boolean) => void;
}

export interface CheckboxHandle {
  element: HTMLElement;
  setChecked(checked: boolean): void;
  isChecked(): boolean;
}

type CheckedElement = HTMLElement & { checked: boolean };

export function createCheckbox(options: CheckboxOptions): CheckboxHandle {
  registerToolkit();
  const element = document.createElement('vscode-checkbox') as CheckedElement;
  if (options.id) element.id = options.id;
  if (options.ariaLabel) element.setAttribute('aria-label', options.ariaLabel);
  element.append(options.label);
  element.checked = options.checked;
  element.toggleAttribute('checked', options.checked);
  let silent = false;
  element.addEventListener('change', () => {
    if (!silent) options.onChange(element.checked);
  });
  return {
    element,
    setChecked(checked) {
      if (element.checked === checked) return;
      silent = true;
      element.checked = checked;
      silent = false;
    },
    isChecked: () => element.checked,
  };
}

export interface DropdownOption {
  value: string;
  label: string;
}

export interface DropdownOptions {
  options: DropdownOption[];
  value: string;
  ariaLabel: string;
  id?: string;
  onChange: (value: string) => void;
}

export interface DropdownHandle {
  element: HTMLElement;
  /** Replaces the options (only when they changed, so an open list is not disturbed by live updates). */
  setOptions(options: DropdownOption[], value: string): void;
  setValue(value: string): void;
  value(): string;
}

type ValueElement = HTMLElement & { value: string };

export function createDropdown(options: DropdownOptions): DropdownHandle {
  registerToolkit();
  const element = document.createElement('vscode-dropdown') as ValueElement;
  if (options.id) element.id = options.id;
  element.setAttribute('aria-label', options.ariaLabel);
  element.setAttribute('position', 'below');
  let signature = '';
  let current = options.value;
  let silent = false;
  const setValue = (value: string): void => {
    current = value;
    silent = true;
    element.value = value;
    for (const option of Array.from(element.children)) option.toggleAttribute('selected', (option as ValueElement).value === value);
    silent = false;
  };
  const setOptions = (list: DropdownOption[], value: string): void => {
    const next = JSON.stringify(list);
    if (next !== signature) {
      signature = next;
      element.replaceChildren(
        ...list.map((entry) => {
          const option = document.createElement('vscode-option') as ValueElement;
          option.value = entry.value;
          option.setAttribute('value', entry.value);
          option.textContent = entry.label;
          return option;
        }),
      );
    }
    setValue(value);
  };
  element.addEventListener('change', () => {
    if (silent || element.value === current) return;
    current = element.value;
    options.onChange(current);
  });
  setOptions(options.options, options.value);
  return { element, setOptions, setValue, value: () => current };
}

/**
 * A small count/status pill. Plain HTML on purpose: the toolkit's badge/tag template writes a
 * `style` attribute, which the webview CSP (no 'unsafe-inline') refuses.
 */
export function createBadge(text: string, ariaLabel?: string): HTMLElement {
  const element = document.createElement('span');
  element.className = 'ui-badge';
  element.textContent = text;
  if (ariaLabel) element.setAttribute('aria-label', ariaLabel);
  return element;
}

export function createProgressRing(label: string): HTMLElement {
  registerToolkit();
  const element = document.createElement('vscode-progress-ring');
  element.setAttribute('aria-label', label);
  return element;
}
