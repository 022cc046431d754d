import { UsageError, problem } from '../../errors.js';
import type { DeviceBuffer } from '../engine.js';
import type { KroneckerGridGroup, KroneckerGridPlan, KroneckerKernels } from '../kronecker-kernels.js';
import type { WebgpuBuffer } from './webgpu-memory.js';
import type { WebgpuEngine } from './webgpu-engine.js';
import { dampedCholeskyKernel, GRID_TABLE_WIDTH } from './wgsl-kronecker.js';
import { gridColumnsKernel, gridRowsKernel } from './wgsl-kronecker-triangular.js';
import { gridGatherKernel, gridLeftKernel, gridRightKernel, inverseProductKernel, STRIP, triangularInverseKernel } from './wgsl-kronecker-solve.js';

/** The two designs of the grid solves: explicit inverses (`wgsl-kronecker-solve.ts`) or triangular solves (`wgsl-kronecker-triangular.ts`). */
export type KroneckerDesign = 'inverses' | 'triangular';

/**
 * A grid plan with its device tables: the grid table, the parameter map, the gathered R and
 * the work grid, the per-factor flags and (made at the first factorisation, the length of the
 * factors) the L⁻¹ of the factors; whether its solves go through explicit inverses; thread
 * counts of the kernels (factor columns, strips of the inverse products, grid entries, strips of
 * the grid products; grid columns and grid rows for the triangular solves).
 */
interface WebgpuGridPlan extends KroneckerGridPlan {
  readonly aLength: number;
  readonly table: WebgpuBuffer;
  readonly map: WebgpuBuffer;
  readonly gathered: WebgpuBuffer;
  readonly work: WebgpuBuffer;
  readonly flags: WebgpuBuffer;
  lowerInverse?: WebgpuBuffer;
  readonly inverses: boolean;
  readonly columns: number;
  readonly products: number;
  readonly cells: number;
  readonly strips: number;
  readonly gridColumns: number;
  readonly gridRows: number;
}

/**
 * The Kronecker device kernels of the WebGPU engine (`wgsl-kronecker.ts`): per plan, the tables
 * are uploaded once. A plan whose factors are all at most {@link inverseLimit} wide, with an
 * inverse period of at least {@link inversePeriod}, solves through explicit inverses: a factorisation costs three launches (the damped Cholesky, a
 * workgroup per factor; L⁻¹; the inverses A'⁻¹, G'⁻¹ into `factors`) and one number read back
 * (the first failing factor), a solve three launches (gather R, W = A'⁻¹R, D = WG'⁻¹) and no
 * transfer. A plan with a wider factor keeps the Cholesky factors in `factors` and solves by
 * triangular solves (two launches: by grid column, then by grid row).
 */
export class WebgpuKronecker implements KroneckerKernels {
  /**
   * The widest factor (n or m) of a plan solved through explicit inverses when the inverse
   * period is at least {@link inversePeriod}; otherwise triangular solves.
   *
   * NOTE (the rule, measured on llvmpipe only: 2 shared cores, load 4.6-7; no GPU was measured):
   * per plan, kernels alone (factorise / solve, ms, triangular → inverses): 100-50-20-10
   * 4.1 / 3.8 → 6.5 / 2.6; 256-128-64-10 32.6 / 74.4 → 93.3 / 38.9; 784-300-100-10
   * 165 / 586 → 1051 / 850. Up to n = 257 the solves take half the time and the refresh (L⁻¹
   * and L⁻ᵀL⁻¹ on top of the Cholesky) about 2-3× as long, so the inverses pay from an inverse
   * period of 2 (refresh cost spread over the solves); at n = 785 both are slower (the products
   * re-read A'⁻¹ and R past the caches). End to end (`npm run bench -- --kronecker-device`,
   * experiments/kronecker-device/) the designs are within the load's noise at ≤ 257 and the
   * triangular solves win at 785 (kflr 1.14 s vs 1.70 s per iteration, inverses every 10). The
   * limit lies between the measured widths; on a GPU the n·m-thread products should win at
   * every size (unmeasured).
   */
  inverseLimit = 512;
  /** The least inverse period at which a plan within {@link inverseLimit} solves through explicit inverses. */
  inversePeriod = 2;
  /** Forces a design on the plans made from now on (benchmarks and tests); undefined: by the rule above. */
  design: KroneckerDesign | undefined;
  private readonly plans = new WeakMap<KroneckerGridPlan, WebgpuGridPlan>();

  constructor(private readonly engine: WebgpuEngine) {}

  gridPlan(groups: readonly KroneckerGridGroup[], aLength: number, inverseEvery = 1): KroneckerGridPlan {
    const { engine } = this;
    const table = new Int32Array(Math.max(1, groups.length) * GRID_TABLE_WIDTH);
    let [cells, columns, products, strips, gridColumns, gridRows, widest] = [0, 0, 0, 0, 0, 0, 0];
    const rowStrips = (rows: number) => Math.ceil(rows / STRIP);
    groups.forEach((g, j) => {
      if (g.params.length !== g.n * g.m || g.aOffset + g.n * g.n > aLength) throw new UsageError([problem('engine', `Kronecker grid ${j}: ${g.params.length} parameters for a ${g.n} × ${g.m} grid`)]);
      table.set([g.aOffset, g.gOffset, g.n, g.m, cells, columns, products, strips, gridColumns, gridRows], j * GRID_TABLE_WIDTH);
      cells += g.n * g.m;
      columns += g.n + g.m;
      products += rowStrips(g.n) * g.n + rowStrips(g.m) * g.m;
      strips += rowStrips(g.n) * g.m;
      gridColumns += g.m;
      gridRows += g.n;
      widest = Math.max(widest, g.n, g.m);
    });
    const map = new Int32Array(Math.max(1, cells));
    groups.forEach((g, j) => {
      for (const p of g.params) if (!(p >= 0 && p < engine.net.nParams)) throw new UsageError([problem('engine', `Kronecker grid ${j}: parameter ${p} is not one of the network's ${engine.net.nParams}`)]);
      map.set(g.params, table[j * GRID_TABLE_WIDTH + 4]);
    });
    const plan: WebgpuGridPlan = {
      groups,
      aLength,
      table: engine.constant(table),
      map: engine.constant(map),
      gathered: engine.alloc(Math.max(1, cells)) as WebgpuBuffer,
      work: engine.alloc(Math.max(1, cells)) as WebgpuBuffer,
      flags: engine.alloc(Math.max(1, 2 * groups.length)) as WebgpuBuffer,
      inverses: this.designFor(widest, inverseEvery) === 'inverses',
      columns,
      products,
      cells,
      strips,
      gridColumns,
      gridRows,
    };
    this.plans.set(plan, plan);
    return plan;
  }

  /** The design of a plan whose widest factor is `widest` wide, at inverse period `inverseEvery` ({@link design}, or the rule). */
  designFor(widest: number, inverseEvery: number): KroneckerDesign {
    return this.design ?? (widest <= this.inverseLimit && inverseEvery >= this.inversePeriod ? 'inverses' : 'triangular');
  }

  factorise(plan: KroneckerGridPlan, A: DeviceBuffer, G: DeviceBuffer, epsilon: number, factors: DeviceBuffer): number {
    const p = this.device(plan);
    if (!(epsilon > 0)) throw new UsageError([problem('epsilon', `the webgpu Kronecker factorisation damps by √ε and needs ε > 0 (given ${epsilon}); ε = 0 takes the host route`)]);
    if (A.length !== plan.aLength || factors.length < A.length + G.length) throw new UsageError([problem('engine', `Kronecker factors: a buffer of ${factors.length} for ${A.length} + ${G.length} numbers`)]);
    const { engine } = this;
    if (plan.groups.length === 0) return -1;
    const groups = plan.groups.length;
    engine.launch(dampedCholeskyKernel, 2 * groups, [p.table, engine.dev(A), engine.dev(G), engine.dev(factors), p.flags], [epsilon, A.length]);
    if (p.inverses) {
      if (p.lowerInverse?.length !== factors.length) {
        if (p.lowerInverse) engine.free(p.lowerInverse);
        p.lowerInverse = engine.alloc(factors.length) as WebgpuBuffer;
      }
      engine.launch(triangularInverseKernel, p.columns, [p.table, engine.dev(factors), p.lowerInverse], [groups, A.length]);
      engine.launch(inverseProductKernel, p.products, [p.table, p.lowerInverse, engine.dev(factors)], [groups, A.length]);
    }
    const first = engine.reduce(p.flags, 'minPositive', 0, 2 * plan.groups.length);
    return first > 0 ? Math.round(first) - 1 : -1;
  }

  solveGrids(plan: KroneckerGridPlan, factors: DeviceBuffer, gradient: DeviceBuffer, out: DeviceBuffer): void {
    const p = this.device(plan);
    const { engine } = this;
    const groups = plan.groups.length;
    if (groups === 0) return;
    if (gradient.length !== engine.net.nParams || out.length !== engine.net.nParams) throw new UsageError([problem('engine', `Kronecker grids: gradient and direction of ${engine.net.nParams} parameters (given ${gradient.length} and ${out.length})`)]);
    if (!p.inverses) {
      engine.launch(gridColumnsKernel, p.gridColumns, [p.table, p.map, engine.dev(gradient), engine.dev(factors), p.work], [groups]);
      engine.launch(gridRowsKernel, p.gridRows, [p.table, p.map, engine.dev(factors), p.work, engine.dev(out)], [groups, plan.aLength]);
      return;
    }
    engine.launch(gridGatherKernel, p.cells, [p.map, engine.dev(gradient), p.gathered], []);
    engine.launch(gridLeftKernel, p.strips, [p.table, p.gathered, engine.dev(factors), p.work], [groups]);
    engine.launch(gridRightKernel, p.strips, [p.table, p.map, engine.dev(factors), p.work, engine.dev(out)], [groups, plan.aLength]);
  }

  disposePlan(plan: KroneckerGridPlan): void {
    const p = this.device(plan);
    for (const b of [p.table, p.map, p.gathered, p.work, p.flags, p.lowerInverse]) if (b && !b.freed) this.engine.free(b);
    this.plans.delete(plan);
  }

  private device(plan: KroneckerGridPlan): WebgpuGridPlan {
    const p = this.plans.get(plan);
    if (!p) throw new UsageError([problem('engine', 'a Kronecker grid plan not made by this webgpu engine (use its kronecker.gridPlan)')]);
    return p;
  }
}
