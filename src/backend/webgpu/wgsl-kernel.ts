/**
 * WGSL compute kernels as data: a kernel names its storage bindings and its scalar parameters,
 * and gives the body of one thread; {@link kernelSource} writes the shader around it (the
 * uniform struct, the bindings, the 2-D dispatch index) and {@link packParams} the parameter
 * words of one launch. The worker builds an explicit bind-group layout from the same spec, so a
 * binding that a variant leaves unused is still valid.
 */

/** Scalar types of WGSL storage arrays and parameters. */
export type WgslScalar = 'f32' | 'i32' | 'u32';

/** One storage binding: an array of `type`, read-only or read-write. */
export interface KernelBinding {
  readonly name: string;
  readonly type: WgslScalar;
  readonly write?: boolean;
}

/**
 * A compute kernel. `body` runs per thread with `x: u32` the thread index (< `P.threads`) and the
 * parameters as fields of `P`; with `workgroup` set, `body` is instead the whole body of a kernel
 * launched as one workgroup of that many threads (index `li`), or with `perWorkgroup` too, as
 * `threads` workgroups (`wg`: the workgroup's index, uniform; `li`: the thread's in it).
 */
export interface KernelSpec {
  readonly name: string;
  readonly bindings: readonly KernelBinding[];
  /** Scalar parameters, in order: `[name, type]`. */
  readonly params: readonly (readonly [string, WgslScalar])[];
  readonly body: string;
  /** WGSL declared before the entry point (helper functions, workgroup arrays). */
  readonly helpers?: string;
  /** One workgroup of this many threads instead of one thread per index (reductions). */
  readonly workgroup?: number;
  /** With `workgroup`: one workgroup per index (`threads` of them) instead of a single one. */
  readonly perWorkgroup?: boolean;
}

/** Threads per workgroup of the elementwise kernels (1-D, tiled into a 2-D grid when large). */
export const WORKGROUP = 64;
/** WebGPU's guaranteed limit on workgroups per grid dimension. */
export const MAX_GROUPS_PER_DIMENSION = 65535;

/** The shader of `spec`: uniform `P` at binding 0, the storage arrays at bindings 1, 2, .... */
export function kernelSource(spec: KernelSpec): string {
  const fields = [['threads', 'u32'], ['stride', 'u32'], ...spec.params].map(([n, t]) => `  ${n}: ${t},`).join('\n');
  const bindings = spec.bindings
    .map((b, i) => `@group(0) @binding(${i + 1}) var<storage, ${b.write ? 'read_write' : 'read'}> ${b.name}: array<${b.type}>;`)
    .join('\n');
  const entry = spec.workgroup && spec.perWorkgroup
    ? `@compute @workgroup_size(${spec.workgroup})\nfn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3u) {\n  let wg = wid.x + wid.y * P.stride;\n  if (wg >= P.threads) { return; }\n${spec.body}\n}`
    : spec.workgroup
    ? `@compute @workgroup_size(${spec.workgroup})\nfn main(@builtin(local_invocation_index) li: u32) {\n${spec.body}\n}`
    : `@compute @workgroup_size(${WORKGROUP})\nfn main(@builtin(global_invocation_id) gid: vec3u) {\n  let x = gid.x + gid.y * P.stride;\n  if (x >= P.threads) { return; }\n${spec.body}\n}`;
  return `struct Params {\n${fields}\n}\n@group(0) @binding(0) var<uniform> P: Params;\n${bindings}\n${spec.helpers ?? ''}\n${entry}\n`;
}

/**
 * The grid of a launch of `threads` threads: [groups x, groups y] and the row stride in threads
 * (with `perWorkgroup`, of `threads` workgroups: the stride in workgroups).
 */
export function launchGrid(threads: number, workgroup?: number, perWorkgroup?: boolean): { groups: [number, number]; stride: number } {
  if (workgroup && perWorkgroup) {
    const x = Math.min(Math.max(1, threads), MAX_GROUPS_PER_DIMENSION);
    return { groups: [x, Math.ceil(Math.max(1, threads) / x)], stride: x };
  }
  if (workgroup) return { groups: [1, 1], stride: 0 };
  const total = Math.max(1, Math.ceil(threads / WORKGROUP));
  const x = Math.min(total, MAX_GROUPS_PER_DIMENSION);
  return { groups: [x, Math.ceil(total / x)], stride: x * WORKGROUP };
}

/** The uniform words of one launch (threads, stride, then `values` by `spec.params`), padded to 16 bytes. */
export function packParams(spec: KernelSpec, threads: number, stride: number, values: readonly number[]): ArrayBuffer {
  if (values.length !== spec.params.length) throw new Error(`kernel ${spec.name}: ${values.length} parameters given for ${spec.params.length}`);
  const words = 2 + values.length;
  const buffer = new ArrayBuffer(Math.ceil(words / 4) * 16);
  const view = new DataView(buffer);
  view.setUint32(0, threads, true);
  view.setUint32(4, stride, true);
  spec.params.forEach(([, type], i) => {
    const at = 8 + 4 * i;
    if (type === 'f32') view.setFloat32(at, values[i], true);
    else if (type === 'i32') view.setInt32(at, values[i], true);
    else view.setUint32(at, values[i], true);
  });
  return buffer;
}
