// The report in a real browser (Debian's Chromium through playwright-core): it loads nothing
// from the network, logs no errors, draws marks that match its data, fits a phone, and prints.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NUMERIC_FIELDS } from '../../../shared/csv/contract.ts';
import { HISTOGRAM_BINS, renderReport } from '../../../shared/report/index.ts';
import { launchBrowser, type TestBrowser } from '../../support/browser.ts';
import { withTempDir } from '../../support/temp.ts';
import { smallModel } from '../support/model-fixtures.ts';

const SCREENSHOT = join(import.meta.dirname, '../../../test-results/report.png');
const PHONE = { width: 390, height: 844 };

const { customers, model } = smallModel();
let browser: TestBrowser;
let temp: Awaited<ReturnType<typeof withTempDir>>;
let fileUrl: string;
let page: Page;
const requests: string[] = [];
const consoleErrors: string[] = [];

beforeAll(async () => {
  temp = await withTempDir('report');
  const file = join(temp.path, 'report.html');
  await writeFile(
    file,
    await renderReport({ model, customers, tableStats: { created: 240, assigned: 60, unlabeled: 0, outliers: 4, total: 300 } }),
  );
  fileUrl = pathToFileURL(file).href;
  browser = await launchBrowser();
  page = await browser.context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') consoleErrors.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
  page.on('request', (r) => requests.push(r.url()));
  // anything but the report itself is recorded and refused
  await page.route('**/*', (route) => (route.request().url() === fileUrl ? route.continue() : route.abort()));
  await page.goto(fileUrl, { waitUntil: 'load' });
});

afterAll(async () => {
  await browser?.close();
  await temp?.remove();
});

/**
 * The little of the DOM these tests touch inside the page (the project compiles without DOM
 * types). Callbacks run in the browser, so they may only cast, not call test-side helpers.
 */
interface DomElement {
  readonly textContent: string | null;
  getAttribute(name: string): string | null;
  getBoundingClientRect(): { x: number; y: number; width: number; height: number };
  querySelector(selector: string): DomElement | null;
  querySelectorAll(selector: string): Iterable<DomElement> & { readonly length: number };
}

/** Mark elements (paths) of the Vega mark group named `<name>_marks` inside a figure. */
const marks = (chart: string, name: string) => page.locator(`figure[data-chart="${chart}"] g.${name}_marks > path`);

describe('report in Chromium', () => {
  it('requests nothing but the file itself and logs no errors', () => {
    expect(requests).toEqual([fileUrl]);
    expect(consoleErrors).toEqual([]);
  });

  it('draws one scatter mark per plotted customer, coloured like its segment, and one diamond per centroid', async () => {
    const figure = page.locator('figure[data-chart="pca"]');
    expect(Number(await figure.getAttribute('data-plotted'))).toBe(customers.length);
    expect(await marks('pca', 'pca_points').count()).toBe(customers.length);
    expect(await marks('pca', 'pca_centroids').count()).toBe(model.k);
    // per segment: as many marks in the segment's colour (its card's swatch) as the data table says were plotted
    const fills = await marks('pca', 'pca_points').evaluateAll((els) =>
      (els as unknown as DomElement[]).map((e) => e.getAttribute('fill')),
    );
    for (const s of model.segments) {
      const swatch = (await page.locator(`#segment-${s.id} .swatch`).getAttribute('style')) ?? '';
      const hex = /#[0-9a-f]{6}/.exec(swatch)?.[0];
      expect(hex).toBeDefined();
      const plotted = Number(await figure.locator(`tr[data-segment-id="${s.id}"] td`).nth(1).getAttribute('data-value'));
      expect(fills.filter((f) => f === hex).length).toBe(plotted);
    }
  });

  it('draws one elbow point per k tried, inertia falling as the points go down the chart', async () => {
    const entries = model.metrics.sweep.entries;
    const points = marks('elbow', 'elbow_points');
    expect(await points.count()).toBe(entries.length);
    const positions = await points.evaluateAll((els) =>
      (els as unknown as DomElement[]).map((e) => {
        const box = e.getBoundingClientRect();
        return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
      }),
    );
    const byX = [...positions].sort((a, b) => a.x - b.x);
    for (let i = 1; i < entries.length; i++) {
      // larger inertia is higher on the page (smaller y)
      expect(Math.sign(byX[i]!.y - byX[i - 1]!.y)).toBe(Math.sign(entries[i - 1]!.inertia - entries[i]!.inertia));
    }
    expect(await marks('quality', 'silhouette_points').count()).toBe(entries.filter((e) => e.silhouette !== null).length);
    expect(await marks('quality', 'davies_bouldin_points').count()).toBe(entries.filter((e) => e.daviesBouldin !== null).length);
    expect(await page.locator('figure[data-chart="elbow"] g.elbow_chosen_label_marks text').textContent()).toBe(`chosen k = ${model.k}`);
  });

  it('draws the heatmap, the spending boxes and every histogram with one mark per datum', async () => {
    expect(await marks('centroids', 'centroid_cells').count()).toBe(model.k * model.scaler.columns.length);
    expect(await marks('spending', 'spending_box').count()).toBe(model.k);
    const histograms = page.locator('figure[data-chart="histogram"]');
    expect(await histograms.count()).toBe(model.k * NUMERIC_FIELDS.length);
    const bars = await histograms.evaluateAll((figs) =>
      (figs as unknown as DomElement[]).map((f) => f.querySelectorAll('g.hist_bars_marks > path').length),
    );
    expect(bars).toEqual(new Array(model.k * NUMERIC_FIELDS.length).fill(HISTOGRAM_BINS));
  });

  it('puts every segment’s histograms of a feature on the same axes', async () => {
    const axes = await page.locator('figure[data-chart="histogram"]').evaluateAll((figs) =>
      (figs as unknown as DomElement[]).map((f) => ({
        feature: f.getAttribute('data-feature'),
        // tick labels of the x and y axes, in document order
        ticks: Array.from(f.querySelectorAll('svg .role-axis'), (axis) =>
          Array.from(axis.querySelectorAll('.role-axis-label text'), (t) => t.textContent).join(','),
        ).filter((t) => t !== ''),
      })),
    );
    for (const feature of NUMERIC_FIELDS) {
      const ticks = axes.filter((a) => a.feature === feature).map((a) => a.ticks.join(' / '));
      expect(new Set(ticks).size, feature).toBe(1);
    }
    const yTicks = axes.map((a) => a.ticks.at(-1));
    expect(new Set(yTicks).size).toBe(1);
  });

  it('gives every chart a visible drawing, a title, axis titles, a caption and a data table', async () => {
    const figures = await page.locator('figure.chart').evaluateAll((figs) =>
      (figs as unknown as DomElement[]).map((f) => ({
        chart: f.getAttribute('data-chart'),
        width: f.querySelector('svg')!.getBoundingClientRect().width,
        titles: Array.from(f.querySelectorAll('svg .role-title-text text'), (t) => t.textContent).length,
        axisTitles: Array.from(f.querySelectorAll('svg .role-axis-title text'), (t) => t.textContent ?? ''),
        caption: f.querySelector('figcaption')?.textContent ?? '',
        tableRows: f.querySelectorAll('details table tbody tr').length,
        label: f.querySelector('.chart-svg')?.getAttribute('aria-label') ?? '',
      })),
    );
    expect(figures.length).toBe(5 + model.k * NUMERIC_FIELDS.length);
    for (const f of figures) {
      expect(f.width, f.chart!).toBeGreaterThan(100);
      expect(f.titles, f.chart!).toBeGreaterThanOrEqual(1);
      expect(f.axisTitles.filter((t) => t.trim() !== '').length, f.chart!).toBeGreaterThanOrEqual(2);
      expect(f.caption.length, f.chart!).toBeGreaterThan(20);
      expect(f.tableRows, f.chart!).toBeGreaterThan(0);
      expect(f.label, f.chart!).not.toBe('');
    }
    expect(figures.find((f) => f.chart === 'pca')!.axisTitles.join(' | ')).toMatch(
      /^PC1 \(\d+\.\d\s% of variance\) \| PC2 \(\d+\.\d\s% of variance\)$/,
    );
  });

  it('fits a phone without sideways scrolling of the page, and hides navigation and tables in print', async () => {
    await page.setViewportSize(PHONE);
    const pageWidth = await page.locator('html').evaluate((html) => (html as unknown as { scrollWidth: number }).scrollWidth);
    expect(pageWidth).toBeLessThanOrEqual(PHONE.width);
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('nav.toc').isVisible()).toBe(false);
    expect(await page.locator('details').first().isVisible()).toBe(false);
    expect(await page.locator('figure[data-chart="pca"] svg').isVisible()).toBe(true);
    await page.emulateMedia({ media: 'screen' });
  });

  it('saves a screenshot as a test artifact', async () => {
    await mkdir(join(SCREENSHOT, '..'), { recursive: true });
    const png = await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(consoleErrors).toEqual([]);
  });
});
