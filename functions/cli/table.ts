// Plain-text tables for the terminal: the segment table printed after training and assignment.

import type { Model } from '../../shared/model/artifact.ts';
import { categoricalViews, isMallSchema, numericViews } from '../../shared/report/schema-view.ts';

/** Columns a segment table keeps within, where it can (a terminal's usual width). */
export const TABLE_WIDTH = 100;
/** Segment names are cut to no fewer than this many characters to fit. */
const MIN_NAME_WIDTH = 24;
const GAP = '  ';

/** Renders rows as left-aligned columns under a header (a header cell may span several lines). */
export function renderTable(header: readonly (string | readonly string[])[], rows: readonly (readonly string[])[]): string {
  const heads = header.map((h) => (typeof h === 'string' ? [h] : h));
  const widths = heads.map((h, i) => Math.max(...h.map((l) => l.length), ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join(GAP)
      .trimEnd();
  const depth = Math.max(...heads.map((h) => h.length));
  // a short header sits on the last line, above its column
  const headLines = Array.from({ length: depth }, (_, d) => line(heads.map((h) => h[d - (depth - h.length)] ?? '')));
  return [...headLines, line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const percent = (share: number): string => `${(share * 100).toFixed(0)} %`;

/** The widest line of a rendered table. */
const widthOf = (text: string): number => Math.max(...text.split('\n').map((l) => l.length));

/** A name cut to `width` characters, with an ellipsis when cut. */
const cut = (name: string, width: number): string => (name.length <= width ? name : `${name.slice(0, width - 1).trimEnd()}…`);

/** A mean for the terminal: one decimal below 10, else whole with thousands separators. */
function mean(value: number): string {
  if (!Number.isFinite(value)) return '—';
  return Math.abs(value) < 10 ? value.toFixed(1) : Math.round(value).toLocaleString('en-US');
}

/** A header's words on lines of at most `width` characters (a longer word keeps its line). */
function wrapped(header: string, width: number): string[] {
  const lines: string[] = [];
  for (const word of header.split(' ')) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last]!.length + 1 + word.length <= width) lines[last] += ` ${word}`;
    else lines.push(word);
  }
  return lines;
}

/**
 * The segment table. For the mall's schema: id, name, size, share, gender mix and mean age,
 * income, spending. For any other: id, name, size, share, each numeric feature's mean (headed by
 * its label) and each categorical feature's most common value with its share (`horeca 94 %`).
 * When that is wider than TABLE_WIDTH, names are cut to fit; when it still is, the features go
 * to a second table by id (their headers wrapped onto lines when need be).
 */
export function segmentTable(model: Model, counts?: Readonly<Record<string, number>>): string {
  if (isMallSchema(model.customerSchema)) return mallTable(model, counts);
  const numeric = numericViews(model.customerSchema);
  const categorical = categoricalViews(model.customerSchema);
  const featureHeader = [...numeric.map((f) => f.words), ...categorical.map((f) => f.words)];
  const featureCells = model.segments.map((s) => [
    ...numeric.map((f) => mean(s.stats[f.name]?.mean ?? Number.NaN)),
    ...categorical.map((f) => {
      const top = Object.entries(s.categories[f.name] ?? {}).sort((a, b) => b[1] - a[1])[0];
      return top === undefined ? '—' : `${top[0]} ${percent(top[1])}`;
    }),
  ]);
  const labeled = counts ? ['labeled now'] : [];
  const labeledCells = (id: number) => (counts ? [String(counts[id] ?? 0)] : []);
  const lead = (nameWidth: number) => model.segments.map((s) => [String(s.id), cut(s.name, nameWidth), String(s.size), percent(s.share)]);
  const leadHeader = ['id', 'segment', 'customers', 'share'];

  const longest = Math.max(...model.segments.map((s) => s.name.length), 'segment'.length);
  const one = (nameWidth: number) =>
    renderTable(
      [...leadHeader, ...featureHeader, ...labeled],
      lead(nameWidth).map((row, c) => [...row, ...featureCells[c]!, ...labeledCells(model.segments[c]!.id)]),
    );
  const full = one(longest);
  if (widthOf(full) <= TABLE_WIDTH) return full;
  const room = longest - (widthOf(full) - TABLE_WIDTH);
  if (room >= MIN_NAME_WIDTH) return one(room);

  // two tables: the segments, then their features by id
  const names = (nameWidth: number) =>
    renderTable(
      [...leadHeader, ...labeled],
      lead(nameWidth).map((row, c) => [...row, ...labeledCells(model.segments[c]!.id)]),
    );
  const listed = names(longest);
  const segments = widthOf(listed) <= TABLE_WIDTH ? listed : names(Math.max(MIN_NAME_WIDTH, longest - (widthOf(listed) - TABLE_WIDTH)));
  const rows = model.segments.map((s, c) => [String(s.id), ...featureCells[c]!]);
  let features = renderTable(['id', ...featureHeader], rows);
  if (widthOf(features) > TABLE_WIDTH) {
    // each header on lines no wider than its column's values (or its longest word)
    const header = featureHeader.map((h, j) => wrapped(h, Math.max(...rows.map((r) => r[j + 1]!.length))));
    features = renderTable(['id', ...header], rows);
  }
  return `${segments}\n\n${features}`;
}

/** The mall's segment table: id, name, size, share, gender mix and mean age, income, spending. */
function mallTable(model: Model, counts?: Readonly<Record<string, number>>): string {
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
