import { execFileSync } from 'node:child_process';
import { UsageError, problem } from '../../errors.js';
import { exitReason, runChild, type ChildLaunch } from './spawn.js';

/** A backend `--backend all` can run: its label in the report and how its children start. */
export interface BackendCandidate extends ChildLaunch {
  label: string;
}

/** A candidate after its probe: what ran (detail, and the GL renderer for gpu.js's GL mode), or why it cannot run. */
export interface ProbedBackend extends BackendCandidate {
  available: boolean;
  detail?: string;
  precision?: string;
  gl?: string;
  reason?: string;
}

/**
 * Every backend `--backend all` knows, in report order: the Float64 reference, gpu.js in each
 * mode (UNITWISE_GPUJS_MODE), TensorFlow.js's cpu, wasm, native and WebGPU backends, and WebGPU.
 */
export const ALL_BACKENDS: BackendCandidate[] = [
  { label: 'cpu', backend: 'cpu', env: {}, xvfb: false },
  { label: 'gpujs-webasm', backend: 'gpujs', env: { UNITWISE_GPUJS_MODE: 'webasm' }, xvfb: false },
  { label: 'gpujs-headlessgl', backend: 'gpujs', env: { UNITWISE_GPUJS_MODE: 'headlessgl' }, xvfb: false },
  { label: 'tfjs-cpu', backend: 'tfjs-cpu', env: {}, xvfb: false },
  { label: 'tfjs-wasm', backend: 'tfjs-wasm', env: {}, xvfb: false },
  { label: 'tfjs-tensorflow', backend: 'tfjs-tensorflow', env: {}, xvfb: false },
  { label: 'tfjs-webgpu', backend: 'tfjs-webgpu', env: {}, xvfb: false },
  { label: 'webgpu', backend: 'webgpu', env: {}, xvfb: false },
];

/** Whether `xvfb-run` is on the PATH. */
function hasXvfbRun(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v xvfb-run'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Loads the backend in a child; resolves with what ran, or why it cannot run. */
async function probe(candidate: BackendCandidate): Promise<ProbedBackend> {
  let found: ProbedBackend | undefined;
  const exit = await runChild(candidate, { part: 'probe', backend: candidate.backend, methods: ['backprop'] }, 120, (message) => {
    if (message.kind === 'probe') found = { ...candidate, available: true, detail: message.detail, precision: message.precision, gl: message.gl };
    return 120;
  });
  return found ?? { ...candidate, available: false, reason: exit.killed ? 'the probe did not answer in 120 s' : exitReason(exit) };
}

/**
 * Probes each candidate (`labels` picks some, in that order; default all) in a child process. gpu.js's GL mode
 * needs a GL context: where none opens and there is no display, it is probed again under
 * `xvfb-run -a` when that exists, and then runs under it.
 */
export async function detectBackends(labels?: string[], onLine: (line: string) => void = () => undefined): Promise<ProbedBackend[]> {
  const unknown = labels?.filter((l) => !ALL_BACKENDS.some((c) => c.label === l)) ?? [];
  if (unknown.length) throw new UsageError([problem('backends', `--backends: unknown ${unknown.join(', ')}; use some of ${ALL_BACKENDS.map((c) => c.label).join(', ')}`)]);
  // In the order given: the report's columns, and the order in which they run.
  const candidates = labels ? labels.map((l) => ALL_BACKENDS.find((c) => c.label === l) as BackendCandidate) : ALL_BACKENDS;
  const probed: ProbedBackend[] = [];
  for (const candidate of candidates) {
    let result = await probe(candidate);
    if (!result.available && candidate.env.UNITWISE_GPUJS_MODE === 'headlessgl' && !process.env.DISPLAY && hasXvfbRun()) {
      const retried = await probe({ ...candidate, xvfb: true });
      if (retried.available) result = retried;
    }
    onLine(result.available ? `${candidate.label.padEnd(17)} ${result.detail}${result.gl ? `; GL: ${result.gl}` : ''}${result.xvfb ? ' (under xvfb-run -a)' : ''}` : `${candidate.label.padEnd(17)} not available: ${result.reason}`);
    probed.push(result);
  }
  return probed;
}
