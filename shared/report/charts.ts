// The report's charts as Vega-Lite specifications, rendered to SVG strings in Node by Vega (no
// DOM, no canvas). Every mark layer has a name, so its SVG group carries the class `<name>_marks`.

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
const SMALL_POINT_THRESHOLD = 1500;
/** Areas whose circles have whole radii (√size / 2 = 2 and 3 px): every point's path is short text. */
const POINT_SIZE = { small: 16, large: 36 } as const;
const POINT_OPACITY = { small: 0.55, large: 0.75 } as const;

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

/** Colours for k segments, the same in every chart and card. */
export function segmentColors(k: number): string[] {
  const scheme = (vega.scheme(k <= 10 ? 'tableau10' : 'tableau20') ?? []) as string[];
  return Array.from({ length: k }, (_, i) => scheme[i % scheme.length] ?? NEUTRAL);
}

/**
 * Renames the ids Vega generates from process-wide counters (gradients, clip paths) to
 * `<prefix>-<n>`, so the output is the same on every run and unique within the page.
 */
function renumberIds(svg: string, prefix: string): string {
  const ids = new Map<string, string>();
  for (const match of svg.matchAll(/\sid="([^"]+)"/g)) if (!ids.has(match[1]!)) ids.set(match[1]!, `${prefix}-${ids.size + 1}`);
  if (ids.size === 0) return svg;
  return svg.replace(/(?<=\s)id="([^"]+)"|url\(#([^)]+)\)|href="#([^"]+)"/g, (_whole, id?: string, url?: string, href?: string) => {
    if (id !== undefined) return `id="${ids.get(id) ?? id}"`;
    if (url !== undefined) return `url(#${ids.get(url) ?? url})`;
    return `href="#${ids.get(href!) ?? href!}"`;
  });
}

/** A geometry attribute's opening (with the space before it) and its value, when it has a long decimal. */
const GEOMETRY_ATTRIBUTE = /( (?:transform|d|x|y|x1|x2|y1|y2|width|height)=")([^"]*?\d\.\d{3}[^"]*)"/g;
const LONG_DECIMAL = /(\d+\.\d{2})\d+/g;
/** Elements and attributes Vega writes for interactive views that a static page never needs. */
const INERT = [
  '<path class="background" aria-hidden="true" d="M0,0h0v0h0Z" pointer-events="none"/>',
  '<path class="foreground" aria-hidden="true" d="" pointer-events="none" display="none"/>',
  '<path class="foreground" aria-hidden="true" d="" display="none"/>',
  ' pointer-events="none"',
  ' opacity="1"',
];
const INERT_PATTERN = new RegExp(INERT.map((text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
/** Distinct geometry values remembered while compacting one SVG (a scatter's points share one `d`). */
const COMPACT_CACHE_SIZE = 256;

/** Shrinks Vega's SVG without changing the picture: geometry to 0.01 px, inert parts dropped. */
function compactSvg(svg: string): string {
  const cache = new Map<string, string>();
  const out = svg.replace(GEOMETRY_ATTRIBUTE, (_whole, opening: string, value: string) => {
    let compact = cache.get(value);
    if (compact === undefined) {
      compact = value.replace(LONG_DECIMAL, '$1');
      if (cache.size < COMPACT_CACHE_SIZE) cache.set(value, compact);
    }
    return `${opening}${compact}"`;
  });
  return out.replace(INERT_PATTERN, '');
}

interface TextItem {
  readonly text?: unknown;
  readonly fontSize?: number | string;
  readonly fontWeight?: number | string;
  readonly limit?: number;
}
const NARROW = new Set(" .,:;'|!()[]il·ijtf-/");
const WIDE = new Set('mwMW%@');
const DIGITS = new Set('0123456789');
const BOLD_FACTOR = 1.12;
/** Estimates err on the wide side: a label a little short of its space beats one that overlaps. */
const SAFETY = 1.04;

/** Width of text in ems, from rough character classes of common sans-serif faces. */
function textEms(text: string): number {
  let ems = 0;
  for (const ch of text) {
    if (NARROW.has(ch)) ems += 0.34;
    else if (WIDE.has(ch)) ems += 0.9;
    else if (ch >= 'A' && ch <= 'Z') ems += 0.7;
    else if (DIGITS.has(ch)) ems += 0.64;
    else ems += 0.6;
  }
  return ems;
}

/**
 * Without a canvas, Vega estimates every character as 0.8 em wide, which truncates labels and
 * wastes space. Vega lets a caller supply the measure (as vl-convert does); this one is a
 * deterministic estimate, so layout does not depend on the fonts of the machine.
 */
function estimateTextWidth(item: TextItem, text?: unknown): number {
  const value = text ?? item.text;
  const lines = Array.isArray(value) ? value.map(String) : [value === undefined || value === null ? '' : String(value).trim()];
  const size = item.fontSize === undefined || item.fontSize === null ? 11 : Number(item.fontSize) || 0;
  const bold = Number(item.fontWeight) >= 600 || item.fontWeight === 'bold';
  const width = Math.max(0, ...lines.map((l) => Math.ceil(textEms(l) * size * SAFETY * (bold ? BOLD_FACTOR : 1))));
  return item.limit !== undefined && item.limit > 0 ? Math.min(width, item.limit) : width;
}

const textMetrics = (vega as unknown as { textMetrics: { width: (item: TextItem, text?: unknown) => number } }).textMetrics;

export interface TemplateInputs {
  /** Values of named data sets (`data: { name }` in the spec). */
  readonly data?: Readonly<Record<string, readonly object[]>>;
  /** Values of top-level parameters (`params` in the spec). */
  readonly params?: Readonly<Record<string, unknown>>;
}

/**
 * A Vega-Lite spec compiled, parsed and made a view once, rendered again for each set of data and
 * parameter values: compiling, parsing and building the view (which compiles every expression) are
 * most of a small chart's cost, so charts of one shape (a field's histograms) share a template. The
 * layout is computed afresh on every render, so a chart does not depend on the one before it.
 */
export class ChartTemplate {
  private readonly view: vega.View;

  constructor(spec: TopLevelSpec) {
    const compiled = compile({ ...spec, config: { ...CONFIG, ...spec.config } }, { logger: vega.logger(vega.Error) }).spec;
    this.view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.Error });
  }

  /** The chart as an SVG string for these inputs; `id` keeps generated element ids unique. */
  async render(id: string, inputs: TemplateInputs = {}): Promise<string> {
    textMetrics.width = estimateTextWidth;
    const view = this.view;
    for (const [name, value] of Object.entries(inputs.params ?? {})) view.signal(name, value);
    for (const [name, values] of Object.entries(inputs.data ?? {}))
      view.data(
        name,
        values.map((v) => ({ ...v })),
      );
    // without this the autosized layout keeps the previous chart's size when it would shrink
    view.resize();
    return renumberIds(compactSvg(await view.toSVG()), id);
  }

  /** A scale of the view as last rendered (data value → pixels, or category → colour). */
  scale(name: string): (value: unknown) => unknown {
    return this.view.scale(name) as (value: unknown) => unknown;
  }

  /** Releases the view. */
  finalize(): void {
    this.view.finalize();
  }
}

/** Renders a Vega-Lite spec to an SVG string; `id` keeps generated element ids unique. */
export async function renderSvg(spec: TopLevelSpec, id: string): Promise<string> {
  const template = new ChartTemplate(spec);
  try {
    return await template.render(id);
  } finally {
    template.finalize();
  }
}

const kAxis = (ks: readonly number[]) => ({
  field: 'k',
  type: 'quantitative' as const,
  title: 'Number of segments k',
  scale: { domain: [Math.min(...ks), Math.max(...ks, Math.min(...ks) + 1)], nice: false, zero: false },
  axis: { tickMinStep: 1, format: 'd' },
});

function chosenRule(k: number, name: string, label: string) {
  return [
    {
      name,
      data: { values: [{ k, label }] },
      mark: { type: 'rule' as const, color: CHOSEN, strokeDash: [5, 4], strokeWidth: 1.5 },
      encoding: { x: { field: 'k', type: 'quantitative' as const } },
    },
    {
      name: `${name}_label`,
      data: { values: [{ k, label }] },
      mark: {
        type: 'text' as const,
        color: CHOSEN,
        align: 'left' as const,
        baseline: 'top' as const,
        dx: 4,
        y: 4,
        fontWeight: 600 as const,
      },
      encoding: { x: { field: 'k', type: 'quantitative' as const }, text: { field: 'label' } },
    },
  ];
}

export interface MetricPoint {
  readonly k: number;
  readonly value: number;
}

/** A metric by k: a line, one point per k tried (layer `<name>_points`), the chosen k marked. */
export function metricByKSpec(options: {
  title: string;
  subtitle: string;
  yTitle: string;
  name: string;
  points: readonly MetricPoint[];
  ks: readonly number[];
  chosenK: number;
  zero: boolean;
}): TopLevelSpec {
  const x = kAxis(options.ks);
  const y = { field: 'value', type: 'quantitative' as const, title: options.yTitle, scale: { zero: options.zero } };
  return {
    title: { text: options.title, subtitle: options.subtitle },
    width: 360,
    height: 220,
    data: { values: options.points.map((p) => ({ k: p.k, value: p.value })) },
    layer: [
      { name: `${options.name}_line`, mark: { type: 'line', color: NEUTRAL }, encoding: { x, y } },
      { name: `${options.name}_points`, mark: { type: 'point', filled: true, size: 60, color: NEUTRAL, opacity: 1 }, encoding: { x, y } },
      ...chosenRule(options.chosenK, `${options.name}_chosen`, `chosen k = ${options.chosenK}`),
    ],
  } as TopLevelSpec;
}

export interface ScatterInput {
  readonly points: ReadonlyArray<{ pc1: number; pc2: number; segment: string }>;
  readonly centroids: ReadonlyArray<{ pc1: number; pc2: number; segment: string; id: number }>;
  readonly labels: readonly string[];
  readonly colors: readonly string[];
  readonly xTitle: string;
  readonly yTitle: string;
  readonly subtitle: string;
}

/** The segments in two dimensions: one mark per plotted customer (`pca_points`), centroids (`pca_centroids`). */
export function scatterSpec(input: ScatterInput): TopLevelSpec {
  return scatterLayers(input, input.points, undefined);
}

/**
 * The scatter's spec with the given points as the point layer's data; with `domains`, those are
 * the axes' data ranges (as Vega would find them in the data), niced as Vega would.
 */
function scatterLayers(
  input: ScatterInput,
  points: ScatterInput['points'],
  domains: { readonly pc1: readonly [number, number]; readonly pc2: readonly [number, number] } | undefined,
): TopLevelSpec {
  const size = pointStyle(input.points.length);
  const color = {
    field: 'segment',
    type: 'nominal' as const,
    title: 'Segment',
    scale: { domain: [...input.labels], range: [...input.colors] },
  };
  // whole-pixel positions: invisible at this size, and thousands of points print as short integers
  const axis = (field: 'pc1' | 'pc2', title: string) => ({
    field,
    type: 'quantitative' as const,
    title,
    scale: { zero: false, round: true, ...(domains ? { domain: [...domains[field]], nice: true } : {}) },
  });
  const x = axis('pc1', input.xTitle);
  const y = axis('pc2', input.yTitle);
  return {
    title: { text: 'Segments in 2-dimensional space', subtitle: input.subtitle },
    width: 560,
    height: 400,
    layer: [
      {
        name: 'pca_points',
        data: { values: points.map((p) => ({ ...p })) },
        mark: { type: 'circle', size: size.size, opacity: size.opacity, aria: false },
        encoding: { x, y, color: { ...color, legend: { orient: 'bottom', columns: 2, symbolOpacity: 1 } } },
      },
      {
        name: 'pca_centroids',
        data: { values: input.centroids.map((c) => ({ ...c })) },
        mark: { type: 'point', shape: 'diamond', filled: true, size: 260, stroke: INK, strokeWidth: 1.5, opacity: 1 },
        encoding: { x, y, color },
      },
      {
        name: 'pca_centroid_labels',
        data: { values: input.centroids.map((c) => ({ ...c })) },
        mark: { type: 'text', dy: -14, fontWeight: 700, fontSize: 12, color: INK },
        encoding: { x, y, text: { field: 'id' } },
      },
    ],
  } as TopLevelSpec;
}

function pointStyle(points: number): { size: number; opacity: number } {
  const style = points > SMALL_POINT_THRESHOLD ? 'small' : 'large';
  return { size: POINT_SIZE[style], opacity: POINT_OPACITY[style] };
}

/** Where the point layer's (empty) mark group is in the scatter's SVG, to be filled. */
const EMPTY_POINTS_GROUP = /(<g class="mark-symbol role-mark pca_points_marks"[^>]*?)\/>/;

/**
 * The scatter as SVG, as renderSvg(scatterSpec(input)) draws it, at a fraction of the cost: Vega
 * lays out the axes, legend and centroids with the points' ranges as the scales' domains, and the
 * points are written here with Vega's own scales in the markup Vega writes for a circle (a test
 * holds the two byte for byte). Vega's per-point dataflow, bounds and markup were most of the
 * report's cost with thousands of points.
 */
export async function renderScatter(input: ScatterInput, id: string): Promise<string> {
  const finite = input.points.filter((p) => Number.isFinite(p.pc1) && Number.isFinite(p.pc2));
  const extent = (field: 'pc1' | 'pc2'): [number, number] => {
    let low = Number.POSITIVE_INFINITY;
    let high = Number.NEGATIVE_INFINITY;
    for (const p of [...finite, ...input.centroids]) {
      if (p[field] < low) low = p[field];
      if (p[field] > high) high = p[field];
    }
    return [low, high];
  };
  const template = new ChartTemplate(scatterLayers(input, [], { pc1: extent('pc1'), pc2: extent('pc2') }));
  try {
    const svg = await template.render(id);
    const x = template.scale('x');
    const y = template.scale('y');
    const colors = new Map(input.labels.map((label, i) => [label, input.colors[i]]));
    const { size, opacity } = pointStyle(input.points.length);
    // Vega's circle: two arcs of radius √size / 2; VL gives point marks a stroke width of 2
    const r = Math.sqrt(size) / 2;
    const tail = `" d="M${r},0A${r},${r},0,1,1,${-r},0A${r},${r},0,1,1,${r},0" fill="`;
    const close = `" stroke-width="2" opacity="${opacity}"/>`;
    const marks = finite.map((p) => `<path transform="translate(${x(p.pc1)},${y(p.pc2)})${tail}${colors.get(p.segment)}${close}`).join('');
    if (!EMPTY_POINTS_GROUP.test(svg)) throw new Error('the scatter has no empty point layer to fill');
    return svg.replace(EMPTY_POINTS_GROUP, (_whole, open: string) => `${open}>${marks}</g>`);
  } finally {
    template.finalize();
  }
}

/** Segment × model column heatmap of standardized centroid values (`centroid_cells`). */
export function heatmapSpec(input: {
  cells: ReadonlyArray<{ segment: string; column: string; z: number }>;
  labels: readonly string[];
  columns: readonly string[];
}): TopLevelSpec {
  const extent = Math.max(1, Math.ceil(2 * Math.max(...input.cells.map((c) => Math.abs(c.z)))) / 2);
  const x = {
    field: 'column',
    type: 'nominal' as const,
    title: 'Model column',
    sort: [...input.columns],
    axis: { labelAngle: -30, labelLimit: 160 },
  };
  const y = {
    field: 'segment',
    type: 'nominal' as const,
    title: 'Segment',
    sort: [...input.labels],
    axis: { labelLimit: SEGMENT_LABEL_LIMIT, maxExtent: SEGMENT_LABEL_LIMIT + 12 },
  };
  return {
    title: { text: 'Segment centroids, standardized', subtitle: 'Standard deviations from the mean of all customers, per model column' },
    width: { step: 84 },
    height: { step: 30 },
    data: { values: input.cells.map((c) => ({ ...c })) },
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
            scale: { scheme: 'blueorange', domain: [-extent, extent] },
            legend: { gradientLength: 120 },
          },
        },
      },
      {
        name: 'centroid_values',
        mark: { type: 'text', fontSize: 11 },
        encoding: {
          text: { field: 'z', type: 'quantitative', format: '.2f' },
          color: { condition: { test: `abs(datum.z) > ${extent * 0.6}`, value: 'white' }, value: INK },
        },
      },
    ],
  } as TopLevelSpec;
}

export interface BoxRow {
  readonly segment: string;
  readonly min: number;
  readonly p25: number;
  readonly median: number;
  readonly mean: number;
  readonly p75: number;
  readonly max: number;
}

/** Spending score per segment side by side: range, quartile box (`spending_box`), median, mean. */
export function spendingSpec(input: {
  rows: readonly BoxRow[];
  labels: readonly string[];
  colors: readonly string[];
  domain: readonly [number, number];
}): TopLevelSpec {
  const y = {
    field: 'segment',
    type: 'nominal' as const,
    title: 'Segment',
    sort: [...input.labels],
    axis: { labelLimit: SEGMENT_LABEL_LIMIT, maxExtent: SEGMENT_LABEL_LIMIT + 12 },
  };
  const x = (field: string) => ({
    field,
    type: 'quantitative' as const,
    title: 'Spending score (1–100)',
    scale: { domain: [...input.domain], nice: false },
  });
  return {
    title: { text: 'Spending score by segment', subtitle: 'Line: min to max · box: 25 % to 75 % · bar: median · ◆: mean' },
    width: 480,
    height: { step: 30 },
    data: { values: input.rows.map((r) => ({ ...r })) },
    encoding: { y },
    layer: [
      { name: 'spending_range', mark: { type: 'rule', color: MUTED }, encoding: { x: x('min'), x2: { field: 'max' } } },
      {
        name: 'spending_box',
        mark: { type: 'bar', size: 16, opacity: 0.9 },
        encoding: {
          x: x('p25'),
          x2: { field: 'p75' },
          color: { field: 'segment', type: 'nominal', scale: { domain: [...input.labels], range: [...input.colors] }, legend: null },
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

/** Histogram bars' colour, a parameter of the histogram template. */
export const HISTOGRAM_COLOR = 'bar_color';
/** Histogram bins, the named data set of the histogram template. */
export const HISTOGRAM_DATA = 'bins';

export interface HistogramBin {
  readonly start: number;
  readonly end: number;
  readonly percent: number;
}

/**
 * One histogram (`hist_bars`, one bar per bin) on axes shared with the other segments. Without
 * `bins` and `color`, the template the histograms of one field share: bins as the data set
 * HISTOGRAM_DATA, the bars' colour as the parameter HISTOGRAM_COLOR.
 */
export function histogramSpec(input: {
  title: string;
  xTitle: string;
  bins?: readonly HistogramBin[];
  xDomain: readonly [number, number];
  yMax: number;
  color?: string;
}): TopLevelSpec {
  return {
    title: { text: input.title },
    width: 230,
    height: 130,
    params: [{ name: HISTOGRAM_COLOR, value: input.color ?? NEUTRAL }],
    data: input.bins === undefined ? { name: HISTOGRAM_DATA } : { values: input.bins.map((b) => ({ ...b })) },
    layer: [
      {
        name: 'hist_bars',
        mark: { type: 'bar', color: { expr: HISTOGRAM_COLOR }, stroke: 'white', strokeWidth: 0.5 },
        encoding: {
          x: { field: 'start', type: 'quantitative', title: input.xTitle, scale: { domain: [...input.xDomain], nice: false, zero: false } },
          x2: { field: 'end' },
          y: { field: 'percent', type: 'quantitative', title: '% of segment', scale: { domain: [0, input.yMax], nice: false, padding: 0 } },
          y2: { datum: 0 },
        },
      },
    ],
  } as TopLevelSpec;
}
