// Plain-text tables for the terminal: the segment table printed after training and assignment.

import type { Model } from '../../shared/model/artifact.ts';

/** Renders rows as left-aligned columns under a header. */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const percent = (share: number): string => `${(share * 100).toFixed(0)} %`;

/** The segment table: id, name, size, share, gender mix and mean age, income, spending. */
export function segmentTable(model: Model, counts?: Readonly<Record<string, number>>): string {
  const header = ['id', 'segment', 'customers', 'share', 'women', 'age', 'income k$', 'spending'];
  if (counts) header.push('labeled now');
  const rows = model.segments.map((s) => {
    const row = [
      String(s.id),
      s.name,
      String(s.size),
      percent(s.share),
      percent(s.categories.gender!.Female ?? 0),
      s.stats.age!.mean.toFixed(0),
      s.stats.annual_income_thousands!.mean.toFixed(0),
      s.stats.spending_score!.mean.toFixed(0),
    ];
    if (counts) row.push(String(counts[s.id] ?? 0));
    return row;
  });
  return renderTable(header, rows);
}
