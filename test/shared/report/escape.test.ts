// HTML escaping of the text the report writes.

import { describe, expect, it } from 'vitest';
import { escapeHtml } from '../../../shared/report/escape.ts';

describe('escapeHtml', () => {
  it('escapes the five characters that matter in content and quoted attributes', () => {
    expect(escapeHtml(`<a href="x" title='y'>Tom & Jerry</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;Tom &amp; Jerry&lt;/a&gt;',
    );
  });

  it('escapes an existing entity again rather than trusting it', () => {
    expect(escapeHtml('&lt;')).toBe('&amp;lt;');
  });

  it('leaves other text, including non-ASCII, as it is', () => {
    expect(escapeHtml('Older · low income — 20 %')).toBe('Older · low income — 20 %');
    expect(escapeHtml('')).toBe('');
  });
});
