import { UsageError, problem } from '../../errors.js';
import type { DeviceBuffer } from '../engine.js';
import type { KroneckerGridGroup, KroneckerGridPlan, KroneckerKernels } from '../kronecker-kernels.js';
import type { WebgpuBuffer } from './webgpu-memory.js';
import type { WebgpuEngine } from './webgpu-engine.js';
import { dampedCholeskyKernel, gridColumnsKernel, gridRowsKernel, GRID_TABLE_WIDTH } from './wgsl-kronecker.js';

/** A grid plan with its device tables: the grid table, the parameter map, the work grid and the per-factor flags. */
interface WebgpuGridPlan extends KroneckerGridPlan {
  readonly aLength: number;
  readonly table: WebgpuBuffer;
  readonly map: WebgpuBuffer;
  readonly work: WebgpuBuffer;
  readonly flags: WebgpuBuffer;
  readonly columns: number;
  readonly rows: number;
}

/**
 * The Kronecker device kernels of the WebGPU engine (`wgsl-kronecker.ts`): per plan, the tables
 * are uploaded once; a factorisation costs one launch (a workgroup per factor) and one number
 * read back (the first failing factor), a solve two launches and no transfer.
 */
export class WebgpuKronecker implements KroneckerKernels {
  private readonly plans = new WeakMap<KroneckerGridPlan, WebgpuGridPlan>();

  constructor(private readonly engine: WebgpuEngine) {}

  gridPlan(groups: readonly KroneckerGridGroup[], aLength: number): KroneckerGridPlan {
    const { engine } = this;
    const table = new Int32Array(Math.max(1, groups.length) * GRID_TABLE_WIDTH);
    let [cells, columns, rows] = [0, 0, 0];
    groups.forEach((g, j) => {
      if (g.params.length !== g.n * g.m || g.aOffset + g.n * g.n > aLength) throw new UsageError([problem('engine', `Kronecker grid ${j}: ${g.params.length} parameters for a ${g.n} × ${g.m} grid`)]);
      table.set([g.aOffset, g.gOffset, g.n, g.m, cells, columns, rows, 0], j * GRID_TABLE_WIDTH);
      cells += g.n * g.m;
      columns += g.m;
      rows += g.n;
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
      work: engine.alloc(Math.max(1, cells)) as WebgpuBuffer,
      flags: engine.alloc(Math.max(1, 2 * groups.length)) as WebgpuBuffer,
      columns,
      rows,
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
    engine.launch(dampedCholeskyKernel, 2 * plan.groups.length, [p.table, engine.dev(A), engine.dev(G), engine.dev(factors), p.flags], [epsilon, A.length]);
    const first = engine.reduce(p.flags, 'minPositive', 0, 2 * plan.groups.length);
    return first > 0 ? Math.round(first) - 1 : -1;
  }

  solveGrids(plan: KroneckerGridPlan, factors: DeviceBuffer, gradient: DeviceBuffer, out: DeviceBuffer): void {
    const p = this.device(plan);
    const { engine } = this;
    const groups = plan.groups.length;
    if (groups === 0) return;
    if (gradient.length !== engine.net.nParams || out.length !== engine.net.nParams) throw new UsageError([problem('engine', `Kronecker grids: gradient and direction of ${engine.net.nParams} parameters (given ${gradient.length} and ${out.length})`)]);
    engine.launch(gridColumnsKernel, p.columns, [p.table, p.map, engine.dev(gradient), engine.dev(factors), p.work], [groups]);
    engine.launch(gridRowsKernel, p.rows, [p.table, p.map, engine.dev(factors), p.work, engine.dev(out)], [groups, plan.aLength]);
  }

  disposePlan(plan: KroneckerGridPlan): void {
    const p = this.device(plan);
    for (const b of [p.table, p.map, p.work, p.flags]) if (!b.freed) this.engine.free(b);
    this.plans.delete(plan);
  }

  private device(plan: KroneckerGridPlan): WebgpuGridPlan {
    const p = this.plans.get(plan);
    if (!p) throw new UsageError([problem('engine', 'a Kronecker grid plan not made by this webgpu engine (use its kronecker.gridPlan)')]);
    return p;
  }
}
