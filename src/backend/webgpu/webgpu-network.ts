import { ActivationCode, type CompiledNetwork } from '../../engine/compiled-network.js';
import type { MetricLayout } from '../kernels.js';

/**
 * The sections of the network's index table (one i32 storage array, so that a kernel binds one
 * buffer for all of its index arrays): the table starts with the start of each section, in this
 * order, then the counts below; WGSL reads them through {@link TABLE_HELPERS}.
 */
export const TABLE_SECTIONS = ['inOffsets', 'blockOffsets', 'outOffsets', 'outputIndex', 'inSources', 'outTargets', 'outParams', 'outputUnits', 'paramUnit', 'matrixOffsets'] as const;
/** Header words: the section starts, then nUnits, nInputs, nOutputs. */
const HEADER = TABLE_SECTIONS.length + 3;

/**
 * The index table of `net` ([header | inOffsets (U+1) | blockOffsets (U+1) | outOffsets (U+1) |
 * outputIndex (U) | inSources (E) | outTargets (E) | outParams (E) | outputUnits (O) |
 * paramUnit (P: the unit of each parameter) | matrixOffsets (U+1)]) as i32.
 */
export function networkTable(net: CompiledNetwork, layout: MetricLayout): Int32Array {
  const paramUnit = new Int32Array(net.nParams);
  for (let k = net.nInputs; k < net.nUnits; k++) paramUnit.fill(k, net.blockOffsets[k], net.blockOffsets[k + 1]);
  const sections = [net.inOffsets, net.blockOffsets, net.outOffsets, net.outputIndex, net.inSources, net.outTargets, net.outParams, net.outputUnits, paramUnit, layout.matrixOffsets];
  const table = new Int32Array(HEADER + sections.reduce((n, s) => n + s.length, 0));
  let at = HEADER;
  sections.forEach((values, i) => {
    table[i] = at;
    table.set(values, at);
    at += values.length;
  });
  table.set([net.nUnits, net.nInputs, net.nOutputs], TABLE_SECTIONS.length);
  return table;
}

/** Per unit [kind, gain, scale, shift] as f32 (inputs: linear; a plain unit: gain 1, scale 1, shift 0). */
export function unitTable(net: CompiledNetwork): Float32Array {
  const units = new Float32Array(4 * net.nUnits);
  for (let k = 0; k < net.nUnits; k++) {
    const kind = net.activation[k] === ActivationCode.Input ? ActivationCode.Linear : net.activation[k];
    units.set([kind, net.affine?.gain[k] ?? 1, net.affine?.scale[k] ?? 1, net.affine?.shift[k] ?? 0], 4 * k);
  }
  return units;
}

/**
 * WGSL accessors of the table (binding `T`): `section(i, j)` is entry j of section i of
 * {@link TABLE_SECTIONS} (u32; `outputIndex` through `outputOf`, which keeps -1).
 */
export const TABLE_HELPERS = `
fn sec(i: u32, j: u32) -> u32 { return u32(T[u32(T[i]) + j]); }
fn inOffset(k: u32) -> u32 { return sec(0u, k); }
fn blockOffset(k: u32) -> u32 { return sec(1u, k); }
fn outOffset(k: u32) -> u32 { return sec(2u, k); }
fn outputOf(k: u32) -> i32 { return T[u32(T[3]) + k]; }
fn inSource(e: u32) -> u32 { return sec(4u, e); }
fn outTarget(e: u32) -> u32 { return sec(5u, e); }
fn outParam(e: u32) -> u32 { return sec(6u, e); }
fn outputUnit(j: u32) -> u32 { return sec(7u, j); }
fn outputRow(x: u32, S: u32) -> u32 { return outputUnit(x / S) * S + x % S; }
fn paramUnit(p: u32) -> u32 { return sec(8u, p); }
fn matrixOffset(k: u32) -> u32 { return sec(9u, k); }
fn nUnits() -> u32 { return u32(T[${TABLE_SECTIONS.length}]); }
fn nOutputs() -> u32 { return u32(T[${TABLE_SECTIONS.length + 2}]); }
fn finite(v: f32) -> bool { return (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u; }
`;
