// CSV text for output files (labeled.csv, rejects.csv, exports): RFC 4180 records with LF line
// ends, every line terminated. A field is quoted only when it must be (or when it has a leading or
// trailing space, which some spreadsheet importers would otherwise trim), the quoting Papa Parse's
// unparse applies; written by hand because per-field checks were a quarter of a million-row
// labeling run through unparse (npm run bench).

/** A field that needs quoting: a quote, separator or line break, a BOM, or edge spaces. */
const NEEDS_QUOTES = /[",\r\n\uFEFF]|^ | $/;
const QUOTE = /"/g;

/** One field as CSV. */
export function csvField(field: string): string {
  return NEEDS_QUOTES.test(field) ? `"${field.replace(QUOTE, '""')}"` : field;
}

/** One record as a CSV line, without its line end. */
export function csvRecord(fields: readonly string[]): string {
  let line = fields.length > 0 ? csvField(fields[0]!) : '';
  for (let i = 1; i < fields.length; i++) line += `,${csvField(fields[i]!)}`;
  return line;
}

/** The rows as CSV lines, each ending in a newline ('' for no rows). */
export function csvLines(rows: readonly (readonly string[])[]): string {
  let text = '';
  for (const row of rows) text += `${csvRecord(row)}\n`;
  return text;
}
