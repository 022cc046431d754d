import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/backend/index.js';
import type { Backend } from '../src/backend/engine.js';
import type { KernelThis } from '../src/backend/gpujs/device-sources.js';
import { GpujsEngine, gpujsBackend, type GpujsMode } from '../src/backend/gpujs/index.js';
import { metricLayout, type MetricLayout } from '../src/backend/kernels.js';
import type { CompiledNetwork } from '../src/engine/compiled-network.js';
import { createModel } from '../src/engine/model.js';
import type { NetworkDocument, SerializedEdge, SerializedNode } from '../src/network/types.js';

/**
 * gpu.js's batched Cholesky on a packed group of blocks past 2^23 entries. At 10⁶ edges the
 * 9 × 9 blocks of 120,002 units (then padded to 12 × 12 in headlessgl mode) pack into ~10⁷ entries, and
 * the kernels' `Math.floor((x + 0.5) / d)` read the last entries of a block past 2^23 as the
 * next block's first: `backpropagated-metric` and `unitwise-natural` failed there on a unit whose
 * block was zero (A + εI = εI) while every other float32 backend solved it. Here: 32,800 units of
 * fan-in 15 (16 × 16 blocks, a size the GL ladder keeps) pack into 8.4M entries; every third
 * block is zero, the others distinct and positive definite, and δw = (A + εI)⁻¹ G must match
 * the cpu engine's in both modes. The kernels' index arithmetic itself is checked on windows of
 * indices at 2^23 and below 2^24, where the former expression errs.
 */

const defaultMode = gpujsBackend().mode;
const modes: GpujsMode[] = defaultMode === 'headlessgl' ? ['headlessgl', 'webasm'] : ['webasm'];
const FAN_IN = 15;
const UNITS = 32_800; // 32,800 × 16² = 8,396,800 entries > 2^23 = 8,388,608
const EPSILON = 1e-4;
/** Threads of the index test: a window at 2^23 and one below 2^24. */
const WINDOW = 1 << 14;

/** One level: `fanIn` inputs, `units` sigmoid outputs each fed by every input. */
function wideNetwork(fanIn = FAN_IN, units = UNITS): NetworkDocument {
  const nodes: SerializedNode[] = [];
  const edges: SerializedEdge[] = [];
  for (let i = 0; i < fanIn; i++) nodes.push({ key: `x${i}`, attributes: { role: 'input' } });
  for (let k = 0; k < units; k++) {
    nodes.push({ key: `y${k}`, attributes: { role: 'output', bias: 0, activation: 'sigmoid' } });
    for (let i = 0; i < fanIn; i++) edges.push({ source: `x${i}`, target: `y${k}`, attributes: { weight: 0.1 } });
  }
  return { options: { type: 'directed' }, attributes: { interpretation: 'bernoulli', activation: 'sigmoid' }, nodes, edges };
}

let wide: { net: CompiledNetwork; layout: MetricLayout } | undefined;
/** The network and its block layout, built on first use (seconds: 492,000 edges). */
function wideNet() {
  if (!wide) {
    const { net } = createModel(wideNetwork());
    wide = { net, layout: metricLayout(net) };
  }
  return wide;
}

/** Blocks: zero for every third unit, else c_k I plus a small symmetric part distinct per unit (diagonally dominant). */
function testBlocks(): Float64Array {
  const { net, layout } = wideNet();
  const blocks = new Float64Array(layout.matrixOffsets[net.nUnits]);
  for (let k = net.nInputs; k < net.nUnits; k++) {
    if (k % 3 === 0) continue;
    const n = net.blockOffsets[k + 1] - net.blockOffsets[k];
    const base = layout.matrixOffsets[k];
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) blocks[base + i * n + j] = i === j ? 1 + ((k + i) % 5) : 0.02 * Math.cos(k + i + j);
    }
  }
  return blocks;
}

/** A gradient with entries of order 1, distinct per parameter. */
const testGradient = () => Float64Array.from({ length: wideNet().net.nParams }, (_, p) => Math.sin(0.37 * p + 1));

function solve(backend: Backend): { failed: number; out: Float64Array } {
  const { net, layout } = wideNet();
  const engine = backend.open(net, 1);
  const blocks = engine.alloc(layout.matrixOffsets[net.nUnits]);
  engine.upload(blocks, testBlocks());
  const gradient = engine.alloc(net.nParams);
  engine.upload(gradient, testGradient());
  const out = engine.alloc(net.nParams);
  const failed = engine.solveUnitBlocks(blocks, gradient, EPSILON, out, engine.alloc(blocks.length));
  const result = { failed, out: engine.read(out) };
  engine.dispose();
  return result;
}

let cpuSolve: ReturnType<typeof solve> | undefined;

describe.each(modes)('gpujs in %s mode on a block group past 2^23 entries', (mode) => {
  it('solves every unit as the cpu engine does, zero blocks (εI) included', () => {
    const { net, layout } = wideNet();
    expect(layout.matrixOffsets[net.nUnits]).toBeGreaterThan(2 ** 23);
    const reference = (cpuSolve ??= solve(cpuBackend));
    const device = solve(gpujsBackend(mode));
    expect(reference.failed).toBe(-1);
    expect(device.failed).toBe(-1);
    // Per unit: the largest difference relative to the unit's largest entry (zero blocks give G/ε).
    const wrong: number[] = [];
    for (let k = net.nInputs; k < net.nUnits; k++) {
      let scale = 0;
      let diff = 0;
      for (let p = net.blockOffsets[k]; p < net.blockOffsets[k + 1]; p++) {
        scale = Math.max(scale, Math.abs(reference.out[p]));
        diff = Math.max(diff, Math.abs(device.out[p] - reference.out[p]));
      }
      if (!(diff <= 1e-4 * scale)) wrong.push(k);
    }
    expect(wrong.slice(0, 5)).toEqual([]);
  }, 120_000);

  it('pads block sizes to the GL ladder only while they have fewer than 2^20 entries in all', () => {
    // 9 × 9 blocks: 12,000 units (972,000 entries) are padded to 12 × 12 in headlessgl mode; 13,000 (1,053,000) keep 9 × 9.
    for (const [units, padded] of [
      [12_000, 12],
      [13_000, 9],
    ]) {
      const engine = gpujsBackend(mode).open(createModel(wideNetwork(8, units)).net, 1) as GpujsEngine;
      expect(engine.constants.groups.map((g) => g.n)).toEqual([mode === 'headlessgl' ? padded : 9]);
      engine.dispose();
    }
  });

  it("computes exact row indices past 2^23 with the kernels' two-line quotient, where the former floor((x + 0.5) / d) did not", () => {
    const { GPU } = createRequire(import.meta.url)('gpu.js') as typeof import('gpu.js');
    const gpu = new GPU({ mode });
    const options = { output: [WINDOW], precision: 'single' as const, tactic: 'precision' as const };
    // As in device-sources.ts (its header says why).
    const exact = gpu.createKernel(function (this: KernelThis, from: number, d: number) {
      const x = from + this.thread.x;
      const q0 = Math.floor(x / d);
      return q0 + (x - q0 * d >= d ? 1 : 0) - (x - q0 * d < 0 ? 1 : 0);
    }, options);
    const former = gpu.createKernel(function (this: KernelThis, from: number, d: number) {
      return Math.floor((from + this.thread.x + 0.5) / d);
    }, options);
    let formerWrong = 0;
    for (const from of [2 ** 23 - WINDOW / 2, 2 ** 24 - WINDOW]) {
      for (const d of [9, 16, 81, 128, 144, 256]) {
        const got = exact(from, d) as Float32Array;
        const old = former(from, d) as Float32Array;
        const bad: number[] = [];
        for (let t = 0; t < WINDOW; t++) {
          const want = Math.floor((from + t) / d);
          if (got[t] !== want) bad.push(from + t);
          if (old[t] !== want) formerWrong++;
        }
        expect({ d, bad: bad.slice(0, 3) }).toEqual({ d, bad: [] });
      }
    }
    expect(formerWrong).toBeGreaterThan(0);
    gpu.destroy();
  });
});
