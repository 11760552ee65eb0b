// The runs table's model in Node: rows built from the three fixture runs by the host's runsTableRow, columns
// (differing config keys, headline metrics), sorting, filtering, best per column, selection.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  allColumns,
  bestPerColumn,
  cellCaveat,
  cellText,
  configColumnId,
  defaultVisibleColumns,
  differingConfigKeys,
  filterRows,
  keepSelection,
  metricColumnId,
  selectionActions,
  sortRows,
  summaryText,
} from '../../webview/runsTable/tableModel';
import { evaluationMetrics, lossMetrics, runsTableRow } from '../../src/host/runsTable/rows';
import { fixtureRows } from './harness';

test('rows from the fixture runs: names, last and best loss with their steps, flattened config', () => {
  const rows = fixtureRows();
  assert.deepEqual(
    rows.map((r) => r.name),
    ['demo', 'dino-baseline', 'lr-x4'],
  );
  const lr = rows[2];
  const best = lr.metrics.find((m) => m.key === 'loss:best')!;
  const last = lr.metrics.find((m) => m.key === 'loss:last')!;
  assert.equal(last.step, 240);
  assert.ok(best.value <= last.value && best.step! < 240, `best ${best.value} at ${best.step}`);
  assert.equal(lr.config['training.lr'], '0.002');
  assert.equal(lr.config.name, undefined, 'the name is the Run column, not a config column');
  assert.deepEqual(lossMetrics([]), []);
});

test('columns: the differing config keys, headline metrics by default, evaluation metrics in the chooser', () => {
  const rows = fixtureRows({ evaluated: true });
  const differing = differingConfigKeys(rows);
  assert.ok(differing.includes('training.lr') && differing.includes('dora.tracker'), differing.join(', '));
  assert.ok(!differing.includes('model.embedDim'));
  const visible = defaultVisibleColumns(rows);
  assert.ok(visible.includes(metricColumnId('loss:best')));
  assert.ok(visible.includes(metricColumnId('knn:synthetic:top1@20')), 'k-NN top-1 at k=20 is a headline');
  assert.ok(!visible.includes(metricColumnId('knn:synthetic:top1@10')), 'other k are in the chooser');
  assert.ok(visible.includes(configColumnId('training.lr')));
  const columns = allColumns(rows);
  assert.ok(
    columns.some((c) => c.id === configColumnId('model.embedDim')),
    'equal keys can still be chosen',
  );
  assert.equal(
    cellText(
      rows[1],
      columns.find((c) => c.id === configColumnId('dora.tracker'))!,
    ),
    'false',
  );
});

test('sort by a metric (empty cells last in both directions), filter by terms, best per column', () => {
  const rows = fixtureRows({ evaluated: true });
  const columns = allColumns(rows);
  const best = sortRows(rows, columns, { column: metricColumnId('loss:best'), descending: false });
  const values = best.map((r) => r.metrics.find((m) => m.key === 'loss:best')!.value);
  assert.deepEqual(
    values,
    [...values].sort((a, b) => a - b),
  );
  const knn = sortRows(rows, columns, { column: metricColumnId('knn:synthetic:top1@20'), descending: true });
  assert.equal(knn[2].name, 'lr-x4', 'the run without an evaluation sorts last');
  assert.equal(sortRows(rows, columns, { column: metricColumnId('knn:synthetic:top1@20'), descending: false })[2].name, 'lr-x4');
  assert.deepEqual(
    sortRows(rows, columns, null).map((r) => r.name),
    ['demo', 'lr-x4', 'dino-baseline'],
    'unsorted: newest first',
  );
  const shown = columns.filter((c) => defaultVisibleColumns(rows).includes(c.id));
  assert.deepEqual(
    filterRows(rows, shown, 'FINISHED false').map((r) => r.name),
    ['dino-baseline'],
    'terms are ANDed over the shown cells (dora.tracker false)',
  );
  assert.equal(filterRows(rows, columns, '').length, 3);
  const marks = bestPerColumn(rows, columns);
  const lowest = rows.reduce((a, b) => (a.metrics[1].value < b.metrics[1].value ? a : b));
  assert.deepEqual([...marks.get(metricColumnId('loss:best'))!], [lowest.id]);
  assert.equal(marks.has(configColumnId('training.lr')), false, 'config columns have no best');
});

test('selection survives updates without the runs that went away; actions need what they need', () => {
  const rows = fixtureRows();
  assert.deepEqual(keepSelection([rows[0].id, '/gone', rows[2].id], rows), [rows[0].id, rows[2].id]);
  const live = rows.map((r, i) => (i === 0 ? { ...r, status: 'running' as const } : r));
  const actions = selectionActions(live, [rows[0].id, rows[1].id]);
  assert.equal(actions.plot, true);
  assert.equal(actions.compare, false, 'fixture runs have no checkpoints');
  assert.equal(actions.delete, false);
  assert.match(actions.reason ?? '', /demo is training/);
  const withCheckpoints = rows.map((r) => ({ ...r, hasCheckpoint: true }));
  assert.equal(selectionActions(withCheckpoints, [rows[1].id, rows[2].id]).compare, true);
  assert.equal(summaryText(2, 3, 1), '2 of 3 runs · 1 selected');
  assert.equal(summaryText(1, 1, 0), '1 run');
  assert.equal(runsTableRow({ dir: '/r/x', folder: 'x', status: 'starting', step: 0, metrics: [], hasCheckpoint: false }).name, 'x');
});

test('an evaluation metric with a caveat (too few scenes) reaches its runs-table cell as ⚠ and a reason', () => {
  const rows = fixtureRows({ evaluated: true });
  const caveat = 'only 2 scenes in the evaluated frames: …';
  const base = { group: 'k-NN · synthetic objects', unit: '%' as const, direction: 'higher' as const, time: 't', seconds: 1 };
  const metrics = evaluationMetrics({
    step: 8,
    metrics: [{ ...base, key: 'knn:synthetic:top1@20', label: 'top-1, k=20', value: 0, caveat }],
  });
  assert.equal(metrics[0].caveat, caveat);
  const row = { ...rows[0], metrics };
  const column = allColumns([row]).find((c) => c.id === metricColumnId('knn:synthetic:top1@20'))!;
  assert.equal(cellText(row, column), '0.0% ⚠');
  assert.equal(cellCaveat(row, column), caveat);
  const plain = allColumns(rows).find((c) => c.id === metricColumnId('knn:synthetic:top1@20'))!;
  const evaluated = rows.find((r) => r.metrics.some((m) => m.key === 'knn:synthetic:top1@20'))!;
  assert.doesNotMatch(cellText(evaluated, plain), /⚠/);
  assert.equal(cellCaveat(evaluated, plain), undefined);
});
