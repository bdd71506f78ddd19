// The report in a real browser (Debian's Chromium through playwright-core): it loads nothing
// from the network, logs no errors, draws marks that match its data, fits a phone, and prints;
// the mall's page, and the page of another business's schema (the wholesale example).

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
import { WHOLESALE, wholesaleModel } from './wholesale-fixture.ts';

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

describe('a wholesale report in Chromium', () => {
  const numeric = WHOLESALE.features.filter((f) => f.kind === 'numeric');
  const categorical = WHOLESALE.features.filter((f) => f.kind === 'categorical');
  let other: Page;
  let otherUrl: string;
  let k: number;
  const otherRequests: string[] = [];
  const otherErrors: string[] = [];

  beforeAll(async () => {
    const { model: wholesale, customers: rows } = await wholesaleModel();
    k = wholesale.k;
    const file = join(temp.path, 'wholesale.html');
    await writeFile(file, await renderReport({ model: wholesale, customers: rows }));
    otherUrl = pathToFileURL(file).href;
    other = await browser.context.newPage();
    other.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') otherErrors.push(`${m.type()}: ${m.text()}`);
    });
    other.on('pageerror', (e) => otherErrors.push(`pageerror: ${e.message}`));
    other.on('request', (r) => otherRequests.push(r.url()));
    await other.route('**/*', (route) => (route.request().url() === otherUrl ? route.continue() : route.abort()));
    await other.goto(otherUrl, { waitUntil: 'load' });
  });

  it('requests nothing but the file itself and logs no errors', () => {
    expect(otherRequests).toEqual([otherUrl]);
    expect(otherErrors).toEqual([]);
  });

  it('draws every numeric feature’s histogram in every card, a log1p one on a log axis labelled in its units', async () => {
    const histograms = other.locator('figure[data-chart="histogram"]');
    expect(await histograms.count()).toBe(k * numeric.length);
    const drawn = await histograms.evaluateAll((figs) =>
      (figs as unknown as DomElement[]).map((f) => ({
        feature: f.getAttribute('data-feature'),
        bars: f.querySelectorAll('g.hist_bars_marks > path').length,
        // bar widths in pixels: equal bins look equal
        widths: Array.from(f.querySelectorAll('g.hist_bars_marks > path'), (p) => p.getBoundingClientRect().width),
        // the x axis's tick labels: the first axis with labels (grid axes have none)
        ticks: Array.from(f.querySelectorAll('svg .role-axis'), (axis) =>
          Array.from(axis.querySelectorAll('.role-axis-label text'), (t) => t.textContent ?? ''),
        ).filter((labels) => labels.length > 0)[0]!,
        xTitle: f.querySelector('svg .role-axis-title text')?.textContent ?? '',
      })),
    );
    expect(drawn.map((d) => d.feature)).toEqual(Array.from({ length: k }, () => numeric.map((f) => f.name)).flat());
    for (const d of drawn) {
      const f = numeric.find((g) => g.name === d.feature)!;
      expect(d.bars).toBe(HISTOGRAM_BINS);
      expect(d.xTitle).toBe(f.unit === undefined ? f.label : `${f.label} (${f.unit})`);
      if (f.transform === 'log1p') {
        // bins of equal width in log1p, on a symlog (log1p) axis: bars of equal width, ticks at powers of ten
        const nonEmpty = d.widths.filter((w) => w > 0);
        expect(Math.max(...nonEmpty) - Math.min(...nonEmpty)).toBeLessThan(1);
        expect(d.ticks.length).toBeGreaterThanOrEqual(2);
        for (const t of d.ticks) expect(t).toMatch(/^(0|1|10|100|1k|10k|100k|1M)$/);
      }
    }
  });

  it('shows one shares table per categorical feature in every card, and the box chart of one feature', async () => {
    for (const f of categorical) {
      expect(await other.locator(`.segment-card table.category[data-feature="${f.name}"]`).count()).toBe(k);
    }
    expect(await other.locator('table.gender').count()).toBe(0);
    expect(await other.locator('figure[data-chart="spending"] g.spending_box_marks > path').count()).toBe(k);
    const feature = await other.locator('figure[data-chart="spending"]').getAttribute('data-feature');
    const label = numeric.find((f) => f.name === feature)!.label;
    expect(await other.locator('figure[data-chart="spending"] svg .role-title-text text').first().textContent()).toBe(
      `${label} by segment`,
    );
  });

  it('gives every chart a visible drawing and fits a phone', async () => {
    const widths = await other
      .locator('figure.chart')
      .evaluateAll((figs) => (figs as unknown as DomElement[]).map((f) => f.querySelector('svg')!.getBoundingClientRect().width));
    expect(widths.length).toBe(5 + k * numeric.length);
    for (const w of widths) expect(w).toBeGreaterThan(100);
    await other.setViewportSize(PHONE);
    const pageWidth = await other.locator('html').evaluate((html) => (html as unknown as { scrollWidth: number }).scrollWidth);
    expect(pageWidth).toBeLessThanOrEqual(PHONE.width);
    expect(otherErrors).toEqual([]);
  });
});
