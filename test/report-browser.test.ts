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
  it('loads with no console errors and shows every figure, each with a legend entry per drawn curve', async () => {
    expect(existsSync(browserPath), `${browserPath} is missing: apt-get install chromium (.ci/run does)`).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'unitwise-report-'));
    execFileSync(process.execPath, [join(repoRoot, 'bin/unitwise.js'), 'replicate', 'autoencoder', '--runs', '2', '--budget', 'iterations:40', '--methods', 'backprop,unitwise-natural,diagonal-gauss-newton,quasi-diagonal-backpropagated-metric,mc-quasi-diagonal-natural@0.05', '--out', dir, '--quiet']);
    execFileSync(process.execPath, [join(repoRoot, 'bin/unitwise.js'), 'replicate', 'figure1', '--out', join(dir, 'figure1')]);
    const browser = await chromium.launch({ executablePath: browserPath, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
    try {
      for (const [page, figures] of [
        ['index.html', 6],
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
        // Each figure in the browser's SVG DOM: every series drawn (a path with points), one legend entry per series, in order.
        for (const image of images) {
          const url = new URL(image.src as string, tab.url()).href;
          const figure = await browser.newPage();
          await figure.goto(url, { waitUntil: 'load' });
          type Measurable = { getTotalLength(): number; getBBox(): { x: number; width: number } };
          const drawn = await figure.$$eval('g.series', (list) => list.map((g) => ({ index: g.getAttribute('data-series'), name: g.getAttribute('data-name'), length: (g.querySelector('path') as unknown as Measurable | null)?.getTotalLength() ?? 0 })));
          const legend = await figure.$$eval('g.legend-entry', (list) => list.map((g) => ({ index: g.getAttribute('data-series'), text: g.querySelector('text')?.textContent ?? '', width: (g as unknown as Measurable).getBBox().width, right: (g as unknown as Measurable).getBBox().x + (g as unknown as Measurable).getBBox().width })));
          const svgWidth = await figure.$eval('svg', (svg) => Number(svg.getAttribute('width')));
          const dom = { drawn, legend };
          expect(dom.drawn.length, url).toBeGreaterThan(0);
          expect(dom.legend.map((l) => l.index), url).toEqual(dom.drawn.map((d) => d.index));
          expect(dom.legend.map((l) => l.text), url).toEqual(dom.drawn.map((d) => d.name));
          for (const d of dom.drawn) expect(d.length, `${url}: ${d.name}`).toBeGreaterThan(0);
          for (const l of dom.legend) expect(l.width, `${url}: ${l.text}`).toBeGreaterThan(0);
          for (const l of dom.legend) expect(l.right, `${url}: legend entry '${l.text}' runs past the figure's right edge`).toBeLessThanOrEqual(svgWidth);
          await figure.close();
        }
        await tab.close();
      }
    } finally {
      await browser.close();
    }
  });
});
