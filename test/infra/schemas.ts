// Test helper: a valid nine-feature customer schema (a wholesale business: two categorical codes,
// six skewed yearly spend columns with log1p, a tenure with a fill value and a lower weight), and
// schema files written to a temporary directory for `-c schema=…`.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const spend = (name: string, header: string, label: string) => ({ name, header, label, kind: 'numeric', transform: 'log1p', min: 0 });

/** Nine features, as a data engineer would write the file (defaults left out). */
export function wholesaleSchemaJson(): { name: string; id: unknown; features: Array<Record<string, unknown>> } {
  return {
    name: 'wholesale',
    id: { header: 'Client', aliases: ['client_id'] },
    features: [
      {
        name: 'channel',
        header: 'Channel',
        label: 'Channel',
        kind: 'categorical',
        categories: ['Horeca', 'Retail'],
        valueAliases: { '1': 'Horeca', '2': 'Retail' },
      },
      { name: 'region', header: 'Region', label: 'Region', kind: 'categorical', categories: ['Lisbon', 'Oporto', 'Other'] },
      spend('fresh', 'Fresh', 'Fresh'),
      spend('milk', 'Milk', 'Milk'),
      spend('grocery', 'Grocery', 'Grocery'),
      spend('frozen', 'Frozen', 'Frozen'),
      spend('detergents_paper', 'Detergents_Paper', 'Detergents and paper'),
      spend('delicassen', 'Delicassen', 'Delicatessen'),
      {
        name: 'tenure_months',
        header: 'Tenure',
        label: 'Tenure',
        kind: 'numeric',
        integer: true,
        min: 0,
        max: 600,
        missing: { fill: 0 },
        weight: 0.5,
      },
    ],
  };
}

/** A temporary directory for schema files; `remove()` deletes it. */
export function schemaDir(): { dir: string; write(name: string, content: unknown): string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'segments-schema-'));
  return {
    dir,
    /** Writes `content` (JSON unless a string) as `name`; returns the absolute path. */
    write(name, content) {
      const path = join(dir, name);
      writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
      return path;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
