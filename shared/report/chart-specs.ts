// The report's charts as Vega-Lite specifications, compiled ahead of time: everything a chart
// shows that depends on the model is a named parameter or data set, so each kind of chart compiles
// to one Vega dataflow that charts.ts renders with Vega alone (no Vega-Lite compile and no Vega
// parse when a report is written, and Vega-Lite is not loaded). Every mark layer has a name, so
// its SVG group carries the class `<name>_marks`.
//
// After changing a spec here, write charts.generated.ts again:
//   npx tsx test/support/generate-charts.ts
// (test/shared/report/charts.test.ts fails while the two disagree).

import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

type Config = NonNullable<TopLevelSpec['config']>;

const FONT = 'system-ui, sans-serif';
const INK = '#1f2328';
const MUTED = '#57606a';
const CHOSEN = '#c2185b';
const NEUTRAL = '#4c78a8';
/** Room for segment labels on a y-axis (Vega caps an axis at 200 px unless told otherwise). */
const SEGMENT_LABEL_LIMIT = 300;

// aria: false — the page labels each chart and gives its data as a table, so per-mark ARIA
// attributes would only multiply the file size.
const CONFIG: Config = {
  aria: false,
  font: FONT,
  background: 'white',
  padding: 8,
  title: { anchor: 'start', fontSize: 14, fontWeight: 600, color: INK, subtitleColor: MUTED, subtitleFontSize: 11 },
  axis: {
    labelFontSize: 11,
    titleFontSize: 12,
    titleFontWeight: 600,
    labelColor: INK,
    titleColor: INK,
    gridColor: '#e8eaed',
    domainColor: '#8c959f',
    tickColor: '#8c959f',
  },
  legend: { labelFontSize: 11, titleFontSize: 12, labelColor: INK, titleColor: INK, labelLimit: 360 },
  view: { stroke: '#d0d7de' },
};

/** The kinds of chart, each one compiled dataflow. */
export const CHART_KINDS = [
  'elbow',
  'silhouette',
  'davies_bouldin',
  'pca',
  'centroids',
  'spending',
  'histogram',
  'spending_log',
  'histogram_log',
] as const;
export type ChartKind = (typeof CHART_KINDS)[number];

const param = <T>(name: string, value: T) => ({ name, value });
const expr = (name: string) => ({ expr: name });
/**
 * A scale range from a parameter. Vega-Lite takes no reference for a range (it reads one as a
 * field), so the compiled spec carries this placeholder, which compileCharts makes a signal reference.
 */
const rangeOf = (name: string) => [`{{${name}}}`];
/** A title (of the chart or an axis) from a parameter, as a Vega signal reference. */
const titleOf = (name: string) => ({ signal: name });
/** A subtitle from a parameter: Vega-Lite's types take text only, but it passes the reference on to Vega. */
const subtitleOf = (name: string) => ({ signal: name }) as unknown as string;
const RANGE_PLACEHOLDER = /^\{\{(\w+)\}\}$/;

/** A metric by k: a line, one point per k tried (layer `<name>_points`), the chosen k marked (`<name>_chosen`). */
function metricByK(name: 'elbow' | 'silhouette' | 'davies_bouldin', zero: boolean): TopLevelSpec {
  const x = {
    field: 'k',
    type: 'quantitative' as const,
    title: 'Number of segments k',
    scale: { domain: expr('k_domain'), nice: false, zero: false },
    axis: { tickMinStep: 1, format: 'd' },
  };
  const y = { field: 'value', type: 'quantitative' as const, title: titleOf('y_title'), scale: { zero } };
  const chosenX = { field: 'k', type: 'quantitative' as const };
  return {
    params: [param('title_text', ''), param('title_subtitle', ''), param('y_title', ''), param('k_domain', [1, 2])],
    title: { text: titleOf('title_text'), subtitle: subtitleOf('title_subtitle') },
    width: 360,
    height: 220,
    data: { name: 'values' },
    layer: [
      { name: `${name}_line`, mark: { type: 'line', color: NEUTRAL }, encoding: { x, y } },
      { name: `${name}_points`, mark: { type: 'point', filled: true, size: 60, color: NEUTRAL, opacity: 1 }, encoding: { x, y } },
      {
        name: `${name}_chosen`,
        data: { name: 'chosen' },
        mark: { type: 'rule', color: CHOSEN, strokeDash: [5, 4], strokeWidth: 1.5 },
        encoding: { x: chosenX },
      },
      {
        name: `${name}_chosen_label`,
        data: { name: 'chosen' },
        mark: { type: 'text', color: CHOSEN, align: 'left', baseline: 'top', dx: 4, y: 4, fontWeight: 600 },
        encoding: { x: chosenX, text: { field: 'label' } },
      },
    ],
  } as TopLevelSpec;
}

/**
 * The segments in two dimensions: one mark per plotted customer (`pca_points`), centroids
 * (`pca_centroids`) labelled with their ids. Axis domains are the data's ranges, niced; positions
 * are whole pixels (invisible at this size, and thousands of points print as short integers).
 */
function scatter(): TopLevelSpec {
  const color = {
    field: 'segment',
    type: 'nominal' as const,
    title: 'Segment',
    scale: { domain: expr('segment_labels'), range: rangeOf('segment_colors') },
  };
  const axis = (field: 'pc1' | 'pc2', title: string) => ({
    field,
    type: 'quantitative' as const,
    title: titleOf(title),
    scale: { zero: false, round: true, domain: expr(`${field}_domain`), nice: true },
  });
  const x = axis('pc1', 'x_title');
  const y = axis('pc2', 'y_title');
  return {
    params: [
      param('title_subtitle', ''),
      param('x_title', ''),
      param('y_title', ''),
      param('pc1_domain', [0, 1]),
      param('pc2_domain', [0, 1]),
      param('segment_labels', []),
      param('segment_colors', []),
      param('point_size', 16),
      param('point_opacity', 0.55),
    ],
    title: { text: 'Segments in 2-dimensional space', subtitle: subtitleOf('title_subtitle') },
    width: 560,
    height: 400,
    layer: [
      {
        name: 'pca_points',
        data: { name: 'points' },
        mark: { type: 'circle', size: expr('point_size'), opacity: expr('point_opacity'), aria: false },
        encoding: { x, y, color: { ...color, legend: { orient: 'bottom', columns: 2, symbolOpacity: 1 } } },
      },
      {
        name: 'pca_centroids',
        data: { name: 'centroids' },
        mark: { type: 'point', shape: 'diamond', filled: true, size: 260, stroke: INK, strokeWidth: 1.5, opacity: 1 },
        encoding: { x, y, color },
      },
      {
        name: 'pca_centroid_labels',
        data: { name: 'centroids' },
        mark: { type: 'text', dy: -14, fontWeight: 700, fontSize: 12, color: INK },
        encoding: { x, y, text: { field: 'id' } },
      },
    ],
  } as TopLevelSpec;
}

/** Segment × model column heatmap of standardized centroid values (`centroid_cells`). */
function heatmap(): TopLevelSpec {
  const x = {
    field: 'column',
    type: 'nominal' as const,
    title: 'Model column',
    scale: { domain: expr('column_labels') },
    axis: { labelAngle: -30, labelLimit: 160 },
  };
  const y = {
    field: 'segment',
    type: 'nominal' as const,
    title: 'Segment',
    scale: { domain: expr('segment_labels') },
    axis: { labelLimit: SEGMENT_LABEL_LIMIT, maxExtent: SEGMENT_LABEL_LIMIT + 12 },
  };
  return {
    params: [param('segment_labels', []), param('column_labels', []), param('z_extent', 1)],
    title: { text: 'Segment centroids, standardized', subtitle: 'Standard deviations from the mean of all customers, per model column' },
    width: { step: 84 },
    height: { step: 30 },
    data: { name: 'cells' },
    encoding: { x, y },
    layer: [
      {
        name: 'centroid_cells',
        mark: { type: 'rect', stroke: 'white', strokeWidth: 1 },
        encoding: {
          color: {
            field: 'z',
            type: 'quantitative',
            title: 'z',
            scale: { scheme: 'blueorange', domain: expr('[-z_extent, z_extent]') },
            legend: { gradientLength: 120 },
          },
        },
      },
      {
        name: 'centroid_values',
        mark: { type: 'text', fontSize: 11 },
        encoding: {
          text: { field: 'z', type: 'quantitative', format: '.2f' },
          color: { condition: { test: 'abs(datum.z) > z_extent * 0.6', value: 'white' }, value: INK },
        },
      },
    ],
  } as TopLevelSpec;
}

/**
 * The x scale of a log-transformed money column: symlog with constant 1 is log1p (0 stays 0), so
 * bins of equal width in log1p are drawn equally wide; ticks at the parameter `x_ticks` (powers of
 * ten: symlog's own would be linear), labelled 1k, 10k.
 */
const LOG1P_SCALE = { type: 'symlog' as const, constant: 1 };
const LOG1P_AXIS = { values: expr('x_ticks'), labelExpr: "format(datum.value, '~s')" };

/**
 * One feature per segment side by side (the mall's spending score; its title and axis title are
 * parameters): range, quartile box (`spending_box`), median, mean. With `log1p`, on the x scale of
 * a log-transformed money column.
 */
function spending(log1p: boolean): TopLevelSpec {
  const y = {
    field: 'segment',
    type: 'nominal' as const,
    title: 'Segment',
    scale: { domain: expr('segment_labels') },
    axis: { labelLimit: SEGMENT_LABEL_LIMIT, maxExtent: SEGMENT_LABEL_LIMIT + 12 },
  };
  const x = (field: string) => ({
    field,
    type: 'quantitative' as const,
    title: titleOf('x_title'),
    scale: { domain: expr('x_domain'), nice: false, ...(log1p ? LOG1P_SCALE : {}) },
    ...(log1p ? { axis: LOG1P_AXIS } : {}),
  });
  return {
    params: [
      param('title_text', 'Spending score by segment'),
      param('x_title', 'Spending score (1–100)'),
      param('segment_labels', []),
      param('segment_colors', []),
      param('x_domain', [0, 100]),
      ...(log1p ? [param('x_ticks', [0, 10, 100])] : []),
    ],
    title: { text: titleOf('title_text'), subtitle: 'Line: min to max · box: 25 % to 75 % · bar: median · ◆: mean' },
    width: 480,
    height: { step: 30 },
    data: { name: 'rows' },
    encoding: { y },
    layer: [
      { name: 'spending_range', mark: { type: 'rule', color: MUTED }, encoding: { x: x('min'), x2: { field: 'max' } } },
      {
        name: 'spending_box',
        mark: { type: 'bar', size: 16, opacity: 0.9 },
        encoding: {
          x: x('p25'),
          x2: { field: 'p75' },
          color: {
            field: 'segment',
            type: 'nominal',
            scale: { domain: expr('segment_labels'), range: rangeOf('segment_colors') },
            legend: null,
          },
        },
      },
      { name: 'spending_median', mark: { type: 'tick', color: INK, thickness: 2, size: 18 }, encoding: { x: x('median') } },
      {
        name: 'spending_mean',
        mark: { type: 'point', shape: 'diamond', filled: true, color: 'white', stroke: INK, strokeWidth: 1, size: 60, opacity: 1 },
        encoding: { x: x('mean') },
      },
    ],
  } as TopLevelSpec;
}

/**
 * One histogram (`hist_bars`, one bar per bin) on axes shared with the other segments. With
 * `log1p`, on the x scale of a log-transformed money column.
 */
function histogram(log1p: boolean): TopLevelSpec {
  const spec: TopLevelSpec = {
    params: [
      param('title_text', ''),
      param('x_title', ''),
      param('x_domain', [0, 1]),
      param('y_max', 1),
      param('bar_color', NEUTRAL),
      ...(log1p ? [param('x_ticks', [0, 10, 100])] : []),
    ],
    title: { text: titleOf('title_text') },
    width: 230,
    height: 130,
    data: { name: 'bins' },
    layer: [
      {
        name: 'hist_bars',
        mark: { type: 'bar' as const, color: expr('bar_color'), stroke: 'white', strokeWidth: 0.5 },
        encoding: {
          x: {
            field: 'start',
            type: 'quantitative' as const,
            title: titleOf('x_title'),
            scale: { domain: expr('x_domain'), nice: false, zero: false, ...(log1p ? LOG1P_SCALE : {}) },
            ...(log1p ? { axis: LOG1P_AXIS } : {}),
          },
          x2: { field: 'end' },
          y: {
            field: 'percent',
            type: 'quantitative' as const,
            title: '% of segment',
            scale: { domain: expr('[0, y_max]'), nice: false, padding: 0 },
          },
          y2: { datum: 0 },
        },
      },
    ],
  };
  return spec;
}

/** The Vega-Lite source of every kind of chart. */
export function chartSpecs(): Record<ChartKind, TopLevelSpec> {
  return {
    elbow: metricByK('elbow', true),
    silhouette: metricByK('silhouette', false),
    davies_bouldin: metricByK('davies_bouldin', false),
    pca: scatter(),
    centroids: heatmap(),
    spending: spending(false),
    histogram: histogram(false),
    spending_log: spending(true),
    histogram_log: histogram(true),
  };
}

/** Turns the range placeholders (rangeOf) of a compiled spec into signal references. */
function rangeSignals(value: unknown): unknown {
  if (Array.isArray(value)) {
    const placeholder = value.length === 1 && typeof value[0] === 'string' ? RANGE_PLACEHOLDER.exec(value[0]) : null;
    return placeholder ? { signal: placeholder[1] } : value.map(rangeSignals);
  }
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rangeSignals(v)]));
}

/** Every kind of chart compiled to the dataflow Vega's View runs (vega.parse's output, as JSON). */
export function compileCharts(): Record<ChartKind, unknown> {
  const specs = chartSpecs();
  return Object.fromEntries(
    CHART_KINDS.map((kind) => {
      const spec = specs[kind];
      const compiled = compile({ ...spec, config: { ...CONFIG, ...spec.config } }, { logger: vega.logger(vega.Error) }).spec;
      return [kind, JSON.parse(JSON.stringify(vega.parse(rangeSignals(compiled) as vega.Spec)))];
    }),
  ) as Record<ChartKind, unknown>;
}
