// Lists the node_modules folders that a GPU check needs on a machine with no registry: the
// production dependencies of package.json and vitest, with everything they depend on
// (optional dependencies where installed, e.g. native builds for this platform), one folder
// per line, relative to the repository root. Used by scripts/device/bundle.sh.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const root = process.cwd();
const manifest = (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));

/** The folder Node would load `name` from when required from `from` (or undefined). */
function locate(name, from) {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === root || dir === dirname(dir)) return undefined;
  }
}

/** Left out: headless-gl (gpu.js's GL mode needs a display the device machine lacks) and mnist (data the checks do not use). */
const LEFT_OUT = new Set(['gl', 'mnist']);
const top = manifest(root);
const queue = [...Object.keys(top.dependencies ?? {}), 'vitest'].filter((name) => !LEFT_OUT.has(name)).map((name) => [name, root, true]);
const found = new Set();
while (queue.length > 0) {
  const [name, from, required] = queue.pop();
  const dir = locate(name, from);
  if (!dir) {
    if (required) throw new Error(`${name} (needed by ${relative(root, from) || 'package.json'}) is not installed: run npm ci`);
    continue;
  }
  if (found.has(dir)) continue;
  found.add(dir);
  const m = manifest(dir);
  for (const dep of Object.keys(m.dependencies ?? {})) queue.push([dep, dir, true]);
  for (const dep of Object.keys(m.optionalDependencies ?? {})) if (!LEFT_OUT.has(dep)) queue.push([dep, dir, false]);
  for (const dep of Object.keys(m.peerDependencies ?? {})) if (!m.peerDependenciesMeta?.[dep]?.optional) queue.push([dep, dir, false]);
}
// A folder inside another listed one travels with it (tar would otherwise take it twice).
const inside = (dir) => [...found].some((other) => other !== dir && dir.startsWith(other + '/'));
for (const dir of [...found].filter((d) => !inside(d)).sort()) console.log(relative(root, dir));
