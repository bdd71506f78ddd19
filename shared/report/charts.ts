// The report's charts rendered to SVG strings in Node by Vega (no DOM, no canvas), from the
// dataflows chart-specs.ts compiles from Vega-Lite ahead of time (charts.generated.ts): writing a
// report runs no Vega-Lite compile and no Vega parse, and does not load Vega-Lite. Every mark layer
// has a name, so its SVG group carries the class `<name>_marks`.

import * as vega from 'vega';
import type { ChartKind } from './chart-specs.ts';
import { CHART_DATAFLOWS } from './charts.generated.ts';

const NEUTRAL = '#4c78a8';
const SMALL_POINT_THRESHOLD = 1500;
/** Areas whose circles have whole radii (√size / 2 = 2 and 3 px): every point's path is short text. */
const POINT_SIZE = { small: 16, large: 36 } as const;
const POINT_OPACITY = { small: 0.55, large: 0.75 } as const;

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
  /** Values of the spec's parameters. */
  readonly params?: Readonly<Record<string, unknown>>;
}

/**
 * One kind of chart with its view, rendered again for each set of data and parameter values
 * (building a view compiles every expression of the dataflow, so charts of one kind, such as a
 * report's histograms, share one). The layout is computed afresh on every render, so a chart does
 * not depend on the one before it.
 */
export class ChartTemplate {
  private readonly view: vega.View;

  constructor(kind: ChartKind) {
    this.view = new vega.View(JSON.parse(CHART_DATAFLOWS[kind]) as vega.Runtime, { renderer: 'none', logLevel: vega.Error });
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

/** Renders one chart of a kind; `id` keeps generated element ids unique. */
export async function renderChart(kind: ChartKind, id: string, inputs: TemplateInputs): Promise<string> {
  const template = new ChartTemplate(kind);
  try {
    return await template.render(id, inputs);
  } finally {
    template.finalize();
  }
}

export interface MetricPoint {
  readonly k: number;
  readonly value: number;
}

/** A metric by k: a line, one point per k tried (layer `<kind>_points`), the chosen k marked. */
export async function renderMetricByK(
  kind: 'elbow' | 'silhouette' | 'davies_bouldin',
  input: {
    readonly title: string;
    readonly subtitle: string;
    readonly yTitle: string;
    readonly points: readonly MetricPoint[];
    readonly ks: readonly number[];
    readonly chosenK: number;
  },
  id: string,
): Promise<string> {
  const low = Math.min(...input.ks);
  return await renderChart(kind, id, {
    params: {
      title_text: input.title,
      title_subtitle: input.subtitle,
      y_title: input.yTitle,
      k_domain: [low, Math.max(...input.ks, low + 1)],
    },
    data: {
      values: input.points.map((p) => ({ k: p.k, value: p.value })),
      chosen: [{ k: input.chosenK, label: `chosen k = ${input.chosenK}` }],
    },
  });
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

function pointStyle(points: number): { size: number; opacity: number } {
  const style = points > SMALL_POINT_THRESHOLD ? 'small' : 'large';
  return { size: POINT_SIZE[style], opacity: POINT_OPACITY[style] };
}

/** Where the point layer's (empty) mark group is in the scatter's SVG, to be filled. */
const EMPTY_POINTS_GROUP = /(<g class="mark-symbol role-mark pca_points_marks"[^>]*?)\/>/;

/**
 * The segments in two dimensions: one mark per plotted customer (`pca_points`), the centroids
 * (`pca_centroids`) labelled with their ids. Vega lays out the axes (the data's ranges, niced),
 * legend and centroids; the points are written here with Vega's own scales in the markup Vega
 * writes for a circle (with `vegaPoints`, Vega draws them itself: a test holds the two byte for
 * byte). Vega's per-point dataflow, bounds and markup were most of the report's cost with
 * thousands of points.
 */
export async function renderScatter(input: ScatterInput, id: string, options: { readonly vegaPoints?: boolean } = {}): Promise<string> {
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
  const { size, opacity } = pointStyle(input.points.length);
  const template = new ChartTemplate('pca');
  try {
    const svg = await template.render(id, {
      params: {
        title_subtitle: input.subtitle,
        x_title: input.xTitle,
        y_title: input.yTitle,
        pc1_domain: extent('pc1'),
        pc2_domain: extent('pc2'),
        segment_labels: [...input.labels],
        segment_colors: [...input.colors],
        point_size: size,
        point_opacity: opacity,
      },
      data: { points: options.vegaPoints ? input.points : [], centroids: input.centroids },
    });
    if (options.vegaPoints) return svg;
    const x = template.scale('x');
    const y = template.scale('y');
    const colors = new Map(input.labels.map((label, i) => [label, input.colors[i]]));
    // Vega's circle: two arcs of radius √size / 2; Vega-Lite gives point marks a stroke width of 2
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
export async function renderHeatmap(
  input: {
    readonly cells: ReadonlyArray<{ segment: string; column: string; z: number }>;
    readonly labels: readonly string[];
    readonly columns: readonly string[];
  },
  id: string,
): Promise<string> {
  const extent = Math.max(1, Math.ceil(2 * Math.max(...input.cells.map((c) => Math.abs(c.z)))) / 2);
  return await renderChart('centroids', id, {
    params: { segment_labels: [...input.labels], column_labels: [...input.columns], z_extent: extent },
    data: { cells: input.cells },
  });
}

/**
 * Tick values for the x axis of a log-transformed money column (symlog, see chart-specs.ts): 0
 * and the powers of ten within the domain (1 too when there would be fewer than three).
 */
export function log1pTicks(domain: readonly [number, number]): number[] {
  const [low, high] = domain;
  const ticks: number[] = [];
  for (let v = 1; v <= high; v *= 10) ticks.push(v);
  const within = [0, ...ticks].filter((v) => v >= low && v <= high);
  return within.length >= 3 ? within.filter((v) => v !== 1) : within;
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

/**
 * One feature per segment side by side (the mall's spending score): range, quartile box
 * (`spending_box`), median, mean.
 */
export async function renderSpending(
  input: {
    readonly rows: readonly BoxRow[];
    readonly labels: readonly string[];
    readonly colors: readonly string[];
    readonly domain: readonly [number, number];
    /** The chart's title and the x-axis title (the feature's label and unit). */
    readonly title: string;
    readonly xTitle: string;
    /** A log-transformed money column: drawn on a log1p axis. */
    readonly log1p?: boolean;
  },
  id: string,
): Promise<string> {
  return await renderChart(input.log1p ? 'spending_log' : 'spending', id, {
    params: {
      title_text: input.title,
      x_title: input.xTitle,
      segment_labels: [...input.labels],
      segment_colors: [...input.colors],
      x_domain: [...input.domain],
      ...(input.log1p ? { x_ticks: log1pTicks(input.domain) } : {}),
    },
    data: { rows: input.rows },
  });
}

export interface HistogramBin {
  readonly start: number;
  readonly end: number;
  readonly percent: number;
}

/**
 * One feature's histograms (`hist_bars`, one bar per bin), on axes shared across segments: a
 * log-transformed money column's on a log1p axis, where its bins (equal in log1p) are equally wide.
 */
export class HistogramChart {
  private readonly template: ChartTemplate;

  constructor(
    private readonly axes: {
      readonly title: string;
      readonly xTitle: string;
      readonly xDomain: readonly [number, number];
      readonly yMax: number;
      readonly log1p?: boolean;
    },
  ) {
    this.template = new ChartTemplate(axes.log1p ? 'histogram_log' : 'histogram');
  }

  /** One segment's histogram in its colour. */
  async render(id: string, bins: readonly HistogramBin[], color: string): Promise<string> {
    return await this.template.render(id, {
      params: {
        title_text: this.axes.title,
        x_title: this.axes.xTitle,
        x_domain: [...this.axes.xDomain],
        y_max: this.axes.yMax,
        bar_color: color,
        ...(this.axes.log1p ? { x_ticks: log1pTicks(this.axes.xDomain) } : {}),
      },
      data: { bins },
    });
  }

  /** Releases the view. */
  finalize(): void {
    this.template.finalize();
  }
}
