// Chart rendering: the precompiled dataflows are those the Vega-Lite sources compile to, a chart
// drawn in a shared view is byte for byte the chart drawn in a view of its own, the scatter's
// points written from Vega's scales are the points Vega draws, and the SVG is compacted without
// changing what is drawn.

import { describe, expect, it } from 'vitest';
import { CHART_KINDS, compileCharts } from '../../../shared/report/chart-specs.ts';
import { generatedSource } from '../../support/generate-charts.ts';
import { CHART_DATAFLOWS } from '../../../shared/report/charts.generated.ts';
import { HistogramChart, renderChart, renderMetricByK, renderScatter, type ScatterInput } from '../../../shared/report/charts.ts';

describe('charts.generated.ts', () => {
  it('holds the dataflows the Vega-Lite specs compile to (else: npx tsx test/support/generate-charts.ts)', async () => {
    const compiled = compileCharts();
    for (const kind of CHART_KINDS) expect(JSON.parse(CHART_DATAFLOWS[kind])).toEqual(compiled[kind]);
    expect(Object.keys(CHART_DATAFLOWS)).toEqual([...CHART_KINDS]);
    // and is the file the generator writes, formatting included
    const { readFile } = await import('node:fs/promises');
    const file = new URL('../../../shared/report/charts.generated.ts', import.meta.url);
    expect(await readFile(file, 'utf8')).toBe(await generatedSource());
  });
});

// Two income histograms of a 10⁶-row report (% of the segment per bin, 20 bins over 7–121 k$):
// the second reaches the shared y maximum, and its chart is 1 px taller than the first. A view
// reused without recomputing its layout kept the first one's height.
const Y_MAX = 39.8438636033154;
const LOWER = [
  0.09895391574780887, 2.7515840941974754, 21.414791531540523, 37.64988607826506, 31.407473931048248, 6.354670791132398,
  0.30434565683779874, 0.0074839095943721, 0, 0, 0.0058208185734005225, 0.004989273062914733, 0, 0, 0, 0, 0, 0, 0, 0,
];
const TALLEST = [
  0.019994183510251562,
  1.081503562599971,
  12.311872909698996,
  31.714410353351752,
  Y_MAX,
  12.297331685327904,
  1.3432456012796277,
  0.9097353497164461,
  0.4362367311327614,
  0.04089719354369638,
  0.0009088265231932529,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
];
const AXES = { title: 'Annual income', xTitle: 'Annual income (k$)', xDomain: [7, 121] as const, yMax: Y_MAX };
const WIDTH = (121 - 7) / 20;
const bins = (percents: readonly number[]) => percents.map((percent, b) => ({ start: 7 + b * WIDTH, end: 7 + (b + 1) * WIDTH, percent }));
const CASES = [
  { percents: LOWER, color: '#4c78a8' },
  { percents: TALLEST, color: '#f58518' },
  { percents: LOWER.map(() => 0), color: '#e45756' },
];
/** A histogram drawn in a view of its own. */
const alone = (percents: readonly number[], color: string, id: string) =>
  renderChart('histogram', id, {
    params: { title_text: AXES.title, x_title: AXES.xTitle, x_domain: [...AXES.xDomain], y_max: AXES.yMax, bar_color: color },
    data: { bins: bins(percents) },
  });

describe('HistogramChart', () => {
  it('draws each histogram byte for byte as a view of its own does, whatever it drew before', async () => {
    const chart = new HistogramChart(AXES);
    try {
      for (const i of [0, 1, 2, 1, 0]) {
        const { percents, color } = CASES[i]!;
        const shared = await chart.render(`h${i}`, bins(percents), color);
        expect(shared).toBe(await alone(percents, color, `h${i}`));
        expect(shared).toContain(`fill="${color}"`);
        expect(shared).toContain('>Annual income (k$)</text>');
      }
    } finally {
      chart.finalize();
    }
    const height = (svg: string) => Number(/height="(\d+)"/.exec(svg)![1]);
    expect(height(await alone(TALLEST, '#000000', 'h'))).toBe(height(await alone(LOWER, '#000000', 'h')) + 1);
  });
});

describe('renderMetricByK', () => {
  it('marks every k tried and the chosen k, with geometry at most two decimals and nothing interactive', async () => {
    const svg = await renderMetricByK(
      'elbow',
      {
        title: 'The elbow method',
        subtitle: 'Inertia for every k tried',
        yTitle: 'Inertia',
        points: [1, 2, 3, 4].map((k) => ({ k, value: 1000 / k ** 1.37 })),
        ks: [1, 2, 3, 4],
        chosenK: 3,
      },
      'elbow',
    );
    expect(/elbow_points_marks"[^>]*>(.*?)<\/g>/.exec(svg)![1]!.match(/<path\b/g)).toHaveLength(4);
    expect(svg).toContain('>chosen k = 3</text>');
    expect(svg).toContain('>The elbow method</text>');
    for (const m of svg.matchAll(/ (transform|d|x|y|x1|x2|y1|y2|width|height)="([^"]*)"/g)) expect(m[2]).not.toMatch(/\d\.\d{3}/);
    expect(svg).not.toContain('pointer-events');
    expect(svg).not.toContain(' opacity="1"');
  });
});

describe('renderScatter', () => {
  const LABELS = ['0 · Young', '1 · Older', '2 · Rich'];
  const COLORS = ['#4c78a8', '#f58518', '#e45756'];
  /** Points on a spiral around (shift, shift), in segments by turn. */
  function scatter(n: number, shift: number): ScatterInput {
    return {
      points: Array.from({ length: n }, (_, i) => ({
        pc1: shift + Math.cos(i) * (1 + i / n) * 1.7,
        pc2: shift / 2 + Math.sin(i) * (1 + i / n) * 0.9,
        segment: LABELS[i % 3]!,
      })),
      centroids: LABELS.map((segment, id) => ({ pc1: shift + id - 1, pc2: shift / 3 - id / 7, segment, id })),
      labels: LABELS,
      colors: COLORS,
      xTitle: 'PC1 (51.2 % of variance)',
      yTitle: 'PC2 (20.4 % of variance)',
      subtitle: `${n} customers`,
    };
  }

  it('writes byte for byte the points Vega draws, large points and small', async () => {
    for (const [n, shift] of [
      [1, 0],
      [40, -3.3],
      [1501, 12.5],
    ] as const) {
      const input = scatter(n, shift);
      const svg = await renderScatter(input, 'pca');
      expect(svg).toBe(await renderScatter(input, 'pca', { vegaPoints: true }));
      // every point is drawn, on whole pixels, in its segment's colour
      const points = /pca_points_marks"[^>]*>(.*?)<\/g>/.exec(svg)![1]!;
      const marks = [...points.matchAll(/<path transform="translate\(([^)]*)\)"[^>]* fill="([^"]*)"/g)];
      expect(marks.map((m) => m[2])).toEqual(input.points.map((p) => COLORS[LABELS.indexOf(p.segment)]));
      for (const m of marks) expect(m[1]).toMatch(/^-?\d+,-?\d+$/);
    }
  });
});
