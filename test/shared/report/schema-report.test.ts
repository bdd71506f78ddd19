// renderReport for another business's schema (the wholesale example: two categorical features,
// seven numeric ones, five of them log1p money columns): every feature has its place on the
// page in the schema's labels and units, the numbers are model.json's, log1p centroids are shown
// in money, the box chart shows the feature that separates the segments most, and the findings
// speak of this schema, not of the mall's.

import { beforeAll, describe, expect, it } from 'vitest';
import { CustomerColumns } from '../../../shared/csv/columns.ts';
import type { Customer } from '../../../shared/csv/contract.ts';
import { parseCustomerSchema } from '../../../shared/schema/customer-schema.ts';
import type { Model } from '../../../shared/model/artifact.ts';
import { nearestCentroids } from '../../../shared/model/assign.ts';
import { etaSquared } from '../../../shared/profile/profile.ts';
import { computeFindings, escapeHtml, HISTOGRAM_BINS, renderReport } from '../../../shared/report/index.ts';
import { formatAmount, formatNumber, formatPercent } from '../../../shared/report/format.ts';
import { trainModel } from '../../../shared/workflows/train.ts';
import { cells, elements, markCount } from './report-html.ts';
import { WHOLESALE, wholesaleColumns, wholesaleModel } from './wholesale-fixture.ts';

const numeric = WHOLESALE.features.filter((f) => f.kind === 'numeric');
const categorical = WHOLESALE.features.filter((f) => f.kind === 'categorical');
const logged = numeric.filter((f) => f.transform === 'log1p');

let model: Model;
let customers: CustomerColumns;
let html: string;
/** The training customers' segments as the page draws them (positions in the model's arrays). */
let labels: Int32Array;

beforeAll(async () => {
  ({ model, customers } = await wholesaleModel());
  html = await renderReport({ model, customers });
  labels = nearestCentroids(customers, model).index;
});

const segmentWithId = (id: number) => model.segments.find((s) => s.id === id)!;
/** η² of every numeric feature over the page's labels, by profile.ts's own function. */
const etas = () => Object.fromEntries(numeric.map((f) => [f.name, etaSquared(customers.numeric(f.name), labels, model.k)]));

describe('renderReport for the wholesale schema', () => {
  it('is a model of the wholesale schema with several segments', () => {
    expect(model.customerSchema.name).toBe('wholesale');
    expect(model.k).toBeGreaterThanOrEqual(3);
    expect(model.features.filter((f) => f.transform === 'log1p').map((f) => f.name)).toEqual(logged.map((f) => f.name));
  });

  it('gives every segment a histogram of every numeric feature, titled by its label, 20 bars each', () => {
    const cards = elements(html, 'article', 'class="segment-card"');
    expect(cards).toHaveLength(model.k);
    for (const card of cards) {
      const id = Number(card.attrs['data-segment-id']);
      const histograms = elements(card.inner, 'figure', 'data-chart="histogram"');
      expect(histograms.map((h) => h.attrs['data-feature'])).toEqual(numeric.map((f) => f.name));
      histograms.forEach((h, j) => {
        expect(h.inner).toContain(`<strong>Segment ${id}: ${escapeHtml(numeric[j]!.label)}.</strong>`);
        // the bins hold exactly the segment's customers
        const counted = cells(h.inner)
          .filter((c) => c.attrs['data-value'] !== undefined)
          .filter((_, i) => i % 2 === 0)
          .reduce((sum, c) => sum + Number(c.attrs['data-value']), 0);
        expect(counted).toBe(labels.filter((l) => model.segments[l]!.id === id).length);
      });
    }
    expect(markCount(html, 'hist_bars')).toBe(model.k * numeric.length * HISTOGRAM_BINS);
  });

  it('bins a log1p feature equally in log1p, with edges in the feature’s units from its minimum to its maximum', () => {
    const fresh = customers.numeric('fresh');
    const figure = elements(html, 'figure', 'data-feature="fresh"')[0]!;
    const edges = cells(figure.inner)
      .filter((c) => c.attrs['data-value'] === undefined && c.text.includes('–'))
      .map((c) => c.text.split('–').map((t) => Number(t.replaceAll(',', '').replace('−', '-'))));
    expect(edges).toHaveLength(HISTOGRAM_BINS);
    expect(edges[0]![0]).toBeCloseTo(Math.min(...fresh), 1);
    expect(edges.at(-1)![1]).toBeCloseTo(Math.max(...fresh), 1);
    const widths = edges.map(([a, b]) => Math.log1p(b!) - Math.log1p(a!));
    // equal within the rounding of the printed edges (0.1 of a unit)
    for (const w of widths) expect(w).toBeCloseTo(widths[10]!, 1);
  });

  it('gives each segment the six-number table of model.json for every numeric feature, headed “Label (unit)”', () => {
    for (const card of elements(html, 'article', 'class="segment-card"')) {
      const s = segmentWithId(Number(card.attrs['data-segment-id']));
      const stats = elements(card.inner, 'table', 'class="stats"')[0]!;
      const head = [...stats.inner.matchAll(/<th scope="col">([^<]*)<\/th>/g)].map((m) => m[1]);
      expect(head).toEqual(['', ...numeric.map((f) => escapeHtml(f.unit === undefined ? f.label : `${f.label} (${f.unit})`))]);
      for (const row of elements(stats.inner, 'tr', 'data-stat=')) {
        const stat = row.attrs['data-stat'] as 'min' | 'p25' | 'median' | 'mean' | 'p75' | 'max';
        const values = cells(row.inner).filter((c) => c.attrs['data-feature'] !== undefined);
        expect(values.map((c) => c.attrs['data-feature'])).toEqual(numeric.map((f) => f.name));
        for (const c of values) {
          // money in its units: the profiles' raw values, not logs
          const expected = s.stats[c.attrs['data-feature']!]![stat];
          expect(Number(c.attrs['data-value'])).toBe(expected);
          expect(c.text).toBe(formatAmount(expected, 1));
        }
      }
    }
  });

  it('gives each segment one shares table per categorical feature, with the shares of model.json', () => {
    expect(html).not.toContain('class="gender"');
    for (const card of elements(html, 'article', 'class="segment-card"')) {
      const s = segmentWithId(Number(card.attrs['data-segment-id']));
      const tables = elements(card.inner, 'table', 'class="category"');
      expect(tables.map((t) => t.attrs['data-feature'])).toEqual(categorical.map((f) => f.name));
      tables.forEach((t, j) => {
        const f = categorical[j]!;
        expect(t.inner).toContain(`<caption>${f.label}</caption>`);
        const rows = elements(t.inner, 'tr', 'data-category=');
        expect(rows.map((r) => r.attrs['data-category'])).toEqual(Object.keys(s.categories[f.name]!));
        const shares = cells(t.inner).filter((c) => c.attrs['data-share'] !== undefined);
        expect(shares.map((c) => Number(c.attrs['data-share']))).toEqual(Object.values(s.categories[f.name]!));
      });
    }
  });

  it('shows a log1p column’s centroid in money (expm1 of model.json’s log), and says the feature was log-transformed', () => {
    const figure = elements(html, 'figure', 'data-chart="centroids"')[0]!;
    const rows = elements(figure.inner, 'tr', 'data-segment-id=');
    expect(rows).toHaveLength(model.k);
    for (const r of rows) {
      const c = model.segments.findIndex((s) => s.id === Number(r.attrs['data-segment-id']));
      const values = cells(r.inner).filter((cell) => cell.attrs['data-column'] !== undefined);
      expect(values.map((v) => v.attrs['data-column'])).toEqual(model.centroids.columns);
      values.forEach((v, j) => {
        const column = model.centroids.columns[j]!;
        const original = model.centroids.original[c]![j]!;
        expect(Number(v.attrs['data-original'])).toBe(original);
        const z = formatNumber(model.centroids.model[c]![j]! / model.scaler.weight[j]!, 2);
        if (logged.some((f) => f.name === column)) {
          expect(Number(v.attrs['data-expm1'])).toBe(Math.expm1(original));
          expect(v.text).toBe(`${z} (${formatAmount(Math.expm1(original), 1)})`);
        } else {
          expect(v.attrs['data-expm1']).toBeUndefined();
          expect(v.text).toBe(`${z} (${formatAmount(original, column.includes('=') ? 2 : 1)})`);
        }
      });
    }
    // the log of a typical customer of the segment: between the segment's smallest and largest value
    const fresh = model.centroids.columns.indexOf('fresh');
    model.segments.forEach((s, c) => {
      const money = Math.expm1(model.centroids.original[c]![fresh]!);
      expect(money).toBeGreaterThanOrEqual(s.stats.fresh!.min);
      expect(money).toBeLessThanOrEqual(s.stats.fresh!.max);
    });
    expect(figure.inner).toContain('For a one-hot column (feature = value), it is the segment’s share of that value, standardized.');
    expect(figure.inner).not.toContain('gender');
    expect(figure.inner).toContain(
      `${escapeHtml('Orders, Fresh, Milk, Grocery, Frozen and Detergents & paper')} were log-transformed (log1p) before scaling`,
    );
    const features = elements(html, 'table', 'class="features"')[0]!;
    for (const f of logged) {
      expect(elements(features.inner, 'tr', `data-feature="${f.name}"`)[0]!.inner).toContain('numeric, log-transformed (log1p)');
    }
  });

  it('draws the box chart of the numeric feature the segments separate most (η²), titled by its label', () => {
    const eta = etas();
    const top = numeric.reduce((a, b) => (eta[b.name]! > eta[a.name]! ? b : a));
    const figure = elements(html, 'figure', 'data-chart="spending"')[0]!;
    expect(figure.attrs['data-feature']).toBe(top.name);
    expect(figure.inner).toContain(`<strong>${escapeHtml(top.label)} by segment.</strong>`);
    expect(figure.inner).toContain(`the segments explain ${formatPercent(eta[top.name])} of its variance`);
    expect(figure.inner).not.toContain('Spending score');
    expect(markCount(html, 'spending_box')).toBe(model.k);
    for (const r of elements(figure.inner, 'tr', 'data-segment-id=')) {
      const s = segmentWithId(Number(r.attrs['data-segment-id']));
      const median = cells(r.inner).find((cell) => cell.attrs['data-stat'] === 'median')!;
      expect(Number(median.attrs['data-value'])).toBe(s.stats[top.name]!.median);
    }
  });

  it('gives generic findings, three to five, with the numbers of model.json behind them', () => {
    const findings = computeFindings(model, customers, labels);
    const ids = findings.map((f) => f.id);
    expect(ids.length).toBeGreaterThanOrEqual(3);
    expect(ids.length).toBeLessThanOrEqual(5);
    for (const mall of ['lowest-spending', 'spending-groups', 'age-within-income', 'single-segment']) expect(ids).not.toContain(mall);
    expect(ids).toEqual(expect.arrayContaining(['largest', 'dominant-feature']));
    expect(ids[0]).toMatch(/^stands-out-\d+$/);
    // the page lists the same sentences
    expect(elements(html, 'li', 'data-finding=').map((li) => li.inner)).toEqual(findings.map((f) => escapeHtml(f.text)));

    const n = model.segments.reduce((sum, s) => sum + s.size, 0);
    const overallMean = (f: string) => model.segments.reduce((sum, s) => sum + s.size * s.stats[f]!.mean, 0) / n;
    for (const finding of findings.filter((f) => f.id.startsWith('stands-out-'))) {
      const s = segmentWithId(finding.numbers.segment!);
      expect(finding.id).toBe(`stands-out-${s.id}`);
      expect(finding.text).toContain(`egment ${s.id} ("${s.name}")`);
      const described = Object.keys(finding.numbers).filter((k) => k.startsWith('mean.'));
      expect(described.length).toBeGreaterThanOrEqual(1);
      for (const key of described) {
        const f = key.slice('mean.'.length);
        const feature = WHOLESALE.features.find((g) => g.name === f)!;
        const label = feature.label.toLowerCase();
        const unit = feature.kind === 'numeric' && feature.unit !== undefined ? ` ${feature.unit}` : '';
        expect(finding.numbers[key]).toBe(s.stats[f]!.mean);
        expect(finding.numbers[`overall.${f}`]).toBeCloseTo(overallMean(f), 9);
        const values = customers.numeric(f);
        const mean = values.reduce((a, b) => a + b, 0) / values.length;
        const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
        expect(finding.numbers[`deviation.${f}`]).toBeCloseTo((s.stats[f]!.mean - overallMean(f)) / std, 9);
        expect(finding.text).toContain(
          `${label}: mean ${formatAmount(s.stats[f]!.mean, 1)}${unit} against ${formatAmount(overallMean(f), 1)}${unit} overall, ` +
            `${formatNumber(Math.abs(finding.numbers[`deviation.${f}`]!), 1)} standard deviations ${finding.numbers[`deviation.${f}`]! >= 0 ? 'above' : 'below'}`,
        );
      }
    }
    const dominant = findings.find((f) => f.id === 'dominant-feature')!;
    const eta = etas();
    for (const f of numeric) expect(dominant.numbers[`eta2.${f.name}`]).toBeCloseTo(eta[f.name]!, 12);
    const top = numeric.reduce((a, b) => (eta[b.name]! > eta[a.name]! ? b : a));
    expect(dominant.text.startsWith(`${top.label} separates the segments most: the segments explain ${formatPercent(eta[top.name])}`)).toBe(
      true,
    );
  });

  it('says which segments are (almost) all one category, with model.json’s shares', () => {
    const finding = computeFindings(model, customers, labels).find((f) => f.id === 'one-value');
    const expected = categorical.flatMap((f) =>
      model.segments.flatMap((s) => {
        const [value, share] = Object.entries(s.categories[f.name]!).sort((a, b) => b[1] - a[1])[0]!;
        return share >= 0.9 ? [{ key: `share.${s.id}.${f.name}`, value, share, s, f }] : [];
      }),
    );
    // the generated segments each favour one value of every categorical feature with a share of 0.85–0.95
    expect(expected.length).toBeGreaterThan(0);
    expect(finding).toBeDefined();
    const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    for (const e of expected) {
      expect(finding!.numbers[e.key]).toBe(e.share);
      // "segment 2 is 94.0 % horeca", or "segments 3 (100.0 %), 2 (94.0 %) and … are horeca"
      const pct = escape(formatPercent(e.share));
      expect(finding!.text).toMatch(
        new RegExp(`segment ${e.s.id} is ${pct} ${escape(e.value)}\\b|\\b${e.s.id} \\(${pct}\\)[^;]*? are ${escape(e.value)}\\b`),
      );
    }
    const shareKeys = Object.keys(finding!.numbers).filter((k) => k.startsWith('share.'));
    expect(shareKeys.sort()).toEqual(expected.map((e) => e.key).sort());
    expect(finding!.text).toContain(`${categorical[0]!.label}: `);
  });

  it('escapes the schema’s labels, units and category values everywhere, charts included', async () => {
    const evil = '<img src=x onerror="alert(1)">';
    const hostile = parseCustomerSchema(
      {
        ...WHOLESALE,
        features: WHOLESALE.features.map((f) =>
          f.kind === 'numeric'
            ? { ...f, label: `${f.label} ${evil}`, unit: '<b>€</b>' }
            : {
                ...f,
                label: `${f.label} ${evil}`,
                categories: f.categories === 'learned' ? f.categories : f.categories.map((c) => `${c}<i>`),
                valueAliases: {},
                missing: 'reject',
              },
        ),
      },
      'hostile.json',
    );
    const rows = Array.from({ length: customers.length }, (_, i) => {
      const c = customers.at(i) as Record<string, string | number>;
      return Object.fromEntries(Object.entries(c).map(([k, v]) => [k, k === 'channel' || k === 'region' ? `${v}<i>` : v]));
    }) as unknown as Customer[];
    const columns = CustomerColumns.from(rows, hostile);
    const renamed = (s: Model['segments'][number]): Model['segments'][number] => ({
      ...s,
      categories: Object.fromEntries(
        Object.entries(s.categories).map(([f, shares]) => [f, Object.fromEntries(Object.entries(shares).map(([v, x]) => [`${v}<i>`, x]))]),
      ),
    });
    const page = await renderReport({
      model: {
        ...model,
        customerSchema: hostile,
        features: model.features.map((f) => (f.categories ? { ...f, categories: f.categories.map((c) => `${c}<i>`) } : f)),
        centroids: { ...model.centroids, columns: model.centroids.columns.map((c) => (c.includes('=') ? `${c}<i>` : c)) },
        scaler: { ...model.scaler, columns: model.scaler.columns.map((c) => (c.includes('=') ? `${c}<i>` : c)) },
        segments: model.segments.map(renamed),
      },
      customers: columns,
    });
    expect(page).not.toContain('<img');
    expect(page).not.toContain('<b>');
    expect(page).not.toContain('<i>');
    expect(page).toContain('Fresh &lt;img src=x onerror=&quot;alert(1)&quot;&gt; (&lt;b&gt;€&lt;/b&gt;)');
    expect(page).toContain('retail&lt;i&gt;');
  });

  it('is the same page when the customers come as objects (the table’s rows) instead of columns', async () => {
    const objects = Array.from({ length: customers.length }, (_, i) => customers.at(i));
    expect(await renderReport({ model, customers: objects })).toBe(html);
  });
});

describe('renderReport for the wholesale schema, edge shapes', () => {
  it('gives the average customer and the most common values with one segment', async () => {
    const few = await wholesaleColumns(200, 3);
    const single = trainModel(
      { source: 'w.csv', customers: few, rowsRead: 200, rowsRejected: 0, duplicates: 0 },
      { k: 1, sweep: 'none', restarts: 1 },
      new Date('2026-11-26T15:30:00.000Z'),
    );
    const page = await renderReport({ model: single, customers: few });
    const findings = elements(page, 'li', 'data-finding=');
    expect(findings.map((f) => f.attrs['data-finding'])).toEqual(['single-segment', 'most-common', 'largest']);
    const mean = (f: string) => few.numeric(f).reduce((a, b) => a + b, 0) / few.length;
    expect(findings[0]!.inner).toContain(`fresh ${formatAmount(mean('fresh'), 1)}`);
    expect(findings[1]!.inner).toMatch(/^Most common values: channel (horeca|retail) \(\d+\.\d\s%\), region (lisbon|oporto|other) /);
    expect(markCount(page, 'spending_box')).toBe(1);
  });

  it('renders a model on the categorical features alone (no numeric model column), every feature still profiled', async () => {
    const few = await wholesaleColumns(300, 4);
    const onlyCategories = trainModel(
      { source: 'w.csv', customers: few, rowsRead: 300, rowsRejected: 0, duplicates: 0 },
      { k: 3, features: ['channel', 'region'], maxK: 3, restarts: 1 },
      new Date('2026-11-26T15:30:00.000Z'),
    );
    const page = await renderReport({ model: onlyCategories, customers: few });
    expect(markCount(page, 'centroid_cells')).toBe(3 * 5);
    expect(page).not.toContain('log-transformed (log1p) before scaling');
    expect(elements(page, 'figure', 'data-chart="histogram"')).toHaveLength(3 * numeric.length);
  });
});
