import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { gatherRows } from '../src/backend/tfjs/gather.js';
import { loadTfjs } from '../src/backend/tfjs/tf.js';

describe('gatherRows (the tfjs engine row gather)', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    it(`${backend}: equals tf.gather on rows, elements and int32 data, with repeated and padding indices`, async () => {
      const runtime = await loadTfjs(backend);
      runtime.activate();
      const { tf } = runtime;
      const x = tf.tensor2d(Array.from({ length: 5 * 3 }, (_, i) => i * 0.5 - 2), [5, 3]);
      const rows = tf.tensor2d([4, 0, 0, 2, 1, 4], [3, 2], 'int32');
      const got = gatherRows(tf, x, rows);
      expect(got.shape).toEqual([3, 2, 3]);
      expect(Array.from(got.dataSync())).toEqual(Array.from(tf.gather(x, rows).dataSync()));
      const flat = tf.tensor1d([7, -1, 3], 'int32');
      expect(Array.from(gatherRows(tf, flat, tf.tensor3d([2, 2, 0, 1], [2, 1, 2], 'int32')).dataSync())).toEqual([3, 3, 7, -1]);
      expect(gatherRows(tf, x, tf.tensor1d([], 'int32')).shape).toEqual([0, 3]);
      tf.dispose([x, rows, got, flat]);
    });
  }

  it('cpu: refuses an index outside the rows with a typed error', async () => {
    const runtime = await loadTfjs('cpu');
    runtime.activate();
    const { tf } = runtime;
    const x = tf.zeros([4, 2]);
    expect(() => gatherRows(tf, x, tf.tensor1d([1, 4], 'int32'))).toThrow(UsageError);
    expect(() => gatherRows(tf, x, tf.tensor1d([-1], 'int32'))).toThrow(/outside the 4 rows/);
    tf.dispose(x);
  });
});
