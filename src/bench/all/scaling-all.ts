import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { detectBackends } from './detect.js';

/**
 * `npm run bench -- --scaling --backend all --out-dir DIR [scaling flags]`: the scaling sweep
 * (`runScaling`) on every available backend in turn, each in a process of its own (gpu.js's GL
 * mode under `xvfb-run -a` where it needs it), into `DIR/<backend>/` as `--scaling` writes them
 * (`scaling.json`, `scaling-{units,fanIn,outputs}.svg`, and the printed lines in `output.txt`).
 * `flags` are passed on to each sweep. Resolves with the labels whose sweep failed.
 */
export async function scalingAll(outDir: string, flags: string[], onLine: (line: string) => void): Promise<string[]> {
  const main = fileURLToPath(new URL('../main.js', import.meta.url));
  const failed: string[] = [];
  for (const b of (await detectBackends(undefined, onLine)).filter((c) => c.available)) {
    const dir = join(outDir, b.label);
    mkdirSync(dir, { recursive: true });
    const node = [process.execPath, main, '--scaling', '--backend', b.backend, '--json', join(dir, 'scaling.json'), '--svg', join(dir, 'scaling'), ...flags];
    const [command, ...args] = b.xvfb ? ['xvfb-run', '-a', ...node] : node;
    onLine(`[${b.label}] scaling sweep into ${dir}/`);
    const output = createWriteStream(join(dir, 'output.txt'));
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(command, args, { env: { ...process.env, ...b.env }, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.on('data', (chunk: Buffer) => {
        output.write(chunk);
        for (const line of chunk.toString().split('\n').filter((l) => l.length > 0)) onLine(`[${b.label}] ${line}`);
      });
      child.stderr.on('data', (chunk: Buffer) => output.write(chunk));
      child.on('close', resolve);
    });
    output.end();
    if (code !== 0) {
      failed.push(b.label);
      onLine(`[${b.label}] the sweep failed (exit ${String(code)}; see ${join(dir, 'output.txt')})`);
    }
  }
  return failed;
}
