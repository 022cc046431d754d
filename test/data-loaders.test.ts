import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { csvField, parseCsvRecords } from '../src/data/csv-parse.js';
import { loadDataFile } from '../src/data/load-data.js';
import { parseNpy } from '../src/data/npy.js';
import { DataFormatError, UsageError, type UnitwiseError } from '../src/errors.js';
import type { DataShape } from '../src/network/validate-data.js';
import { repoRoot } from './helpers/documents.js';

/** Writes a C-order .npy file, format 1.0, of a 2-D array (or 1-D when `columns` is undefined). */
function npyBytes(values: number[], rows: number, columns: number | undefined, descr: '<f8' | '<f4' | '<i4' | '>f8' = '<f8', fortran = false): Uint8Array {
  const shape = columns === undefined ? `(${rows},)` : `(${rows}, ${columns})`;
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${shape}, }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const size = descr === '<f4' || descr === '<i4' ? 4 : 8;
  const out = new Uint8Array(10 + header.length + values.length * size);
  out.set([0x93, ...Buffer.from('NUMPY'), 1, 0]);
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), 10);
  values.forEach((v, k) => {
    const at = 10 + header.length + k * size;
    if (descr === '<f8') view.setFloat64(at, v, true);
    else if (descr === '>f8') view.setFloat64(at, v, false);
    else if (descr === '<f4') view.setFloat32(at, v, true);
    else view.setInt32(at, v, true);
  });
  return out;
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'unitwise-data-'));
});
const file = (name: string, content: string | Uint8Array) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const softmax: DataShape = { nInputs: 2, nOutputs: 2, interpretation: 'softmax' };
const bernoulli: DataShape = { nInputs: 2, nOutputs: 2, interpretation: 'bernoulli' };
function thrown(f: () => unknown): UnitwiseError {
  try {
    f();
  } catch (err) {
    return err as UnitwiseError;
  }
  throw new Error('no error');
}

describe('CSV parser', () => {
  it('round-trips random tables written with RFC 4180 quoting (LF or CRLF, with or without a final line break)', () => {
    const cell = fc.string({ unit: fc.constantFrom('a', 'b', ' ', ',', '"', '\n', '\r\n', '1', '.', 'é'), maxLength: 6 });
    const table = fc.integer({ min: 1, max: 5 }).chain((w) => fc.array(fc.array(cell, { minLength: w, maxLength: w }), { minLength: 1, maxLength: 6 }));
    fc.assert(
      fc.property(table, fc.constantFrom('\n', '\r\n'), fc.boolean(), (rows, eol, final) => {
        // A record of one empty field is written as "" so that it is not a blank line.
        const text = rows.map((r) => r.map((c) => (r.length === 1 && c === '' ? '""' : csvField(c))).join(',')).join(eol) + (final ? eol : '');
        expect(parseCsvRecords(text)).toEqual(rows);
      }),
      { numRuns: 300 },
    );
  });

  it('names the row and line of syntax errors', () => {
    expect(thrown(() => parseCsvRecords('a,b\n1,"x\ny', 'f.csv')).message).toMatch(/^f\.csv: error: row 2 \(line 2\): a quoted field is not closed/);
    expect(thrown(() => parseCsvRecords('a,b\n1,x"y', 'f.csv')).message).toMatch(/row 2 .*double quote inside an unquoted field/);
    expect(thrown(() => parseCsvRecords('a,b\n"1"x,2', 'f.csv')).message).toMatch(/row 2 .*text after a closing double quote/);
  });
});

describe('.npy reader', () => {
  it('round-trips random float64 and float32 arrays (format 1.0)', () => {
    const arrays = fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 4 })).chain(([r, c]) =>
      fc.tuple(fc.constant(r), fc.constant(c), fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: r * c, maxLength: r * c })),
    );
    fc.assert(
      fc.property(arrays, ([rows, columns, values]) => {
        const a = parseNpy(npyBytes(values, rows, columns, '<f8'));
        expect(a.shape).toEqual([rows, columns]);
        expect(Array.from(a.data)).toEqual(values);
        const b = parseNpy(npyBytes(values, rows, columns, '<f4'));
        expect(Array.from(b.data)).toEqual(values.map((v) => Math.fround(v)));
      }),
      { numRuns: 200 },
    );
    expect(Array.from(parseNpy(npyBytes([3, -1], 2, undefined, '<i4')).data)).toEqual([3, -1]);
  });

  it('refuses Fortran order, other dtypes and cut files, naming the file', () => {
    const fortran = thrown(() => loadDataFile(file('f.npy', npyBytes([1, 2, 3, 4], 1, 4, '<f8', true)), bernoulli));
    expect(fortran).toBeInstanceOf(DataFormatError);
    expect(fortran.message).toMatch(/f\.npy: error: .*Fortran .*C order/);
    expect(thrown(() => loadDataFile(file('b.npy', npyBytes([1, 2, 3, 4], 1, 4, '>f8')), bernoulli)).message).toMatch(/b\.npy: error: element type >f8 is not supported/);
    const full = npyBytes([1, 2], 1, 2);
    expect(thrown(() => parseNpy(full.subarray(0, full.length - 3), 'c.npy')).message).toMatch(/c\.npy: error: the file holds 13 data bytes but shape \(1, 2\) of <f8 needs 16/);
    expect(thrown(() => parseNpy(full.subarray(0, 40), 'e.npy')).message).toMatch(/e\.npy: error: the \.npy header is cut short/);
    expect(thrown(() => parseNpy(new Uint8Array(20), 'd.npy')).message).toMatch(/not a NumPy \.npy file/);
  });

  it('reads inputs and targets from one array (last k columns) or two files', () => {
    const x = file('x.npy', npyBytes([0, 1, 1, 0], 2, 2));
    const y = file('y.npy', npyBytes([1, 0], 2, undefined, '<i4'));
    expect(loadDataFile(x, softmax, { targetsData: y })).toEqual({ inputs: [[0, 1], [1, 0]], targets: [[0, 1], [1, 0]] });
    const xy = file('xy.npy', npyBytes([0, 1, 1, 1, 0, 0], 2, 3));
    expect(loadDataFile(xy, softmax)).toEqual({ inputs: [[0, 1], [1, 0]], targets: [[0, 1], [1, 0]] });
    const bad = file('bad.npy', npyBytes([0, 1, 1, 1, 0, 2], 2, 3));
    expect(thrown(() => loadDataFile(bad, softmax)).message).toMatch(/bad\.npy: error: row index 1, column 2: class 2 is out of range; .* classes 0\.\.1/);
  });
});

describe('CSV data', () => {
  it('selects columns by name, index and range, and one-hot encodes classes and labels', () => {
    const path = file('t.csv', 'id,x1,x2,label,y1,y2\r\n7,0,1,cat,1,0\r\n8,"1",0,dog,0,1\r\n');
    expect(loadDataFile(path, bernoulli, { inputs: 'x1..x2', targets: '4,5' })).toEqual({ inputs: [[0, 1], [1, 0]], targets: [[1, 0], [0, 1]] });
    expect(loadDataFile(path, softmax, { inputs: '1..2', targets: 'label' })).toEqual({ inputs: [[0, 1], [1, 0]], targets: [[1, 0], [0, 1]] });
    expect(loadDataFile(file('c.csv', 'a,b,c\n0,1,1\n1,0,0\n'), softmax)).toEqual({ inputs: [[0, 1], [1, 0]], targets: [[0, 1], [1, 0]] });
  });

  it('names file, row and column in every error', () => {
    const non = thrown(() => loadDataFile(file('n.csv', 'x1,x2,y1,y2\n0,1,1,0\n0,abc,0,1\n'), bernoulli));
    expect(non).toBeInstanceOf(DataFormatError);
    expect(non.message).toBe('n.csv: error: row 3, column "x2": "abc" is not a finite number'.replace('n.csv', join(dir, 'n.csv')));
    expect(non.problems[0]).toMatchObject({ row: 3, column: 'x2' });
    expect(thrown(() => loadDataFile(file('r.csv', 'x1,x2,y1,y2\n0,1,1,0\n0,1,0\n'), bernoulli)).message).toMatch(/r\.csv: error: row 3 has 3 fields but the header has 4/);
    const unknown = thrown(() => loadDataFile(file('u.csv', 'x1,x2,y1,y2\n0,1,1,0\n'), bernoulli, { inputs: 'x1,x9' }));
    expect(unknown).toBeInstanceOf(UsageError);
    expect(unknown.message).toMatch(/u\.csv: error: --inputs "x1,x9": no column "x9"/);
    expect(thrown(() => loadDataFile(file('k.csv', 'x1,x2,k\n0,1,1\n0,1,5\n'), softmax)).message).toMatch(/k\.csv: error: row 3, column "k": class 5 is out of range/);
    expect(thrown(() => loadDataFile(file('l.csv', 'x1,x2,k\n0,1,a\n0,1,b\n1,1,c\n'), softmax)).message).toMatch(/column "k" has 3 distinct class labels \("a", "b", "c"\) but the network has 2 outputs/);
    expect(thrown(() => loadDataFile(file('v.csv', 'x1,x2,y1,y2\n0,1,1,0\n0,1,0,1.5\n'), bernoulli)).message).toMatch(/v\.csv: error: row 3, column "y2": targets\[1\]\[1\] is 1\.5; Bernoulli/);
    expect(thrown(() => loadDataFile(file('w.csv', 'x1,x2,x3,y1,y2\n0,1,1,1,0\n'), bernoulli, { targets: 'y1,y2' })).message).toMatch(/3 input column\(s\) are selected but the network has 2 input unit\(s\)/);
    expect(thrown(() => loadDataFile(join(repoRoot, 'networks/tiny-softmax.data.json'), softmax, { oneHot: true }))).toBeInstanceOf(UsageError);
  });
});

describe('CLI with CSV and .npy data', { timeout: 120_000 }, () => {
  const bin = join(repoRoot, 'bin/unitwise.js');
  const train = (net: string, ...data: string[]) => {
    const out = join(dir, `out-${Math.random().toString(36).slice(2)}.json`);
    const r = spawnSync(process.execPath, [bin, 'train', join(repoRoot, `networks/${net}.json`), '--data', ...data, '--method', 'unitwise-natural', '--iterations', '5', '--out', out, '--quiet'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return readFileSync(out, 'utf8');
  };
  for (const net of ['tiny-softmax', 'tiny-bernoulli']) {
    it(`trains ${net} from CSV and from .npy exactly as from JSON`, () => {
      const { inputs, targets } = JSON.parse(readFileSync(join(repoRoot, `networks/${net}.data.json`), 'utf8')) as { inputs: number[][]; targets: number[][] };
      const rows = inputs.map((x, s) => [...x, ...targets[s]]);
      const csv = file(`${net}.csv`, 'x1,x2,y1,y2\n' + rows.map((r) => r.join(',')).join('\n') + '\n');
      const x = file(`${net}-x.npy`, npyBytes(inputs.flat(), inputs.length, 2));
      const y = file(`${net}-y.npy`, npyBytes(targets.flat(), targets.length, 2));
      const fromJson = train(net, join(repoRoot, `networks/${net}.data.json`));
      expect(train(net, csv)).toBe(fromJson);
      expect(train(net, x, '--targets-data', y)).toBe(fromJson);
    });
  }
});
