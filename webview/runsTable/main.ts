// "DoRA: Show Runs Table" webview: every run of the runs folders as a row (status, steps, last/best loss, the newest
// evaluation's numbers, the config keys that differ), sortable by any column, filterable, with a column chooser,
// the best value per metric column marked, and a selection to plot, compare or delete. The host re-sends the rows
// whenever the runs folders change (live); sort, filter, columns and selection are this view's state.

import './runsTable.css';
import {
  EMPTY_RUNS_TABLE_STATE,
  isHostToRunsTableMessage,
  type HostToRunsTableMessage,
  type RunsTableAction,
  type RunsTableRow,
  type RunsTableState,
  type RunsTableToHostMessage,
} from '../../src/core/experimentMessages';
import { listenToHost } from '../shared/dispatch';
import { emptyState, h, replaceChildren } from '../shared/dom';
import { createBridge } from '../shared/vscodeApi';
import { createBadge, createButton, registerToolkit, type ButtonHandle } from '../ui/toolkit';
import {
  allColumns,
  bestPerColumn,
  cellCaveat,
  cellText,
  defaultVisibleColumns,
  filterRows,
  keepSelection,
  selectionActions,
  sortRows,
  summaryText,
  type Column,
  type SortSpec,
} from './tableModel';

interface PersistedTable {
  sort: SortSpec | null;
  filter: string;
  /** Column ids shown; null until the user picks (then the defaults follow the data). */
  columns: string[] | null;
  selected: string[];
}

registerToolkit();
const bridge = createBridge<RunsTableToHostMessage, PersistedTable>({ sort: null, filter: '', columns: null, selected: [] });
const persisted = bridge.loadState();
if (persisted.sort && (typeof persisted.sort.column !== 'string' || typeof persisted.sort.descending !== 'boolean')) persisted.sort = null;
persisted.selected = persisted.selected.filter((id) => typeof id === 'string');
persisted.columns = persisted.columns?.filter((id) => typeof id === 'string') ?? null;
const save = (): void => bridge.saveState(persisted);

const model: RunsTableState = { ...EMPTY_RUNS_TABLE_STATE, rows: [], folders: [] };

// --- layout -------------------------------------------------------------------------------------

const countBadge = createBadge('0 runs');
const errorBanner = h('div', { class: 'error-banner', role: 'alert', hidden: true });
const filterInput = h('input', {
  id: 'runs-filter',
  type: 'search',
  placeholder: 'Filter runs (name, status, config values…)',
  'aria-label': 'Filter runs',
  value: persisted.filter,
});
filterInput.addEventListener('input', () => {
  persisted.filter = filterInput.value;
  save();
  render();
});
const act = (action: RunsTableAction) => () => bridge.post({ type: 'action', action, runs: [...persisted.selected] });
const buttons: Record<'plot' | 'compare' | 'delete', ButtonHandle> = {
  plot: createButton({
    id: 'action-plot',
    label: 'Plot',
    title: 'Overlay the selected runs in one chart (DoRA: Plot Runs)',
    appearance: 'primary',
    onClick: act('plot'),
  }),
  compare: createButton({
    id: 'action-compare',
    label: 'Compare',
    title: 'Compare the newest checkpoint of each selected run',
    onClick: act('compare'),
  }),
  delete: createButton({
    id: 'action-delete',
    label: 'Delete…',
    title: 'Delete the selected run folders (asks first)',
    onClick: act('delete'),
  }),
};
const columnsButton = createButton({
  id: 'choose-columns',
  label: 'Columns…',
  title: 'Choose the columns',
  onClick: () => (chooser.hidden = !chooser.hidden),
});
const actionHint = h('span', { class: 'action-hint', role: 'status' });
const chooser = h('div', { class: 'column-chooser', id: 'column-chooser', role: 'group', 'aria-label': 'Columns shown', hidden: true });
const table = h('table', { class: 'data-table runs-table', id: 'runs-table', 'aria-label': 'Runs' });
const empty = h('div', { class: 'runs-empty' });
document.body.append(
  h(
    'main',
    { class: 'runs-table-view' },
    h(
      'header',
      { class: 'plots-header' },
      h('h1', { class: 'run-name' }, 'Runs'),
      countBadge,
      h('span', { class: 'best-legend muted' }, '◆ best value of a column'),
    ),
    errorBanner,
    h(
      'div',
      { class: 'toolbar', role: 'toolbar', 'aria-label': 'Runs table controls' },
      filterInput,
      columnsButton.element,
      buttons.plot.element,
      buttons.compare.element,
      buttons.delete.element,
      actionHint,
    ),
    chooser,
    empty,
    h('div', { class: 'table-scroll' }, table),
  ),
);

// --- rendering ----------------------------------------------------------------------------------

function visibleColumns(columns: readonly Column[]): Column[] {
  const ids = persisted.columns ?? defaultVisibleColumns(model.rows);
  return columns.filter((c) => ids.includes(c.id));
}

function renderChooser(columns: readonly Column[]): void {
  const shown = new Set(visibleColumns(columns).map((c) => c.id));
  const groups: [string, Column[]][] = [
    ['Run', columns.filter((c) => c.group === 'run')],
    ['Metrics', columns.filter((c) => c.group === 'metric')],
    ['Config', columns.filter((c) => c.group === 'config')],
  ];
  replaceChildren(
    chooser,
    ...groups
      .filter(([, list]) => list.length > 0)
      .map(([name, list]) =>
        h(
          'fieldset',
          {},
          h('legend', {}, name),
          ...list.map((column) => {
            const box = h('input', { type: 'checkbox', id: `column-${column.id}`, checked: shown.has(column.id) });
            box.addEventListener('change', () => {
              const ids = visibleColumns(columns).map((c) => c.id);
              persisted.columns = box.checked ? [...ids, column.id] : ids.filter((id) => id !== column.id);
              save();
              render();
            });
            return h('label', { title: column.title }, box, column.label);
          }),
        ),
      ),
  );
}

function headerCell(column: Column, sort: SortSpec | null): HTMLElement {
  const active = sort?.column === column.id;
  const button = h(
    'button',
    { class: 'sort-button', type: 'button', title: `${column.title}. Click to sort.`, 'data-column': column.id },
    column.label,
    active ? (sort!.descending ? ' ▼' : ' ▲') : '',
  );
  button.addEventListener('click', () => {
    persisted.sort = active
      ? { column: column.id, descending: !sort!.descending }
      : { column: column.id, descending: column.group === 'metric' ? column.direction === 'higher' : false };
    save();
    render();
  });
  return h(
    'th',
    { scope: 'col', class: column.numeric ? 'num' : '', 'aria-sort': active ? (sort!.descending ? 'descending' : 'ascending') : 'none' },
    button,
  );
}

function toggleSelected(id: string, on: boolean): void {
  persisted.selected = on ? [...new Set([...persisted.selected, id])] : persisted.selected.filter((s) => s !== id);
  save();
  render();
}

function bodyRow(row: RunsTableRow, columns: readonly Column[], best: Map<string, Set<string>>): HTMLElement {
  const selected = persisted.selected.includes(row.id);
  const box = h('input', { type: 'checkbox', class: 'row-select', checked: selected, 'aria-label': `Select ${row.name}` });
  box.addEventListener('change', () => toggleSelected(row.id, box.checked));
  const cells = columns.map((column) => {
    const isBest = best.get(column.id)?.has(row.id) ?? false;
    const caveat = cellCaveat(row, column);
    const td = h('td', {
      class: [column.numeric ? 'num' : '', isBest ? 'best' : '', caveat ? 'caveat' : ''].filter(Boolean).join(' '),
      'data-column': column.id,
      title: [isBest ? 'best value of this column' : '', caveat ? `⚠ ${caveat}` : ''].filter(Boolean).join('\n') || null,
    });
    if (column.id === 'starred') {
      const star = h(
        'button',
        {
          type: 'button',
          class: row.starred ? 'star starred' : 'star',
          'aria-pressed': row.starred,
          'aria-label': row.starred ? `Unstar ${row.name}` : `Star ${row.name}`,
          title: row.starred ? 'Unstar' : 'Star',
        },
        row.starred ? '★' : '☆',
      );
      star.addEventListener('click', () => bridge.post({ type: 'action', action: row.starred ? 'unstar' : 'star', runs: [row.id] }));
      td.append(star);
    } else if (column.id === 'name') {
      const open = h('button', { type: 'button', class: 'link', title: `Open the dashboard of ${row.folder}` }, row.name);
      open.addEventListener('click', () => bridge.post({ type: 'action', action: 'open', runs: [row.id] }));
      td.append(open, row.name !== row.folder ? h('div', { class: 'folder muted' }, row.folder) : '');
    } else if (column.id === 'status') td.append(h('span', { class: `status-pill status-${row.status}` }, row.status));
    else td.textContent = cellText(row, column);
    return td;
  });
  return h(
    'tr',
    { 'data-run': row.id, class: selected ? 'selected' : '', 'aria-selected': selected },
    h('td', { class: 'select' }, box),
    ...cells,
  );
}

function render(): void {
  const columns = allColumns(model.rows);
  const shownColumns = visibleColumns(columns);
  const rows = sortRows(filterRows(model.rows, shownColumns, persisted.filter), columns, persisted.sort);
  persisted.selected = keepSelection(persisted.selected, model.rows);
  const best = bestPerColumn(rows, shownColumns);
  const allBox = h('input', {
    type: 'checkbox',
    id: 'select-all',
    'aria-label': 'Select all shown runs',
    checked: rows.length > 0 && rows.every((r) => persisted.selected.includes(r.id)),
  });
  allBox.addEventListener('change', () => {
    const ids = rows.map((r) => r.id);
    persisted.selected = allBox.checked
      ? [...new Set([...persisted.selected, ...ids])]
      : persisted.selected.filter((id) => !ids.includes(id));
    save();
    render();
  });
  replaceChildren(
    table,
    h(
      'thead',
      {},
      h('tr', {}, h('th', { scope: 'col', class: 'select' }, allBox), ...shownColumns.map((c) => headerCell(c, persisted.sort))),
    ),
    h('tbody', {}, ...rows.map((row) => bodyRow(row, shownColumns, best))),
  );
  const possible = selectionActions(model.rows, persisted.selected);
  buttons.plot.setDisabled(!possible.plot);
  buttons.compare.setDisabled(!possible.compare);
  buttons.delete.setDisabled(!possible.delete);
  actionHint.textContent =
    possible.reason ?? (persisted.selected.length > 0 && !possible.compare ? 'Compare needs two selected runs with a checkpoint' : '');
  countBadge.textContent = summaryText(rows.length, model.rows.length, persisted.selected.length);
  empty.hidden = model.rows.length > 0;
  if (model.rows.length === 0)
    replaceChildren(
      empty,
      emptyState(
        'No runs yet',
        model.folders.length
          ? `Runs appear here as soon as they are created in ${model.folders.join(', ')}.`
          : 'Open a folder with a *.dora.json config, or run “DoRA: Start Demo Run”.',
      ),
    );
  if (!chooser.hidden || chooser.childElementCount === 0) renderChooser(columns);
  Object.assign(document.body.dataset, { rows: String(rows.length), selected: String(persisted.selected.length) });
}

listenToHost(isHostToRunsTableMessage, (message: HostToRunsTableMessage) => {
  const { rows, folders, error } = message.data;
  if (rows !== undefined) model.rows = rows;
  if (folders !== undefined) model.folders = folders;
  if (error !== undefined) {
    model.error = error;
    errorBanner.hidden = !error;
    errorBanner.textContent = error ?? '';
  }
  render();
});

columnsButton.element.addEventListener('click', () => renderChooser(allColumns(model.rows)));
render();
bridge.post({ type: 'ready' });
