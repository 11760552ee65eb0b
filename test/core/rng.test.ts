import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng';

function draws(rng: Rng, n: number): number[] {
  return Array.from({ length: n }, () => rng.nextUint32());
}

describe('Rng', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    assert.deepEqual(draws(new Rng(42), 50), draws(new Rng(42), 50));
    assert.deepEqual(draws(new Rng('run-a'), 50), draws(new Rng('run-a'), 50));
    assert.notDeepEqual(draws(new Rng(42), 50), draws(new Rng(43), 50));
    assert.notDeepEqual(draws(new Rng(1), 50), draws(new Rng(2 ** 32 + 1), 50));
  });

  it('round-trips its state mid-stream through JSON with an identical continuation', () => {
    const rng = new Rng(7);
    for (let i = 0; i < 1234; i++) rng.next();
    const saved = JSON.parse(JSON.stringify(rng.getState()));
    const expected = [rng.next(), rng.int(0, 10), rng.normal(), rng.uniform(-1, 1), ...rng.sample(3, 6)];
    const resumed = Rng.fromState(saved);
    const got = [resumed.next(), resumed.int(0, 10), resumed.normal(), resumed.uniform(-1, 1), ...resumed.sample(3, 6)];
    assert.deepEqual(got, expected);
    const other = new Rng(0);
    other.setState(saved);
    assert.equal(other.nextUint32(), Rng.fromState(saved).nextUint32());
  });

  it('rejects a malformed state', () => {
    assert.throws(() => new Rng().setState({ algorithm: 'sfc32', words: [1, 2, 3] } as never), /Invalid Rng state/);
    assert.throws(() => new Rng().setState({ algorithm: 'sfc32', words: [1, 2, 3, -1] }), /Invalid Rng state/);
  });

  it('next() is roughly uniform on [0, 1)', () => {
    const rng = new Rng(1);
    const bins = new Array<number>(10).fill(0);
    const n = 100000;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const x = rng.next();
      assert.ok(x >= 0 && x < 1);
      bins[Math.floor(x * 10)]++;
      sum += x;
    }
    // Chi-square with 9 degrees of freedom; 27.9 is the 0.001 critical value.
    const chi2 = bins.reduce((acc, b) => acc + (b - n / 10) ** 2 / (n / 10), 0);
    assert.ok(chi2 < 27.9, `chi2 ${chi2}`);
    assert.ok(Math.abs(sum / n - 0.5) < 0.01);
  });

  it('int() covers [lo, hi) evenly and uniform() stays in range', () => {
    const rng = new Rng(3);
    const counts = new Map<number, number>();
    for (let i = 0; i < 60000; i++) {
      const v = rng.int(-2, 4);
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    assert.deepEqual(
      [...counts.keys()].sort((a, b) => a - b),
      [-2, -1, 0, 1, 2, 3],
    );
    for (const c of counts.values()) assert.ok(Math.abs(c - 10000) < 500, `count ${c}`);
    for (let i = 0; i < 1000; i++) {
      const u = rng.uniform(0.6, 1.4);
      assert.ok(u >= 0.6 && u < 1.4);
    }
    assert.throws(() => rng.int(3, 3), /low < highExclusive/);
  });

  it('normal() has mean 0 and variance 1', () => {
    const rng = new Rng(5);
    const n = 50000;
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < n; i++) {
      const x = rng.normal();
      sum += x;
      sumSq += x * x;
    }
    assert.ok(Math.abs(sum / n) < 0.03);
    assert.ok(Math.abs(sumSq / n - 1) < 0.03);
  });

  it('shuffle() permutes and sample() gives k distinct values uniformly', () => {
    const rng = new Rng(9);
    const arr = rng.shuffle(Array.from({ length: 100 }, (_, i) => i));
    assert.deepEqual(
      [...arr].sort((a, b) => a - b),
      Array.from({ length: 100 }, (_, i) => i),
    );
    const hits = new Array<number>(6).fill(0);
    for (let i = 0; i < 6000; i++) {
      const heads = rng.sample(3, 6);
      assert.equal(new Set(heads).size, 3);
      for (const h of heads) hits[h]++;
    }
    for (const h of hits) assert.ok(Math.abs(h - 3000) < 200, `head hits ${h}`);
    assert.throws(() => rng.sample(7, 6), /0 <= k <= n/);
  });

  it('fork() is deterministic, label-dependent and does not advance the parent', () => {
    const parent = new Rng(11);
    const before = parent.getState();
    const a1 = draws(parent.fork('augment'), 20);
    assert.deepEqual(parent.getState(), before);
    assert.deepEqual(draws(new Rng(11).fork('augment'), 20), a1);
    assert.notDeepEqual(draws(parent.fork('tracker'), 20), a1);
    assert.notDeepEqual(draws(new Rng(11), 20), a1);
  });
});
