// The segmentation report: one self-contained HTML page beside every model, with the charts
// rendered to inline SVG by Vega at generation time (from Vega-Lite specs compiled ahead, see
// chart-specs.ts). Pure: no I/O, no clock.
// A segment is named by its id everywhere on the page; after a retrain that keeps ids, an id is
// not its position in the model's arrays (centroids, segments, labels), which only index data.

import { columnsOf, type CustomerColumns, type Customers } from '../csv/columns.ts';
import { ModelError } from '../errors.ts';
import type { Matrix } from '../features/encode.ts';
import type { Model } from '../model/artifact.ts';
import { modelSpaceRows, nearestCentroids, numericColumns, type NumericColumns } from '../model/assign.ts';
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
import { computeFindings, explainedVariance, type Finding } from './findings.ts';
import { exact, formatAmount, formatInt, formatNumber, formatPercent } from './format.ts';
import { el, figure, page, table, type Row } from './html.ts';
import { categoricalViews, isMallShaped, numericViews, reportSchema, type CategoricalView, type NumericView } from './schema-view.ts';

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

const STAT_ROWS = [
  ['min', 'Minimum'],
  ['p25', '25 %'],
  ['median', 'Median (50 %)'],
  ['mean', 'Mean'],
  ['p75', '75 %'],
  ['max', 'Maximum'],
] as const;
/** The mall's spending score axis: the score's whole range. */
const SPENDING_DOMAIN: readonly [number, number] = [0, 100];
const SPENDING_FEATURE = 'spending_score';
const DECIMALS = { metric: 3, stat: 1, z: 2, pc: 2, loading: 2 } as const;
const MAX_LOADINGS_NAMED = 2;

type Segment = Model['segments'][number];
const segmentLabel = (s: Pick<Segment, 'id' | 'name'>): string => `${s.id} · ${s.name}`;

/** A model column for people: a numeric feature's label, or `feature = value` for a one-hot column. */
function columnLabel(column: string, numeric: readonly NumericView[]): string {
  const [name, category] = column.split('=');
  if (category !== undefined) return `${name} = ${category}`;
  return numeric.find((f) => f.name === name)?.short ?? column;
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
      f.transform === 'log1p' ? `${f.kind}, log-transformed (log1p)` : f.kind,
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

function describeLoadings(loadings: readonly number[], columnLabels: readonly string[]): string {
  return loadings
    .map((v, j) => ({ v, j }))
    .filter((l) => l.v !== 0)
    .sort((a, b) => Math.abs(b.v) - Math.abs(a.v) || a.j - b.j)
    .slice(0, MAX_LOADINGS_NAMED)
    .map((l) => `${columnLabels[l.j]!} (${l.v > 0 ? '+' : ''}${formatNumber(l.v, DECIMALS.loading)})`)
    .join(' and ');
}

/** The feature of the box chart: the mall's spending score, else the one the segments separate most (η²). */
interface BoxFeature {
  readonly feature: NumericView;
  /** η² of the feature, when chosen by it. */
  readonly eta: number | null;
}

interface Prepared {
  readonly model: Model;
  readonly customers: CustomerColumns;
  /** The schema's features as the page names them. */
  readonly numeric: readonly NumericView[];
  readonly categorical: readonly CategoricalView[];
  /** The schema has the mall's numeric features: the page keeps the mall's wording. */
  readonly mall: boolean;
  readonly box: BoxFeature | null;
  /** Training customers' segments, as positions in the model's arrays. */
  readonly labels: Int32Array;
  /** The customers the scatter draws (indices, ascending) and their points in model space. */
  readonly sample: Int32Array;
  readonly samplePoints: Matrix;
  /** Histograms of every numeric feature of the schema by segment. */
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
  const columnLabels = columns.map((col) => columnLabel(col, p.numeric));
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
        `PC1 is mostly ${describeLoadings(projection.loadings[0], columnLabels) || 'constant'}` +
        (columns.length > 1 ? `; PC2 mostly ${describeLoadings(projection.loadings[1], columnLabels) || 'constant'}. ` : '. ') +
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
            { text: columnLabels[j]!, header: true },
            { text: formatNumber(projection.loadings[0][j]!, DECIMALS.loading), value: projection.loadings[0][j]! },
            { text: formatNumber(projection.loadings[1][j]!, DECIMALS.loading), value: projection.loadings[1][j]! },
          ],
        })),
      }),
  });

  // standardized centroid = model-space centroid without the feature weight
  const z = model.centroids.model.map((row) => row.map((v, j) => v / model.scaler.weight[j]!));
  // a log1p column's centroid is a log: shown in the feature's units (expm1), as the file gives them
  const logColumns = new Set(model.features.filter((f) => f.transform === 'log1p').map((f) => f.name));
  const logged = p.numeric.filter((f) => logColumns.has(f.name));
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
      'Each cell is a segment’s centroid on one model column, in standard deviations from the mean of all customers (0 = average; orange above, blue below). ' +
        (p.mall && p.categorical.every((f) => f.name === 'gender')
          ? 'For a gender column, it is the segment’s share of that gender, standardized.'
          : 'For a one-hot column (feature = value), it is the segment’s share of that value, standardized.') +
        (logged.length === 0
          ? ''
          : ` ${listed(logged.map((f) => f.short))} ${logged.length === 1 ? 'was' : 'were'} log-transformed (log1p) before scaling: ` +
            `their cells are standardized logs, and the value in parentheses is the centroid back in the feature’s units (expm1 of its log), a typical value rather than the segment’s mean.`),
    ),
    table: table({
      caption: 'Centroids: standardized value (value in original units)',
      columns: ['Segment', ...columnLabels],
      rows: order.map((c) => ({
        attrs: { 'data-segment-id': model.segments[c]!.id },
        cells: [
          { text: labelsText[c]!, header: true },
          ...columns.map((col, j) => {
            const original = model.centroids.original[c]![j]!;
            const log = logColumns.has(col);
            const shown = log ? Math.expm1(original) : original;
            return {
              text: `${formatNumber(z[c]![j]!, DECIMALS.z)} (${formatAmount(shown, col.includes('=') ? 2 : 1)})`,
              value: z[c]![j]!,
              attrs: { 'data-column': col, 'data-original': exact(original), 'data-expm1': log ? exact(shown) : undefined },
            };
          }),
        ],
      })),
    }),
  });

  const spending = p.box === null ? '' : await boxFigure(p, p.box, legend);
  return el('section', { id: 'overview' }, `<h2>Segments at a glance</h2>${scatter}${heatmap}${spending}`);
}

/** `a`, `a and b`, `a, b and c`. */
function listed(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]!}`;
}

/**
 * One feature per segment side by side (min–max, quartile box, median, mean): the mall's spending
 * score, the question its business asked; for another schema the feature that separates the
 * segments most.
 */
async function boxFigure(p: Prepared, box: BoxFeature, legend: { labels: string[]; colors: string[] }): Promise<string> {
  const { model, labelsText, order } = p;
  const f = box.feature;
  const stats = (c: number) => model.segments[c]!.stats[f.name]!;
  const spending = box.eta === null;
  const domain: readonly [number, number] = spending
    ? SPENDING_DOMAIN
    : [Math.min(...order.map((c) => stats(c).min)), Math.max(...order.map((c) => stats(c).max))];
  const title = spending ? 'Spending score by segment' : `${f.short} by segment`;
  const svg = await renderSpending(
    {
      rows: order.map((c) => ({ segment: labelsText[c]!, ...stats(c) })),
      labels: legend.labels,
      colors: legend.colors,
      domain,
      title,
      xTitle: f.title,
      log1p: f.log1p,
    },
    'spending',
  );
  const how =
    'The box spans the middle half of the segment (25 % to 75 %), the black bar is the median, the diamond the mean and the line runs from minimum to maximum.';
  return figure({
    id: 'chart-spending',
    wide: true,
    chart: 'spending',
    title,
    svg,
    attrs: { 'data-boxes': model.k, 'data-feature': spending ? undefined : f.name },
    caption: escapeHtml(
      spending
        ? `The question the business asked: how much each segment spends. ${how}`
        : `${f.short}, the feature that separates the segments most: the segments explain ${formatPercent(box.eta)} of its variance. ${how}` +
            (f.log1p ? ` Values are as the file gives them (the model clustered on their logs).` : ''),
    ),
    table: table({
      columns: ['Segment', ...STAT_ROWS.map(([, label]) => label)],
      rows: order.map((c) => ({
        attrs: { 'data-segment-id': model.segments[c]!.id },
        cells: [
          { text: labelsText[c]!, header: true },
          ...STAT_ROWS.map(([stat]) => ({
            text: formatAmount(stats(c)[stat], DECIMALS.stat),
            value: stats(c)[stat],
            attrs: { 'data-stat': stat },
          })),
        ],
      })),
    }),
  });
}

/** The card of the segment at position `c` (histogram counts and colours are by position; everything a reader sees names its id). */
async function segmentCard(p: Prepared, c: number, histograms: readonly Histogram[], charts: readonly HistogramChart[]): Promise<string> {
  const segment = p.model.segments[c]!;
  const id = segment.id;
  const color = p.colors[c]!;
  // one shares table per categorical feature: the mall's gender table keeps its class
  const categoryTables = p.categorical.map((f) =>
    table({
      caption: f.short,
      columns: [f.short, 'Customers', 'Share'],
      rows: Object.entries(segment.categories[f.name] ?? {}).map(([value, share]) => ({
        attrs: { 'data-category': value },
        cells: [
          { text: value, header: true },
          { text: formatInt(share * segment.size), value: Math.round(share * segment.size) },
          { text: formatPercent(share), value: share, attrs: { 'data-share': exact(share) } },
        ],
      })),
      attrs: p.mall && f.name === 'gender' ? { class: 'gender' } : { class: 'category', 'data-feature': f.name },
    }),
  );
  const statsTable =
    p.numeric.length === 0
      ? ''
      : table({
          caption: 'Statistics',
          columns: ['', ...p.numeric.map((f) => f.title)],
          rows: STAT_ROWS.map(([stat, label]) => ({
            attrs: { 'data-stat': stat },
            cells: [
              { text: label, header: true },
              ...p.numeric.map((f) => ({
                text: formatAmount(segment.stats[f.name]![stat], DECIMALS.stat),
                value: segment.stats[f.name]![stat],
                attrs: { 'data-feature': f.name },
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
    const label = p.numeric[f]!;
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
          `Most common: ${formatAmount(mode.start, 1)}–${formatAmount(mode.end, 1)} (${formatPercent(mode.percent / 100)} of the segment).`,
        ),
        table: table({
          columns: [label.title, 'Customers', '% of segment'],
          rows: bins.map((b) => ({
            cells: [
              `${formatAmount(b.start, 1)}–${formatAmount(b.end, 1)}`,
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
      el('div', { class: 'tables' }, categoryTables.join('') + statsTable) +
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
  // one chart per feature: the histograms of a feature differ only in their bins and colour
  const charts = histograms.map((h, f) => {
    const label = p.numeric[f]!;
    return new HistogramChart({
      title: label.short,
      xTitle: label.title,
      xDomain: [h.edges[0]!, h.edges[h.edges.length - 1]!],
      yMax: yMax || 1,
      log1p: h.log1p,
    });
  });
  const logged = p.numeric.filter((f) => f.log1p);
  const cards: string[] = [];
  try {
    for (const c of p.order) cards.push(await segmentCard(p, c, histograms, charts));
  } finally {
    for (const chart of charts) chart.finalize();
  }
  return el(
    'section',
    { id: 'segments' },
    `<h2>Segment by segment</h2><p>Histograms have ${HISTOGRAM_BINS} bins and share their axes across segments: each x-axis spans all customers, and the y-axis (share of the segment’s customers per bin) has one scale for the whole report.` +
      (logged.length === 0
        ? ''
        : escapeHtml(
            ` ${listed(logged.map((f) => f.short))} ${logged.length === 1 ? 'was' : 'were'} log-transformed (log1p) for the model: ${logged.length === 1 ? 'its' : 'their'} histograms have bins of equal width on a log scale, labelled in the feature’s units.`,
          )) +
      `</p>${cards.join('')}`,
  );
}

function labelNote(model: Model, sizes: readonly number[]): string | undefined {
  const moved = model.segments.reduce((s, g, c) => s + Math.abs(g.size - sizes[c]!), 0) / 2;
  if (moved === 0) return undefined;
  return `Relabeling the training customers with the model's centroids moves at least ${formatInt(moved)} customer(s) to another segment than training gave them (k-means stopped before fully converging); charts use the relabeled segments, tables the model's profiles.`;
}

/** The box chart's feature (see BoxFeature); none for a schema without numeric features. */
function boxFeature(
  model: Model,
  customers: CustomerColumns,
  labels: Int32Array,
  values: NumericColumns,
  numeric: readonly NumericView[],
  mall: boolean,
): BoxFeature | null {
  const spending = numeric.find((f) => f.name === SPENDING_FEATURE);
  if (mall && spending !== undefined) return { feature: spending, eta: null };
  if (numeric.length === 0) return null;
  const eta = explainedVariance(model, customers, labels, values, numeric);
  // the first in schema order among equals
  const feature = numeric.reduce((a, b) => (eta[b.name]! > eta[a.name]! ? b : a));
  return { feature, eta: eta[feature.name]! };
}

/**
 * Everything the page computes from every customer, before any chart is drawn: the numeric columns
 * (24 MB at a million rows) are garbage by the time the charts need memory of their own.
 */
function prepare(model: Model, customers: CustomerColumns, maxPoints: number): Prepared {
  const values = numericColumns(customers);
  const labels = nearestCentroids(customers, model, { values }).index;
  const order = readingOrder(model);
  const sample = scatterSample(labels, model.k, maxPoints);
  const schema = customers.schema;
  const numeric = numericViews(schema);
  const mall = isMallShaped(schema);
  return {
    model,
    customers,
    numeric,
    categorical: categoricalViews(schema),
    mall,
    box: boxFeature(model, customers, labels, values, numeric, mall),
    labels,
    sample,
    samplePoints: modelSpaceRows(customers, model, sample, values),
    histograms: numeric.map((f) => segmentHistogram(values[f.name]!, labels, model.k, f.name, HISTOGRAM_BINS, f.log1p)),
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
  const prepared = prepare(model, columnsOf(customers, reportSchema(model, customers)), input.maxPoints ?? DEFAULT_MAX_POINTS);
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
