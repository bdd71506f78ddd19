// Reading the report's HTML back in tests: elements by attribute, their attributes, their cells.

/** Attributes of an element's opening tag. */
export function attributesOf(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/\s([a-z][\w:-]*)="([^"]*)"/g)) out[m[1]!] = m[2]!;
  return out;
}

/** Every element `<tag …>…</tag>` (not nested in itself) whose opening tag contains `marker`. */
export function elements(html: string, tag: string, marker: string): { attrs: Record<string, string>; inner: string }[] {
  const out: { attrs: Record<string, string>; inner: string }[] = [];
  const open = new RegExp(`<${tag}\\b[^>]*>`, 'g');
  for (const m of html.matchAll(open)) {
    if (!m[0].includes(marker)) continue;
    const start = m.index! + m[0].length;
    // count nesting of the same tag to find the matching close
    let depth = 1;
    const scan = new RegExp(`<${tag}\\b[^>]*>|</${tag}>`, 'g');
    scan.lastIndex = start;
    let end = start;
    for (let s = scan.exec(html); s !== null; s = scan.exec(html)) {
      depth += s[0].startsWith('</') ? -1 : 1;
      if (depth === 0) {
        end = s.index;
        break;
      }
    }
    out.push({ attrs: attributesOf(m[0]), inner: html.slice(start, end) });
  }
  return out;
}

/** The table cells (th or td) of some HTML, with their attributes and unescaped-enough text. */
export function cells(html: string): { attrs: Record<string, string>; text: string }[] {
  return [...html.matchAll(/<(td|th)\b([^>]*)>(.*?)<\/\1>/g)].map((m) => ({ attrs: attributesOf(m[2]!), text: m[3]! }));
}

/** Number of SVG marks (paths) in the mark group named `<name>_marks`. */
export function markCount(html: string, name: string): number {
  const group = elements(html, 'g', `${name}_marks"`);
  return group.reduce((s, g) => s + (g.inner.match(/<path\b/g)?.length ?? 0), 0);
}
