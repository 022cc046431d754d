import { describe, expect, it } from 'vitest';
import { DataFormatError } from '../src/errors.js';
import { checkData, parseData } from '../src/network/load.js';
import { validateData, type DataShape } from '../src/network/validate-data.js';

const shape = (interpretation: DataShape['interpretation']): DataShape => ({ nInputs: 2, nOutputs: 2, interpretation });
const codes = (value: unknown, interpretation: DataShape['interpretation'] = 'square') => validateData(value, shape(interpretation)).problems.map((p) => p.code);

describe('data validation', () => {
  it('accepts good data for each interpretation', () => {
    expect(codes({ inputs: [[0, 1]], targets: [[3, -2]] }, 'square')).toEqual([]);
    expect(codes({ inputs: [[0, 1]], targets: [[0.3, 1]] }, 'bernoulli')).toEqual([]);
    expect(codes({ inputs: [[0, 1]], targets: [[0.3, 0.7]] }, 'softmax')).toEqual([]);
    expect(codes({ inputs: [[0, 1]], targets: [[0, 1]] }, 'spherical')).toEqual([]);
  });
  it('not an object, or missing arrays', () => {
    expect(codes([])).toEqual(['data-shape']);
    expect(codes({ inputs: [[0, 1]] })).toEqual(['data-shape']);
  });
  it('no samples, and mismatched sample counts', () => {
    expect(codes({ inputs: [], targets: [] })).toContain('no-samples');
    expect(codes({ inputs: [[0, 1]], targets: [] })).toContain('sample-count');
  });
  it('wrong row lengths name the row and the expected width', () => {
    const { problems } = validateData({ inputs: [[0, 1], [1]], targets: [[0, 1], [1, 0]] }, shape('square'));
    expect(problems[0].message).toBe('inputs[1] has 1 values but the network has 2 input units');
  });
  it('non-finite numbers', () => {
    const { problems } = validateData({ inputs: [[0, null]], targets: [[0, 1]] }, shape('square'));
    expect(problems[0]).toMatchObject({ code: 'non-finite', path: '/inputs/0/1' });
  });
  it('Bernoulli targets outside [0,1]', () => {
    expect(codes({ inputs: [[0, 1]], targets: [[1.5, 0]] }, 'bernoulli')).toEqual(['bernoulli-target']);
    expect(codes({ inputs: [[0, 1]], targets: [[-0.1, 0]] }, 'bernoulli')).toEqual(['bernoulli-target']);
  });
  it('softmax and spherical targets that are not probability vectors', () => {
    expect(codes({ inputs: [[0, 1]], targets: [[0.5, 0.6]] }, 'softmax')).toEqual(['probability-target']);
    expect(codes({ inputs: [[0, 1]], targets: [[-0.5, 1.5]] }, 'spherical')).toEqual(['probability-target']);
  });
  it('caps repeated problems of one kind and counts the rest', () => {
    const rows = Array.from({ length: 12 }, () => [0]);
    const { problems } = validateData({ inputs: rows, targets: rows.map(() => [0, 0]) }, shape('square'));
    expect(problems).toHaveLength(6);
    expect(problems[5].message).toMatch(/and 7 more/);
  });
  it('throws a typed error naming the file', () => {
    expect(() => checkData({ inputs: [[0]], targets: [[0, 0]] }, shape('square'), 'd.json')).toThrow(DataFormatError);
    expect(() => parseData('{"inputs": [[0, 1]], "targets": [[0, 1]],}', shape('square'), 'd.json')).toThrow(/d\.json: error: invalid JSON.*line 1/);
  });
});
