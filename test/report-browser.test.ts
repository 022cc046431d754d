import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/documents.js';

/** Debian's Chromium (installed by .ci/run); CHROMIUM_PATH overrides. */
const browserPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// Real processes on a possibly loaded 2-core machine: a timeout far above what these need (a few seconds here).
describe('HTML report in a real headless browser', { timeout: 240_000 }, () => {
  it('loads with no console errors and shows every figure', async () => {
    expect(existsSync(browserPath), `${browserPath} is missing: apt-get install chromium (.ci/run does)`).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'unitwise-report-'));
    execFileSync(process.execPath, [join(repoRoot, 'bin/unitwise.js'), 'replicate', 'autoencoder', '--runs', '2', '--budget', 'iterations:40', '--methods', 'backprop,unitwise-natural,diagonal-gauss-newton,quasi-diagonal-backpropagated-metric', '--out', dir, '--quiet']);
    execFileSync(process.execPath, [join(repoRoot, 'bin/unitwise.js'), 'replicate', 'figure1', '--out', join(dir, 'figure1')]);
    const browser = await chromium.launch({ executablePath: browserPath, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
    try {
      for (const [page, figures] of [
        ['index.html', 4],
        ['figure1/index.html', 1],
      ] as const) {
        const tab = await browser.newPage();
        const errors: string[] = [];
        tab.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
        tab.on('pageerror', (e) => errors.push(e.message));
        tab.on('requestfailed', (r) => errors.push(`failed to load ${r.url()}`));
        await tab.goto(pathToFileURL(join(dir, page)).href, { waitUntil: 'load' });
        const images = await tab.$$eval('img', (list) => list.map((img) => ({ src: img.getAttribute('src'), loaded: img.complete && img.naturalWidth > 0, shown: img.getBoundingClientRect().width > 0 })));
        expect(images, page).toHaveLength(figures);
        for (const image of images) expect(image, `${page}: ${image.src}`).toMatchObject({ loaded: true, shown: true });
        expect(await tab.$$eval('table', (t) => t.length)).toBeGreaterThan(0);
        expect(errors, page).toEqual([]);
        await tab.close();
      }
    } finally {
      await browser.close();
    }
  });
});
