// CSV text for output files (labeled.csv, rejects.csv): RFC 4180 quoting by Papa Parse's
// unparse, LF line ends, every line terminated.

import Papa from 'papaparse';

/** The rows as CSV lines, each ending in a newline ('' for no rows). */
export function csvLines(rows: readonly (readonly string[])[]): string {
  return rows.length === 0 ? '' : `${Papa.unparse(rows as string[][], { newline: '\n' })}\n`;
}
