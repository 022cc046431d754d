import { UsageError, problem } from '../../errors.js';
import type { DeviceBuffer } from '../engine.js';
import type { KroneckerGridGroup, KroneckerGridPlan, KroneckerKernels } from '../kronecker-kernels.js';
import type { WebgpuBuffer } from './webgpu-memory.js';
import type { WebgpuEngine } from './webgpu-engine.js';
import { dampedCholeskyKernel, GRID_TABLE_WIDTH } from './wgsl-kronecker.js';
import { gridColumnsKernel, gridRowsKernel } from './wgsl-kronecker-triangular.js';
import { gridGatherKernel, gridLeftKernel, gridRightKernel, inverseProductKernel, STRIP, triangularInverseKernel } from './wgsl-kronecker-solve.js';

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
 * are uploaded once. A plan whose factors are all at most {@link inverseLimit} wide solves
 * through explicit inverses: a factorisation costs three launches (the damped Cholesky, a
 * workgroup per factor; L⁻¹; the inverses A'⁻¹, G'⁻¹ into `factors`) and one number read back
 * (the first failing factor), a solve three launches (gather R, W = A'⁻¹R, D = WG'⁻¹) and no
 * transfer. A plan with a wider factor keeps the Cholesky factors in `factors` and solves by
 * triangular solves (two launches: by grid column, then by grid row).
 */
export class WebgpuKronecker implements KroneckerKernels {
  /**
   * The widest factor (n or m) of a plan solved through explicit inverses; wider: triangular
   * solves. NOTE (measured on llvmpipe only, 2 shared cores, `npm run bench --
   * --kronecker-device`, experiments/kronecker-device/): at n ≤ 257 the inverse design's solves
   * took about half the time of the triangular ones and its refreshes (L⁻¹ and L⁻ᵀL⁻¹ on top
   * of the Cholesky) up to 3× longer; at n = 785 (784-300-100-10) its solves took 1.8× and its
   * refreshes 9× as long (the products re-read A'⁻¹ and R from memory, past the caches). On a
   * GPU the n·m-thread products should gain over the m + n sequential threads at every size;
   * unmeasured, so the limit is set by llvmpipe. Tests set it to 0 to exercise the triangular
   * design on small factors.
   */
  inverseLimit = 512;
  private readonly plans = new WeakMap<KroneckerGridPlan, WebgpuGridPlan>();

  constructor(private readonly engine: WebgpuEngine) {}

  gridPlan(groups: readonly KroneckerGridGroup[], aLength: number): KroneckerGridPlan {
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
      inverses: widest <= this.inverseLimit,
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
