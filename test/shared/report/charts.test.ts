// Chart rendering: a template renders each chart exactly as a chart of its own would be rendered,
// whatever it rendered before, and the SVG is compacted without changing what is drawn.

import { describe, expect, it } from 'vitest';
import {
  ChartTemplate,
  HISTOGRAM_COLOR,
  HISTOGRAM_DATA,
  histogramSpec,
  renderScatter,
  renderSvg,
  scatterSpec,
  type ScatterInput,
} from '../../../shared/report/charts.ts';

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

describe('ChartTemplate', () => {
  it('renders each histogram byte for byte as its own spec does, whatever it rendered before', async () => {
    const template = new ChartTemplate(histogramSpec(AXES));
    const height = (svg: string) => /height="(\d+)"/.exec(svg)![1];
    try {
      for (const i of [0, 1, 2, 1, 0]) {
        const { percents, color } = CASES[i]!;
        const own = await renderSvg(histogramSpec({ ...AXES, bins: bins(percents), color }), `h${i}`);
        const shared = await template.render(`h${i}`, { data: { [HISTOGRAM_DATA]: bins(percents) }, params: { [HISTOGRAM_COLOR]: color } });
        expect(shared).toBe(own);
        expect(shared).toContain(`fill="${color}"`);
      }
      const heights = await Promise.all(
        CASES.slice(0, 2).map(({ percents }) => renderSvg(histogramSpec({ ...AXES, bins: bins(percents) }), 'h')),
      );
      expect(Number(height(heights[1]!))).toBe(Number(height(heights[0]!)) + 1);
    } finally {
      template.finalize();
    }
  });
});

describe('renderSvg', () => {
  it('writes geometry with at most two decimals and drops what only interactive views need', async () => {
    const svg = await renderSvg(
      scatterSpec({
        points: Array.from({ length: 50 }, (_, i) => ({ pc1: Math.sin(i) * 1.234567, pc2: Math.cos(i) / 3, segment: i % 2 ? 'a' : 'b' })),
        centroids: [{ pc1: 0.1234567, pc2: 0.7654321, segment: 'a', id: 0 }],
        labels: ['a', 'b'],
        colors: ['#4c78a8', '#f58518'],
        xTitle: 'PC1',
        yTitle: 'PC2',
        subtitle: '50 points',
      }),
      'pca',
    );
    for (const m of svg.matchAll(/ (transform|d|x|y|x1|x2|y1|y2|width|height)="([^"]*)"/g)) expect(m[2]).not.toMatch(/\d\.\d{3}/);
    expect(svg).not.toContain('pointer-events');
    expect(svg).not.toContain(' opacity="1"');
    // every point is drawn, on whole pixels
    const points = /pca_points_marks"[^>]*>(.*?)<\/g>/.exec(svg)![1]!;
    const positions = [...points.matchAll(/transform="translate\(([^)]*)\)"/g)].map((m) => m[1]!);
    expect(positions).toHaveLength(50);
    for (const p of positions) expect(p).toMatch(/^-?\d+,-?\d+$/);
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

  it('draws byte for byte what Vega draws with every point in the spec, large points and small', async () => {
    for (const [n, shift] of [
      [1, 0],
      [40, -3.3],
      [1501, 12.5],
    ] as const) {
      const input = scatter(n, shift);
      expect(await renderScatter(input, 'pca')).toBe(await renderSvg(scatterSpec(input), 'pca'));
    }
  });
});
