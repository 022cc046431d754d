import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ScalingResult } from '../scaling.js';

/** The recorded "before" figures of a backend on the large network: the file read and µs per sample by method. */
export interface BeforeFigures {
  file: string;
  /** What ran then (the recorded `detail`). */
  detail: string;
  microsPerSample: Record<string, number>;
}

/**
 * Which recorded scaling sweep holds each float32 backend's figures from before issue 13 (the
 * engines that copied whole arrays at every launch): gpu.js per mode, and tfjs's, which ran on
 * tfjs's pure-JavaScript cpu backend (the default then).
 */
export const BEFORE_FILES: Record<string, string> = {
  'gpujs-webasm': 'gpujs-webasm/scaling.json',
  'gpujs-headlessgl': 'gpujs-headlessgl/scaling.json',
  'tfjs-cpu': 'tfjs/scaling.json',
};

/** The package's experiments/scaling/ (from dist/bench/all/ and from src/bench/all/ alike). */
export function defaultScalingDir(): string {
  return fileURLToPath(new URL('../../../experiments/scaling/', import.meta.url));
}

/**
 * The recorded before figures at the network of `edges` edges (batch 16): per backend of
 * {@link BEFORE_FILES} whose file exists in `dir`, each method's µs per sample at that size in
 * the units sweep (methods not swept at that size are absent; a file with none at that size is left out).
 */
export function readBeforeFigures(edges: number, dir = defaultScalingDir()): Record<string, BeforeFigures> {
  const figures: Record<string, BeforeFigures> = {};
  for (const [label, file] of Object.entries(BEFORE_FILES)) {
    const path = join(dir, file);
    if (!existsSync(path)) continue;
    const recorded = JSON.parse(readFileSync(path, 'utf8')) as ScalingResult;
    const microsPerSample: Record<string, number> = {};
    for (const sweep of Object.values(recorded.sweeps)) {
      for (const [method, entry] of Object.entries(sweep.methods)) {
        const point = entry.points.find((p) => p.edges === edges);
        if (point && recorded.batch === 16) microsPerSample[method] = point.secondsPerSample * 1e6;
      }
    }
    if (Object.keys(microsPerSample).length > 0) figures[label] = { file: `experiments/scaling/${file}`, detail: recorded.detail, microsPerSample };
  }
  return figures;
}
