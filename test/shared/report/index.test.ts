// renderReport: the numbers on the page are model.json's, the page is self-contained and
// deterministic, text is escaped, the scatter samples large inputs, the input is checked, and a
// retrained model's segments are named by their ids, not by their positions in model.json.

import { beforeAll, describe, expect, it } from 'vitest';
import { ModelError } from '../../../shared/errors.ts';
import { parseModel, serializeModel, type Model } from '../../../shared/model/artifact.ts';
import { assignCustomers } from '../../../shared/model/assign.ts';
import { NUMERIC_FIELDS } from '../../../shared/csv/contract.ts';
import { computeFindings, escapeHtml, renderReport } from '../../../shared/report/index.ts';
import { formatInt, formatNumber } from '../../../shared/report/format.ts';
import { trainModel } from '../../../shared/workflows/train.ts';
import { asCustomers, generated, QUICK, smallModel, TRAINED_AT, trainingData } from '../support/model-fixtures.ts';
import { cells, elements, markCount } from './report-html.ts';

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const TABLE_STATS = { created: 240, assigned: 57, unlabeled: 3, outliers: 6, total: 300 };

/** Position in the model's arrays of the segment with this id. */
function positionOf(m: Model, id: number): number {
  const c = m.segments.findIndex((s) => s.id === id);
  if (c < 0) throw new Error(`no segment ${id} in ${m.modelVersion}`);
  return c;
}
const segmentWithId = (m: Model, id: number) => m.segments[positionOf(m, id)]!;

let model: Model;
let html: string;
const { customers, model: trained } = smallModel();

beforeAll(async () => {
  // the model as read back from model.json
  model = parseModel(serializeModel(trained), 'model.json');
  html = await renderReport({ model, customers, tableStats: TABLE_STATS });
});

describe('renderReport numbers', () => {
  it('shows every segment with the size and share of model.json', () => {
    const cards = elements(html, 'article', 'class="segment-card"');
    expect(cards.map((c) => Number(c.attrs['data-segment-id']))).toEqual(model.segments.map((s) => s.id));
    cards.forEach((card, i) => {
      const s = model.segments[i]!;
      expect(Number(card.attrs['data-size'])).toBe(s.size);
      expect(Number(card.attrs['data-share'])).toBe(s.share);
      expect(card.inner).toContain(
        `Segment ${s.id}, Number of customers <strong data-field="size" data-value="${s.size}">${formatInt(s.size)}</strong>`,
      );
    });
  });

  it('gives each segment the six-number table of model.json, maximum in the max row', () => {
    for (const card of elements(html, 'article', 'class="segment-card"')) {
      const s = segmentWithId(model, Number(card.attrs['data-segment-id']));
      const table = elements(card.inner, 'table', 'class="stats"')[0]!;
      const rows = elements(table.inner, 'tr', 'data-stat=');
      expect(rows.map((r) => r.attrs['data-stat'])).toEqual(['min', 'p25', 'median', 'mean', 'p75', 'max']);
      for (const row of rows) {
        const stat = row.attrs['data-stat'] as 'min' | 'p25' | 'median' | 'mean' | 'p75' | 'max';
        const values = cells(row.inner).filter((c) => c.attrs['data-feature'] !== undefined);
        expect(values.map((c) => c.attrs['data-feature'])).toEqual([...NUMERIC_FIELDS]);
        for (const cell of values) {
          const expected = s.stats[cell.attrs['data-feature']!]![stat];
          expect(Number(cell.attrs['data-value'])).toBe(expected);
          expect(cell.text).toBe(formatNumber(expected, 1));
        }
      }
      // the original notebook printed the minimum in the max row
      for (const f of NUMERIC_FIELDS)
        if (s.stats[f]!.max !== s.stats[f]!.min)
          expect(rows.at(-1)!.inner).not.toContain(`data-value="${s.stats[f]!.min}" class="num" data-feature="${f}"`);
    }
  });

  it('gives gender shares of model.json', () => {
    for (const card of elements(html, 'article', 'class="segment-card"')) {
      const s = segmentWithId(model, Number(card.attrs['data-segment-id']));
      const shares = cells(elements(card.inner, 'table', 'class="gender"')[0]!.inner).filter((c) => c.attrs['data-share'] !== undefined);
      expect(shares.map((c) => Number(c.attrs['data-share']))).toEqual(Object.values(s.categories.gender!));
    }
  });

  it('lists inertia, silhouette and Davies–Bouldin of model.json for every k tried', () => {
    const sweep = model.metrics.sweep.entries;
    const elbowRows = elements(elements(html, 'figure', 'data-chart="elbow"')[0]!.inner, 'tr', 'data-k=');
    expect(elbowRows.map((r) => Number(r.attrs['data-k']))).toEqual(sweep.map((e) => e.k));
    elbowRows.forEach((r, i) => {
      const inertia = cells(r.inner).find((c) => c.attrs['data-metric'] === 'inertia')!;
      expect(Number(inertia.attrs['data-value'])).toBe(sweep[i]!.inertia);
    });
    const qualityRows = elements(elements(html, 'figure', 'data-chart="quality"')[0]!.inner, 'tr', 'data-k=');
    qualityRows.forEach((r, i) => {
      const metric = (name: string) => cells(r.inner).find((c) => c.attrs['data-metric'] === name)!.attrs['data-value'];
      expect(metric('silhouette')).toBe(sweep[i]!.silhouette === null ? '' : String(sweep[i]!.silhouette));
      expect(metric('daviesBouldin')).toBe(sweep[i]!.daviesBouldin === null ? '' : String(sweep[i]!.daviesBouldin));
    });
    expect(elbowRows.filter((r) => r.attrs.class === 'chosen').map((r) => Number(r.attrs['data-k']))).toEqual([model.k]);
  });

  it('shows the header facts and the chosen model’s metrics of model.json', () => {
    const field = (name: string) => elements(html, 'span', `data-field="${name}"`)[0]!.attrs['data-value'];
    expect(Number(field('rowsRead'))).toBe(model.training.rowsRead);
    expect(Number(field('rowsAccepted'))).toBe(model.training.rowsAccepted);
    expect(Number(field('rowsRejected'))).toBe(model.training.rowsRejected);
    expect(html).toContain(`<dd data-field="modelVersion"><code>${model.modelVersion}</code></dd>`);
    expect(html).toContain(model.metrics.sweep.rule);
    expect(Number(elements(html, 'span', 'data-metric="inertia"')[0]!.attrs['data-value'])).toBe(model.metrics.inertia);
    const weights = elements(elements(html, 'table', 'class="features"')[0]!.inner, 'tr', 'data-feature=');
    expect(weights.map((w) => w.attrs['data-feature'])).toEqual(model.features.map((f) => f.name));
  });

  it('shows the centroids of model.json in the heatmap table', () => {
    const rows = elements(elements(html, 'figure', 'data-chart="centroids"')[0]!.inner, 'tr', 'data-segment-id=');
    expect(rows).toHaveLength(model.k);
    for (const r of rows) {
      const c = positionOf(model, Number(r.attrs['data-segment-id']));
      const values = cells(r.inner).filter((cell) => cell.attrs['data-column'] !== undefined);
      expect(values.map((v) => v.attrs['data-column'])).toEqual(model.centroids.columns);
      values.forEach((v, j) => {
        expect(Number(v.attrs['data-original'])).toBe(model.centroids.original[c]![j]);
        expect(Number(v.attrs['data-value'])).toBeCloseTo(model.centroids.model[c]![j]! / model.scaler.weight[j]!, 12);
      });
    }
  });

  it('shows the model’s warnings, findings and the table statistics', () => {
    for (const w of model.warnings) expect(html).toContain(`<li data-warning>${w}</li>`);
    const findings = elements(html, 'li', 'data-finding=');
    expect(findings.length).toBeGreaterThanOrEqual(3);
    expect(findings.length).toBeLessThanOrEqual(5);
    expect(findings.map((f) => f.attrs['data-finding'])).toContain('age-within-income');
    const stat = (name: string) => elements(html, 'tr', `data-stat="${name}"`)[0]!;
    expect(cells(stat('created').inner).map((c) => c.attrs['data-value'])).toEqual([undefined, '240', String(240 / 300)]);
    expect(elements(html, 'strong', 'data-stat="outlier-rate"')[0]!.attrs['data-value']).toBe(String(6 / 297));
  });

  it('draws one scatter mark per customer, one elbow point per k tried, one box per segment', () => {
    expect(markCount(html, 'pca_points')).toBe(customers.length);
    expect(markCount(html, 'pca_centroids')).toBe(model.k);
    expect(markCount(html, 'elbow_points')).toBe(model.metrics.sweep.entries.length);
    expect(markCount(html, 'spending_box')).toBe(model.k);
    expect(markCount(html, 'centroid_cells')).toBe(model.k * model.scaler.columns.length);
    expect(markCount(html, 'hist_bars')).toBe(model.k * NUMERIC_FIELDS.length * 20);
  });
});

describe('renderReport page', () => {
  it('is the same bytes for the same input', async () => {
    expect(await renderReport({ model, customers, tableStats: TABLE_STATS })).toBe(html);
  });

  it('loads nothing: no scripts, external links, images, fonts or imports', () => {
    expect(html).toMatch(/^<!doctype html>\n<html lang="en"/);
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).toContain("default-src 'none'");
    expect(html).not.toMatch(/<script|<link|<img|<iframe|<object|<embed|@import|\bsrc=|url\((?!#)/i);
    // the only http(s) text is the SVG namespace
    expect(html.replace(/xmlns(:xlink)?="http:\/\/www\.w3\.org\/(2000\/svg|1999\/xlink)"/g, '')).not.toMatch(/https?:/);
  });

  it('keeps element ids unique across the charts', () => {
    const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('leaves the table section out without table statistics', async () => {
    const without = await renderReport({ model, customers });
    expect(without).not.toContain('id="table"');
    expect(without).not.toContain('data-stat="outlier-rate"');
  });

  it('escapes segment names, the source and warnings everywhere, charts included', async () => {
    const evil = '<img src=x onerror="alert(1)"> & \'co\'';
    const hostile: Model = {
      ...model,
      segments: model.segments.map((s) => ({ ...s, name: `${evil} ${s.id}` })),
      training: { ...model.training, source: '</code><script>alert(2)</script>' },
      warnings: ['<b>bold</b> warning'],
    };
    const page = await renderReport({ model: hostile, customers });
    expect(page).not.toContain('<img');
    expect(page).not.toContain('<script');
    expect(page).not.toContain('<b>bold');
    expect(page).toContain('&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; &#39;co&#39; 0');
    expect(page).toContain('&lt;/code&gt;&lt;script&gt;alert(2)&lt;/script&gt;');
  });

  it('plots a stratified sample when there are more customers than points, and says so', async () => {
    const page = await renderReport({ model, customers, maxPoints: 100 });
    const figure = elements(page, 'figure', 'data-chart="pca"')[0]!;
    expect(figure.attrs['data-plotted']).toBe('100');
    expect(markCount(page, 'pca_points')).toBe(100);
    expect(figure.inner).toContain(`Showing 100 of ${formatInt(customers.length)} customers: a deterministic stratified sample`);
    // the principal components come from the plotted sample, and the page says so
    expect(figure.attrs['data-pca-rows']).toBe('100');
    expect(figure.inner).toContain(
      `The principal components and the shares of variance are computed from these 100 customers, not from all ${formatInt(customers.length)}; the histograms, tables and findings use every customer.`,
    );
    const all = elements(html, 'figure', 'data-chart="pca"')[0]!;
    expect(all.attrs['data-pca-rows']).toBe(String(customers.length));
    expect(all.inner).not.toContain('computed from these');
    const plotted = elements(figure.inner, 'tr', 'data-segment-id=').map((r) => Number(cells(r.inner)[2]!.attrs['data-value']));
    expect(plotted.reduce((a, b) => a + b, 0)).toBe(100);
    model.segments.forEach((s, c) => expect(Math.abs(plotted[c]! - (100 * s.size) / customers.length)).toBeLessThanOrEqual(1.5));
  });

  it('renders the edge shapes: one segment on one model column, and no gender feature', async () => {
    const few = asCustomers(generated(40, 3));
    const single = trainModel(trainingData(few), { k: 1, features: ['spending_score'], maxK: 2, restarts: 1 }, TRAINED_AT);
    const page = await renderReport({ model: single, customers: few });
    expect(markCount(page, 'pca_points')).toBe(40);
    expect(markCount(page, 'centroid_cells')).toBe(1);
    expect(page).toContain('PC2 (none: one model column)');
    expect(elements(page, 'li', 'data-finding=').map((f) => f.attrs['data-finding'])).toEqual([
      'single-segment',
      'age-within-income',
      'largest',
    ]);
    const noGender = trainModel(trainingData(few), { k: 3, exclude: ['gender'], maxK: 3, restarts: 1 }, TRAINED_AT);
    const other = await renderReport({ model: noGender, customers: few });
    expect(markCount(other, 'centroid_cells')).toBe(3 * 3);
    expect(elements(other, 'article', 'class="segment-card"').length).toBe(3);
  });

  it('says so when relabeling the training customers does not reproduce the model’s segment sizes', async () => {
    const shifted: Model = {
      ...model,
      segments: model.segments.map((s) => ({ ...s, size: s.size + (s.id === 0 ? 2 : s.id === 1 ? -2 : 0) })),
    };
    const page = await renderReport({ model: shifted, customers });
    expect(page).toContain(
      '<li data-warning>Relabeling the training customers with the model&#39;s centroids moves at least 2 customer(s)',
    );
    expect(html).not.toContain('Relabeling the training customers');
  });

  it('refuses customers that are not the model’s training customers', async () => {
    await expect(renderReport({ model, customers: customers.slice(1) })).rejects.toThrow(ModelError);
    await expect(renderReport({ model, customers: customers.slice(1) })).rejects.toThrow(/needs its 240 training customers; got 239/);
  });
});

describe('renderReport on a retrained model (segment ids are not positions)', () => {
  // A line of models whose ids were handed out in reverse order: a retrain on the same customers
  // matches every segment and keeps its id, so the segment at position c has another id.
  const reference: Model = { ...trained, segments: trained.segments.map((s, c) => ({ ...s, id: trained.k - 1 - c })) };
  let retrained: Model;
  let page: string;
  /** The segment id of every training customer, as labeled.csv writes it. */
  let labeled: number[];
  const count = (id: number) => labeled.filter((l) => l === id).length;
  const sortedIds = () => retrained.segments.map((s) => s.id).sort((a, b) => a - b);

  beforeAll(async () => {
    const fitted = trainModel(trainingData(customers), { ...QUICK, k: trained.k, seed: trained.seed }, TRAINED_AT, reference);
    retrained = parseModel(serializeModel(fitted), 'model.json');
    labeled = assignCustomers(customers, retrained).map((a) => a.segment);
    page = await renderReport({ model: retrained, customers });
  });

  it('is a model whose ids are 0..k−1, kept from the previous model, but not in position order', () => {
    expect(retrained.lineage.parent).toBe(reference.modelVersion);
    expect(retrained.lineage.matched).toHaveLength(retrained.k);
    expect(sortedIds()).toEqual(retrained.segments.map((_, c) => c));
    expect(retrained.segments.map((s) => s.id)).not.toEqual(retrained.segments.map((_, c) => c));
    // the customers the model was trained on land where its profiles say
    for (const s of retrained.segments) expect(count(s.id)).toBe(s.size);
  });

  it('heads each card with its segment id and name, and fills it with that segment’s customers', () => {
    const cards = elements(page, 'article', 'class="segment-card"');
    expect(cards.map((c) => Number(c.attrs['data-segment-id']))).toEqual(sortedIds());
    for (const card of cards) {
      const id = Number(card.attrs['data-segment-id']);
      const s = segmentWithId(retrained, id);
      expect(card.attrs.id).toBe(`segment-${id}`);
      expect(Number(card.attrs['data-size'])).toBe(s.size);
      expect(card.inner).toMatch(new RegExp(`</span>Segment ${id} · ${escapeRegExp(escapeHtml(s.name))}</h3>`));
      expect(card.inner).toContain(`<p class="lead">Segment ${id}, Number of customers <strong data-field="size" data-value="${s.size}">`);
      const histograms = elements(card.inner, 'figure', 'data-chart="histogram"');
      expect(histograms).toHaveLength(NUMERIC_FIELDS.length);
      for (const h of histograms) {
        expect(Number(h.attrs['data-segment'])).toBe(id);
        expect(h.inner).toContain(`Segment ${id}: `);
        // the bars count the customers labeled.csv puts in this segment
        const customersInBins = cells(h.inner)
          .filter((c) => c.attrs['data-value'] !== undefined)
          .filter((_, i) => i % 2 === 0)
          .reduce((sum, c) => sum + Number(c.attrs['data-value']), 0);
        expect(customersInBins).toBe(count(id));
      }
    }
  });

  it('labels each centroid in the scatter with its segment id, and colours legend, points and cards alike', () => {
    const figure = elements(page, 'figure', 'data-chart="pca"')[0]!;
    const rows = elements(figure.inner, 'tr', 'data-segment-id=');
    const rowIds = rows.map((r) => Number(r.attrs['data-segment-id']));
    expect(rowIds).toEqual(sortedIds());
    rows.forEach((r, i) => {
      const s = segmentWithId(retrained, rowIds[i]!);
      const [name, size, plotted] = cells(r.inner);
      expect(name!.text).toBe(escapeHtml(`${s.id} · ${s.name}`));
      expect(Number(size!.attrs['data-value'])).toBe(s.size);
      expect(Number(plotted!.attrs['data-value'])).toBe(count(s.id));
    });
    // the diamonds' labels, drawn in the table's order
    const labels = [...elements(page, 'g', 'pca_centroid_labels_marks"')[0]!.inner.matchAll(/<text\b[^>]*>([^<]*)<\/text>/g)].map(
      (m) => m[1],
    );
    expect(labels).toEqual(rowIds.map(String));
    // legend entries, in id order, each in its card's colour; as many points in that colour as customers in the segment
    const legend = [
      ...figure.inner.matchAll(
        /role-legend-symbol"><path [^>]*fill="(#[0-9a-f]{6})"[^>]*\/><\/g><g class="mark-text role-legend-label"><text [^>]*>([^<]*)<\/text>/g,
      ),
    ].map((m) => ({ color: m[1]!, label: m[2]! }));
    expect(legend.map((l) => l.label)).toEqual(rowIds.map((id) => escapeHtml(`${id} · ${segmentWithId(retrained, id).name}`)));
    const fills = [...elements(figure.inner, 'g', 'pca_points_marks"')[0]!.inner.matchAll(/fill="(#[0-9a-f]{6})"/g)].map((m) => m[1]);
    for (const { color, label } of legend) {
      const id = Number(label.split(' ')[0]);
      const card = elements(page, 'article', `id="segment-${id}"`)[0]!;
      expect(card.inner).toContain(`style="background:${color}"`);
      expect(fills.filter((f) => f === color)).toHaveLength(count(id));
    }
  });

  it('keeps every segment’s colour from the previous report when every id is kept', async () => {
    const before = await renderReport({ model: reference, customers });
    const swatch = (html: string, id: number) =>
      /style="background:(#[0-9a-f]{6})"/.exec(elements(html, 'article', `id="segment-${id}"`)[0]!.inner)![1];
    for (const id of sortedIds()) expect(swatch(page, id)).toBe(swatch(before, id));
  });

  it('puts each segment’s own centroid and spending figures on its heatmap and spending rows', () => {
    const heatmapRows = elements(elements(page, 'figure', 'data-chart="centroids"')[0]!.inner, 'tr', 'data-segment-id=');
    expect(heatmapRows.map((r) => Number(r.attrs['data-segment-id']))).toEqual(sortedIds());
    for (const r of heatmapRows) {
      const id = Number(r.attrs['data-segment-id']);
      const c = positionOf(retrained, id);
      expect(cells(r.inner)[0]!.text).toBe(escapeHtml(`${id} · ${retrained.segments[c]!.name}`));
      const originals = cells(r.inner)
        .filter((cell) => cell.attrs['data-original'] !== undefined)
        .map((cell) => Number(cell.attrs['data-original']));
      expect(originals).toEqual(retrained.centroids.original[c]);
    }
    const spendingRows = elements(elements(page, 'figure', 'data-chart="spending"')[0]!.inner, 'tr', 'data-segment-id=');
    expect(spendingRows.map((r) => Number(r.attrs['data-segment-id']))).toEqual(sortedIds());
    for (const r of spendingRows) {
      const s = segmentWithId(retrained, Number(r.attrs['data-segment-id']));
      const median = cells(r.inner).find((cell) => cell.attrs['data-stat'] === 'median')!;
      expect(Number(median.attrs['data-value'])).toBe(s.stats.spending_score!.median);
    }
  });

  it('names segments in the findings by id', () => {
    const findings = computeFindings(
      retrained,
      customers,
      Int32Array.from(assignCustomers(customers, retrained), (a) => a.index),
    );
    const lowest = retrained.segments.reduce((a, b) => (b.stats.spending_score!.mean < a.stats.spending_score!.mean ? b : a));
    const largest = [...retrained.segments].sort((a, b) => b.size - a.size || a.id - b.id)[0]!;
    const lowestFinding = findings.find((f) => f.id === 'lowest-spending')!;
    expect(lowestFinding.numbers.segment).toBe(lowest.id);
    expect(lowestFinding.text).toContain(`egment ${lowest.id} ("${lowest.name}") spends least`);
    const largestFinding = findings.find((f) => f.id === 'largest')!;
    expect(largestFinding.numbers.largest).toBe(largest.id);
    expect(largestFinding.text).toContain(`The largest segment is segment ${largest.id} ("${largest.name}")`);
    expect(elements(page, 'li', 'data-finding="largest"')[0]!.inner).toBe(escapeHtml(largestFinding.text));
  });
});

describe('renderReport: which k sweep ran', () => {
  it('says a full sweep chose k, a quick one ran beside a given k, or none ran', async () => {
    const full = await renderReport({ model: trained, customers });
    expect(trained.metrics.sweep.mode).toBe('full');
    expect(elements(full, 'p', 'data-sweep-mode="full"')[0]!.inner).toContain('The full sweep: each k fitted on 240 rows');
    expect(full).toContain('suggested by the sweep');

    const given = trainModel(trainingData(customers), { ...QUICK, k: 3 }, TRAINED_AT);
    const quick = await renderReport({ model: given, customers });
    const note = elements(quick, 'p', 'data-sweep-mode="quick"')[0]!.inner;
    expect(note).toContain('k = 3 was given, so the sweep below is a quick one');
    expect(note).toContain(`with ${given.metrics.sweep.restarts} starts`);
    expect(quick).toContain(`set explicitly; a quick sweep suggested k = ${given.metrics.sweep.suggestedK}`);
    expect(quick).toContain('id="chart-elbow"');

    const bare = trainModel(trainingData(customers), { ...QUICK, k: 3, sweep: 'none' }, TRAINED_AT);
    const none = await renderReport({ model: bare, customers });
    expect(elements(none, 'p', 'data-sweep-mode="none"')[0]!.inner).toContain('k = 3 was given and no k sweep ran');
    expect(none).toContain('set explicitly; no k sweep ran');
    expect(none).not.toContain('id="chart-elbow"');
  });
});
