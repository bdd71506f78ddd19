// The segmentation report: one self-contained HTML page beside every model, with the charts
// rendered to inline SVG by Vega at generation time (from Vega-Lite specs compiled ahead, see
// chart-specs.ts). Pure: no I/O, no clock.
// A segment is named by its id everywhere on the page; after a retrain that keeps ids, an id is
// not its position in the model's arrays (centroids, segments, labels), which only index data.

import type { Customers } from '../csv/columns.ts';
import { NUMERIC_FIELDS, type NumericField } from '../csv/contract.ts';
import { ModelError } from '../errors.ts';
import type { Matrix } from '../features/encode.ts';
import type { Model } from '../model/artifact.ts';
import { modelSpaceRows, nearestCentroids, numericColumns } from '../model/assign.ts';
import {
  countLabels,
  DEFAULT_MAX_POINTS,
  HISTOGRAM_BINS,
  projectPca,
  scatterSample,
  segmentHistogram,
  type Histogram,
} from './analysis.ts';
import { HistogramChart, renderHeatmap, renderMetricByK, renderScatter, renderSpending, segmentColors } from './charts.ts';
import { escapeHtml } from './escape.ts';
import { computeFindings, type Finding } from './findings.ts';
import { exact, formatInt, formatNumber, formatPercent } from './format.ts';
import { el, figure, page, table, type Row } from './html.ts';

export { computeFindings } from './findings.ts';
export { escapeHtml } from './escape.ts';
export { HISTOGRAM_BINS } from './analysis.ts';

/** Label counts in the customers table, when the report is generated with access to it. */
export interface TableStats {
  readonly created: number;
  readonly assigned: number;
  readonly unlabeled: number;
  readonly outliers: number;
  readonly total: number;
}

export interface ReportInput {
  /** The trained model (model.json). */
  readonly model: Model;
  /** The accepted training customers, in training order. */
  readonly customers: Customers;
  /** Label counts from the customers table, or null/absent when generated without it. */
  readonly tableStats?: TableStats | null;
  /** Most customers drawn in the scatter (default 5,000); beyond it, a stratified sample. */
  readonly maxPoints?: number;
  /** Where the table's customers went from the previously active model's segments to this one's. */
  readonly movement?: Movement | null;
  /**
   * Set when `customers` are a sample of the training customers (training from the table: the first
   * rows of the sample order, which the sweep and the restarts ran on): how many training customers
   * there were. The page then says what it draws from the sample.
   */
  readonly sampleOf?: number;
}

/** A "who moved where" matrix: customers by previous segment (rows) and new segment (columns). */
export interface Movement {
  readonly previous: string;
  readonly from: readonly { readonly id: number; readonly name: string }[];
  readonly to: readonly { readonly id: number; readonly name: string }[];
  /** counts[i][j]: customers in previous segment from[i] and new segment to[j]. */
  readonly counts: readonly (readonly number[])[];
}

function movementSection(movement: Movement): string {
  const rows: Row[] = movement.from.map((f, i) => ({
    attrs: { 'data-from': f.id },
    cells: [
      { text: `${f.id} · ${f.name}`, header: true },
      ...movement.to.map((t, j) => ({
        text: formatInt(movement.counts[i]![j]!),
        value: movement.counts[i]![j]!,
        attrs: { 'data-to': t.id },
      })),
    ],
  }));
  const stayed = movement.from.reduce(
    (sum, f, i) => sum + movement.to.reduce((s, t, j) => s + (t.id === f.id ? movement.counts[i]![j]! : 0), 0),
    0,
  );
  const total = movement.counts.flat().reduce((a, b) => a + b, 0);
  return el(
    'section',
    { id: 'movement' },
    '<h2>Who moved where</h2>' +
      `<p>The customers of this training, labeled by the previously active model ${el('code', {}, escapeHtml(movement.previous))} (rows) and by this one (columns). ` +
      `Segments matched to the previous model keep their id; ${el('strong', { 'data-value': stayed, 'data-stat': 'stayed' }, formatInt(stayed))} of ${formatInt(total)} customers ` +
      `(${formatPercent(total > 0 ? stayed / total : Number.NaN)}) stayed in a segment with the same id.</p>` +
      table({
        caption: 'Previous segment → new segment (customers)',
        columns: ['', ...movement.to.map((t) => `${t.id} · ${t.name}`)],
        rows,
        attrs: { class: 'movement' },
      }),
  );
}

const FIELD_LABELS: Record<NumericField, { title: string; short: string }> = {
  age: { title: 'Age (years)', short: 'Age' },
  annual_income_thousands: { title: 'Annual income (k$)', short: 'Annual income' },
  spending_score: { title: 'Spending score (1–100)', short: 'Spending score' },
};
const STAT_ROWS = [
  ['min', 'Minimum'],
  ['p25', '25 %'],
  ['median', 'Median (50 %)'],
  ['mean', 'Mean'],
  ['p75', '75 %'],
  ['max', 'Maximum'],
] as const;
const SPENDING_DOMAIN: readonly [number, number] = [0, 100];
const DECIMALS = { metric: 3, stat: 1, z: 2, pc: 2, loading: 2 } as const;
const MAX_LOADINGS_NAMED = 2;

type Segment = Model['segments'][number];
const segmentLabel = (s: Pick<Segment, 'id' | 'name'>): string => `${s.id} · ${s.name}`;

function columnLabel(column: string): string {
  const [name, category] = column.split('=');
  if (category !== undefined) return `${name} = ${category}`;
  return FIELD_LABELS[name as NumericField]?.short ?? column;
}

function header(model: Model): string {
  const t = model.training;
  const sweep = model.metrics.sweep;
  const why =
    sweep.mode === 'none'
      ? 'set explicitly; no k sweep ran'
      : sweep.mode === 'quick'
        ? `set explicitly; a quick sweep suggested k = ${sweep.suggestedK} (${sweep.rule})`
        : model.k === sweep.suggestedK
          ? `suggested by the sweep: ${sweep.rule}`
          : `set explicitly; the sweep suggested k = ${sweep.suggestedK} (${sweep.rule})`;
  const fact = (label: string, field: string, html: string): string =>
    `<dt>${escapeHtml(label)}</dt>${el('dd', { 'data-field': field }, html)}`;
  const featureRows: Row[] = model.features.map((f) => ({
    attrs: { 'data-feature': f.name },
    cells: [
      { text: f.name, header: true },
      f.kind,
      f.kind === 'categorical' ? (f.categories ?? []).join(', ') : '—',
      { text: formatNumber(f.weight, 2), value: f.weight, attrs: { 'data-weight': exact(f.weight) } },
    ],
  }));
  const m = model.metrics;
  return (
    el(
      'header',
      {},
      `<h1>Customer segmentation report</h1><p class="subtitle">Model <code>${escapeHtml(model.modelVersion)}</code> · trained ${escapeHtml(model.createdAt)}</p>` +
        el(
          'dl',
          { class: 'facts' },
          fact('Model version', 'modelVersion', `<code>${escapeHtml(model.modelVersion)}</code>`) +
            fact('Data source', 'source', `<code>${escapeHtml(t.source)}</code>`) +
            fact(
              'Rows',
              'rows',
              `${el('span', { 'data-value': t.rowsRead, 'data-field': 'rowsRead' }, formatInt(t.rowsRead))} read, ` +
                `${el('span', { 'data-value': t.rowsAccepted, 'data-field': 'rowsAccepted' }, formatInt(t.rowsAccepted))} accepted, ` +
                `${el('span', { 'data-value': t.rowsRejected, 'data-field': 'rowsRejected' }, formatInt(t.rowsRejected))} rejected` +
                (t.duplicates > 0 ? ` (of which ${formatInt(t.duplicates)} superseded duplicates)` : ''),
            ) +
            fact('Segments', 'k', `${el('strong', { 'data-value': model.k }, `k = ${model.k}`)}, ${escapeHtml(why)}`) +
            fact(
              `Quality at k = ${model.k}`,
              'quality',
              `inertia ${el('span', { 'data-value': exact(m.inertia), 'data-metric': 'inertia' }, formatNumber(m.inertia, 1))}, ` +
                `silhouette ${el('span', { 'data-value': exact(m.silhouette), 'data-metric': 'silhouette' }, formatNumber(m.silhouette, DECIMALS.metric))} (higher is better, at most 1), ` +
                `Davies–Bouldin ${el('span', { 'data-value': exact(m.daviesBouldin), 'data-metric': 'daviesBouldin' }, formatNumber(m.daviesBouldin, DECIMALS.metric))} (lower is better), ` +
                `Calinski–Harabasz ${el('span', { 'data-value': exact(m.calinskiHarabasz), 'data-metric': 'calinskiHarabasz' }, formatNumber(m.calinskiHarabasz, 1))}`,
            ) +
            fact(
              'k-means',
              'kmeans',
              `k-means++ seeding, ${model.restarts} restarts, at most ${model.maxIterations} iterations, seed ${model.seed}`,
            ) +
            fact(
              'Features',
              'features',
              table({ columns: ['Feature', 'Kind', 'Categories', 'Weight'], rows: featureRows, attrs: { class: 'features' } }),
            ),
        ),
    ) +
    `<nav class="toc" aria-label="Contents"><a href="#findings">Findings</a><a href="#warnings">Warnings</a><a href="#choosing-k">Choosing k</a><a href="#overview">Segments at a glance</a><a href="#segments">Segment by segment</a></nav>`
  );
}

function findingsSection(findings: readonly Finding[]): string {
  const items = findings.map((f) => el('li', { 'data-finding': f.id }, escapeHtml(f.text))).join('');
  return el('section', { id: 'findings' }, `<h2>Findings</h2>${el('ol', { class: 'findings' }, items)}`);
}

function warningsSection(warnings: readonly string[]): string {
  const body =
    warnings.length === 0
      ? '<p class="ok">The model raised no warnings.</p>'
      : el('ul', { class: 'warnings' }, warnings.map((w) => el('li', { 'data-warning': true }, escapeHtml(w))).join(''));
  return el('section', { id: 'warnings' }, `<h2>Warnings</h2>${body}`);
}

function tableStatsSection(stats: TableStats): string {
  const labeled = stats.created + stats.assigned;
  const share = (v: number): number => (stats.total > 0 ? v / stats.total : Number.NaN);
  const outlierRate = labeled > 0 ? stats.outliers / labeled : Number.NaN;
  const rows: Row[] = [
    {
      attrs: { 'data-stat': 'created' },
      cells: [
        { text: 'created (in this model’s training data)', header: true },
        { text: formatInt(stats.created), value: stats.created },
        { text: formatPercent(share(stats.created)), value: share(stats.created) },
      ],
    },
    {
      attrs: { 'data-stat': 'assigned' },
      cells: [
        { text: 'assigned (labeled afterwards)', header: true },
        { text: formatInt(stats.assigned), value: stats.assigned },
        { text: formatPercent(share(stats.assigned)), value: share(stats.assigned) },
      ],
    },
    {
      attrs: { 'data-stat': 'unlabeled' },
      cells: [
        { text: 'not yet labeled', header: true },
        { text: formatInt(stats.unlabeled), value: stats.unlabeled },
        { text: formatPercent(share(stats.unlabeled)), value: share(stats.unlabeled) },
      ],
    },
    {
      attrs: { 'data-stat': 'total' },
      cells: [
        { text: 'all customers', header: true },
        { text: formatInt(stats.total), value: stats.total },
        { text: formatPercent(share(stats.total)), value: share(stats.total) },
      ],
    },
  ];
  return el(
    'section',
    { id: 'table' },
    '<h2>In the customers table</h2>' +
      table({ columns: ['Label origin', 'Customers', 'Share'], rows, attrs: { class: 'table-stats' } }) +
      `<p data-stat="outliers">Outliers (farther from their centroid than the segment’s threshold): ${el('span', { 'data-value': stats.outliers }, formatInt(stats.outliers))} of ${formatInt(labeled)} labeled customers, ` +
      `${el('strong', { 'data-value': exact(outlierRate), 'data-stat': 'outlier-rate' }, formatPercent(outlierRate, 2))}.</p>`,
  );
}

/** What the sweep was: every k fitted at the training's care, a quick look beside a given k, or none. */
function sweepNote(model: Model): string {
  const { mode, rows, restarts, silhouetteRows } = model.metrics.sweep;
  const starts = restarts ?? model.restarts;
  const how = `each k fitted on ${formatInt(rows)} ${rows === 1 ? 'row' : 'rows'} with ${formatInt(starts)} ${starts === 1 ? 'start' : 'starts'}, each silhouette measured on up to ${formatInt(silhouetteRows)} rows`;
  const text =
    mode === 'quick'
      ? `k = ${model.k} was given, so the sweep below is a quick one (${how}): enough to see the shape of the curves, not to choose between close values of k. Train with automatic k for the full sweep.`
      : `The full sweep: ${how}.`;
  return el('p', { class: 'sweep-note', 'data-sweep-mode': mode }, escapeHtml(text));
}

async function choosingKSection(model: Model): Promise<string> {
  const sweep = model.metrics.sweep;
  if (sweep.mode === 'none') {
    return el(
      'section',
      { id: 'choosing-k' },
      '<h2>Choosing k</h2>' +
        el(
          'p',
          { class: 'sweep-note', 'data-sweep-mode': 'none' },
          escapeHtml(
            `k = ${model.k} was given and no k sweep ran (--no-sweep); the model's own quality figures are above. Train again without --no-sweep to compare values of k.`,
          ),
        ),
    );
  }
  const ks = sweep.entries.map((e) => e.k);
  const chosen = model.k;
  const elbowSvg = await renderMetricByK(
    'elbow',
    {
      title: 'The elbow method',
      subtitle: 'Inertia (within-cluster sum of squares) for every k tried',
      yTitle: 'Inertia (WCSS, model space)',
      points: sweep.entries.map((e) => ({ k: e.k, value: e.inertia })),
      ks,
      chosenK: chosen,
    },
    'elbow',
  );
  const metricCell = (value: number | null, metric: string, decimals: number) => ({
    text: formatNumber(value, decimals),
    value,
    attrs: { 'data-metric': metric },
  });
  const rowAttrs = (k: number) => ({ 'data-k': k, class: k === chosen ? 'chosen' : undefined });
  const elbow = figure({
    id: 'chart-elbow',
    chart: 'elbow',
    title: 'The elbow method: inertia by k',
    svg: elbowSvg,
    attrs: { 'data-marks': sweep.entries.length },
    caption: escapeHtml(
      `One point per k tried (${ks[0]}–${ks[ks.length - 1]}). Inertia always falls as k grows; the bend (“elbow”) is where extra segments stop paying off. ` +
        `The elbow rule puts it at k = ${sweep.elbowK}; the dashed line marks the chosen k = ${chosen}.`,
    ),
    table: table({
      columns: ['k', 'Inertia'],
      rows: sweep.entries.map((e) => ({
        attrs: rowAttrs(e.k),
        cells: [{ text: String(e.k), header: true }, metricCell(e.inertia, 'inertia', 1)],
      })),
    }),
  });
  const quality = sweep.entries.filter((e) => e.silhouette !== null || e.daviesBouldin !== null);
  let qualityHtml: string;
  if (quality.length === 0) {
    qualityHtml = `<p>Silhouette and Davies–Bouldin are not defined for k = 1, the only k tried.</p>`;
  } else {
    const silhouette = quality.filter((e) => e.silhouette !== null).map((e) => ({ k: e.k, value: e.silhouette! }));
    const daviesBouldin = quality.filter((e) => e.daviesBouldin !== null).map((e) => ({ k: e.k, value: e.daviesBouldin! }));
    const svgs =
      (await renderMetricByK(
        'silhouette',
        {
          title: 'Silhouette by k',
          subtitle: 'Mean silhouette, higher is better (at most 1)',
          yTitle: 'Mean silhouette',
          points: silhouette,
          ks,
          chosenK: chosen,
        },
        'silhouette',
      )) +
      (await renderMetricByK(
        'davies_bouldin',
        {
          title: 'Davies–Bouldin by k',
          subtitle: 'Davies–Bouldin index, lower is better',
          yTitle: 'Davies–Bouldin index',
          points: daviesBouldin,
          ks,
          chosenK: chosen,
        },
        'davies-bouldin',
      ));
    qualityHtml = figure({
      id: 'chart-quality',
      chart: 'quality',
      title: 'Cluster quality by k',
      svg: svgs,
      className: 'pair',
      attrs: { 'data-silhouette-marks': silhouette.length, 'data-davies-bouldin-marks': daviesBouldin.length },
      caption: escapeHtml(
        `How well separated the segments are for each k from 2 up; the dashed line marks the chosen k = ${chosen}. ${sweep.rule}.`,
      ),
      table: table({
        columns: ['k', 'Silhouette', 'Davies–Bouldin', 'Calinski–Harabasz'],
        rows: sweep.entries.map((e) => ({
          attrs: rowAttrs(e.k),
          cells: [
            { text: String(e.k), header: true },
            metricCell(e.silhouette, 'silhouette', DECIMALS.metric),
            metricCell(e.daviesBouldin, 'daviesBouldin', DECIMALS.metric),
            metricCell(e.calinskiHarabasz, 'calinskiHarabasz', 1),
          ],
        })),
      }),
    });
  }
  return el('section', { id: 'choosing-k' }, `<h2>Choosing k</h2>${sweepNote(model)}${el('div', { class: 'grid' }, elbow + qualityHtml)}`);
}

function describeLoadings(loadings: readonly number[], columns: readonly string[]): string {
  return loadings
    .map((v, j) => ({ v, j }))
    .filter((l) => l.v !== 0)
    .sort((a, b) => Math.abs(b.v) - Math.abs(a.v) || a.j - b.j)
    .slice(0, MAX_LOADINGS_NAMED)
    .map((l) => `${columnLabel(columns[l.j]!)} (${l.v > 0 ? '+' : ''}${formatNumber(l.v, DECIMALS.loading)})`)
    .join(' and ');
}

interface Prepared {
  readonly model: Model;
  readonly customers: Customers;
  /** Training customers' segments, as positions in the model's arrays. */
  readonly labels: Int32Array;
  /** The customers the scatter draws (indices, ascending) and their points in model space. */
  readonly sample: Int32Array;
  readonly samplePoints: Matrix;
  /** Histograms of every numeric field by segment. */
  readonly histograms: readonly Histogram[];
  readonly findings: readonly Finding[];
  /** `id · name` per position. */
  readonly labelsText: readonly string[];
  /** Colour per position. */
  readonly colors: readonly string[];
  /** Positions in reading order: by ascending segment id. */
  readonly order: readonly number[];
}

/** Positions of the model's segments by ascending id, the order the page lists them in. */
function readingOrder(model: Model): number[] {
  return model.segments.map((_, c) => c).sort((a, b) => model.segments[a]!.id - model.segments[b]!.id);
}

/**
 * Colour per position, given by rank in reading order: a retrain that keeps every id keeps every
 * colour, and the same segment looks the same in the previous report and this one.
 */
function colorsByPosition(order: readonly number[]): string[] {
  const palette = segmentColors(order.length);
  const colors = new Array<string>(order.length);
  order.forEach((c, rank) => (colors[c] = palette[rank]!));
  return colors;
}

async function overviewSection(p: Prepared): Promise<string> {
  const { model, customers, labels, labelsText, order, sample } = p;
  const legend = { labels: order.map((c) => labelsText[c]!), colors: order.map((c) => p.colors[c]!) };
  const columns = model.scaler.columns;
  const n = customers.length;
  const sampled = sample.length < n;
  // the principal components of the plotted customers: all of them, or the sample
  const projection = projectPca(p.samplePoints, model.centroids.model);
  const plotted = countLabels(
    Int32Array.from(sample, (i) => labels[i]!),
    model.k,
  );
  const pcTitle = (c: 0 | 1): string =>
    columns.length > c ? `PC${c + 1} (${formatPercent(projection.explained[c])} of variance)` : `PC${c + 1} (none: one model column)`;
  const points = Array.from(sample, (i, at) => ({ pc1: projection.pc1[at]!, pc2: projection.pc2[at]!, segment: labelsText[labels[i]!]! }));
  const centroids = projection.centroids.map(([pc1, pc2], c) => ({ pc1, pc2, segment: labelsText[c]!, id: model.segments[c]!.id }));
  const scatterSvg = await renderScatter(
    {
      points,
      centroids: order.map((c) => centroids[c]!),
      labels: legend.labels,
      colors: legend.colors,
      xTitle: pcTitle(0),
      yTitle: pcTitle(1),
      subtitle: sampled
        ? `${formatInt(sample.length)} of ${formatInt(n)} customers (stratified sample) · ◆ centroids`
        : `All ${formatInt(n)} customers · ◆ centroids`,
    },
    'pca',
  );
  const explained2 = projection.explained[0] + projection.explained[1];
  const scatter = figure({
    id: 'chart-pca',
    wide: true,
    chart: 'pca',
    title: 'Segments in 2-dimensional space',
    svg: scatterSvg,
    attrs: { 'data-plotted': sample.length, 'data-total': n, 'data-centroids': model.k, 'data-pca-rows': sample.length },
    caption: escapeHtml(
      `Each dot is a customer, coloured by segment, placed on the first two principal components of the model space (the scaled, weighted columns k-means clustered on); diamonds are the centroids, labelled with the segment id. ` +
        `Together the two axes show ${formatPercent(explained2)} of the variance, so segments that overlap here may still be apart in the other dimensions. ` +
        `PC1 is mostly ${describeLoadings(projection.loadings[0], columns) || 'constant'}` +
        (columns.length > 1 ? `; PC2 mostly ${describeLoadings(projection.loadings[1], columns) || 'constant'}. ` : '. ') +
        (sampled
          ? `Showing ${formatInt(sample.length)} of ${formatInt(n)} customers: a deterministic stratified sample, each segment in proportion to its size (at least one customer each), evenly spaced in training order. ` +
            `The principal components and the shares of variance are computed from these ${formatInt(sample.length)} customers, not from all ${formatInt(n)}; the histograms, tables and findings use every customer.`
          : `Showing all ${formatInt(n)} customers.`),
    ),
    table:
      table({
        caption: 'Segments',
        columns: ['Segment', 'Customers', 'Plotted', 'Centroid PC1', 'Centroid PC2'],
        rows: order.map((c) => ({
          attrs: { 'data-segment-id': model.segments[c]!.id },
          cells: [
            { text: labelsText[c]!, header: true },
            { text: formatInt(model.segments[c]!.size), value: model.segments[c]!.size },
            { text: formatInt(plotted[c]!), value: plotted[c]! },
            { text: formatNumber(centroids[c]!.pc1, DECIMALS.pc), value: centroids[c]!.pc1 },
            { text: formatNumber(centroids[c]!.pc2, DECIMALS.pc), value: centroids[c]!.pc2 },
          ],
        })),
      }) +
      table({
        caption: 'Loadings (how each model column contributes to the axes)',
        columns: ['Model column', 'PC1', 'PC2'],
        rows: columns.map((col, j) => ({
          cells: [
            { text: columnLabel(col), header: true },
            { text: formatNumber(projection.loadings[0][j]!, DECIMALS.loading), value: projection.loadings[0][j]! },
            { text: formatNumber(projection.loadings[1][j]!, DECIMALS.loading), value: projection.loadings[1][j]! },
          ],
        })),
      }),
  });

  // standardized centroid = model-space centroid without the feature weight
  const z = model.centroids.model.map((row) => row.map((v, j) => v / model.scaler.weight[j]!));
  const columnLabels = columns.map(columnLabel);
  const heatmapSvg = await renderHeatmap(
    {
      cells: order.flatMap((c) => columns.map((_, j) => ({ segment: labelsText[c]!, column: columnLabels[j]!, z: z[c]![j]! }))),
      labels: legend.labels,
      columns: columnLabels,
    },
    'centroids',
  );
  const heatmap = figure({
    id: 'chart-centroids',
    wide: true,
    chart: 'centroids',
    title: 'Segment centroids, standardized',
    svg: heatmapSvg,
    attrs: { 'data-cells': model.k * columns.length },
    caption: escapeHtml(
      'Each cell is a segment’s centroid on one model column, in standard deviations from the mean of all customers (0 = average; orange above, blue below). For a gender column, it is the segment’s share of that gender, standardized.',
    ),
    table: table({
      caption: 'Centroids: standardized value (value in original units)',
      columns: ['Segment', ...columnLabels],
      rows: order.map((c) => ({
        attrs: { 'data-segment-id': model.segments[c]!.id },
        cells: [
          { text: labelsText[c]!, header: true },
          ...columns.map((col, j) => ({
            text: `${formatNumber(z[c]![j]!, DECIMALS.z)} (${formatNumber(model.centroids.original[c]![j]!, col.includes('=') ? 2 : 1)})`,
            value: z[c]![j]!,
            attrs: { 'data-column': col, 'data-original': exact(model.centroids.original[c]![j]!) },
          })),
        ],
      })),
    }),
  });

  const spendingSvg = await renderSpending(
    {
      rows: order.map((c) => ({ segment: labelsText[c]!, ...model.segments[c]!.stats.spending_score! })),
      labels: legend.labels,
      colors: legend.colors,
      domain: SPENDING_DOMAIN,
    },
    'spending',
  );
  const spending = figure({
    id: 'chart-spending',
    wide: true,
    chart: 'spending',
    title: 'Spending score by segment',
    svg: spendingSvg,
    attrs: { 'data-boxes': model.k },
    caption: escapeHtml(
      'The question the business asked: how much each segment spends. The box spans the middle half of the segment (25 % to 75 %), the black bar is the median, the diamond the mean and the line runs from minimum to maximum.',
    ),
    table: table({
      columns: ['Segment', ...STAT_ROWS.map(([, label]) => label)],
      rows: order.map((c) => ({
        attrs: { 'data-segment-id': model.segments[c]!.id },
        cells: [
          { text: labelsText[c]!, header: true },
          ...STAT_ROWS.map(([stat]) => ({
            text: formatNumber(model.segments[c]!.stats.spending_score![stat], DECIMALS.stat),
            value: model.segments[c]!.stats.spending_score![stat],
            attrs: { 'data-stat': stat },
          })),
        ],
      })),
    }),
  });
  return el('section', { id: 'overview' }, `<h2>Segments at a glance</h2>${scatter}${heatmap}${spending}`);
}

/** The card of the segment at position `c` (histogram counts and colours are by position; everything a reader sees names its id). */
async function segmentCard(p: Prepared, c: number, histograms: readonly Histogram[], charts: readonly HistogramChart[]): Promise<string> {
  const segment = p.model.segments[c]!;
  const id = segment.id;
  const color = p.colors[c]!;
  const genders = Object.entries(segment.categories.gender!);
  const genderTable = table({
    caption: 'Gender',
    columns: ['Gender', 'Customers', 'Share'],
    rows: genders.map(([g, share]) => ({
      attrs: { 'data-category': g },
      cells: [
        { text: g, header: true },
        { text: formatInt(share * segment.size), value: Math.round(share * segment.size) },
        { text: formatPercent(share), value: share, attrs: { 'data-share': exact(share) } },
      ],
    })),
    attrs: { class: 'gender' },
  });
  const statsTable = table({
    caption: 'Statistics',
    columns: ['', ...NUMERIC_FIELDS.map((f) => FIELD_LABELS[f].title)],
    rows: STAT_ROWS.map(([stat, label]) => ({
      attrs: { 'data-stat': stat },
      cells: [
        { text: label, header: true },
        ...NUMERIC_FIELDS.map((f) => ({
          text: formatNumber(segment.stats[f]![stat], DECIMALS.stat),
          value: segment.stats[f]![stat],
          attrs: { 'data-feature': f },
        })),
      ],
    })),
    attrs: { class: 'stats' },
  });
  const figures: string[] = [];
  for (const [f, h] of histograms.entries()) {
    const counts = h.counts[c]!;
    const total = counts.reduce((s, v) => s + v, 0);
    const bins = counts.map((count, b) => ({
      start: h.edges[b]!,
      end: h.edges[b + 1]!,
      count,
      percent: total > 0 ? (100 * count) / total : 0,
    }));
    const label = FIELD_LABELS[h.feature];
    const svg = await charts[f]!.render(`hist-${id}-${h.feature}`, bins, color);
    const mode = bins.reduce((a, b) => (b.count > a.count ? b : a));
    figures.push(
      figure({
        id: `chart-hist-${id}-${h.feature}`,
        chart: 'histogram',
        title: `Segment ${id}: ${label.short}`,
        svg,
        attrs: { 'data-segment': id, 'data-feature': h.feature, 'data-bins': bins.length },
        caption: escapeHtml(
          `Most common: ${formatNumber(mode.start, 1)}–${formatNumber(mode.end, 1)} (${formatPercent(mode.percent / 100)} of the segment).`,
        ),
        table: table({
          columns: [label.title, 'Customers', '% of segment'],
          rows: bins.map((b) => ({
            cells: [
              `${formatNumber(b.start, 1)}–${formatNumber(b.end, 1)}`,
              { text: formatInt(b.count), value: b.count },
              { text: formatNumber(b.percent, 1), value: b.percent },
            ],
          })),
        }),
      }),
    );
  }
  return el(
    'article',
    { class: 'segment-card', id: `segment-${id}`, 'data-segment-id': id, 'data-size': segment.size, 'data-share': exact(segment.share) },
    `<h3><span class="swatch" style="background:${escapeHtml(color)}" aria-hidden="true"></span>${escapeHtml(`Segment ${id} · ${segment.name}`)}</h3>` +
      `<p class="lead">Segment ${id}, Number of customers ${el('strong', { 'data-field': 'size', 'data-value': segment.size }, formatInt(segment.size))} ` +
      `(${el('span', { 'data-field': 'share', 'data-value': exact(segment.share) }, formatPercent(segment.share))} of all). ` +
      `Median distance to the centroid ${formatNumber(segment.distance.median, 3)}; customers farther than ` +
      `${el('span', { 'data-field': 'outlierThreshold', 'data-value': exact(segment.outlierThreshold) }, formatNumber(segment.outlierThreshold, 3))} are flagged as outliers when labeled.</p>` +
      el('div', { class: 'tables' }, genderTable + statsTable) +
      el('div', { class: 'grid hist' }, figures.join('')),
  );
}

async function segmentsSection(p: Prepared): Promise<string> {
  const { histograms } = p;
  let yMax = 0;
  for (const h of histograms) {
    h.counts.forEach((counts, c) => {
      const total = counts.reduce((s, v) => s + v, 0);
      for (const v of counts) if (total > 0) yMax = Math.max(yMax, (100 * v) / total);
    });
  }
  // one chart per field: the histograms of a field differ only in their bins and colour
  const charts = histograms.map((h) => {
    const label = FIELD_LABELS[h.feature];
    return new HistogramChart({
      title: label.short,
      xTitle: label.title,
      xDomain: [h.edges[0]!, h.edges[h.edges.length - 1]!],
      yMax: yMax || 1,
    });
  });
  const cards: string[] = [];
  try {
    for (const c of p.order) cards.push(await segmentCard(p, c, histograms, charts));
  } finally {
    for (const chart of charts) chart.finalize();
  }
  return el(
    'section',
    { id: 'segments' },
    `<h2>Segment by segment</h2><p>Histograms have ${HISTOGRAM_BINS} bins and share their axes across segments: each x-axis spans all customers, and the y-axis (share of the segment’s customers per bin) has one scale for the whole report.</p>${cards.join('')}`,
  );
}

function labelNote(model: Model, sizes: readonly number[]): string | undefined {
  const moved = model.segments.reduce((s, g, c) => s + Math.abs(g.size - sizes[c]!), 0) / 2;
  if (moved === 0) return undefined;
  return `Relabeling the training customers with the model's centroids moves at least ${formatInt(moved)} customer(s) to another segment than training gave them (k-means stopped before fully converging); charts use the relabeled segments, tables the model's profiles.`;
}

/**
 * Everything the page computes from every customer, before any chart is drawn: the numeric columns
 * (24 MB at a million rows) are garbage by the time the charts need memory of their own.
 */
function prepare(model: Model, customers: Customers, maxPoints: number): Prepared {
  const values = numericColumns(customers);
  const labels = nearestCentroids(customers, model, { values }).index;
  const order = readingOrder(model);
  const sample = scatterSample(labels, model.k, maxPoints);
  return {
    model,
    customers,
    labels,
    sample,
    samplePoints: modelSpaceRows(customers, model, sample, values),
    histograms: NUMERIC_FIELDS.map((f) => segmentHistogram(values[f]!, labels, model.k, f)),
    findings: computeFindings(model, customers, labels, values),
    labelsText: model.segments.map(segmentLabel),
    colors: colorsByPosition(order),
    order,
  };
}

/**
 * Renders the report for a model and its training customers as one self-contained HTML document
 * (inline SVG charts and styles, no scripts, no external resources). The same input gives the
 * same bytes.
 */
export async function renderReport(input: ReportInput): Promise<string> {
  const { model, customers } = input;
  const sampled = input.sampleOf !== undefined && input.sampleOf === model.training.rowsAccepted && customers.length < input.sampleOf;
  if (customers.length !== model.training.rowsAccepted && !sampled) {
    throw new ModelError(
      `the report for model ${model.modelVersion} needs its ${model.training.rowsAccepted} training customers; got ${customers.length}`,
    );
  }
  const prepared = prepare(model, customers, input.maxPoints ?? DEFAULT_MAX_POINTS);
  // a sample's labels do not add up to the model's sizes: no relabeling note then
  const note = sampled ? undefined : labelNote(model, countLabels(prepared.labels, model.k));
  const body =
    header(model) +
    (sampled
      ? el(
          'p',
          { class: 'sample-note', 'data-sample': customers.length, 'data-of': model.training.rowsAccepted },
          escapeHtml(
            `Drawn from a sample: the findings, the scatter and the histograms of this page are computed from ${formatInt(customers.length)} of the ${formatInt(model.training.rowsAccepted)} training customers ` +
              '(the training’s sample, which the k sweep and the restarts ran on); the segment sizes, statistics, centroids and quality figures are the model’s, over every training customer.',
          ),
        )
      : '') +
    findingsSection(prepared.findings) +
    warningsSection(note === undefined ? model.warnings : [...model.warnings, note]) +
    (input.tableStats ? tableStatsSection(input.tableStats) : '') +
    (input.movement ? movementSection(input.movement) : '') +
    (await choosingKSection(model)) +
    (await overviewSection(prepared)) +
    (await segmentsSection(prepared)) +
    el(
      'footer',
      {},
      escapeHtml(
        `Generated from model ${model.modelVersion} by ${model.software.package} ${model.software.packageVersion} (ml-kmeans ${model.software.mlKMeans}). ` +
          'Tables show the numbers of model.json; charts are drawn with Vega-Lite when the report is generated, and the page loads nothing from the network.',
      ),
    );
  return page({ title: `Segmentation report · ${model.modelVersion}`, body, attrs: { 'data-model-version': model.modelVersion } });
}
