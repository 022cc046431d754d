import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** The README's library example, run as written against the built package (`npm test` builds dist/ first). */
describe('README: the library example', () => {
  it('runs and trains', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Library'));
    const code = /```js\n([\s\S]*?)```/.exec(section)?.[1];
    expect(code).toBeDefined();
    const root = fileURLToPath(new URL('..', import.meta.url));
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', code as string], { cwd: root, encoding: 'utf8' });
    expect(out).toMatch(/^loss \d+\.\d+ -> \d+\.\d+ bits per sample\n$/);
  });
});
