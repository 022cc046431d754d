import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { ellProduct, ellRowDots } from '../src/backend/tfjs/ell-products.js';
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

describe('ellProduct and ellRowDots (padded-list products; fused kernels on tfjs cpu)', () => {
  it('cpu (fused) equals wasm (gather and batched product) and the sums written out', async () => {
    const results: number[][][] = [];
    for (const backend of ['cpu', 'wasm'] as const) {
      const runtime = await loadTfjs(backend);
      runtime.activate();
      const { tf } = runtime;
      const x = tf.tensor2d([1, 2, 3, -1, 0.5, 4, 0, 0], [4, 2]); // row 3: the zero padding row
      const lists = tf.tensor2d([0, 2, 3, 1, 1, 0], [2, 3], 'int32');
      const w = tf.tensor3d([2, -1, 0, 0.5, 3, 1], [2, 1, 3]);
      const y = tf.tensor2d([1, -2, 0.25, 2], [2, 2]);
      const product = ellProduct(tf, w, x, lists, 3);
      const [plain, squares] = ellRowDots(tf, x, lists, [{ y }, { y, square: true }]);
      expect(product.shape).toEqual([2, 2]);
      expect(plain.shape).toEqual([2, 3, 1]);
      results.push([product, plain, squares].map((t) => Array.from(t.dataSync())));
      tf.dispose([x, lists, w, y, product, plain, squares]);
    }
    // unit 0: 2·x0 - x2 = (2·1 - 0.5, 2·2 - 4); unit 1: 0.5·x1 + 3·x1 + x0 = (3.5·3 + 1, 3.5·(-1) + 2)
    expect(results[0][0]).toEqual([1.5, 0, 11.5, -1.5]);
    // unit 0, y = (1, -2): x0·y = -3, x2·y = -7.5, x3·y = 0; unit 1, y = (0.25, 2): x1·y = -1.25 twice, x0·y = 4.25
    expect(results[0][1]).toEqual([-3, -7.5, 0, -1.25, -1.25, 4.25]);
    expect(results[0][2]).toEqual([1 - 8, 0.25 - 32, 0, 2.25 + 2, 2.25 + 2, 0.25 + 8]);
    for (let k = 0; k < 3; k++) expect(results[1][k]).toEqual(results[0][k]);
  });
});
