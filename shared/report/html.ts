// Small HTML building blocks for the report: escaped elements, tables whose cells carry exact
// values in data attributes, figures with a caption and a data table, and the page shell.

import { escapeHtml } from './escape.ts';
import { exact } from './format.ts';

export type Attrs = Readonly<Record<string, string | number | boolean | null | undefined>>;

/** Attributes as HTML (values escaped; false/null/undefined omitted, true as a bare name). */
export function attrs(values: Attrs): string {
  return Object.entries(values)
    .filter(([, v]) => v !== false && v !== null && v !== undefined)
    .map(([k, v]) => (v === true ? ` ${k}` : ` ${k}="${escapeHtml(String(v))}"`))
    .join('');
}

/** An element with already-safe inner HTML. */
export function el(tag: string, attributes: Attrs, inner: string): string {
  return `<${tag}${attrs(attributes)}>${inner}</${tag}>`;
}

/** A table cell: text (escaped), an optional exact value (`data-value`) and more attributes. */
export interface Cell {
  readonly text: string;
  readonly value?: number | null;
  readonly attrs?: Attrs;
  readonly header?: boolean;
}

const cellHtml = (cell: Cell | string): string => {
  const c = typeof cell === 'string' ? { text: cell } : cell;
  const tag = c.header ? 'th' : 'td';
  const extra: Attrs = {
    ...(c.header ? { scope: 'row' } : {}),
    ...(c.value !== undefined ? { 'data-value': exact(c.value), class: 'num' } : {}),
    ...c.attrs,
  };
  return el(tag, extra, escapeHtml(c.text));
};

export interface Row {
  readonly cells: readonly (Cell | string)[];
  readonly attrs?: Attrs;
}

/** A table with column headers; each row's first cell may be a row header. */
export function table(options: { caption?: string; columns: readonly string[]; rows: readonly Row[]; attrs?: Attrs }): string {
  const head = el('thead', {}, el('tr', {}, options.columns.map((c) => el('th', { scope: 'col' }, escapeHtml(c))).join('')));
  const body = el('tbody', {}, options.rows.map((r) => el('tr', r.attrs ?? {}, r.cells.map(cellHtml).join(''))).join(''));
  const caption = options.caption === undefined ? '' : el('caption', {}, escapeHtml(options.caption));
  return el('div', { class: 'table-wrap' }, el('table', options.attrs ?? {}, caption + head + body));
}

/** A chart figure: the SVG (labelled for assistive technology), a caption, and its data table. */
export function figure(options: {
  id: string;
  chart: string;
  title: string;
  svg: string;
  caption: string;
  table: string;
  attrs?: Attrs;
  className?: string;
  wide?: boolean;
}): string {
  return el(
    'figure',
    { id: options.id, class: `chart${options.className ? ` ${options.className}` : ''}`, 'data-chart': options.chart, ...options.attrs },
    // a wide chart keeps a legible size on a phone and scrolls sideways instead of shrinking
    el('div', { class: options.wide ? 'chart-svg wide' : 'chart-svg', role: 'img', 'aria-label': options.title }, options.svg) +
      el('figcaption', {}, `<strong>${escapeHtml(options.title)}.</strong> ${options.caption}`) +
      el('details', {}, `<summary>Data table</summary>${options.table}`),
  );
}

const STYLE = `
:root { --ink:#1f2328; --muted:#57606a; --line:#d0d7de; --soft:#f6f8fa; --accent:#0b5cad; --warn:#9a6700; --warnbg:#fff8c5; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: #fff; }
.page { max-width: 1180px; margin: 0 auto; padding: 16px clamp(12px, 3vw, 32px) 48px; }
h1 { font-size: clamp(1.4rem, 4vw, 2rem); margin: 0.2em 0; }
h2 { font-size: 1.35rem; margin: 2rem 0 0.6rem; padding-bottom: 0.2rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.1rem; margin: 0 0 0.4rem; display: flex; align-items: center; gap: 0.5rem; }
p { margin: 0.4rem 0; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.92em; overflow-wrap: anywhere; }
.subtitle { color: var(--muted); margin: 0; }
nav.toc { margin: 0.8rem 0; font-size: 0.92rem; display: flex; flex-wrap: wrap; gap: 0.3rem 1rem; }
nav.toc a { color: var(--accent); white-space: nowrap; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; margin: 0.8rem 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; min-width: 0; overflow-wrap: break-word; }
.findings li { margin: 0.45rem 0; }
.warnings { background: var(--warnbg); border: 1px solid #d4a72c; border-radius: 6px; padding: 0.6rem 1rem; }
.warnings li { margin: 0.3rem 0; }
.ok { color: var(--muted); }
.grid { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(min(100%, 340px), 1fr)); align-items: start; }
.grid.hist { grid-template-columns: repeat(auto-fit, minmax(min(100%, 240px), 1fr)); gap: 0.6rem; }
figure.chart { margin: 1rem 0; padding: 0; min-width: 0; }
.chart-svg svg { display: block; max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 0.9rem; margin-top: 0.3rem; }
figcaption strong { color: var(--ink); }
details { margin-top: 0.3rem; font-size: 0.88rem; }
summary { cursor: pointer; color: var(--accent); }
.table-wrap { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; margin: 0.4rem 0; font-size: 0.9rem; }
caption { text-align: left; font-weight: 600; padding-bottom: 0.2rem; }
th, td { border-bottom: 1px solid var(--line); padding: 0.2rem 0.6rem; text-align: left; vertical-align: top; }
thead th { background: var(--soft); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.segment-card { border: 1px solid var(--line); border-radius: 8px; padding: 1rem; margin: 1rem 0; }
.segment-card .tables { display: flex; flex-wrap: wrap; gap: 0 2rem; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em; border-radius: 2px; flex: none; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
footer { margin-top: 2.5rem; color: var(--muted); font-size: 0.85rem; border-top: 1px solid var(--line); padding-top: 0.6rem; }
@media (max-width: 560px) {
  body { font-size: 14px; }
  dl.facts { grid-template-columns: 1fr; }
  dl.facts dd { margin-bottom: 0.4rem; }
  .chart-svg.wide { overflow-x: auto; }
  .chart-svg.wide svg { min-width: 600px; }
}
@media print {
  @page { margin: 14mm 12mm; }
  body { font-size: 10.5pt; }
  .page { max-width: none; padding: 0; }
  nav.toc, details { display: none; }
  h2 { break-after: avoid; }
  figure.chart, .segment-card, table, .warnings { break-inside: avoid; }
  .segment-card { border-color: #999; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
`;

/** No scripts, no network: everything the page needs is inline; the policy forbids the rest. */
const CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

/** The whole document around already-rendered body HTML. */
export function page(options: { title: string; body: string; attrs?: Attrs }): string {
  return (
    '<!doctype html>\n' +
    el(
      'html',
      { lang: 'en', ...options.attrs },
      el(
        'head',
        {},
        '<meta charset="utf-8">' +
          '<meta name="viewport" content="width=device-width, initial-scale=1">' +
          `<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">` +
          '<meta name="color-scheme" content="light">' +
          el('title', {}, escapeHtml(options.title)) +
          el('style', {}, STYLE),
      ) + el('body', {}, el('div', { class: 'page' }, options.body)),
    ) +
    '\n'
  );
}
