// Number formatting for the report: locale-independent (the same bytes on every machine), with a
// dash for undefined values, and exact values kept in data attributes for machines.

const DASH = '—';
const THOUSANDS = /\B(?=(\d{3})+(?!\d))/g;

/** A whole number with thousands separators: 100000 → "100,000". */
export function formatInt(value: number): string {
  if (!Number.isFinite(value)) return DASH;
  const rounded = Math.round(value);
  const digits = Math.abs(rounded).toString().replace(THOUSANDS, ',');
  return rounded < 0 ? `−${digits}` : digits;
}

/** A number with fixed decimals (no negative zero, a typographic minus); null or NaN → "—". */
export function formatNumber(value: number | null | undefined, decimals: number): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return DASH;
  const text = value.toFixed(decimals);
  if (Number(text) === 0) return (0).toFixed(decimals);
  return text.startsWith('-') ? `−${text.slice(1)}` : text;
}

/**
 * A feature's value with thousands separators and fixed decimals: 12345.678 → "12,345.7". The
 * same text as formatNumber below 1,000 (the mall's ages, incomes in k$ and scores).
 */
export function formatAmount(value: number | null | undefined, decimals: number): string {
  const text = formatNumber(value, decimals);
  if (text === DASH) return text;
  const [whole, fraction] = text.split('.') as [string, string | undefined];
  const grouped = whole.replace(THOUSANDS, ',');
  return fraction === undefined ? grouped : `${grouped}.${fraction}`;
}

/** A share in [0, 1] as a percentage: 0.205 → "20.5 %". */
export function formatPercent(share: number | null | undefined, decimals = 1): string {
  if (share === null || share === undefined || !Number.isFinite(share)) return DASH;
  return `${formatNumber(share * 100, decimals)}\u00a0%`;
}

/** The exact value for a data attribute: JavaScript's shortest round-trip form, or "" for null. */
export function exact(value: number | null | undefined): string {
  return value === null || value === undefined ? '' : String(value);
}
