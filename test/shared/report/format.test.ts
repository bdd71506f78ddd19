// Locale-independent number formatting for the report.

import { describe, expect, it } from 'vitest';
import { exact, formatInt, formatNumber, formatPercent } from '../../../shared/report/format.ts';

describe('report number formatting', () => {
  it('groups thousands with commas and rounds whole numbers', () => {
    expect(formatInt(0)).toBe('0');
    expect(formatInt(999)).toBe('999');
    expect(formatInt(100000)).toBe('100,000');
    expect(formatInt(1234567.6)).toBe('1,234,568');
    expect(formatInt(-1234)).toBe('−1,234');
  });

  it('fixes decimals, never prints a negative zero, and shows a dash for undefined values', () => {
    expect(formatNumber(1.25, 1)).toBe('1.3');
    expect(formatNumber(-0.0001, 2)).toBe('0.00');
    expect(formatNumber(-1.5, 1)).toBe('−1.5');
    expect(formatNumber(null, 2)).toBe('—');
    expect(formatNumber(Number.NaN, 2)).toBe('—');
  });

  it('shows shares as percentages with a non-breaking space', () => {
    expect(formatPercent(0.205)).toBe('20.5\u00a0%');
    expect(formatPercent(1, 0)).toBe('100\u00a0%');
    expect(formatPercent(null)).toBe('—');
  });

  it('keeps exact values round-trippable for data attributes', () => {
    expect(Number(exact(0.1 + 0.2))).toBe(0.1 + 0.2);
    expect(exact(null)).toBe('');
  });
});
