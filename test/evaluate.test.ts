import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { accuracyOf, evaluateModel } from '../src/evaluate/evaluate.js';
import { createModel } from '../src/engine/model.js';
import { fileDigest, gitCommit, runHeader } from '../src/json/run-header.js';
import { reconcileLog, RunLog } from '../src/train/run-files.js';
import type { SavedRun } from '../src/train/state-file.js';
import { exampleData, exampleNetwork, repoRoot } from './helpers/documents.js';

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** The tiny networks by hand: h1 tanh, h2 sigmoid, outputs' pre-activations (same weights in both files). */
function tinyOutputs(x1: number, x2: number): [number, number] {
  const h1 = Math.tanh(0.1 + 0.8 * x1 - 0.5 * x2);
  const h2 = sigmoid(-0.2 + 1.2 * h1 + 0.3 * x2);
  return [0.05 + 0.9 * h2 - 0.7 * h1 + 0.4 * x1, -0.1 - 1.1 * h2 + 0.6 * x2];
}

describe('evaluateModel against hand computation', () => {
  it('softmax: cross-entropy per sample, argmax accuracy and confusion matrix', () => {
    const data = exampleData('tiny-softmax');
    const r = evaluateModel(createModel(exampleNetwork('tiny-softmax')), data);
    const expected = data.inputs.map(([x1, x2], s) => {
      const [a, b] = tinyOutputs(x1, x2);
      const z = Math.exp(a) + Math.exp(b);
      const p = [Math.exp(a) / z, Math.exp(b) / z];
      return { p, loss: -data.targets[s].reduce((sum, y, k) => sum + y * Math.log(p[k]), 0) };
    });
    expected.forEach((e, s) => {
      expect(r.probabilities[s][0]).toBeCloseTo(e.p[0], 12);
      expect(r.sampleLossNats[s]).toBeCloseTo(e.loss, 12);
      expect(r.sampleLossBits[s]).toBeCloseTo(e.loss / Math.LN2, 12);
    });
    expect(r.lossNats).toBeCloseTo(expected.reduce((a, e) => a + e.loss, 0) / 4, 12);
    expect(r.lossBits).toBeCloseTo(r.lossNats / Math.LN2, 12);
    // Predicted classes by hand, targets' argmax (ties: the first class).
    const predicted = expected.map((e) => (e.p[1] > e.p[0] ? 1 : 0));
    const actual = [0, 1, 0, 0];
    const confusion = [
      [0, 0],
      [0, 0],
    ];
    predicted.forEach((p, s) => confusion[actual[s]][p]++);
    expect(r.accuracy).toEqual({ kind: 'class', accuracy: predicted.filter((p, s) => p === actual[s]).length / 4, confusion });
  });

  it('Bernoulli: binary cross-entropy per sample, per-output and exact-match accuracy at 0.5', () => {
    const data = exampleData('tiny-bernoulli');
    const r = evaluateModel(createModel(exampleNetwork('tiny-bernoulli')), data);
    let agree = 0;
    let exact = 0;
    data.inputs.forEach(([x1, x2], s) => {
      const p = tinyOutputs(x1, x2).map(sigmoid);
      const loss = -p.reduce((sum, q, k) => sum + data.targets[s][k] * Math.log(q) + (1 - data.targets[s][k]) * Math.log(1 - q), 0);
      expect(r.sampleLossNats[s]).toBeCloseTo(loss, 12);
      expect(r.probabilities[s][1]).toBeCloseTo(p[1], 12);
      const ok = p.map((q, k) => q >= 0.5 === data.targets[s][k] >= 0.5);
      agree += ok.filter(Boolean).length;
      if (ok.every(Boolean)) exact++;
    });
    expect(r.accuracy).toEqual({ kind: 'bernoulli', perOutput: agree / 8, exactMatch: exact / 4 });
  });

  it('square: RMSE of the means; spherical: argmax', () => {
    expect(accuracyOf('square', [[1, 2], [0, 0]], [[1, 0], [0, 2]])).toEqual({ kind: 'square', rmse: Math.sqrt(8 / 4) });
    expect(accuracyOf('spherical', [[0.2, 0.8], [0.6, 0.4]], [[0, 1], [0, 1]])).toEqual({ kind: 'class', accuracy: 0.5, confusion: [[0, 0], [1, 1]] });
    const r = evaluateModel(createModel(exampleNetwork('tiny-square')), exampleData('tiny-square'));
    expect(r.accuracy.kind).toBe('square');
  });
});

describe('runHeader', () => {
  it('version, commit of the checkout, argv, seeds (undefined left out) and sha256 of the files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'unitwise-header-'));
    const file = join(dir, 'a.txt');
    writeFileSync(file, 'abc');
    const h = runHeader({ argv: ['train', 'x'], files: [file, join(dir, 'missing')], seeds: { seed: 3, other: undefined } });
    expect(h.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(h.argv).toEqual(['train', 'x']);
    expect(h.seeds).toEqual({ seed: 3 });
    expect(h.files[file]).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(h.files[join(dir, 'missing')]).toBeNull();
    expect(fileDigest(file)).toBe(h.files[file]);
    expect(gitCommit(dir)).toBeNull();
    expect(gitCommit(repoRoot)).toMatch(/^[0-9a-f]{40}$/);
  });
});

describe('train log header and resume', () => {
  it('a fresh log starts with the header; reconcileLog counts iterations after it, and still reads logs without one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'unitwise-log-'));
    const path = join(dir, 'a.jsonl');
    const log = RunLog.fresh(path, runHeader({ argv: ['train'] }));
    for (let i = 1; i <= 3; i++) log.add({ iteration: i, elapsed: 0, loss: 1, lossBefore: 1, lr: 0.1, accepted: true });
    log.flush();
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(JSON.parse(lines[0]).header.argv).toEqual(['train']);
    const saved = { state: { iteration: 2 }, budget: {}, log: path } as unknown as SavedRun;
    expect(reconcileLog(saved, path, 's.json')).toMatch(/dropped 1 record past iteration 2/);
    expect(readFileSync(path, 'utf8').trim().split('\n')).toEqual(lines.slice(0, 3));
    const old = join(dir, 'old.jsonl');
    writeFileSync(old, lines.slice(1, 3).join('\n') + '\n');
    expect(reconcileLog({ ...saved, log: old }, old, 's.json')).toBeUndefined();
    writeFileSync(old, lines[0] + '\n' + lines[2] + '\n');
    expect(() => reconcileLog({ ...saved, log: old }, old, 's.json')).toThrow(/line 2 records iteration 2, expected 1/);
  });
});
